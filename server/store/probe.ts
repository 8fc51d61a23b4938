/** The KV check of `/readyz`: a write, answered within a bound. */

/** Options of `kvProbe()`. */
export interface ProbeOptions {
  /** The key written; its row expires by itself in a minute. */
  key: Deno.KvKey;
  /** A write that takes longer says "not writable". */
  timeoutMs: number;
}

/**
 * A check that KV takes a write: "ok", or "not writable: reason" (the write
 * failed, or took longer than `timeoutMs`, as on a file another process has
 * locked, where a commit waits 5 s before it fails). One write at a time:
 * checks asked for while one runs share its answer.
 */
export function kvProbe(kv: Deno.Kv, options: ProbeOptions): () => Promise<string> {
  let running: Promise<string> | undefined;
  const probe = async () => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer within ${options.timeoutMs} ms`)),
        options.timeoutMs,
      );
    });
    try {
      await Promise.race([kv.set(options.key, Date.now(), { expireIn: 60_000 }), late]);
      return "ok";
    } catch (error) {
      return `not writable: ${(error as Error).message.slice(0, 200)}`;
    } finally {
      clearTimeout(timer);
    }
  };
  return () => running ??= probe().finally(() => (running = undefined));
}
