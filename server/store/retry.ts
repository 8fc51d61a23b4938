/** Retries KV commits that another process holds the database lock for. */

/** True for the error a KV file shared by several processes throws instead of waiting. */
export function isLockedError(error: unknown): boolean {
  return error instanceof Error && /database is locked|SQLITE_BUSY/i.test(error.message);
}

/** Options for `retryLocked()`. */
export interface RetryOptions {
  /** Give up after this long, in ms. */
  timeoutMs?: number;
  /** Called once per retry, for statistics. */
  onRetry?: () => void;
}

/**
 * Runs `fn`, retrying with jittered exponential backoff (1 ms doubling to 50 ms)
 * while it fails with "database is locked"; other errors pass through at once.
 */
export async function retryLocked<T>(
  fn: () => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const deadline = performance.now() + (options.timeoutMs ?? 30_000);
  let delay = 1;
  while (true) {
    try {
      return await fn();
    } catch (error) {
      if (!isLockedError(error) || performance.now() >= deadline) throw error;
      options.onRetry?.();
      await new Promise((resolve) => setTimeout(resolve, delay * (0.5 + Math.random())));
      delay = Math.min(delay * 2, 50);
    }
  }
}
