/** Opening Deno KV from a `KV_PATH`. */

import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { retryLocked } from "./retry.ts";

/** Opens KV at a path, creating its folder; retried when another process is creating the same file. */
export async function openKv(path: string): Promise<Deno.Kv> {
  if (path !== ":memory:" && !/^https?:\/\//.test(path)) {
    await mkdir(dirname(path), { recursive: true });
  }
  return await retryLocked(() => Deno.openKv(path), { timeoutMs: 10_000 });
}
