/** HTTP routes besides Socket.IO: the demo pages, the widget bundle and the health endpoint. */

import type { IncomingMessage, ServerResponse } from "node:http";
import { basename, dirname, extname, join, resolve, sep } from "node:path";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".webp": "image/webp",
  ".txt": "text/plain; charset=utf-8",
};

const BUNDLE_FILE = /^\/chat-widget(-[A-Za-z0-9_-]+)?\.js(\.map)?$/;

/**
 * The demo pages run under the strict policy the widget promises to work with:
 * no inline scripts, no inline styles, connections to this origin only.
 */
export const DEMO_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'self'",
].join("; ");

/** Where the routes find their files, and what the health endpoint reports. */
export interface HttpOptions {
  demoDir: string;
  bundlePath: string;
  /** Extra fields for `GET /health`. */
  health: () => Record<string, unknown>;
}

function send(
  res: ServerResponse,
  status: number,
  body: string | Uint8Array,
  headers: Record<string, string>,
  head: boolean,
): void {
  res.writeHead(status, {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Length": String(
      typeof body === "string" ? new TextEncoder().encode(body).length : body.length,
    ),
    ...headers,
  });
  res.end(head ? undefined : body);
}

function sendText(res: ServerResponse, status: number, text: string, head: boolean): void {
  send(res, status, text, { "Content-Type": "text/plain; charset=utf-8" }, head);
}

async function readFileOrNull(path: string): Promise<{ data: Uint8Array; mtime: number } | null> {
  try {
    const stat = await Deno.stat(path);
    if (!stat.isFile) return null;
    return { data: await Deno.readFile(path), mtime: stat.mtime?.getTime() ?? 0 };
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
      return null;
    }
    throw error;
  }
}

/** Maps a URL path to a file inside `root`, or null for anything that would leave it. */
export function resolveInside(root: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes("\0") || decoded.split("/").some((part) => part.startsWith("."))) {
    return null;
  }
  const base = resolve(root);
  const path = resolve(base, "." + decoded);
  return path === base || path.startsWith(base + sep) ? path : null;
}

/** The request handler for every path Socket.IO does not own. */
export function createHttpHandler(
  options: HttpOptions,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    handle(req, res, options).catch((error) => {
      console.error(`HTTP ${req.method} ${req.url} failed:`, error);
      if (!res.headersSent) sendText(res, 500, "Internal server error\n", false);
      else res.destroy();
    });
  };
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  options: HttpOptions,
): Promise<void> {
  const head = req.method === "HEAD";
  if (req.method !== "GET" && !head) {
    send(res, 405, "Method not allowed\n", {
      "Content-Type": "text/plain; charset=utf-8",
      Allow: "GET, HEAD",
    }, false);
    return;
  }
  const path = new URL(req.url ?? "/", "http://localhost").pathname;
  if (path === "/health") {
    const body = JSON.stringify({ status: "ok", ...options.health() });
    send(res, 200, body, { "Content-Type": TYPES[".json"], "Cache-Control": "no-store" }, head);
    return;
  }
  // The bundle and the chunks it loads on demand (`chat-widget-*.js`) sit side by side.
  const bundleFile = BUNDLE_FILE.test(path);
  const file = bundleFile
    ? join(
      dirname(options.bundlePath),
      path.startsWith("/chat-widget.js")
        ? basename(options.bundlePath) + path.slice(15)
        : path.slice(1),
    )
    : resolveInside(options.demoDir, path === "/" ? "/index.html" : path);
  const found = file === null ? null : await readFileOrNull(file);
  if (file === null || found === null) {
    sendText(
      res,
      404,
      path === "/chat-widget.js"
        ? "Widget bundle not built: run `deno task build`\n"
        : "Not found\n",
      head,
    );
    return;
  }
  const etag = `W/"${found.data.length.toString(16)}-${found.mtime.toString(16)}"`;
  const type = TYPES[extname(file)] ?? "application/octet-stream";
  const headers: Record<string, string> = {
    "Content-Type": type,
    "Cache-Control": "no-cache",
    ETag: etag,
  };
  if (bundleFile) {
    // Host pages on other origins load the bundle as a module script, which needs CORS.
    headers["Access-Control-Allow-Origin"] = "*";
    headers["Cross-Origin-Resource-Policy"] = "cross-origin";
  }
  if (type.startsWith("text/html")) headers["Content-Security-Policy"] = DEMO_CSP;
  if (req.headers["if-none-match"] === etag) {
    res.writeHead(304, { ETag: etag, "Cache-Control": "no-cache" });
    res.end();
    return;
  }
  send(res, 200, found.data, headers, head);
}
