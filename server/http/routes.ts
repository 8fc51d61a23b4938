/**
 * The HTTP routes besides Socket.IO's: `/healthz` (the process is up),
 * `/readyz` (it can serve), `/health`, `/metrics` (Prometheus), `/demo-token`
 * (demo only), then the static files.
 */

import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "../log.ts";
import { sendJson, sendText } from "./respond.ts";
import { serveStatic, type StaticFilesOptions } from "./static_files.ts";

/** What the routes serve and report. */
export interface RoutesOptions extends StaticFilesOptions {
  /** Extra fields for `GET /health`. */
  health: () => Record<string, unknown>;
  /**
   * Whether the server can serve now, and if not, why: KV takes a write, Redis
   * (when configured) is connected, and it is not shutting down.
   */
  readiness: () => Promise<{ ready: boolean; checks: Record<string, string> }>;
  /**
   * Bearer token that unlocks `health()`'s fields and `/metrics`; "" keeps
   * `/health` to `{status}` and leaves `/metrics` open.
   */
  metricsToken: string;
  /** The Prometheus text format and its content type; unset when metrics are off (`METRICS=off`). */
  metrics?: () => Promise<{ contentType: string; text: string }>;
  logger: Logger;
  /**
   * Set only for the signed-in demo (`DEMO_AUTH=1`): a token for the demo user
   * named `user`, or null for no such user. `GET /demo-token?user=NAME`.
   */
  demoToken?: (user: string) => Promise<string> | null;
}

/** The request handler for every path Socket.IO does not own. */
export function createHttpHandler(
  options: RoutesOptions,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    handle(req, res, options).catch((error) => {
      options.logger.error(
        { event: "http", method: req.method, path: req.url?.split("?")[0], err: error },
        "HTTP request failed",
      );
      if (!res.headersSent) sendText(res, 500, { text: "Internal server error\n", head: false });
      else res.destroy();
    });
  };
}

/** Compares two strings in time that does not depend on where they differ. */
function sameSecret(given: string, expected: string): boolean {
  const a = new TextEncoder().encode(given);
  const b = new TextEncoder().encode(expected);
  let diff = a.length ^ b.length;
  for (let i = 0; i < b.length; i++) diff |= (a[i] ?? 0) ^ b[i];
  return diff === 0;
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  options: RoutesOptions,
): Promise<void> {
  const head = req.method === "HEAD";
  if (req.method !== "GET" && !head) {
    sendText(res, 405, {
      text: "Method not allowed\n",
      head: false,
      headers: { Allow: "GET, HEAD" },
    });
    return;
  }
  const url = new URL(req.url ?? "/", "http://localhost");
  const path = url.pathname;
  if (path === "/healthz") {
    sendJson(res, 200, { value: { status: "ok" }, head });
    return;
  }
  if (path === "/readyz") {
    const { ready, checks } = await options.readiness();
    sendJson(res, ready ? 200 : 503, {
      value: { status: ready ? "ready" : "not ready", checks },
      head,
    });
    return;
  }
  // Whether the request carries METRICS_TOKEN (never, when there is none).
  const bearer = () =>
    options.metricsToken !== "" &&
    sameSecret(req.headers.authorization ?? "", `Bearer ${options.metricsToken}`);
  if (path === "/health") {
    sendJson(res, 200, { value: { status: "ok", ...(bearer() ? options.health() : {}) }, head });
    return;
  }
  if (path === "/metrics") {
    if (!options.metrics) {
      sendJson(res, 404, {
        value: { error: "Cannot show metrics: they are switched off on this server (METRICS=off)" },
        head,
      });
      return;
    }
    if (options.metricsToken !== "" && !bearer()) {
      sendJson(res, 401, {
        value: {
          error: "Cannot show metrics: send the header Authorization: Bearer <METRICS_TOKEN>",
        },
        head,
        headers: { "WWW-Authenticate": 'Bearer realm="metrics"' },
      });
      return;
    }
    const { contentType, text } = await options.metrics();
    sendText(res, 200, {
      text,
      head,
      headers: { "Content-Type": contentType, "Cache-Control": "no-store" },
    });
    return;
  }
  if (path === "/demo-token" && options.demoToken) {
    const user = url.searchParams.get("user") ?? "";
    const token = await options.demoToken(user);
    sendJson(res, token === null ? 404 : 200, {
      value: token === null ? { error: `No demo user "${user.slice(0, 40)}"` } : { token },
      head,
    });
    return;
  }
  await serveStatic(req, res, { ...options, path });
}
