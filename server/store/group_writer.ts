/**
 * Group commit: writes that arrive while a KV commit is in flight are merged
 * into the next single atomic commit, so throughput is bounded by commits per
 * second times batch size rather than by commits per second alone.
 *
 * Sets that may wait (`setLater()`) get commits of their own, `LATER_BATCH`
 * at a time, when nothing else is waiting to be written, so they do not
 * lengthen the commits of writes someone waits for. Past `LATER_MS`, up to
 * `LATER_BATCH` of them go with whatever commits next.
 */

import { readMany } from "./read_many.ts";
import { retryLocked } from "./retry.ts";

/** One logical write: it lands whole, in one commit, or fails whole. */
export interface WriteRequest {
  /**
   * Conditions (`versionstamp: null`: the key must not exist). A write whose
   * check fails rejects with `CheckFailedError` and writes nothing; the other
   * writes of its batch are committed without it.
   */
  checks?: Deno.AtomicCheck[];
  /** Keys to set; within one commit a later set of the same key wins. */
  sets: { key: Deno.KvKey; value: unknown; expireIn?: number }[];
  /** Counters to add to (`Deno.KvU64` sums); sums of one key add up. */
  sums?: { key: Deno.KvKey; by: bigint }[];
  /** Approximate size of the values in bytes, to keep commits within KV's limits. */
  bytes: number;
}

/** Counters for tests, health and benchmarks. */
export interface WriterStats {
  commits: number;
  writes: number;
  /** `setLater()` sets committed, and those lost with a failed commit. */
  laterWritten: number;
  laterLost: number;
  /** Sets and sums committed, after merging those of one key within a commit. */
  mutations: number;
  lockRetries: number;
  pending: number;
  /** `setLater()` sets not committed yet. */
  laterPending: number;
  largestBatch: number;
  /** How long the latest commits took (up to `COMMIT_TIMES` of them), median and 99th percentile, ms. */
  commitP50Ms: number;
  commitP99Ms: number;
}

// Commits whose durations the statistics are drawn from.
const COMMIT_TIMES = 1024;

function percentile(sorted: Float64Array, p: number): number {
  return sorted.length === 0
    ? 0
    : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

/** One KV commit, as `GroupWriterOptions.onCommit` hears of it. */
export interface CommitInfo {
  /** From the first attempt to KV's answer, retries included. */
  seconds: number;
  /** Writes merged into the commit. */
  writes: number;
  /** `database is locked` retries it took. */
  lockRetries: number;
}

/** Options of `GroupWriter`. */
export interface GroupWriterOptions {
  /** Called after each commit KV answered (also one whose check failed), e.g. for metrics. */
  onCommit?: (info: CommitInfo) => void;
}

/** A write's check did not hold: nothing of that write was stored. */
export class CheckFailedError extends Error {
  constructor() {
    super("A check of the write failed");
    this.name = "CheckFailedError";
  }
}

interface Pending {
  request: WriteRequest;
  /** `keyBytes` of all its keys, checks included. */
  keyBytes: number;
  resolve: () => void;
  reject: (error: unknown) => void;
  /** The `setLater()` sets a batch took along, not a `write()`. */
  deferred?: true;
}

// KV allows 1,000 mutations, 100 checks, 800 KB of values and 80 KiB of keys
// (checks and mutations together) per commit; stay below all.
const MAX_MUTATIONS = 900;
const MAX_CHECKS = 90;
const MAX_BYTES = 700_000;
const MAX_KEY_BYTES = 80_000;

// The longest a `setLater()` set waits for the writer to be idle.
export const LATER_MS = 250;
// Deferred sets that make a commit of their own while the writer is idle, and
// the most a commit takes along once they are due (or on flush and close).
// Each is a row of its own, about 40-100 µs of KV's time on a disk: 32 keep
// such a commit near 2-3 ms, so a message that arrives meanwhile waits little,
// and its fixed cost is still shared by 32.
export const LATER_BATCH = 32;
// What one deferred set's value is counted as, against `MAX_BYTES`.
const LATER_VALUE_BYTES = 160;

/**
 * The size of `key` in KV's encoding, or a little more: each part is a type byte
 * and its bytes (strings as UTF-8, NUL escaped to two bytes) with a terminator, or
 * a fixed width.
 */
export function keyBytes(key: Deno.KvKey): number {
  let n = 0;
  for (const part of key) {
    if (typeof part === "string") {
      n += 2;
      for (let i = 0; i < part.length; i++) {
        const c = part.charCodeAt(i);
        // A surrogate pair is 4 bytes; counting 3 for each half also covers a lone one (U+FFFD).
        n += c === 0 ? 2 : c < 0x80 ? 1 : c < 0x800 ? 2 : 3;
      }
    } else if (part instanceof Uint8Array) {
      n += 2 + part.length;
      for (const b of part) if (b === 0) n++;
    } else if (typeof part === "bigint") {
      n += 3 + Math.ceil((part < 0n ? -part : part).toString(16).length / 2);
    } else if (typeof part === "number") {
      n += 9;
    } else {
      n += 1;
    }
  }
  return n;
}

function requestKeyBytes(request: WriteRequest): number {
  let n = 0;
  for (const s of request.sets) n += keyBytes(s.key);
  for (const s of request.sums ?? []) n += keyBytes(s.key);
  for (const c of request.checks ?? []) n += keyBytes(c.key);
  return n;
}

// A string naming `key` exactly (KV tells -0 from 0; `String` does not), cheaper than JSON.
function keyId(key: Deno.KvKey): string {
  let id = "";
  for (const part of key) {
    const text = part instanceof Uint8Array
      ? part.join(",")
      : Object.is(part, -0)
      ? "-0"
      : String(part);
    id += `${typeof part}${text.length}:${text}`;
  }
  return id;
}

function mutationCount(request: WriteRequest): number {
  return request.sets.length + (request.sums?.length ?? 0);
}

/** A `setLater()` set. */
interface LaterSet {
  key: Deno.KvKey;
  value: unknown;
  keyBytes: number;
  /** When the key's first set still to write was made (`Date.now()`). */
  since: number;
}

/** Batches writes into as few KV commits as possible; see the module doc. */
export class GroupWriter {
  #kv: Deno.Kv;
  #queue: Pending[] = [];
  #running: Promise<void> | null = null;
  #closed = false;
  /** Deferred sets by key, oldest first; a newer set of a key takes the older one's place. */
  #later = new Map<string, LaterSet>();
  #laterTimer: ReturnType<typeof setTimeout> | undefined;
  /** Deferred sets are written now, in full commits: `flush()` or `close()` asked. */
  #laterNow = false;
  #stats = {
    commits: 0,
    writes: 0,
    laterWritten: 0,
    laterLost: 0,
    mutations: 0,
    lockRetries: 0,
    largestBatch: 0,
  };
  /** Durations of the latest commits, ms, as a ring. */
  #commitMs = new Float64Array(COMMIT_TIMES);
  #onCommit: ((info: CommitInfo) => void) | undefined;

  constructor(kv: Deno.Kv, options: GroupWriterOptions = {}) {
    this.#kv = kv;
    this.#onCommit = options.onCommit;
  }

  /** Current counters. */
  get stats(): WriterStats {
    const recent = this.#commitMs.slice(0, Math.min(this.#stats.commits, COMMIT_TIMES)).sort();
    return {
      ...this.#stats,
      pending: this.#queue.length,
      laterPending: this.#later.size,
      commitP50Ms: percentile(recent, 0.5),
      commitP99Ms: percentile(recent, 0.99),
    };
  }

  /** Resolves once `request` is committed; rejects if its commit fails. */
  write(request: WriteRequest): Promise<void> {
    if (this.#closed) {
      return Promise.reject(new Error("Cannot write: the writer is closed"));
    }
    const keys = requestKeyBytes(request);
    if (
      mutationCount(request) > MAX_MUTATIONS || request.bytes > MAX_BYTES ||
      keys > MAX_KEY_BYTES || (request.checks?.length ?? 0) > MAX_CHECKS
    ) {
      return Promise.reject(
        new RangeError(
          `Cannot write ${mutationCount(request)} mutations of ${request.bytes} bytes, ${
            request.checks?.length ?? 0
          } checks and ${keys} bytes of keys in one commit`,
        ),
      );
    }
    return new Promise((resolve, reject) => {
      this.#queue.push({ request, keyBytes: keys, resolve, reject });
      this.#start();
    });
  }

  /**
   * Sets `key` to `value` in a commit to come, without waiting for it: for
   * marks that a crash may lose (the next one makes up for it). A later call
   * for the same key replaces the value, in the earlier one's place.
   * `laterSets()` lists what is still to write. A set KV refuses is dropped, alone
   * (`stats.laterLost`). Meant for small values.
   */
  setLater(key: Deno.KvKey, value: unknown): void {
    if (this.#closed) throw new Error("Cannot write: the writer is closed");
    const id = keyId(key);
    const pending = this.#later.get(id);
    if (pending) {
      pending.value = value;
      return;
    }
    const bytes = keyBytes(key);
    if (bytes > MAX_KEY_BYTES) {
      throw new RangeError(`Cannot write a key of ${bytes} bytes: the most is ${MAX_KEY_BYTES}`);
    }
    this.#later.set(id, { key, value, keyBytes: bytes, since: Date.now() });
    this.#start();
  }

  /** Every `setLater()` set still to write. */
  *laterSets(): IterableIterator<{ key: Deno.KvKey; value: unknown }> {
    for (const { key, value } of this.#later.values()) yield { key, value };
  }

  /** Resolves once everything written so far, `setLater()` sets too, is committed (or failed). */
  async flush(): Promise<void> {
    if (this.#later.size > 0) {
      this.#laterNow = true;
      this.#start();
    }
    while (this.#running) await this.#running;
  }

  /** Refuses new writes and waits for the queued ones. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.flush();
    clearTimeout(this.#laterTimer);
  }

  // Deferred sets wait for the writer to be idle with enough of them, or until they are due.
  #scheduleLater(): void {
    if (this.#later.size === 0 || this.#laterTimer !== undefined) return;
    const wait = Math.max(0, this.#oldestLater() + LATER_MS - Date.now());
    this.#laterTimer = setTimeout(() => {
      this.#laterTimer = undefined;
      this.#start();
    }, wait);
    Deno.unrefTimer(this.#laterTimer);
  }

  #oldestLater(): number {
    return this.#later.values().next().value?.since ?? Infinity;
  }

  // Deferred sets to commit now: due ones, or enough for a commit of their own.
  #laterReady(): boolean {
    return this.#later.size >= LATER_BATCH || this.#laterDue();
  }

  #laterDue(): boolean {
    return this.#later.size > 0 &&
      (this.#laterNow || Date.now() - this.#oldestLater() >= LATER_MS);
  }

  /** `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // Commits while there is something to commit. Only started with work to do:
  // a drain that found none would end before `#running` was set to it.
  #start(): void {
    if (this.#running) return;
    if (this.#queue.length > 0 || this.#laterReady()) this.#running = this.#drain();
    else this.#scheduleLater();
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0 || this.#laterReady()) await this.#settle(this.#takeBatch());
    } finally {
      this.#running = null;
      if (this.#later.size === 0) this.#laterNow = false;
      else this.#scheduleLater();
    }
  }

  /** Commits `batch`, or as much of it as can be: one bad write never fails the others. */
  async #settle(batch: Pending[]): Promise<void> {
    try {
      await this.#commit(batch);
      for (const p of batch) if (!p.deferred) this.#stats.writes++;
      for (const p of batch) p.resolve();
      return;
    } catch (error) {
      if (batch.length === 1) {
        const [p] = batch;
        // Deferred sets share a write: a bad one must not take the others along.
        if (p.deferred && p.request.sets.length > 1) {
          for (const set of p.request.sets) {
            await this.#settle([this.#deferredWrite([set], keyBytes(set.key))]);
          }
          return;
        }
        p.reject(error);
        return;
      }
      if (error instanceof CheckFailedError) {
        // Find the writes whose checks fail now, fail them, commit the others.
        const failing = await this.#failingChecks(batch).catch(() => new Set<Pending>());
        if (failing.size > 0) {
          for (const p of failing) p.reject(new CheckFailedError());
          await this.#settle(batch.filter((p) => !failing.has(p)));
          return;
        }
      }
      for (const p of batch) await this.#settle([p]);
    }
  }

  /** The writes of `batch` with a check that does not hold at the moment. */
  async #failingChecks(batch: Pending[]): Promise<Set<Pending>> {
    const checks = batch.flatMap((p) => (p.request.checks ?? []).map((check) => ({ p, check })));
    const failing = new Set<Pending>();
    const entries = await readMany(this.#kv, checks.map(({ check }) => check.key));
    entries.forEach((entry, i) => {
      if (entry.versionstamp !== checks[i].check.versionstamp) failing.add(checks[i].p);
    });
    return failing;
  }

  #takeBatch(): Pending[] {
    let mutations = 0;
    let checksTaken = 0;
    let bytes = 0;
    let keys = 0;
    let n = 0;
    // Keys checked in this batch, and keys written: two writes that check the
    // same key (two sign-ups with one name) must not share a commit, where both
    // checks would hold; nor may a write change a key another one checks.
    // Kept only once a checked write appears.
    const checked = new Set<string>();
    let written: Set<string> | undefined;
    const setKeys = (request: WriteRequest) => request.sets.map((s) => keyId(s.key));
    for (const p of this.#queue) {
      const { request } = p;
      const m = mutationCount(request);
      const c = request.checks?.length ?? 0;
      if (c > 0) written ??= new Set(this.#queue.slice(0, n).flatMap((q) => setKeys(q.request)));
      const checks = c > 0 ? request.checks!.map((k) => keyId(k.key)) : [];
      const sets = written ? setKeys(request) : [];
      if (
        n > 0 &&
        (mutations + m > MAX_MUTATIONS || checksTaken + c > MAX_CHECKS ||
          bytes + request.bytes > MAX_BYTES || keys + p.keyBytes > MAX_KEY_BYTES ||
          checks.some((k) => checked.has(k) || written!.has(k)) ||
          sets.some((k) => checked.has(k)))
      ) break;
      mutations += m;
      checksTaken += c;
      bytes += request.bytes;
      keys += p.keyBytes;
      for (const k of checks) checked.add(k);
      for (const k of sets) written!.add(k);
      n++;
    }
    const batch = this.#queue.splice(0, n);
    this.#stats.largestBatch = Math.max(this.#stats.largestBatch, batch.length);
    // Deferred sets go along once due; otherwise only into a commit of their own.
    const room = Math.min(
      this.#laterDue() || n === 0 ? LATER_BATCH : 0,
      MAX_MUTATIONS - mutations,
      Math.floor((MAX_BYTES - bytes) / LATER_VALUE_BYTES),
    );
    const later = this.#takeLater(room, MAX_KEY_BYTES - keys);
    if (later) batch.push(later);
    return batch;
  }

  // Up to `room` deferred sets (oldest first) within `keyRoom` bytes of keys,
  // as one write of a batch; undefined when there are none to take.
  #takeLater(room: number, keyRoom: number): Pending | undefined {
    if (this.#later.size === 0 || room <= 0) return undefined;
    const taken: { key: Deno.KvKey; value: unknown }[] = [];
    let keys = 0;
    for (const [id, { key, value, keyBytes: k }] of this.#later) {
      if (taken.length === room || keys + k > keyRoom) break;
      keys += k;
      taken.push({ key, value });
      this.#later.delete(id);
    }
    return taken.length === 0 ? undefined : this.#deferredWrite(taken, keys);
  }

  #deferredWrite(sets: { key: Deno.KvKey; value: unknown }[], keys: number): Pending {
    return {
      request: { sets, bytes: sets.length * LATER_VALUE_BYTES },
      keyBytes: keys,
      deferred: true,
      resolve: () => (this.#stats.laterWritten += sets.length),
      reject: () => (this.#stats.laterLost += sets.length),
    };
  }

  async #commit(batch: Pending[]): Promise<void> {
    const sets = new Map<string, { key: Deno.KvKey; value: unknown; expireIn?: number }>();
    const sums = new Map<string, { key: Deno.KvKey; by: bigint }>();
    const checks: Deno.AtomicCheck[] = [];
    for (const { request } of batch) {
      checks.push(...request.checks ?? []);
      for (const s of request.sets) sets.set(keyId(s.key), s);
      for (const s of request.sums ?? []) {
        const id = keyId(s.key);
        const prev = sums.get(id);
        sums.set(id, { key: s.key, by: (prev?.by ?? 0n) + s.by });
      }
    }
    const started = performance.now();
    let lockRetries = 0;
    const ok = await retryLocked(async () => {
      const op = this.#kv.atomic();
      for (const c of checks) op.check(c);
      for (const s of sets.values()) {
        op.set(s.key, s.value, s.expireIn === undefined ? undefined : { expireIn: s.expireIn });
      }
      for (const s of sums.values()) op.sum(s.key, s.by);
      return (await op.commit()).ok;
    }, {
      onRetry: () => {
        this.#stats.lockRetries++;
        lockRetries++;
      },
    });
    const ms = performance.now() - started;
    this.#commitMs[this.#stats.commits % COMMIT_TIMES] = ms;
    this.#stats.commits++;
    const writes = batch.reduce((n, p) => (p.deferred ? n : n + 1), 0);
    this.#onCommit?.({ seconds: ms / 1000, writes, lockRetries });
    if (!ok) throw new CheckFailedError();
    this.#stats.mutations += sets.size + sums.size;
  }
}
