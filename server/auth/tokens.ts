/**
 * Host-issued identity: verifying the JWTs a host site signs for its signed-in
 * users (HS256 with a shared secret, or RS256/ES256 from the site's JWKS), and
 * signing them with a secret, for `deno task token` and the demo.
 */

import { createRemoteJWKSet, type JWTPayload, jwtVerify, SignJWT } from "jose";
import { ChatError } from "../chat/errors.ts";
import type { HostClaims, TokenVerifier } from "../chat/ports.ts";

/** Longest token read, in characters; anything longer is refused before parsing. */
export const MAX_TOKEN_LENGTH = 8192;
/** Longest `sub`, in characters. */
export const MAX_SUBJECT_LENGTH = 128;
/** How far ahead `exp` may be: tokens are short-lived. */
export const MAX_TOKEN_LIFETIME_SECONDS = 24 * 60 * 60;
// Clocks of the host site and the chat server may disagree by this much.
const CLOCK_TOLERANCE_SECONDS = 30;
/** Shortest `AUTH_SECRET`: HS256 wants at least 256 bits. */
export const MIN_SECRET_LENGTH = 32;

/** Where the keys come from, and what the tokens must say. */
export interface TokenVerifierOptions {
  /** Shared HS256 secret. */
  secret?: string;
  /** URL of the host site's JWKS (RS256 or ES256 keys). */
  jwksUrl?: string;
  /** Required `aud`, when set. */
  audience?: string;
  /** Required `iss`, when set. */
  issuer?: string;
}

function refuse(message: string): never {
  throw new ChatError("invalid_token", message);
}

function joseCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("ERR_") ? code : undefined;
}

/** Turns what jose throws into the wire's words; unknown failures pass through. */
function explain(error: unknown, expected: readonly string[]): never {
  const e = error as { code?: string; claim?: string; payload?: JWTPayload; message?: string };
  switch (joseCode(error)) {
    case "ERR_JWT_EXPIRED": {
      const exp = e.payload?.exp;
      const when = typeof exp === "number" ? ` at ${new Date(exp * 1000).toISOString()}` : "";
      throw new ChatError("token_expired", `Token expired${when}: get a fresh one from the site`);
    }
    case "ERR_JWT_CLAIM_VALIDATION_FAILED":
      if (e.claim === "aud") refuse("Token audience is not this chat's");
      if (e.claim === "iss") refuse("Token issuer is not the one this chat accepts");
      if (e.claim === "nbf") refuse("Token is not valid yet");
      if (e.claim === "exp" || e.claim === "sub") {
        refuse(`Token claim "${e.claim}" is missing or malformed`);
      }
      refuse(`Token claim "${e.claim ?? "?"}" is not accepted`);
      break;
    case "ERR_JWS_SIGNATURE_VERIFICATION_FAILED":
      refuse("Token signature does not verify");
      break;
    case "ERR_JOSE_ALG_NOT_ALLOWED":
    case "ERR_JOSE_NOT_SUPPORTED":
      refuse(`Token algorithm is not accepted: use ${expected.join(" or ")}`);
      break;
    case "ERR_JWKS_NO_MATCHING_KEY":
    case "ERR_JWKS_MULTIPLE_MATCHING_KEYS":
      refuse("No key of the site's JWKS matches the token");
      break;
    case "ERR_JWS_INVALID":
    case "ERR_JWT_INVALID":
      refuse("Token is malformed: not a signed JWT");
      break;
  }
  throw error;
}

/** The claims the chat needs, from a payload whose signature and standard claims jose checked. */
function claimsOf(payload: JWTPayload, now: number): HostClaims {
  const { sub, exp } = payload;
  if (typeof sub !== "string" || sub.length === 0 || sub.length > MAX_SUBJECT_LENGTH) {
    refuse(`Token claim "sub" must be text of 1 to ${MAX_SUBJECT_LENGTH} characters`);
  }
  if (typeof exp !== "number") refuse(`Token claim "exp" is required`);
  if (exp - now / 1000 > MAX_TOKEN_LIFETIME_SECONDS + CLOCK_TOLERANCE_SECONDS) {
    refuse(`Token claim "exp" is more than 24 hours ahead: tokens must be short-lived`);
  }
  const name = payload.name;
  if (typeof name !== "string") refuse(`Token claim "name" (the display name) is required`);
  return { sub, name };
}

/**
 * A verifier for the configured keys. With `jwksUrl`, keys are fetched on first
 * use and cached; a JWKS that cannot be fetched fails the handshake with an
 * internal error (logged), not `invalid_token`.
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  if ((options.secret === undefined) === (options.jwksUrl === undefined)) {
    throw new TypeError("Cannot verify tokens: give exactly one of a secret and a JWKS URL");
  }
  const algorithms = options.secret !== undefined ? ["HS256"] : ["RS256", "ES256"];
  const key = options.secret !== undefined
    ? new TextEncoder().encode(options.secret)
    : createRemoteJWKSet(new URL(options.jwksUrl!), {
      timeoutDuration: 5000,
      cooldownDuration: 30_000,
      cacheMaxAge: 10 * 60_000,
    });
  return {
    async verify(token: string): Promise<HostClaims> {
      if (token.length > MAX_TOKEN_LENGTH) {
        refuse(`Token is too long: ${token.length} characters, at most ${MAX_TOKEN_LENGTH}`);
      }
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, key as Uint8Array, {
          algorithms,
          audience: options.audience,
          issuer: options.issuer,
          requiredClaims: ["sub", "exp"],
          clockTolerance: CLOCK_TOLERANCE_SECONDS,
        }));
      } catch (error) {
        explain(error, algorithms);
      }
      return claimsOf(payload, Date.now());
    },
  };
}

/** What `signToken()` puts in a token. */
export interface SignOptions {
  secret: string;
  sub: string;
  name: string;
  /** Lifetime from now, in seconds (negative: already expired, for tests). */
  expiresInSeconds: number;
  audience?: string;
  issuer?: string;
}

/** An HS256 token for `sub`, as a host site's backend would sign it. */
export function signToken(options: SignOptions): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  let jwt = new SignJWT({ name: options.name })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(options.sub)
    .setIssuedAt(now)
    .setExpirationTime(now + options.expiresInSeconds);
  if (options.audience) jwt = jwt.setAudience(options.audience);
  if (options.issuer) jwt = jwt.setIssuer(options.issuer);
  return jwt.sign(new TextEncoder().encode(options.secret));
}
