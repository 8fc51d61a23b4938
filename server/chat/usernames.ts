/** Username rules: what a name may be, and when two names are the same. */

import { LIMITS } from "../protocol.ts";
import { ChatError } from "./errors.ts";

// Control characters, line and paragraph separators, and the bidirectional
// overrides and isolates, which could make a name render as a different one.
const FORBIDDEN = /[\p{Cc}\p{Zl}\p{Zp}\u202A-\u202E\u2066-\u2069\uFEFF]/u;

/**
 * Returns the canonical form of a requested username (trimmed, NFC, inner
 * whitespace runs folded to one space), or throws a `ChatError` with code
 * `invalid_username` saying what is wrong.
 */
export function normalizeUsername(input: unknown): string {
  if (typeof input !== "string") {
    throw new ChatError("invalid_username", "Username must be text");
  }
  if (!input.isWellFormed()) {
    throw new ChatError(
      "invalid_username",
      "Username contains invalid Unicode",
    );
  }
  if (FORBIDDEN.test(input.trim())) {
    throw new ChatError(
      "invalid_username",
      "Username cannot contain control or formatting characters",
    );
  }
  const name = input.normalize("NFC").trim().replace(/\s+/gu, " ");
  const length = [...name].length;
  if (length === 0) {
    throw new ChatError("invalid_username", "Username cannot be empty");
  }
  if (length > LIMITS.maxUsernameLength) {
    throw new ChatError(
      "invalid_username",
      `Username is too long: ${length} characters, at most ${LIMITS.maxUsernameLength}`,
    );
  }
  return name;
}

/** The key two names are compared by: "Ünïcode", "ünïcode" and "ÜNÏCODE" fold alike. */
export function foldUsername(name: string): string {
  return name.normalize("NFKC").toLowerCase().normalize("NFKC");
}
