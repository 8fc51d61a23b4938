/** Reading KV in long runs: every row under a prefix, and the distinct parts of keys. */

import { isLockedError, retryLocked } from "./retry.ts";

const BATCH = 500;

/** Every entry under `selector`, read on after a "database is locked" where it stopped. */
export async function* listRows<T>(
  kv: Deno.Kv,
  selector: Deno.KvListSelector,
): AsyncGenerator<Deno.KvEntry<T>> {
  let cursor: string | undefined;
  let failures = 0;
  while (true) {
    const rows = kv.list<T>(selector, { batchSize: BATCH, cursor });
    try {
      for await (const entry of rows) {
        cursor = rows.cursor;
        failures = 0;
        yield entry;
      }
      return;
    } catch (error) {
      if (!isLockedError(error) || ++failures > 100) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.min(50, 2 ** failures)));
    }
  }
}

/** The distinct values of the key part after `prefix`, in key order, one read each. */
export async function* keyParts(kv: Deno.Kv, prefix: Deno.KvKey): AsyncGenerator<Deno.KvKeyPart> {
  let start: Deno.KvKey | undefined;
  while (true) {
    const selector: Deno.KvListSelector = start ? { prefix, start } : { prefix };
    const [entry] = await retryLocked(() => Array.fromAsync(kv.list(selector, { limit: 1 })));
    if (!entry) return;
    const part = entry.key[prefix.length];
    yield part;
    if (typeof part !== "string") return;
    // The smallest string after `part`: every key that continues `part` sorts before it.
    start = [...prefix, `${part}\u0000`];
  }
}
