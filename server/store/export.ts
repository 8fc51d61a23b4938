/**
 * Export: every row of a KV of storage format 5 as the lines of
 * `export_format.ts`, in an order that depends only on the data, so that
 * exporting a KV that import wrote gives the same bytes again.
 *
 * It reads while servers write. What it guarantees:
 * - each row is as it was at one moment of the export;
 * - each conversation (its messages, the four counters and the two read marks)
 *   is one snapshot: counters and marks are read before and after its messages,
 *   and while they changed (a new message changes a counter) its latest minute
 *   is read again between two more reads of them (`readConversation()`);
 * - every user a line names has its user line: users are written last, and a
 *   user row is never removed, only tombstoned.
 * Rows written during the export may be in it or not: a conversation begun
 * after its first look at the conversations is not, a message edited meanwhile
 * is there in one of its versions. Delivered marks a server still gathers (up
 * to 250 ms) are not stored yet.
 *
 * Counters carry a `rank`: the order of their versionstamps among the user's
 * counters, which orders the user's conversations; import writes them in that
 * order.
 */

import {
  activityPrefix,
  allMessagesPrefix,
  blocksPrefix,
  clusterNodesPrefix,
  deletionsPrefix,
  formatKey,
  importKey,
  lastSeenPrefix,
  messagesPrefix,
  pairID,
  preferencesPrefix,
  presenceNodePrefix,
  presencePrefix,
  readKey,
  readPrefix,
  readyProbeKey,
  receiptsPrefix,
  receivedKey,
  receivedPrefix,
  retentionLeaseKey,
  searchPrefix,
  sentKey,
  sentPrefix,
  sessionsPrefix,
  usernamesPrefix,
  userSessionsPrefix,
  usersPrefix,
} from "./keys.ts";
import {
  endLine,
  EXPORT_STORAGE_FORMAT,
  headerLine,
  lineOf,
  type RowLine,
  type RowType,
} from "./export_format.ts";
import { retryLocked } from "./retry.ts";
import { keyParts, listRows } from "./scan.ts";
import { firstMessageIdAt, messageIdTime } from "../chat/ids.ts";
import type { SessionRecord } from "../chat/ports.ts";

/** Options of `exportKv()`. */
export interface ExportOptions {
  /** How long a session lives after its last use (ms): one past it is over and left out. */
  sessionTtlMs: number;
  /** The time sessions are judged at (ms); now unless given. */
  now?: number;
  /** Reads of one conversation before giving up on one that changes all the time. */
  attempts?: number;
}

/** What `exportKv()` wrote. */
export interface ExportResult {
  /** Lines of each kind. */
  counts: Map<RowType, number>;
  /** Every line, the header and the end line included. */
  lines: number;
}

/** The first part of every key of storage format 5, and what export does with its rows. */
const KINDS: ReadonlyMap<string, "exported" | "rebuilt" | "runtime"> = new Map([
  [formatKey()[0] as string, "runtime"], // The format is the header's; probes and leases expire.
  [usersPrefix()[0] as string, "exported"],
  [usernamesPrefix()[0] as string, "exported"],
  [sessionsPrefix()[0] as string, "exported"],
  [userSessionsPrefix()[0] as string, "rebuilt"], // One per session, by import.
  [activityPrefix()[0] as string, "exported"],
  [receiptsPrefix()[0] as string, "exported"],
  [preferencesPrefix()[0] as string, "exported"],
  [blocksPrefix()[0] as string, "exported"],
  [lastSeenPrefix()[0] as string, "exported"],
  [searchPrefix()[0] as string, "rebuilt"], // One per live user, by import.
  [deletionsPrefix()[0] as string, "exported"],
  [allMessagesPrefix()[0] as string, "exported"],
  [receivedPrefix()[0] as string, "exported"],
  [sentPrefix()[0] as string, "exported"],
  [readPrefix()[0] as string, "exported"],
  [presencePrefix()[0] as string, "runtime"],
  [presenceNodePrefix()[0] as string, "runtime"],
  [clusterNodesPrefix()[0] as string, "runtime"],
]);

/** The first parts of `meta` keys, which are runtime state or the format. */
const META = new Set([
  formatKey()[1],
  readyProbeKey("")[1],
  importKey()[1],
  retentionLeaseKey()[1],
]);

function keyText(key: Deno.KvKey): string {
  return JSON.stringify(key, (_k, v) => typeof v === "bigint" ? `${v}n` : v);
}

/** A row export cannot carry: `Cannot export [key]: reason`. */
function refuse(key: Deno.KvKey, reason: string): never {
  throw new TypeError(`Cannot export ${keyText(key)}: ${reason}`);
}

function lineOrRefuse(
  type: RowType,
  entry: { key: Deno.KvKey; value: unknown },
  extra?: Record<string, unknown>,
): RowLine {
  try {
    return lineOf(type, entry, extra);
  } catch (error) {
    refuse(entry.key, (error as Error).message);
  }
}

/**
 * The kinds of rows (first key parts) in `kv` that an export carries or an
 * import rebuilds: none for a KV that holds no chat data, even if a server has
 * run on it (the format, probes, presence).
 */
export async function dataKinds(kv: Deno.Kv): Promise<string[]> {
  const kinds: string[] = [];
  for await (const part of keyParts(kv, [])) {
    if (typeof part !== "string" || KINDS.get(part) !== "runtime") kinds.push(String(part));
  }
  return kinds;
}

/** Checks the KV is of the format export writes, and holds no row of a kind it does not know. */
async function checkKv(kv: Deno.Kv): Promise<void> {
  const [format, pending] = await kv.getMany<[unknown, unknown]>([formatKey(), importKey()]);
  if (pending.value !== null) {
    throw new Error(
      "Cannot export: an import into this KV did not finish; run the import again with --merge",
    );
  }
  let empty = true;
  for await (const part of keyParts(kv, [])) {
    empty = false;
    if (typeof part !== "string" || !KINDS.has(part)) {
      refuse([part], `storage format ${EXPORT_STORAGE_FORMAT} has no such rows`);
    }
  }
  for await (const part of keyParts(kv, ["meta"])) {
    if (!META.has(part)) refuse(["meta", part], "not a key of the format");
  }
  if (format.value === null && !empty) {
    throw new Error(
      "Cannot export: the KV has no storage format version; start the server on it once to migrate it",
    );
  }
  if (format.value !== null && format.value !== EXPORT_STORAGE_FORMAT) {
    throw new RangeError(
      `Cannot export storage format ${
        String(format.value)
      }: export writes format ${EXPORT_STORAGE_FORMAT}; start this server on it once to migrate it`,
    );
  }
}

/** A counter as read, before its rank is known. */
interface CounterRow {
  type: "received" | "sent";
  entry: Deno.KvEntry<unknown>;
}

/** The rows of one conversation besides its messages, one snapshot with them. */
interface Conversation {
  messages: RowLine[];
  reads: Deno.KvEntry<unknown>[];
  counters: CounterRow[];
}

// A message another node stores late, with a clock behind, still gets an ID at
// most this much older than the newest: the re-reads of a conversation start here.
const CLOCK_SKEW_MS = 60_000;

/**
 * One conversation's rows, one snapshot: its counters and marks are read before
 * and after its messages, and while they changed, the last minute of messages is
 * read again between two more reads of them. So a busy conversation costs one
 * full read and a few short ones, and what is returned holds the messages the
 * counters count.
 */
async function readConversation(
  kv: Deno.Kv,
  [a, b]: [string, string],
  attempts: number,
): Promise<Conversation> {
  const sides: [string, string][] = a === b ? [[a, a]] : [[a, b], [b, a]];
  const keys = sides.flatMap(([u, p]) => [receivedKey(u, p), sentKey(u, p), readKey(u, p)]);
  const prefix = messagesPrefix(a, b);
  let rows: Deno.KvEntry<unknown>[] = [];
  let from: string | undefined;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const before = await retryLocked(() => kv.getMany(keys));
    const selector = from === undefined ? { prefix } : { prefix, start: [...prefix, from] };
    const tail = await Array.fromAsync(listRows(kv, selector));
    const after = await retryLocked(() => kv.getMany(keys));
    rows = from === undefined
      ? tail
      : [...rows.filter((r) => (r.key[2] as string) < from!), ...tail];
    if (!before.every((entry, i) => entry.versionstamp === after[i].versionstamp)) {
      const last = rows.at(-1)?.key[2];
      const time = typeof last === "string" ? messageIdTime(last) : NaN;
      from = Number.isFinite(time) ? firstMessageIdAt(time - CLOCK_SKEW_MS) : undefined;
      continue;
    }
    const found = after.filter((e): e is Deno.KvEntry<unknown> => e.versionstamp !== null);
    return {
      messages: rows.map((entry) => lineOrRefuse("message", entry)),
      reads: found.filter((e) => e.key[0] === "read"),
      counters: found.filter((e) => e.key[0] !== "read").map((entry) => ({
        type: entry.key[0] as "received" | "sent",
        entry,
      })),
    };
  }
  throw new Error(
    `Cannot export the conversation of ${a} and ${b}: it changed during ${attempts} reads in a row; try again`,
  );
}

/** The conversations there are: of messages, of counters and of read marks, by `pairID`. */
async function conversations(kv: Deno.Kv): Promise<Map<string, [string, string]>> {
  const pairs = new Map<string, [string, string]>();
  for await (const part of keyParts(kv, allMessagesPrefix())) {
    const users = typeof part === "string" ? part.split(":") : [];
    if (users.length !== 2 || pairID(users[0], users[1]) !== part) {
      refuse([...allMessagesPrefix(), part], "not a conversation of two user IDs");
    }
    pairs.set(part, [users[0], users[1]]);
  }
  for (const prefix of [readPrefix(), receivedPrefix(), sentPrefix()]) {
    for await (const entry of listRows(kv, { prefix })) {
      const [, u, p] = entry.key;
      if (entry.key.length !== 3 || typeof u !== "string" || typeof p !== "string") {
        refuse(entry.key, "not a key of two user IDs");
      }
      pairs.set(pairID(u, p), u < p ? [u, p] : [p, u]);
    }
  }
  return pairs;
}

/** Each counter's rank: the place of its versionstamp among its user's counters, oldest 0. */
function ranks(counters: CounterRow[]): Map<CounterRow, number> {
  const byUser = new Map<string, CounterRow[]>();
  for (const row of counters) {
    const user = row.entry.key[1] as string;
    byUser.get(user)?.push(row) ?? byUser.set(user, [row]);
  }
  const result = new Map<CounterRow, number>();
  for (const rows of byUser.values()) {
    const stamps = [...new Set(rows.map((r) => r.entry.versionstamp))].sort();
    const rank = new Map(stamps.map((stamp, i) => [stamp, i]));
    for (const row of rows) result.set(row, rank.get(row.entry.versionstamp)!);
  }
  return result;
}

function byKey(a: { key: Deno.KvKey }, b: { key: Deno.KvKey }): number {
  for (let i = 0; i < Math.min(a.key.length, b.key.length); i++) {
    const [x, y] = [a.key[i] as string, b.key[i] as string];
    if (x !== y) return x < y ? -1 : 1;
  }
  return a.key.length - b.key.length;
}

/**
 * Writes every row of `kv` as export lines to `write`, each with its newline,
 * header first and end line last. Throws, having written part of it, when a row
 * is not one of storage format 5 or a conversation keeps changing.
 */
export async function exportKv(
  kv: Deno.Kv,
  write: (line: string) => Promise<void>,
  options: ExportOptions,
): Promise<ExportResult> {
  const now = options.now ?? Date.now();
  const attempts = options.attempts ?? 100;
  const counts = new Map<RowType, number>();
  let lines = 0;
  const emit = async (line: object) => {
    lines++;
    await write(`${JSON.stringify(line)}\n`);
  };
  const emitRow = async (line: RowLine) => {
    counts.set(line.type, (counts.get(line.type) ?? 0) + 1);
    await emit(line);
  };

  await checkKv(kv);
  await emit(headerLine());
  const reads: Deno.KvEntry<unknown>[] = [];
  const counters: CounterRow[] = [];
  const pairs = await conversations(kv);
  for (const id of [...pairs.keys()].sort()) {
    const conversation = await readConversation(kv, pairs.get(id)!, attempts);
    for (const line of conversation.messages) await emitRow(line);
    reads.push(...conversation.reads);
    counters.push(...conversation.counters);
  }
  for (const entry of reads.sort(byKey)) await emitRow(lineOrRefuse("read", entry));
  const rankOf = ranks(counters);
  for (const type of ["received", "sent"] as const) {
    const rows = counters.filter((c) => c.type === type).sort((x, y) => byKey(x.entry, y.entry));
    for (const row of rows) {
      await emitRow(lineOrRefuse(type, row.entry, { rank: rankOf.get(row) }));
    }
  }
  const streamed: [RowType, Deno.KvKey][] = [
    ["receipt", receiptsPrefix()],
    ["block", blocksPrefix()],
    ["preferences", preferencesPrefix()],
    ["last_seen", lastSeenPrefix()],
    ["activity", activityPrefix()],
    ["deletion", deletionsPrefix()],
    ["session", sessionsPrefix()],
    ["name", usernamesPrefix()],
    ["user", usersPrefix()],
  ];
  for (const [type, prefix] of streamed) {
    for await (const entry of listRows(kv, { prefix })) {
      const line = lineOrRefuse(type, entry);
      // An expired session may be listed until KV collects it: it is over.
      if (
        type === "session" &&
        (entry.value as SessionRecord).refreshedAt + options.sessionTtlMs <= now
      ) {
        continue;
      }
      await emitRow(line);
    }
  }
  await emit(endLine(counts));
  return { counts, lines };
}
