/** Identifiers: time-sortable message IDs and unguessable user and session IDs. */

function hex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

/** `bytes` as base64url, without padding. */
export function base64url(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function randomHex(bytes: number): string {
  return hex(crypto.getRandomValues(new Uint8Array(bytes)));
}

function randomBase64Url(bytes: number): string {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** A session ID: 256 random bits, base64url. It is a bearer credential. */
export function newSessionId(): string {
  return randomBase64Url(32);
}

/**
 * The user ID of a host site's user: the first 128 bits of SHA-256 over its
 * `sub`, hex. The same `sub` gives the same ID on every node and every connect.
 */
export async function hostUserId(sub: string): Promise<string> {
  const data = new TextEncoder().encode(`chat-widget host user\u0000${sub}`);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
  return hex(digest.subarray(0, 16));
}

/** A user ID: 128 random bits, hex. */
export function newUserId(): string {
  return randomHex(16);
}

/**
 * Makes message IDs that sort by creation time: 12 hex digits of milliseconds,
 * 4 of a per-millisecond counter, 8 random. Strictly increasing within one
 * generator even when the clock stands still or steps back.
 */
export function createMessageIdGenerator(
  now: () => number = Date.now,
): () => { id: string; timestamp: number } {
  let lastMs = 0;
  let counter = 0;
  return () => {
    let ms = now();
    if (ms <= lastMs) {
      ms = lastMs;
      counter++;
      if (counter > 0xffff) {
        ms = ++lastMs;
        counter = 0;
      }
    } else {
      lastMs = ms;
      counter = 0;
    }
    const id = ms.toString(16).padStart(12, "0") +
      counter.toString(16).padStart(4, "0") + randomHex(4);
    return { id, timestamp: ms };
  };
}

/** The smallest message ID of time `ms`: every message sent before `ms` has a smaller one. */
export function firstMessageIdAt(ms: number): string {
  return Math.max(0, Math.floor(ms)).toString(16).padStart(12, "0") + "0".repeat(12);
}

/** When a message ID was made (ms): the time it begins with. */
export function messageIdTime(id: string): number {
  return parseInt(id.slice(0, 12), 16);
}

/** True when `value` has the shape of a message ID. */
export function isMessageId(value: unknown): value is string {
  return typeof value === "string" && /^[0-9a-f]{24}$/.test(value);
}

/** True when `value` has the shape of a user ID. */
export function isUserId(value: string): boolean {
  return /^[0-9a-f]{32}$/.test(value);
}
