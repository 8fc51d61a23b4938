/**
 * The benchmark's cache folder, which keeps what takes long to make and measures
 * nothing itself (a pre-filled KV file, the peer's installed copy) across runs,
 * and the hash that names its entries after what they were made from.
 */

import { join } from "node:path";

/** `$TMPDIR/chat-bench-cache` (or under /tmp). */
export function benchCacheDir(): string {
  return join(Deno.env.get("TMPDIR") ?? "/tmp", "chat-bench-cache");
}

/** The SHA-256 of `text`, in hex. */
export async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}
