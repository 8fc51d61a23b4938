/**
 * Import: the lines of an export (`export_format.ts`) into a KV.
 *
 * Two passes over the file. The first checks every line (the header's
 * version, each line's fields, no row twice, messages in key order, every user
 * a line names has its user line, the end line's counts) and writes nothing
 * when one is wrong. The second writes the rows in commits within KV's limits
 * (1,000 mutations, 800 KB, 80 KiB of keys), rebuilding the session index and
 * the search entries; counters go last, in the order of their ranks, so that
 * their versionstamps order each user's conversations as before.
 *
 * The first commit stamps storage format 5 and `["meta", "import"]`, the last
 * deletes that marker. A write that stops between them (a crash, a full disk)
 * leaves the marker: servers refuse to start on that KV, and importing again
 * with `--merge` finishes it, as every row is a plain set.
 */

import { searchFold } from "../protocol.ts";
import { formatKey, importKey, searchKey, userSessionKey } from "./keys.ts";
import {
  checkHeader,
  checkRow,
  conversationOf,
  EXPORT_STORAGE_FORMAT,
  ROW_TYPES,
  type RowLine,
  rowOf,
  type RowType,
  usersOf,
} from "./export_format.ts";
import { dataKinds } from "./export.ts";
import { retryLocked } from "./retry.ts";

/** The lines of a file, without their newlines; called once per pass. */
export type LineSource = () => AsyncIterable<string>;

/** Options of `importKv()`. */
export interface ImportOptions {
  /** Write over a KV that holds data: each row of the file replaces the row of its key. */
  merge?: boolean;
  /** How long a session lives after its last use (ms): one past it is left out. */
  sessionTtlMs: number;
  /** The time sessions are judged at (ms); now unless given. */
  now?: number;
}

/** What `importKv()` wrote. */
export interface ImportResult {
  /** Lines of each kind in the file. */
  counts: Map<RowType, number>;
  /** Session lines left out as their sessions are over. */
  expiredSessions: number;
  /** Commits it took. */
  commits: number;
}

// Within KV's limits per commit (1,000 mutations, 800 KB in all, 80 KiB of keys),
// with room for the estimates below being short.
const MAX_MUTATIONS = 500;
const MAX_KEY_BYTES = 60 * 1024;
const MAX_BYTES = 600 * 1024;
// Counters of one user and rank go in one commit: an export has at most one
// group commit's worth (333 messages); this bound keeps them within the limits.
const MAX_RANK_GROUP = 400;

function keyBytes(key: Deno.KvKey): number {
  let bytes = 0;
  for (const part of key) {
    bytes += typeof part === "string" ? new TextEncoder().encode(part).length + 2 : 10;
  }
  return bytes;
}

// V8's serialization takes at most two bytes per UTF-16 code unit of the JSON form.
function valueBytes(value: unknown): number {
  if (value instanceof Deno.KvU64) return 8;
  return 2 * JSON.stringify(value).length + 16;
}

/** A row to set. */
interface Row {
  key: Deno.KvKey;
  value: unknown;
  expireIn?: number;
}

/** Rows gathered into commits within the limits; `add()` keeps its rows in one commit. */
class Commits {
  #kv: Deno.Kv;
  #rows: Row[] = [];
  #keyBytes = 0;
  #bytes = 0;
  count = 0;

  constructor(kv: Deno.Kv) {
    this.#kv = kv;
  }

  async add(...rows: Row[]): Promise<void> {
    const keys = rows.reduce((sum, r) => sum + keyBytes(r.key), 0);
    const bytes = rows.reduce((sum, r) => sum + valueBytes(r.value), keys);
    if (
      this.#rows.length + rows.length > MAX_MUTATIONS || this.#keyBytes + keys > MAX_KEY_BYTES ||
      this.#bytes + bytes > MAX_BYTES
    ) {
      await this.flush();
    }
    this.#rows.push(...rows);
    this.#keyBytes += keys;
    this.#bytes += bytes;
  }

  async flush(): Promise<void> {
    if (this.#rows.length === 0) return;
    const op = this.#kv.atomic();
    for (const { key, value, expireIn } of this.#rows) {
      op.set(key, value, expireIn === undefined ? undefined : { expireIn });
    }
    await retryLocked(() => op.commit());
    this.count++;
    this.#rows = [];
    this.#keyBytes = 0;
    this.#bytes = 0;
  }
}

/** An error about line `n` of the file. */
function lineError(n: number, error: unknown): Error {
  const reason = error instanceof Error ? error.message : String(error);
  const message = `Cannot import line ${n}: ${reason}`;
  return error instanceof RangeError ? new RangeError(message) : new TypeError(message);
}

function parse(text: string, n: number): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw lineError(n, `not JSON (${(error as Error).message})`);
  }
}

function rowKeyText(line: RowLine): string {
  return JSON.stringify(rowOf(line).key, (_k, v) => typeof v === "bigint" ? `${v}` : v);
}

/** The first pass: checks every line, writes nothing; the count of each kind. */
async function checkLines(source: LineSource): Promise<Map<RowType, number>> {
  const counts = new Map<RowType, number>();
  const seen = new Map<string, number>();
  const users = new Set<string>();
  const named = new Map<string, number>();
  const rankGroups = new Map<string, number>();
  let lastMessage = "";
  let n = 0;
  let ended = false;
  for await (const text of source()) {
    n++;
    if (ended) throw lineError(n, "it comes after the end line");
    const raw = parse(text, n);
    if (n === 1) {
      try {
        checkHeader(raw);
      } catch (error) {
        throw lineError(1, error);
      }
      continue;
    }
    if ((raw as { type?: unknown } | null)?.type === "end") {
      checkEnd(raw as Record<string, unknown>, counts, n);
      ended = true;
      continue;
    }
    let line: RowLine;
    try {
      line = checkRow(raw);
    } catch (error) {
      throw lineError(n, error);
    }
    counts.set(line.type, (counts.get(line.type) ?? 0) + 1);
    if (line.type === "message") {
      // In key order, as export writes them: no set of every message key is needed.
      const key = `${conversationOf(line)}/${line.id}`;
      if (key <= lastMessage) {
        throw lineError(n, "messages must come in key order (conversation, then ID), each once");
      }
      lastMessage = key;
    } else {
      const key = rowKeyText(line);
      const first = seen.get(key);
      if (first !== undefined) throw lineError(n, `it is the row of line ${first} again`);
      seen.set(key, n);
    }
    if (line.type === "user") users.add(line.userID as string);
    for (const user of usersOf(line)) if (!named.has(user)) named.set(user, n);
    if (line.type === "received" || line.type === "sent") {
      const group = `${line.userID}/${line.rank}`;
      const size = (rankGroups.get(group) ?? 0) + 1;
      if (size > MAX_RANK_GROUP) {
        throw lineError(
          n,
          `user ${line.userID} has more than ${MAX_RANK_GROUP} counters of rank ${line.rank}`,
        );
      }
      rankGroups.set(group, size);
    }
  }
  if (n === 0) throw new TypeError("Cannot import: the file is empty");
  if (!ended) {
    throw new TypeError(
      `Cannot import: the file ends at line ${n} without its end line; it is cut short (an export that did not finish?)`,
    );
  }
  for (const [user, line] of named) {
    if (!users.has(user)) throw lineError(line, `user ${user} has no user line in the file`);
  }
  return counts;
}

function checkEnd(raw: Record<string, unknown>, counts: Map<RowType, number>, n: number): void {
  const given = raw.counts;
  if (
    Object.keys(raw).some((k) => k !== "type" && k !== "counts") || typeof given !== "object" ||
    given === null || Array.isArray(given)
  ) {
    throw lineError(n, 'the end line is {"type":"end","counts":{...}}');
  }
  for (const type of new Set([...ROW_TYPES, ...Object.keys(given)])) {
    const said = (given as Record<string, unknown>)[type] ?? 0;
    const found = counts.get(type as RowType) ?? 0;
    if (said !== found) {
      throw lineError(
        n,
        `the end line counts ${JSON.stringify(said)} ${type} lines, the file has ${found}`,
      );
    }
  }
}

/** Refuses a KV that is not empty (without `merge`), of another format, or of an unfinished import. */
async function checkTarget(kv: Deno.Kv, merge: boolean): Promise<Deno.KvEntryMaybe<unknown>> {
  const [format, pending] = await kv.getMany<[unknown, unknown]>([formatKey(), importKey()]);
  if (pending.value !== null && !merge) {
    throw new Error(
      "Cannot import: an earlier import into this KV did not finish; run it again with --merge",
    );
  }
  const kinds = await dataKinds(kv);
  if (format.value !== null && format.value !== EXPORT_STORAGE_FORMAT) {
    throw new RangeError(
      `Cannot import into storage format ${
        String(format.value)
      }: the file holds format ${EXPORT_STORAGE_FORMAT}; import into an empty KV`,
    );
  }
  if (format.value === null && kinds.length > 0) {
    throw new Error(
      "Cannot import: the KV holds data without a storage format version; import into an empty KV",
    );
  }
  if (kinds.length > 0 && !merge) {
    throw new Error(
      `Cannot import: the KV holds data (${
        kinds.join(", ")
      }); import into an empty KV, or pass --merge to write the file's rows over it`,
    );
  }
  return format;
}

/**
 * Checks every line of `source`, then writes its rows into `kv` (see the
 * module's comment). Throws a `TypeError` or `RangeError` naming the first bad
 * line, having written nothing, and an `Error` for a KV it will not write into.
 */
export async function importKv(
  kv: Deno.Kv,
  source: LineSource,
  options: ImportOptions,
): Promise<ImportResult> {
  const merge = options.merge ?? false;
  const now = options.now ?? Date.now();
  await checkTarget(kv, merge);
  const counts = await checkLines(source);
  const format = await checkTarget(kv, merge);

  // The first commit: the format, and the marker of an import under way.
  const { ok } = await retryLocked(() =>
    kv.atomic().check(format).set(formatKey(), EXPORT_STORAGE_FORMAT)
      .set(importKey(), { startedAt: now }).commit()
  );
  if (!ok) throw new Error("Cannot import: another process wrote the KV's format meanwhile");

  const commits = new Commits(kv);
  const counters: { row: Row; user: string; rank: number }[] = [];
  let expiredSessions = 0;
  let n = 0;
  for await (const text of source()) {
    n++;
    const raw = parse(text, n);
    const type = (raw as { type?: unknown }).type;
    if (n === 1 || type === "end") continue;
    const line = checkRow(raw);
    const row = rowOf(line);
    if (line.type === "received" || line.type === "sent") {
      counters.push({ row, user: line.userID as string, rank: line.rank as number });
    } else if (line.type === "session") {
      const expireIn = (line.refreshedAt as number) + options.sessionTtlMs - now;
      if (expireIn <= 0) {
        expiredSessions++;
        continue;
      }
      await commits.add({ ...row, expireIn }, {
        key: userSessionKey(line.userID as string, line.sessionID as string),
        value: true,
      });
    } else if (line.type === "user" && !line.deleted) {
      await commits.add(row, {
        key: searchKey(searchFold(line.username as string), line.userID as string),
        value: true,
      });
    } else {
      await commits.add(row);
    }
  }
  await commits.flush();

  // Rank by rank, each user's counters of a rank in one commit, after those of lower ranks.
  const byRank = new Map<number, Map<string, Row[]>>();
  for (const { row, user, rank } of counters) {
    const users = byRank.get(rank) ?? byRank.set(rank, new Map()).get(rank)!;
    users.get(user)?.push(row) ?? users.set(user, [row]);
  }
  for (const rank of [...byRank.keys()].sort((a, b) => a - b)) {
    for (const rows of byRank.get(rank)!.values()) await commits.add(...rows);
    await commits.flush();
  }

  await retryLocked(() => kv.delete(importKey()));
  return { counts, expiredSessions, commits: commits.count + 2 };
}

/** The lines of a UTF-8 file, read anew on each call; a line that is not UTF-8 is an error. */
export function fileLines(path: string): LineSource {
  return async function* () {
    const file = await Deno.open(path);
    const decoder = new TextDecoder("utf-8", { fatal: true });
    let pending: Uint8Array[] = [];
    let n = 0;
    const line = () => {
      n++;
      const bytes = pending.length === 1 ? pending[0] : concat(pending);
      pending = [];
      try {
        return decoder.decode(bytes);
      } catch {
        throw new TypeError(`Cannot import line ${n}: not UTF-8 text`);
      }
    };
    // Leaving the loop early cancels the stream, which closes the file.
    for await (const chunk of file.readable) {
      let start = 0;
      for (let end = chunk.indexOf(10); end !== -1; end = chunk.indexOf(10, start)) {
        pending.push(chunk.subarray(start, end));
        start = end + 1;
        yield line();
      }
      if (start < chunk.length) pending.push(chunk.slice(start));
    }
    if (pending.length > 0) yield line();
  };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
