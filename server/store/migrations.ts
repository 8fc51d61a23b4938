/**
 * The storage format: a version number under `formatKey()`, checked and
 * brought up to date at start, before the server reads or writes anything else.
 *
 * A migration moves a KV from one format to the next. Several nodes may start
 * at once on one KV, so a migration must be safe to run twice: each node runs
 * the steps it finds missing, and the version moves on with a check that it
 * did not change meanwhile.
 */

import type { Logger } from "../log.ts";
import type { SessionRecord, UserRecord } from "../chat/ports.ts";
import { nameKeys } from "../chat/usernames.ts";
import { searchFold } from "../protocol.ts";
import {
  activityKey,
  FORMAT_1,
  formatKey,
  importKey,
  readKey,
  receivedKey,
  searchKey,
  sentKey,
  sessionsPrefix,
  userKey,
  usernameKey,
  usernamesPrefix,
  userSessionKey,
  usersPrefix,
} from "./keys.ts";
import type { Activity, ReadMark } from "./kv_store.ts";
import { retryLocked } from "./retry.ts";

/** The storage format this server reads and writes. */
export const FORMAT_VERSION = 5;

/** What a migration may need to know of the server's configuration. */
export interface MigrationContext {
  logger: Logger;
  /** How long a session lives after its last use (ms). */
  sessionTtlMs: number;
}

/** One step from format `from` to `from + 1`. */
export interface Migration {
  from: number;
  /** What it changes, for the log. */
  description: string;
  run(kv: Deno.Kv, context: MigrationContext): Promise<void>;
}

/** The steps from every older format to `FORMAT_VERSION`, oldest first. */
export const MIGRATIONS: readonly Migration[] = [{
  from: 1,
  description: "conversation records, unread counters and read marks become counters and marks",
  run: (kv, { logger }) => formatOneToTwo(kv, logger),
}, {
  from: 2,
  description:
    "every session is indexed by its user, and every anonymous user gets an activity record",
  run: formatTwoToThree,
}, {
  from: 3,
  description:
    "names are reserved under their confusable skeletons (nameKeys) instead of their case-folded form",
  run: (kv, { logger }) => formatThreeToFour(kv, logger),
}, {
  from: 4,
  description: "every live user gets a search entry under its folded name",
  run: (kv, { logger }) => formatFourToFive(kv, logger),
}];

/**
 * Blind sets gathered into commits of `size`: `add()` commits when a commit is
 * full, `done()` commits the rest.
 */
function setsInCommits(kv: Deno.Kv, size: number) {
  let pending: [Deno.KvKey, unknown][] = [];
  const flush = async () => {
    let op = kv.atomic();
    for (const [key, value] of pending) op = op.set(key, value);
    await retryLocked(() => op.commit());
    pending = [];
  };
  return {
    async add(key: Deno.KvKey, value: unknown): Promise<void> {
      pending.push([key, value]);
      if (pending.length === size) await flush();
    },
    async done(): Promise<void> {
      if (pending.length > 0) await flush();
    },
  };
}

/**
 * Format 4 -> 5: a `["user_search", searchFold(name), userID]` entry for every
 * live user, anonymous or host. Only sets, so two nodes doing it at once write
 * the same rows.
 */
async function formatFourToFive(kv: Deno.Kv, logger: Logger): Promise<void> {
  // Search keys hold a name of up to 32 characters: 100 a commit stay far within 80 KiB.
  const sets = setsInCommits(kv, 100);
  let users = 0;
  for await (const entry of kv.list<UserRecord>({ prefix: usersPrefix() }, { batchSize: 500 })) {
    if (entry.value.deleted) continue;
    await sets.add(searchKey(searchFold(entry.value.username), entry.value.userID), true);
    users++;
  }
  await sets.done();
  logger.info({ event: "migration", users }, "Indexed users for search (format 5)");
}

interface ConversationV1 {
  peerID: string;
  lastMessageID: string;
}

// Users migrated together; their conversations go in rank order (see formatOneToTwo).
const USERS_PER_GROUP = 200;
// Three checks a conversation, within KV's 100 per commit.
const MOVES_PER_COMMIT = 30;

/**
 * Format 1 -> 2. Each conversation record becomes a counter whose versionstamp
 * orders it: for every user, conversations are committed oldest first, so
 * format 2's order by versionstamp is format 1's order by last message. The
 * received counter starts at the old unread count and the read mark at 0, so
 * unread counts carry over exactly. Each conversation moves in a commit that
 * checks its old rows are unchanged and deletes them: a second node migrating
 * at the same time finds them gone and leaves them. Idempotency keys are not
 * moved: messages carry their `clientId`, which is looked up there now.
 */
async function formatOneToTwo(kv: Deno.Kv, logger: Logger): Promise<void> {
  let group = new Map<string, Deno.KvEntry<ConversationV1>[]>();
  let moved = 0;
  for await (
    const entry of kv.list<ConversationV1>({ prefix: FORMAT_1.allConversations() }, {
      batchSize: 500,
    })
  ) {
    const userID = entry.key[1] as string;
    if (!group.has(userID) && group.size >= USERS_PER_GROUP) {
      moved += await moveGroup(kv, group);
      group = new Map();
    }
    group.get(userID)?.push(entry) ?? group.set(userID, [entry]);
  }
  moved += await moveGroup(kv, group);
  let removed = 0;
  for (
    const prefix of [FORMAT_1.unreadPrefixes(), FORMAT_1.readMarkPrefixes(), FORMAT_1.clientIds()]
  ) {
    removed += await deleteAll(kv, prefix);
  }
  logger.info({ event: "migration", moved, removed }, "Moved the conversations to format 2");
}

/** Moves the conversations of a group of users, rank by rank: every user's oldest first. */
async function moveGroup(
  kv: Deno.Kv,
  group: Map<string, Deno.KvEntry<ConversationV1>[]>,
): Promise<number> {
  const lists = [...group.values()].map((entries) =>
    entries.sort((a, b) => a.value.lastMessageID < b.value.lastMessageID ? -1 : 1)
  );
  const ranks = Math.max(0, ...lists.map((l) => l.length));
  let moved = 0;
  for (let rank = 0; rank < ranks; rank++) {
    const moves = lists.filter((l) => l.length > rank).map((l) => l[rank]);
    for (let i = 0; i < moves.length; i += MOVES_PER_COMMIT) {
      moved += await moveConversations(kv, moves.slice(i, i + MOVES_PER_COMMIT));
    }
  }
  return moved;
}

/** Moves conversations in one commit, or one by one when another node moved some first. */
async function moveConversations(
  kv: Deno.Kv,
  moves: Deno.KvEntry<ConversationV1>[],
): Promise<number> {
  const olds: {
    conversation: Deno.KvEntry<ConversationV1>;
    unread: Deno.KvEntryMaybe<Deno.KvU64>;
    mark: Deno.KvEntryMaybe<string>;
  }[] = [];
  for (const conversation of moves) {
    const [userID, peerID] = [conversation.key[1] as string, conversation.key[2] as string];
    const [unread, mark] = await kv.getMany<[Deno.KvU64, string]>([
      FORMAT_1.unreadKey(userID, peerID),
      FORMAT_1.readMarkKey(userID, peerID),
    ]);
    olds.push({ conversation, unread, mark });
  }
  const commit = (part: typeof olds) =>
    retryLocked(() => {
      const op = kv.atomic();
      for (const { conversation, unread, mark } of part) {
        const [userID, peerID] = [conversation.key[1] as string, conversation.key[2] as string];
        op.check(conversation, unread, mark);
        const count = unread.value?.value ?? 0n;
        op.set(
          userID === peerID ? sentKey(userID, peerID) : receivedKey(userID, peerID),
          new Deno.KvU64(count),
        );
        if (mark.value !== null) {
          op.set(readKey(userID, peerID), { upTo: mark.value, received: 0 } satisfies ReadMark);
        }
        op.delete(conversation.key).delete(unread.key).delete(mark.key);
      }
      return op.commit();
    });
  if ((await commit(olds)).ok) return olds.length;
  let moved = 0;
  for (const old of olds) if ((await commit([old])).ok) moved++;
  return moved;
}

/** Deletes every entry under `prefix`; returns how many. */
async function deleteAll(kv: Deno.Kv, prefix: Deno.KvKey): Promise<number> {
  let count = 0;
  let keys: Deno.KvKey[] = [];
  const flush = async () => {
    await retryLocked(() => {
      const op = kv.atomic();
      for (const key of keys) op.delete(key);
      return op.commit();
    });
    count += keys.length;
    keys = [];
  };
  for await (const entry of kv.list({ prefix }, { batchSize: 500 })) {
    keys.push(entry.key);
    if (keys.length === 500) await flush();
  }
  if (keys.length > 0) await flush();
  return count;
}

/**
 * Format 2 -> 3. Sessions get their per-user index entries, and every
 * anonymous user an activity record saying when its sessions end: the latest
 * session's last use plus the session lifetime, and never earlier than now, so
 * no account counts as abandoned for longer than it was watched. Only sets,
 * so a second node doing the same at once writes the same rows.
 */
async function formatTwoToThree(kv: Deno.Kv, context: MigrationContext): Promise<void> {
  const now = Date.now();
  const latest = new Map<string, number>();
  const sets = setsInCommits(kv, 500);
  let sessions = 0;
  for await (
    const entry of kv.list<SessionRecord>({ prefix: sessionsPrefix() }, {
      batchSize: 500,
    })
  ) {
    const { userID, refreshedAt } = entry.value;
    latest.set(userID, Math.max(latest.get(userID) ?? 0, refreshedAt));
    await sets.add(userSessionKey(userID, entry.key[1] as string), true);
    sessions++;
  }
  let users = 0;
  for await (const entry of kv.list<UserRecord>({ prefix: usersPrefix() }, { batchSize: 500 })) {
    if (entry.value.host || entry.value.deleted) continue;
    const last = latest.get(entry.value.userID);
    const sessionsUntil = Math.max(now, last === undefined ? 0 : last + context.sessionTtlMs);
    await sets.add(activityKey(entry.value.userID), { sessionsUntil } satisfies Activity);
    users++;
  }
  await sets.done();
  context.logger.info({ event: "migration", sessions, users }, "Indexed sessions for format 3");
}

// Users whose reservations go in one commit, and name rows deleted in one (each
// with its check): the longest keys, about 1 KB, stay within KV's 80 KiB of keys.
const USERS_PER_COMMIT = 30;
const NAMES_PER_COMMIT = 30;

/** A live anonymous user as the format 3 -> 4 migration read it. */
interface Holder {
  userID: string;
  createdAt: number;
  /** Its user record's versionstamp when read. */
  versionstamp: string;
  keys: string[];
}

/** Of two users whose names share a key, the older account holds it. */
function holdsBefore(a: Holder, b: Holder): boolean {
  return a.createdAt !== b.createdAt ? a.createdAt < b.createdAt : a.userID < b.userID;
}

/**
 * Format 3 -> 4. A name was reserved under its case-folded form; now under its
 * `nameKeys()`, so look-alikes collide. Every live anonymous user's keys are set
 * to it, except a key the names of two users share, which goes to the older
 * account (the smaller `createdAt`, then the smaller user ID): the younger keeps
 * its account and its name, but no longer holds that key. Then the rows no key of
 * their user's name explains (the format 3 ones) are deleted.
 *
 * Two nodes doing it at once compute the same holders. Each set is committed with
 * a check that its user's record is unchanged (an account deleted meanwhile is
 * not reserved again), and each deletion with a check of its row; rows of users
 * this run did not read, such as a sign-up on a node already at format 4, stay.
 */
async function formatThreeToFour(kv: Deno.Kv, logger: Logger): Promise<void> {
  const users = new Map<string, Holder | null>();
  const holders = new Map<string, Holder>();
  for await (const entry of kv.list<UserRecord>({ prefix: usersPrefix() }, { batchSize: 500 })) {
    const user = entry.value;
    if (user.host || user.deleted) {
      users.set(user.userID, null);
      continue;
    }
    const holder: Holder = {
      userID: user.userID,
      createdAt: user.createdAt,
      versionstamp: entry.versionstamp,
      keys: nameKeys(user.username),
    };
    users.set(user.userID, holder);
    for (const key of holder.keys) {
      const other = holders.get(key);
      if (!other || holdsBefore(holder, other)) holders.set(key, holder);
    }
  }

  let reserved = 0;
  let collisions = 0;
  const live = [...users.values()].filter((u): u is Holder => u !== null);
  for (const user of live) {
    const heldBy = user.keys.map((key) => holders.get(key)!).filter((h) => h !== user);
    if (heldBy.length === 0) continue;
    collisions++;
    logger.warn(
      {
        event: "migration",
        userID: user.userID,
        heldBy: [...new Set(heldBy.map((h) => h.userID))],
      },
      "A name looks like an older account's: the older account holds the reservation, the name stays",
    );
  }
  const reserve = (part: Holder[]) =>
    retryLocked(() => {
      const op = kv.atomic();
      for (const user of part) {
        op.check({ key: userKey(user.userID), versionstamp: user.versionstamp });
        for (const key of user.keys) {
          if (holders.get(key) === user) op.set(usernameKey(key), user.userID);
        }
      }
      return op.commit();
    });
  const holding = live.filter((user) => user.keys.some((key) => holders.get(key) === user));
  for (let i = 0; i < holding.length; i += USERS_PER_COMMIT) {
    const part = holding.slice(i, i + USERS_PER_COMMIT);
    if ((await reserve(part)).ok) {
      reserved += part.length;
      continue;
    }
    for (const user of part) if ((await reserve([user])).ok) reserved++;
  }

  // A row stays when it is one of its user's keys, or its user was not read.
  let stale: Deno.KvEntry<string>[] = [];
  let removed = 0;
  const remove = (part: Deno.KvEntry<string>[]) =>
    retryLocked(() => {
      const op = kv.atomic();
      for (const row of part) op.check(row).delete(row.key);
      return op.commit();
    });
  const flush = async () => {
    if ((await remove(stale)).ok) removed += stale.length;
    else for (const row of stale) if ((await remove([row])).ok) removed++;
    stale = [];
  };
  for await (const row of kv.list<string>({ prefix: usernamesPrefix() }, { batchSize: 500 })) {
    const user = users.get(row.value);
    if (user === undefined) continue;
    if (user !== null && user.keys.includes(row.key[1] as string)) continue;
    stale.push(row);
    if (stale.length === NAMES_PER_COMMIT) await flush();
  }
  if (stale.length > 0) await flush();
  logger.info(
    { event: "migration", users: live.length, reserved, collisions, removed },
    "Reserved names under their keys for format 4",
  );
}

/** Options of `migrate()`; the format and the steps are this server's by default. */
export interface MigrateOptions {
  logger: Logger;
  /** How long a session lives after its last use (ms); 30 days unless given. */
  sessionTtlMs?: number;
  version?: number;
  migrations?: readonly Migration[];
}

/** What `migrate()` found and left. */
export interface MigrateResult {
  /** The format found; null for an empty KV. */
  from: number | null;
  to: number;
}

async function holdsData(kv: Deno.Kv): Promise<boolean> {
  for await (const _ of kv.list({ prefix: [] }, { limit: 1 })) return true;
  return false;
}

/**
 * Brings `kv` to the current format. An empty KV is stamped with it; one
 * written before formats were versioned is format 1. Throws a `RangeError`
 * for a format newer than this server's, or one it has no migration from, and
 * an `Error` for a KV an import did not finish writing.
 */
export async function migrate(kv: Deno.Kv, options: MigrateOptions): Promise<MigrateResult> {
  const target = options.version ?? FORMAT_VERSION;
  const migrations = options.migrations ?? MIGRATIONS;
  if ((await kv.get(importKey())).value !== null) {
    throw new Error(
      "Cannot use this KV: an import into it did not finish; run deno task import again with --merge",
    );
  }
  // Undefined until the first read: what the KV held before this start.
  let from: number | null | undefined;
  while (true) {
    const entry = await kv.get<unknown>(formatKey());
    let version = entry.value;
    if (version === null) {
      const empty = !(await holdsData(kv));
      if (from === undefined) from = empty ? null : 1;
      version = empty ? target : 1;
      const { ok } = await retryLocked(() =>
        kv.atomic().check(entry).set(formatKey(), version).commit()
      );
      if (!ok) continue; // Another node stamped it first: read what it wrote.
    }
    if (typeof version !== "number" || !Number.isInteger(version) || version < 1) {
      throw new TypeError(`Cannot read storage format "${String(version)}": not a format version`);
    }
    if (from === undefined) from = version;
    if (version === target) return { from, to: version };
    if (version > target) {
      throw new RangeError(
        `Cannot use storage format ${version}: this server knows formats up to ${target}; run a newer server`,
      );
    }
    const step = migrations.find((m) => m.from === version);
    if (!step) {
      throw new RangeError(
        `Cannot migrate storage format ${version}: no migration to ${version + 1}`,
      );
    }
    options.logger.warn(
      { event: "migration", from: version, to: version + 1 },
      `Migrating storage: ${step.description}`,
    );
    await step.run(kv, {
      logger: options.logger,
      sessionTtlMs: options.sessionTtlMs ?? 30 * 24 * 60 * 60 * 1000,
    });
    const current = await kv.get<unknown>(formatKey());
    if (current.value === version) {
      await retryLocked(() => kv.atomic().check(current).set(formatKey(), version + 1).commit());
    }
  }
}
