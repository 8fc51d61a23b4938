/**
 * Typing notices on hold. A client says `typing` just before most messages it
 * sends, and the message clears the notice at once on the other side, so a
 * notice waits `TYPING_HOLD_MS` (and up to `TICK_MS` more) first: if the message is relayed meanwhile,
 * the notice is dropped unsent. One timer serves every held notice, and who may
 * hear whom is only asked of the notices that are still held when they are due.
 */

/** How long a typing notice waits for the message that would make it moot. */
export const TYPING_HOLD_MS = 200;
// The timer wakes at most this often: a notice waits its hold and up to this much more.
const TICK_MS = 20;

/** Held typing notices; see the module doc. */
export interface TypingRelay {
  /** Holds `from`'s notice to `to`; one already held for the pair stays as it is. */
  hold(from: string, to: string): void;
  /** Drops the notice held for the pair, if any: `from`'s message to `to` went out. */
  drop(from: string, to: string): void;
  /** Drops every held notice and stops the timer. */
  close(): void;
}

/**
 * Starts holding typing notices; `send(from, to)` is called for each one
 * still held `holdMs` after it came.
 */
export function createTypingRelay(
  send: (from: string, to: string) => void,
  { holdMs = TYPING_HOLD_MS }: { holdMs?: number } = {},
): TypingRelay {
  // When each held notice is due, by sender and recipient (no key to build per notice).
  const held = new Map<string, Map<string, number>>();
  // The same notices in arrival order, so the first is always the next one due;
  // a dropped one stays here until its turn and is then skipped.
  let queue: { from: string; to: string; due: number }[] = [];
  let head = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const schedule = () => {
    if (timer !== undefined || head === queue.length) return;
    timer = setTimeout(release, Math.max(TICK_MS, queue[head].due - Date.now()));
  };

  const release = () => {
    timer = undefined;
    const now = Date.now();
    while (head < queue.length && queue[head].due <= now) {
      const { from, to, due } = queue[head++];
      const mine = held.get(from);
      if (mine?.get(to) !== due) continue; // Dropped, or dropped and held again.
      mine.delete(to);
      if (mine.size === 0) held.delete(from);
      send(from, to);
    }
    if (head === queue.length) {
      queue = [];
      head = 0;
    } else if (head > 1024 && head * 2 > queue.length) {
      queue = queue.slice(head);
      head = 0;
    }
    schedule();
  };

  return {
    hold(from, to) {
      let mine = held.get(from);
      if (mine?.has(to)) return;
      if (!mine) held.set(from, mine = new Map());
      const due = Date.now() + holdMs;
      mine.set(to, due);
      queue.push({ from, to, due });
      schedule();
    },
    drop(from, to) {
      const mine = held.get(from);
      if (!mine?.delete(to)) return;
      if (mine.size === 0) held.delete(from);
    },
    close() {
      clearTimeout(timer);
      timer = undefined;
      held.clear();
      queue = [];
      head = 0;
    },
  };
}
