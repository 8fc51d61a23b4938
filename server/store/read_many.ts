/** Reading many keys at once within KV's limit of 10 keys per `getMany()`. */

// KV's getMany reads at most 10 keys per call.
const GET_MANY_LIMIT = 10;

/** The entries of `keys`, in their order, read 10 at a time, all at once. */
export async function readMany<T>(
  kv: Deno.Kv,
  keys: readonly Deno.KvKey[],
): Promise<Deno.KvEntryMaybe<T>[]> {
  const parts: Promise<Deno.KvEntryMaybe<T>[]>[] = [];
  for (let i = 0; i < keys.length; i += GET_MANY_LIMIT) {
    parts.push(kv.getMany<T[]>(keys.slice(i, i + GET_MANY_LIMIT)));
  }
  return (await Promise.all(parts)).flat();
}
