/**
 * The lines of `deno task export` and `deno task import`: JSON Lines, one
 * object per line, its kind in `type` (docs/operations.md describes each).
 * The first line is the header with the format version, the last the end line
 * with the count of each kind; every line between stands for one KV row of
 * storage format 5, its key parts and its value's fields side by side.
 *
 * Each kind is described once (`ROWS`): the fields of its line, how a line
 * becomes a key and a value, and how a key and a value become a line. Import
 * checks a line with it; export checks each row by turning it into a line and
 * back, so a row it cannot carry whole is an error, never a silent loss.
 */

import { isMessageId, isUserId } from "../chat/ids.ts";
import {
  activityKey,
  blockKey,
  deletionKey,
  lastSeenKey,
  messageKey,
  pairID,
  preferencesKey,
  readKey,
  receiptKey,
  receivedKey,
  sentKey,
  sessionKey,
  userKey,
  usernameKey,
} from "./keys.ts";

/** The `format` of the header line. */
export const EXPORT_FORMAT = "chat-widget-export";
/** The version of the line format this server writes and reads. */
export const EXPORT_VERSION = 1;
/** The storage format whose rows version 1 carries; import stamps it. */
export const EXPORT_STORAGE_FORMAT = 5;
/** Longest message content a line may carry (UTF-16 code units; `MAX_CONTENT_LENGTH`'s ceiling). */
export const MAX_EXPORT_CONTENT = 20_000;

/** The first line. */
export interface HeaderLine {
  type: "header";
  format: typeof EXPORT_FORMAT;
  version: number;
  storage: number;
}

/** The last line: how many lines of each kind came before it. */
export interface EndLine {
  type: "end";
  counts: Record<string, number>;
}

/** A line that stands for one KV row; its fields depend on `type`. */
export interface RowLine {
  type: RowType;
  [field: string]: unknown;
}

/** The kinds of row lines, in the order export writes them. */
export const ROW_TYPES = [
  "message",
  "read",
  "received",
  "sent",
  "receipt",
  "block",
  "preferences",
  "last_seen",
  "activity",
  "deletion",
  "session",
  "name",
  "user",
] as const;

/** One kind of row line. */
export type RowType = (typeof ROW_TYPES)[number];

/** A field check: the value when it is valid, else a `TypeError` saying what it must be. */
type Check = (value: unknown) => unknown;

function shown(value: unknown): string {
  if (typeof value === "string") {
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  }
  if (value === null || typeof value !== "object") return String(value);
  return Array.isArray(value) ? "an array" : "an object";
}

function must(ok: boolean, what: string, value: unknown): void {
  if (!ok) throw new TypeError(`must be ${what}, got ${shown(value)}`);
}

const userID: Check = (v) => (must(typeof v === "string" && isUserId(v), "a user ID", v), v);
const messageID: Check = (v) => (must(isMessageId(v), "a message ID", v), v);
const ms: Check = (
  v,
) => (must(Number.isSafeInteger(v) && (v as number) >= 0, "a time in ms", v), v);
const integer: Check = (v) => (must(Number.isSafeInteger(v), "a whole number", v), v);
const rank: Check = (v) => (must(Number.isSafeInteger(v) && (v as number) >= 0, "a rank", v), v);
const yes: Check = (v) => (must(v === true, "true", v), v);
const boolean: Check = (v) => (must(typeof v === "boolean", "true or false", v), v);
const oneOf = (...values: string[]): Check => (v) => (
  must(values.includes(v as string), values.map((s) => `"${s}"`).join(" or "), v), v
);
const sessionID: Check = (v) => (
  must(typeof v === "string" && /^[A-Za-z0-9_-]{1,128}$/.test(v), "a session ID", v), v
);
const clientId: Check = (v) => (
  must(typeof v === "string" && /^[A-Za-z0-9._:-]{1,64}$/.test(v), "a client ID", v), v
);
const text = (max: number): Check => (v) => (
  must(typeof v === "string" && v.length <= max, `text of at most ${max} characters`, v), v
);
// A key part of a name reservation; KV keys hold at most 2 KiB.
const nameKey: Check = (v) => (
  must(
    typeof v === "string" && v !== "" && new TextEncoder().encode(v).length <= 1024,
    "a name key of 1 to 1024 bytes",
    v,
  ), v
);
// Counters are KvU64: a decimal string, as JSON has no 64-bit integers.
const count: Check = (v) => {
  must(
    typeof v === "string" && /^(0|[1-9][0-9]{0,19})$/.test(v) && BigInt(v) < 2n ** 64n,
    "a count in decimal digits",
    v,
  );
  return v;
};

/** How one kind of line maps to a KV row. */
interface RowSpec {
  /** Required fields in line order, then optional ones (`?` after the name). */
  fields: Record<string, Check>;
  key(line: RowLine): Deno.KvKey;
  value(line: RowLine): unknown;
  /** The line's fields from a row; `checkRow()` judges them. */
  fieldsOf(key: Deno.KvKey, value: unknown): Record<string, unknown>;
  /** The user IDs the line names, each of which must have its own user line. */
  users(line: RowLine): string[];
  /** A check across fields, on top of each field's own. */
  also?(line: RowLine): void;
}

function obj(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
      !(value instanceof Deno.KvU64)
    ? value as Record<string, unknown>
    : {};
}

const s = (v: unknown) => v as string;

const counter = (keyOf: (u: string, p: string) => Deno.KvKey): RowSpec => ({
  fields: { userID, peerID: userID, count, rank },
  key: (l) => keyOf(s(l.userID), s(l.peerID)),
  value: (l) => new Deno.KvU64(BigInt(s(l.count))),
  fieldsOf: (k, v) => ({
    userID: k[1],
    peerID: k[2],
    count: v instanceof Deno.KvU64 ? String(v.value) : v,
  }),
  users: (l) => [s(l.userID), s(l.peerID)],
});

/** Every kind of row line. `rank` of counters is not in the row: export computes it. */
export const ROWS: Record<RowType, RowSpec> = {
  message: {
    fields: {
      id: messageID,
      from: userID,
      to: userID,
      content: text(MAX_EXPORT_CONTENT),
      timestamp: ms,
      "clientId?": clientId,
      "deleted?": yes,
      "editedAt?": ms,
    },
    key: (l) => messageKey(s(l.from), s(l.to), s(l.id)),
    value: (l) => rowValue(l, ["id", "from", "to", "content", "timestamp"]),
    fieldsOf: (_k, v) => obj(v),
    users: (l) => [s(l.from), s(l.to)],
    also: (l) => {
      if (l.deleted && l.content !== "") throw new TypeError(`a deleted message has no content`);
    },
  },
  read: {
    fields: { userID, peerID: userID, upTo: messageID, received: integer },
    key: (l) => readKey(s(l.userID), s(l.peerID)),
    value: (l) => ({ upTo: l.upTo, received: l.received }),
    fieldsOf: (k, v) => ({ userID: k[1], peerID: k[2], ...obj(v) }),
    users: (l) => [s(l.userID), s(l.peerID)],
  },
  received: counter(receivedKey),
  sent: counter(sentKey),
  receipt: {
    fields: {
      authorID: userID,
      readerID: userID,
      kind: oneOf("delivered", "seen"),
      upTo: messageID,
    },
    key: (l) => receiptKey(s(l.authorID), s(l.readerID), l.kind as "delivered" | "seen"),
    value: (l) => l.upTo,
    fieldsOf: (k, v) => ({ authorID: k[1], readerID: k[2], kind: k[3], upTo: v }),
    users: (l) => [s(l.authorID), s(l.readerID)],
  },
  block: {
    fields: { blockerID: userID, blockedID: userID, since: ms },
    key: (l) => blockKey(s(l.blockerID), s(l.blockedID)),
    value: (l) => ({ since: l.since }),
    fieldsOf: (k, v) => ({ blockerID: k[1], blockedID: k[2], ...obj(v) }),
    users: (l) => [s(l.blockerID), s(l.blockedID)],
  },
  preferences: {
    fields: { userID, readReceipts: boolean },
    key: (l) => preferencesKey(s(l.userID)),
    value: (l) => ({ readReceipts: l.readReceipts }),
    fieldsOf: (k, v) => ({ userID: k[1], ...obj(v) }),
    users: (l) => [s(l.userID)],
  },
  last_seen: {
    fields: { userID, at: ms },
    key: (l) => lastSeenKey(s(l.userID)),
    value: (l) => l.at,
    fieldsOf: (k, v) => ({ userID: k[1], at: v }),
    users: (l) => [s(l.userID)],
  },
  activity: {
    fields: { userID, sessionsUntil: ms },
    key: (l) => activityKey(s(l.userID)),
    value: (l) => ({ sessionsUntil: l.sessionsUntil }),
    fieldsOf: (k, v) => ({ userID: k[1], ...obj(v) }),
    users: (l) => [s(l.userID)],
  },
  deletion: {
    fields: { userID, since: ms },
    key: (l) => deletionKey(s(l.userID)),
    value: (l) => ({ since: l.since }),
    fieldsOf: (k, v) => ({ userID: k[1], ...obj(v) }),
    users: (l) => [s(l.userID)],
  },
  session: {
    fields: { sessionID, userID, refreshedAt: ms },
    key: (l) => sessionKey(s(l.sessionID)),
    value: (l) => ({ userID: l.userID, refreshedAt: l.refreshedAt }),
    fieldsOf: (k, v) => ({ sessionID: k[1], ...obj(v) }),
    users: (l) => [s(l.userID)],
  },
  name: {
    fields: { key: nameKey, userID },
    key: (l) => usernameKey(s(l.key)),
    value: (l) => l.userID,
    fieldsOf: (k, v) => ({ key: k[1], userID: v }),
    users: (l) => [s(l.userID)],
  },
  user: {
    fields: {
      userID,
      username: text(256),
      createdAt: ms,
      "host?": yes,
      "deleted?": yes,
      "deletedAt?": ms,
    },
    key: (l) => userKey(s(l.userID)),
    value: (l) => rowValue(l, ["userID", "username", "createdAt"]),
    fieldsOf: (_k, v) => obj(v),
    users: () => [],
    also: (l) => {
      if ((l.deleted === true) !== (l.username === "")) {
        throw new TypeError(`a user has a name unless deleted, and a deleted one has none`);
      }
      if (l.deletedAt !== undefined && !l.deleted) {
        throw new TypeError(`only a deleted user has "deletedAt"`);
      }
    },
  },
};

/** The row value of a line whose value is the line itself: its fields but `type`. */
function rowValue(line: RowLine, required: string[]): Record<string, unknown> {
  const value: Record<string, unknown> = {};
  for (const field of required) value[field] = line[field];
  for (const [field, v] of Object.entries(line)) {
    if (field !== "type" && !(field in value)) value[field] = v;
  }
  return value;
}

/**
 * The line `raw` (parsed JSON) stands for, its fields in the order of `ROWS`,
 * or a `TypeError` saying what is wrong. Unknown fields are errors: a line
 * carries exactly one row.
 */
export function checkRow(raw: unknown): RowLine {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new TypeError(`a line must be an object, got ${shown(raw)}`);
  }
  const fields = raw as Record<string, unknown>;
  const type = fields.type;
  if (typeof type !== "string" || !(ROW_TYPES as readonly string[]).includes(type)) {
    throw new TypeError(`unknown "type" ${shown(type)}`);
  }
  const spec = ROWS[type as RowType];
  const line: RowLine = { type: type as RowType };
  const known = new Set(["type"]);
  for (const [name, check] of Object.entries(spec.fields)) {
    const optional = name.endsWith("?");
    const field = optional ? name.slice(0, -1) : name;
    known.add(field);
    if (!Object.hasOwn(fields, field) || fields[field] === undefined) {
      if (optional) continue;
      throw new TypeError(`a ${type} line needs "${field}"`);
    }
    try {
      line[field] = check(fields[field]);
    } catch (error) {
      throw new TypeError(`field "${field}" ${(error as Error).message}`);
    }
  }
  for (const field of Object.keys(fields)) {
    if (!known.has(field)) throw new TypeError(`a ${type} line has no field "${field}"`);
  }
  spec.also?.(line);
  return line;
}

/** The key and value a checked line stands for. */
export function rowOf(line: RowLine): { key: Deno.KvKey; value: unknown } {
  const spec = ROWS[line.type];
  return { key: spec.key(line), value: spec.value(line) };
}

/** The user IDs a checked line names. */
export function usersOf(line: RowLine): string[] {
  return ROWS[line.type].users(line);
}

/**
 * The line of a KV row of kind `type`, for export. Throws a `TypeError` when
 * the row is not one that kind of line carries whole: its line would not give
 * back the same key and value. `extra` adds fields kept outside the row
 * (a counter's `rank`).
 */
export function lineOf(
  type: RowType,
  entry: { key: Deno.KvKey; value: unknown },
  extra: Record<string, unknown> = {},
): RowLine {
  const line = checkRow({ ...ROWS[type].fieldsOf(entry.key, entry.value), ...extra, type });
  const back = rowOf(line);
  if (!sameKey(back.key, entry.key)) {
    throw new TypeError(`its key is not the key of its ${type} line`);
  }
  if (!sameValue(back.value, entry.value)) {
    throw new TypeError(`its value holds more or other than a ${type} line`);
  }
  return line;
}

/** True when two KV keys are equal part by part. */
export function sameKey(a: Deno.KvKey, b: Deno.KvKey): boolean {
  return a.length === b.length && a.every((part, i) => sameValue(part, b[i]));
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a instanceof Deno.KvU64 || b instanceof Deno.KvU64) {
    return a instanceof Deno.KvU64 && b instanceof Deno.KvU64 && a.value === b.value;
  }
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    return a instanceof Uint8Array && b instanceof Uint8Array && a.length === b.length &&
      a.every((byte, i) => byte === b[i]);
  }
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) {
    return Object.is(a, b);
  }
  if (
    Array.isArray(a) !== Array.isArray(b) || Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)
  ) {
    return false;
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length &&
    ka.every((k) =>
      Object.hasOwn(b, k) &&
      sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])
    );
}

/** The header line of this version. */
export function headerLine(): HeaderLine {
  return {
    type: "header",
    format: EXPORT_FORMAT,
    version: EXPORT_VERSION,
    storage: EXPORT_STORAGE_FORMAT,
  };
}

/**
 * Checks the first line, parsed: a header of version 1. Throws a `TypeError`
 * or, for another version, a `RangeError`.
 */
export function checkHeader(raw: unknown): HeaderLine {
  const fields = obj(raw);
  if (fields.type !== "header" || fields.format !== EXPORT_FORMAT) {
    throw new TypeError(
      `the first line must be the header {"type":"header","format":"${EXPORT_FORMAT}",...}`,
    );
  }
  if (fields.version !== EXPORT_VERSION) {
    throw new RangeError(
      `export format version ${
        shown(fields.version)
      } is not one this server reads (${EXPORT_VERSION})`,
    );
  }
  if (fields.storage !== EXPORT_STORAGE_FORMAT) {
    throw new RangeError(
      `version ${EXPORT_VERSION} carries storage format ${EXPORT_STORAGE_FORMAT}, not ${
        shown(fields.storage)
      }`,
    );
  }
  const extra = Object.keys(fields).find((k) =>
    !["type", "format", "version", "storage"].includes(k)
  );
  if (extra) throw new TypeError(`the header has no field "${extra}"`);
  return headerLine();
}

/** The end line for `counts` (each kind that occurred, in `ROW_TYPES` order). */
export function endLine(counts: ReadonlyMap<RowType, number>): EndLine {
  const ordered: Record<string, number> = {};
  for (const type of ROW_TYPES) {
    const n = counts.get(type);
    if (n) ordered[type] = n;
  }
  return { type: "end", counts: ordered };
}

/** The conversation a message line belongs to (its key's second part). */
export function conversationOf(line: RowLine): string {
  return pairID(s(line.from), s(line.to));
}
