/**
 * Static files: the demo pages under a strict CSP, and the widget bundle with
 * the chunks it loads on demand, served cross-origin. Nothing outside the two
 * folders is ever read: not by `..`, not by a dot file, not through a symlink.
 */

import type { IncomingMessage, ServerResponse } from "node:http";
import { basename, dirname, extname, join, resolve, sep } from "node:path";
import { send, sendText } from "./respond.ts";

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

/** The bundle, its source map and its chunks (`chat-widget-<name>-<hash>.js`). */
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

/** Where the files are. */
export interface StaticFilesOptions {
  /** Folder served at `/`. */
  demoDir: string;
  /** The bundle served at `/chat-widget.js`; its chunks sit beside it. */
  bundlePath: string;
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

/**
 * The file at `path` if it is a regular file whose real location (all
 * symlinks followed) is inside the real `root`; null otherwise.
 */
async function readInside(
  root: string,
  path: string,
): Promise<{ data: Uint8Array; mtime: number } | null> {
  try {
    const [realRoot, realPath] = await Promise.all([Deno.realPath(root), Deno.realPath(path)]);
    if (!realPath.startsWith(realRoot + sep)) return null;
    const stat = await Deno.stat(realPath);
    if (!stat.isFile) return null;
    return { data: await Deno.readFile(realPath), mtime: stat.mtime?.getTime() ?? 0 };
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
      return null;
    }
    throw error;
  }
}

/** Serves the file a GET or HEAD of `path` asks for, or 404. */
export async function serveStatic(
  req: IncomingMessage,
  res: ServerResponse,
  options: StaticFilesOptions & { path: string },
): Promise<void> {
  const { path } = options;
  const head = req.method === "HEAD";
  const bundleFile = BUNDLE_FILE.test(path);
  const root = bundleFile ? dirname(options.bundlePath) : options.demoDir;
  const file = bundleFile
    ? join(
      root,
      path.startsWith("/chat-widget.js")
        ? basename(options.bundlePath) + path.slice("/chat-widget.js".length)
        : path.slice(1),
    )
    : resolveInside(root, path === "/" ? "/index.html" : path);
  const found = file === null ? null : await readInside(root, file);
  if (file === null || found === null) {
    const missingBundle = path === "/chat-widget.js";
    sendText(res, 404, {
      text: missingBundle ? "Widget bundle not built: run `deno task build`\n" : "Not found\n",
      head,
    });
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
  send(res, 200, { body: found.data, headers, head });
}
