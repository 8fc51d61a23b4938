/**
 * Which web pages may open a Socket.IO connection: this server's own, and
 * `CORS_ORIGINS`. "This server's own" is `PUBLIC_URL`'s origin when it is set;
 * without it, a page whose origin names the request's Host header, which DNS
 * rebinding can arrange, so production sets `PUBLIC_URL`.
 *
 * Long-polling from any other page is refused at the first request, whose answer
 * such a page may not read. A WebSocket is not subject to CORS: its upgrade is
 * let through, and the Socket.IO middleware refuses the connection with
 * `origin_not_allowed`, which the page does read, so a site that is not allowed
 * learns why instead of retrying.
 */

import type { IncomingMessage } from "node:http";

/** The Socket.IO server options that carry the policy. */
export interface OriginPolicy {
  /** CORS headers for the long-polling requests of allowed origins. */
  cors?: { origin: true | string[] };
  /** Refuses a long-polling handshake from any other origin. */
  allowRequest(req: IncomingMessage, callback: (error: string | null, ok: boolean) => void): void;
}

/**
 * Whether a page at `origin` may connect, given the request's Host header: always
 * when there is no Origin (not a browser), else when `origins` lists it (or `"*"`),
 * or it is the server's own.
 */
export function originAllowed(
  origins: readonly string[],
  publicOrigin: string,
  request: { origin?: string; host?: string },
): boolean {
  const { origin, host } = request;
  // Browsers always send Origin cross-site; other clients are not subject to CORS.
  if (origin === undefined || origins.includes("*") || origins.includes(origin)) return true;
  if (publicOrigin !== "") return origin === publicOrigin;
  try {
    return new URL(origin).host === host;
  } catch {
    // A malformed Origin is refused.
    return false;
  }
}

/** The policy for `origins` (exact origins, or `"*"` for any) and the server's public origin, if known. */
export function originPolicy(origins: readonly string[], publicOrigin = ""): OriginPolicy {
  const any = origins.includes("*");
  return {
    cors: origins.length > 0 ? { origin: any ? true : [...origins] } : undefined,
    allowRequest(req, callback) {
      const transport = new URL(req.url ?? "/", "http://localhost").searchParams.get("transport");
      const ok = transport === "websocket" || originAllowed(origins, publicOrigin, req.headers);
      callback(ok ? null : "Origin not allowed", ok);
    },
  };
}
