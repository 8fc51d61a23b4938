/** Writing a whole response with the headers every response carries. */

import type { ServerResponse } from "node:http";

const encoder = new TextEncoder();

/** What `send()` writes. */
export interface Reply {
  body: string | Uint8Array;
  headers: Record<string, string>;
  /** A HEAD request: the headers only. */
  head: boolean;
}

/** Writes `status` with `reply`'s body and headers, plus nosniff and no-referrer. */
export function send(res: ServerResponse, status: number, reply: Reply): void {
  const { body, headers, head } = reply;
  res.writeHead(status, {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Length": String(typeof body === "string" ? encoder.encode(body).length : body.length),
    ...headers,
  });
  res.end(head ? undefined : body);
}

/** Writes `status` with `value` as JSON, never cached, with any extra `headers`. */
export function sendJson(
  res: ServerResponse,
  status: number,
  reply: { value: unknown; head: boolean; headers?: Record<string, string> },
): void {
  send(res, status, {
    body: JSON.stringify(reply.value),
    head: reply.head,
    headers: {
      "Content-Type": "application/json; charset=utf-8",
      "Cache-Control": "no-store",
      ...reply.headers,
    },
  });
}

/** Writes `status` with a plain-text body. */
export function sendText(
  res: ServerResponse,
  status: number,
  reply: { text: string; head: boolean; headers?: Record<string, string> },
): void {
  send(res, status, {
    body: reply.text,
    head: reply.head,
    headers: { "Content-Type": "text/plain; charset=utf-8", ...reply.headers },
  });
}
