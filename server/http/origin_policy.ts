/**
 * Which web pages may open a Socket.IO connection: this server's own, and
 * `CORS_ORIGINS`. "This server's own" is `PUBLIC_URL`'s origin when it is set;
 * without it, a page whose origin names the request's Host header, which DNS
 * rebinding can arrange, so production sets `PUBLIC_URL`.
 */

import type { IncomingMessage } from "node:http";

/** The Socket.IO server options that carry the policy. */
export interface OriginPolicy {
  /** CORS headers for the long-polling requests of allowed origins. */
  cors?: { origin: true | string[] };
  /** Refuses a handshake from any other origin. */
  allowRequest(req: IncomingMessage, callback: (error: string | null, ok: boolean) => void): void;
}

/** The policy for `origins` (exact origins, or `"*"` for any) and the server's public origin, if known. */
export function originPolicy(origins: readonly string[], publicOrigin = ""): OriginPolicy {
  const any = origins.includes("*");
  return {
    cors: origins.length > 0 ? { origin: any ? true : [...origins] } : undefined,
    allowRequest(req, callback) {
      const origin = req.headers.origin;
      // Browsers always send Origin cross-site; other clients are not subject to CORS.
      if (origin === undefined || any || origins.includes(origin)) return callback(null, true);
      if (publicOrigin !== "") {
        const own = origin === publicOrigin;
        return callback(own ? null : "Origin not allowed", own);
      }
      let sameHost = false;
      try {
        sameHost = new URL(origin).host === req.headers.host;
      } catch {
        // A malformed Origin is refused below.
      }
      callback(sameHost ? null : "Origin not allowed", sameHost);
    },
  };
}
