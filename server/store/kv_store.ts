/** `ChatStore` over Deno KV; the keys are named in `keys.ts`. */

import type { Message, Preferences } from "../protocol.ts";
import { searchFold } from "../protocol.ts";
import {
  type ChatStore,
  CLIENT_ID_WINDOW,
  type ConversationRecord,
  type MessagePage,
  type ReceiptRecord,
  type SessionRecord,
  type StoredMessage,
  type UserRecord,
} from "../chat/ports.ts";
import { nameKeys } from "../chat/usernames.ts";
import {
  CheckFailedError,
  GroupWriter,
  type GroupWriterOptions,
  type WriterStats,
} from "./group_writer.ts";
import {
  activityKey,
  activityPrefix,
  blockKey,
  blocksPrefix,
  deletionKey,
  deletionsPrefix,
  lastSeenKey,
  messageKey,
  messagesPrefix,
  preferencesKey,
  readKey,
  type ReadMark,
  readPrefix,
  receiptKey,
  receiptsPrefix,
  receivedKey,
  receivedPrefix,
  searchKey,
  searchPrefix,
  sentKey,
  sentPrefix,
  sessionKey,
  userKey,
  usernameKey,
  userSessionKey,
  userSessionsPrefix,
  usersPrefix,
} from "./keys.ts";
import { readMany } from "./read_many.ts";
import { retryLocked } from "./retry.ts";
import { deleteMessagesBefore, type RetentionResult } from "./retention.ts";

// Most messages from one peer counted exactly when marking read; beyond it the
// count is capped (the widget shows "999+").
const UNREAD_SCAN_LIMIT = 1000;
// Counts of one conversation before markRead gives up on a conversation that keeps changing.
const MARK_READ_ATTEMPTS = 8;

// Pairs whose last delivered mark is kept in memory (about 150 bytes each);
// past that, the memory starts over.
const DELIVERED_PAIRS_KEPT = 100_000;
// Rows rewritten or deleted per commit when an account is deleted, within KV's 1,000 mutations.
const DELETE_BATCH = 500;

/** When an anonymous user's sessions end: `["activity", userID]`. */
export interface Activity {
  /** Every session of the user has expired or ended by then (ms). */
  sessionsUntil: number;
}

export type { ReadMark } from "./keys.ts";

/** `ChatStore` over a `Deno.Kv` handle it does not own: closing the KV is the caller's job. */
export class KvChatStore implements ChatStore {
  #kv: Deno.Kv;
  #writer: GroupWriter;
  #markLanes = new Map<string, Promise<void>>();
  /**
   * The last delivered mark saved by this store, by author and reader, so
   * that one that moves back is not written over a further one.
   */
  #deliveredMarks = new Map<string, Map<string, string>>();
  #deliveredPairs = 0;

  /** `options` go to the group-commit writer (`onCommit`, e.g. for metrics). */
  constructor(kv: Deno.Kv, options: GroupWriterOptions = {}) {
    this.#kv = kv;
    this.#writer = new GroupWriter(kv, options);
  }

  /** Group-commit counters. */
  get writerStats(): WriterStats {
    return this.#writer.stats;
  }

  /** Waits for queued writes and refuses new ones. */
  close(): Promise<void> {
    return this.#writer.close();
  }

  /** `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async getSession(sessionID: string): Promise<SessionRecord | null> {
    const entry = await this.#kv.get<SessionRecord>(sessionKey(sessionID));
    return entry.value;
  }

  async refreshSession(
    sessionID: string,
    { userID, ttlMs }: { userID: string; ttlMs: number },
  ): Promise<void> {
    const now = Date.now();
    const record: SessionRecord = { userID, refreshedAt: now };
    await retryLocked(async () => {
      const entry = await this.#kv.get<SessionRecord>(sessionKey(sessionID));
      // A session ended meanwhile (logout, account deleted) stays ended.
      if (entry.value?.userID !== userID) return;
      await this.#kv.atomic()
        .check(entry)
        .set(sessionKey(sessionID), record, { expireIn: ttlMs })
        .set(userSessionKey(userID, sessionID), true)
        .set(activityKey(userID), { sessionsUntil: now + ttlMs } satisfies Activity)
        .commit();
    });
  }

  async endSession(sessionID: string, userID: string): Promise<{ othersLive: boolean }> {
    await retryLocked(() =>
      this.#kv.atomic().delete(sessionKey(sessionID)).delete(userSessionKey(userID, sessionID))
        .commit()
    );
    const othersLive = (await this.#liveSessions(userID)).length > 0;
    if (!othersLive) {
      const user = await this.#kv.get<UserRecord>(userKey(userID));
      if (user.value && !user.value.deleted && !user.value.host) {
        await retryLocked(() =>
          this.#kv.atomic().check(user)
            .set(activityKey(userID), { sessionsUntil: Date.now() } satisfies Activity).commit()
        );
      }
    }
    return { othersLive };
  }

  /** The user's sessions that still exist; index entries of ended ones are removed. */
  async #liveSessions(userID: string): Promise<string[]> {
    const live: string[] = [];
    const stale: Deno.KvKey[] = [];
    for await (const entry of this.#kv.list<true>({ prefix: userSessionsPrefix(userID) })) {
      const sessionID = entry.key[2] as string;
      const session = await this.#kv.get<SessionRecord>(sessionKey(sessionID));
      if (session.value?.userID === userID) live.push(sessionID);
      else stale.push(entry.key);
    }
    await this.#deleteKeys(stale);
    return live;
  }

  async createUser(
    user: UserRecord,
    { nameKeys, sessionID, ttlMs }: {
      nameKeys: readonly string[];
      sessionID: string;
      ttlMs: number;
    },
  ): Promise<boolean> {
    const session: SessionRecord = { userID: user.userID, refreshedAt: user.createdAt };
    const names = nameKeys.map((key) => usernameKey(key));
    try {
      // Through the writer: a burst of sign-ups shares commits.
      await this.#writer.write({
        checks: names.map((key) => ({ key, versionstamp: null })),
        sets: [
          ...names.map((key) => ({ key, value: user.userID })),
          { key: userKey(user.userID), value: user },
          { key: searchKey(searchFold(user.username), user.userID), value: true },
          { key: sessionKey(sessionID), value: session, expireIn: ttlMs },
          { key: userSessionKey(user.userID, sessionID), value: true },
          {
            key: activityKey(user.userID),
            value: { sessionsUntil: user.createdAt + ttlMs } satisfies Activity,
          },
        ],
        bytes: 768,
      });
      return true;
    } catch (error) {
      if (error instanceof CheckFailedError) return false;
      throw error;
    }
  }

  async getUser(userID: string): Promise<UserRecord | null> {
    return (await this.#kv.get<UserRecord>(userKey(userID))).value;
  }

  async putUser(user: UserRecord, previousName?: string): Promise<void> {
    let op = this.#kv.atomic().set(userKey(user.userID), user)
      .set(searchKey(searchFold(user.username), user.userID), true);
    if (previousName !== undefined && searchFold(previousName) !== searchFold(user.username)) {
      op = op.delete(searchKey(searchFold(previousName), user.userID));
    }
    await retryLocked(() => op.commit());
  }

  async searchUsers(
    folded: string,
    { limit, after }: { limit: number; after?: readonly [string, string] },
  ): Promise<{ found: [string, string][]; more: boolean }> {
    const prefix = searchPrefix();
    // Every name that begins with `folded` sorts between it and it followed by the last code point.
    const selector: Deno.KvListSelector = {
      start: after ? [...prefix, after[0], after[1] + "\u0000"] : [...prefix, folded],
      end: [...prefix, folded + "\u{10FFFF}"],
    };
    const found: [string, string][] = [];
    for await (const entry of this.#kv.list(selector, { limit: limit + 1, batchSize: limit + 1 })) {
      found.push([entry.key[1] as string, entry.key[2] as string]);
    }
    const more = found.length > limit;
    if (more) found.length = limit;
    return { found, more };
  }

  async deleteAccount(userID: string): Promise<boolean> {
    for (let attempt = 1;; attempt++) {
      const entry = await this.#kv.get<UserRecord>(userKey(userID));
      const user = entry.value;
      if (!user || user.deleted || user.host) return false;
      const names = await this.#kv.getMany<string[]>(nameKeys(user.username).map(usernameKey));
      const sessions = await Array.fromAsync(
        this.#kv.list<true>({ prefix: userSessionsPrefix(userID) }),
        (e) => e.key[2] as string,
      );
      const now = Date.now();
      const tombstone: UserRecord = {
        userID,
        username: "",
        createdAt: user.createdAt,
        deleted: true,
        deletedAt: now,
      };
      let op = this.#kv.atomic()
        .check(entry)
        .set(userKey(userID), tombstone)
        .delete(activityKey(userID))
        .delete(searchKey(searchFold(user.username), userID))
        .set(deletionKey(userID), { since: now });
      // A key another account holds (see the format 4 migration) stays reserved for it.
      for (const name of names) if (name.value === userID) op = op.check(name).delete(name.key);
      // The first sessions go with the record; a user with more has the rest removed next.
      const first = sessions.slice(0, 400);
      for (const sessionID of first) {
        op = op.delete(sessionKey(sessionID)).delete(userSessionKey(userID, sessionID));
      }
      const { ok } = await retryLocked(() => op.commit());
      if (!ok) {
        if (attempt === 5) throw new Error(`Cannot delete account ${userID}: it keeps changing`);
        continue;
      }
      const rest = sessions.slice(first.length).flatMap((id) => [
        sessionKey(id),
        userSessionKey(userID, id),
      ]);
      await this.#deleteKeys(rest);
      await this.#tombstoneMessages(userID);
      return true;
    }
  }

  async finishDeletions(): Promise<number> {
    let finished = 0;
    for await (const entry of this.#kv.list({ prefix: deletionsPrefix() })) {
      await this.#tombstoneMessages(entry.key[1] as string);
      finished++;
    }
    return finished;
  }

  async listAbandoned(endedBy: number, limit: number): Promise<string[]> {
    const found: string[] = [];
    for await (const entry of this.#kv.list<Activity>({ prefix: activityPrefix() })) {
      if (found.length >= limit) break;
      if (entry.value.sessionsUntil > endedBy) continue;
      const userID = entry.key[1] as string;
      const user = await this.getUser(userID);
      if (!user || user.deleted || user.host) {
        await retryLocked(() => this.#kv.atomic().check(entry).delete(entry.key).commit());
        continue;
      }
      if ((await this.#liveSessions(userID)).length === 0) found.push(userID);
    }
    return found;
  }

  /**
   * Every message `userID` wrote becomes a tombstone, then the user's own
   * counters and read marks go, then the pending deletion: repeating it after an
   * interruption picks up where it stopped.
   */
  async #tombstoneMessages(userID: string): Promise<void> {
    for await (const counter of this.#kv.list({ prefix: sentPrefix(userID) })) {
      const peerID = counter.key[2] as string;
      let batch: Message[] = [];
      const flush = async () => {
        let op = this.#kv.atomic();
        for (const m of batch) {
          const tombstone: Message = {
            id: m.id,
            from: m.from,
            to: m.to,
            content: "",
            timestamp: m.timestamp,
            deleted: true,
          };
          op = op.set(messageKey(m.from, m.to, m.id), tombstone);
        }
        await retryLocked(() => op.commit());
        batch = [];
      };
      for await (
        const entry of this.#kv.list<Message>({ prefix: messagesPrefix(userID, peerID) }, {
          batchSize: DELETE_BATCH,
        })
      ) {
        if (entry.value.from !== userID || entry.value.deleted) continue;
        batch.push(entry.value);
        if (batch.length === DELETE_BATCH) await flush();
      }
      if (batch.length > 0) await flush();
    }
    const own = [
      sentPrefix(userID),
      receivedPrefix(userID),
      readPrefix(userID),
      receiptsPrefix(userID),
      blocksPrefix(userID),
    ];
    await this.#deleteKeys([preferencesKey(userID), lastSeenKey(userID)]);
    for (const prefix of own) {
      await this.#deleteKeys(
        await Array.fromAsync(this.#kv.list({ prefix }), (entry) => entry.key),
      );
    }
    await retryLocked(() => this.#kv.delete(deletionKey(userID)));
  }

  async #deleteKeys(keys: Deno.KvKey[]): Promise<void> {
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      let op = this.#kv.atomic();
      for (const key of keys.slice(i, i + DELETE_BATCH)) op = op.delete(key);
      await retryLocked(() => op.commit());
    }
  }

  deleteMessagesBefore(before: number): Promise<RetentionResult | null> {
    return deleteMessagesBefore(this.#kv, before);
  }

  async listUsers(limit: number): Promise<UserRecord[]> {
    const users: UserRecord[] = [];
    for await (const entry of this.#kv.list<UserRecord>({ prefix: usersPrefix() }, { limit })) {
      users.push(entry.value);
    }
    return users;
  }

  saveMessage(message: Message): Promise<void> {
    const { from, to, id } = message;
    // The counters' sums are this commit's mark on both users' conversation lists.
    const sums = from === to
      ? [{ key: sentKey(from, to), by: 1n }]
      : [{ key: sentKey(from, to), by: 1n }, { key: receivedKey(to, from), by: 1n }];
    return this.#writer.write({
      sets: [{ key: messageKey(from, to, id), value: message }],
      sums,
      // An upper bound: a UTF-16 code unit is at most 3 bytes of UTF-8.
      bytes: message.content.length * 3 + 512,
    });
  }

  async getMessage(a: string, b: string, id: string): Promise<StoredMessage | null> {
    const entry = await this.#kv.get<Message>(messageKey(a, b, id));
    return entry.value && entry.versionstamp
      ? { message: entry.value, versionstamp: entry.versionstamp }
      : null;
  }

  async listSentTo(userID: string, limit: number): Promise<string[]> {
    return await Array.fromAsync(
      this.#kv.list({ prefix: sentPrefix(userID) }, { limit, batchSize: Math.min(limit, 500) }),
      (entry) => entry.key[2] as string,
    );
  }

  async replaceMessage(stored: StoredMessage, message: Message): Promise<boolean> {
    const key = messageKey(message.from, message.to, message.id);
    const { ok } = await retryLocked(() =>
      this.#kv.atomic().check({ key, versionstamp: stored.versionstamp }).set(key, message)
        .commit()
    );
    return ok;
  }

  /**
   * Delivered marks come with every message a device receives, so they wait
   * for the writer to be idle (`GroupWriter.setLater()`, at most 250 ms): a
   * crash loses at most those, and the next mark makes up for it. A mark
   * behind the last one this store saved for the pair is dropped. Seen marks
   * are written with the read mark (`markRead()`), never moving back either.
   */
  async saveReceipt(
    authorID: string,
    readerID: string,
    kind: "delivered" | "seen",
    upTo: string,
  ): Promise<void> {
    if (kind === "seen") {
      return await this.#saveMonotonic(receiptKey(authorID, readerID, kind), upTo);
    }
    // A mark that is not past the last one of the pair changes nothing.
    let ofAuthor = this.#deliveredMarks.get(authorID);
    const last = ofAuthor?.get(readerID);
    if (last !== undefined && last >= upTo) return;
    if (last === undefined && ++this.#deliveredPairs > DELIVERED_PAIRS_KEPT) {
      this.#deliveredMarks.clear();
      this.#deliveredPairs = 1;
      ofAuthor = undefined;
    }
    if (!ofAuthor) this.#deliveredMarks.set(authorID, ofAuthor = new Map());
    ofAuthor.set(readerID, upTo);
    this.#writer.setLater(receiptKey(authorID, readerID, kind), upTo);
  }

  async #saveMonotonic(key: Deno.KvKey, upTo: string): Promise<void> {
    // Monotonic: a mark that is not past the stored one changes nothing.
    for (let attempt = 0; attempt < MARK_READ_ATTEMPTS; attempt++) {
      const entry = await this.#kv.get<string>(key);
      if (entry.value !== null && entry.value >= upTo) return;
      const { ok } = await retryLocked(() =>
        this.#kv.atomic().check(entry).set(key, upTo).commit()
      );
      if (ok) return;
    }
  }

  async listReceipts(authorID: string): Promise<Map<string, ReceiptRecord>> {
    const receipts = new Map<string, ReceiptRecord>();
    for await (
      const entry of this.#kv.list<string>({ prefix: receiptsPrefix(authorID) }, {
        limit: 2000,
        batchSize: 500,
      })
    ) {
      const reader = entry.key[2] as string;
      const kind = entry.key[3] as "delivered" | "seen";
      const record = receipts.get(reader) ?? {};
      record[kind] = entry.value;
      receipts.set(reader, record);
    }
    // Marks still waiting for their commit are newer than what is stored.
    for (const { key, value: upTo } of this.#writer.laterSets()) {
      if (key[1] !== authorID || typeof upTo !== "string") continue;
      const reader = key[2] as string;
      const record = receipts.get(reader) ?? {};
      if (!record.delivered || record.delivered < upTo) record.delivered = upTo;
      receipts.set(reader, record);
    }
    return receipts;
  }

  async getPreferences(userID: string): Promise<Preferences | null> {
    return (await this.#kv.get<Preferences>(preferencesKey(userID))).value;
  }

  async savePreferences(userID: string, preferences: Preferences): Promise<void> {
    await retryLocked(() => this.#kv.set(preferencesKey(userID), preferences));
  }

  async listBlocks(blockerID: string): Promise<Set<string>> {
    return new Set(
      await Array.fromAsync(
        this.#kv.list({ prefix: blocksPrefix(blockerID) }, { limit: 1000 }),
        (entry) => entry.key[2] as string,
      ),
    );
  }

  async saveBlock(blockerID: string, blockedID: string, blocked: boolean): Promise<void> {
    const key = blockKey(blockerID, blockedID);
    if (blocked) await retryLocked(() => this.#kv.set(key, { since: Date.now() }));
    else await retryLocked(() => this.#kv.delete(key));
  }

  async getLastSeen(userIDs: readonly string[]): Promise<Map<string, number>> {
    const seen = new Map<string, number>();
    const entries = await readMany<number>(this.#kv, userIDs.map((id) => lastSeenKey(id)));
    entries.forEach((entry, i) => {
      if (typeof entry.value === "number") seen.set(userIDs[i], entry.value);
    });
    return seen;
  }

  async saveLastSeen(userID: string, at: number): Promise<void> {
    // Through the writer: a crowd leaving at once shares commits.
    await this.#writer.write({ sets: [{ key: lastSeenKey(userID), value: at }], bytes: 64 });
  }

  async findByClientId(
    userID: string,
    { peerID, clientId }: { peerID: string; clientId: string },
  ): Promise<Message | null> {
    for await (
      const entry of this.#kv.list<Message>({ prefix: messagesPrefix(userID, peerID) }, {
        reverse: true,
        limit: CLIENT_ID_WINDOW,
        batchSize: 100,
      })
    ) {
      const m = entry.value;
      if (m.clientId === clientId && m.from === userID) return m;
    }
    return null;
  }

  async listConversations(userID: string, limit: number): Promise<ConversationRecord[]> {
    // Bounded so a user with a vast number of peers still connects in bounded time.
    const options = { limit: Math.max(limit, 1000), batchSize: 500 };
    const [received, sent] = await Promise.all([
      Array.fromAsync(this.#kv.list<Deno.KvU64>({ prefix: receivedPrefix(userID) }, options)),
      Array.fromAsync(this.#kv.list<Deno.KvU64>({ prefix: sentPrefix(userID) }, options)),
    ]);
    // Nothing received, nothing unread: a new user's connect skips the read marks.
    const read = received.length === 0
      ? []
      : await Array.fromAsync(this.#kv.list<ReadMark>({ prefix: readPrefix(userID) }, options));
    const conversations = new Map<string, ConversationRecord>();
    for (const entry of [...received, ...sent]) {
      const peerID = entry.key[2] as string;
      const known = conversations.get(peerID);
      if (!known) conversations.set(peerID, { peerID, recency: entry.versionstamp, unread: 0 });
      else if (entry.versionstamp > known.recency) known.recency = entry.versionstamp;
    }
    const readBy = new Map(read.map((e) => [e.key[2] as string, e.value.received]));
    for (const entry of received) {
      const unread = Number(entry.value.value) - (readBy.get(entry.key[2] as string) ?? 0);
      conversations.get(entry.key[2] as string)!.unread = Math.max(0, unread);
    }
    return [...conversations.values()]
      .sort((a, b) => (a.recency < b.recency ? 1 : a.recency > b.recency ? -1 : 0))
      .slice(0, limit);
  }

  async listMessages(
    [a, b]: [string, string],
    { before, limit }: { before?: string; limit: number },
  ): Promise<MessagePage> {
    const prefix = messagesPrefix(a, b);
    const selector: Deno.KvListSelector = before === undefined
      ? { prefix }
      : { prefix, end: [...prefix, before] };
    const messages: Message[] = [];
    for await (
      const entry of this.#kv.list<Message>(selector, {
        reverse: true,
        limit: limit + 1,
        batchSize: limit + 1,
      })
    ) {
      messages.push(entry.value);
    }
    const hasMore = messages.length > limit;
    if (hasMore) messages.length = limit;
    return { messages: messages.reverse(), hasMore };
  }

  /**
   * Marks of one conversation made on this node go one after another, so that
   * they do not make each other count again; marks from other nodes still can,
   * and are counted again, up to `MARK_READ_ATTEMPTS` times.
   */
  markRead(userID: string, options: { peerID: string; upTo: string }): Promise<number> {
    const lane = `${userID}:${options.peerID}`;
    const previous = this.#markLanes.get(lane) ?? Promise.resolve();
    const next = previous.catch(() => {}).then(() => this.#markRead(userID, options));
    const tail = next.then(() => {}, () => {});
    this.#markLanes.set(lane, tail);
    tail.then(() => {
      if (this.#markLanes.get(lane) === tail) this.#markLanes.delete(lane);
    });
    return next;
  }

  async #markRead(
    userID: string,
    { peerID, upTo }: { peerID: string; upTo: string },
  ): Promise<number> {
    const markKey = readKey(userID, peerID);
    const counterKey = receivedKey(userID, peerID);
    const prefix = messagesPrefix(userID, peerID);
    // The mark is written only if neither it nor the counter changed since they were read:
    // a message stored during the count (or another tab's mark) starts it again.
    for (let attempt = 1;; attempt++) {
      const [markEntry, counterEntry] = await this.#kv.getMany<[ReadMark, Deno.KvU64]>([
        markKey,
        counterKey,
      ]);
      const previous = markEntry.value?.upTo;
      const received = Number(counterEntry.value?.value ?? 0n);
      // A mark never moves back: an older one changes nothing, and costs no scan.
      if (previous !== undefined && previous >= upTo) {
        return Math.max(0, received - markEntry.value!.received);
      }
      const mark = upTo;
      let unread = 0;
      for await (
        const entry of this.#kv.list<Message>(
          { start: [...prefix, mark], end: [...prefix, "\uffff"] },
          { limit: UNREAD_SCAN_LIMIT + 1, batchSize: 500 },
        )
      ) {
        if (entry.value.id !== mark && entry.value.from === peerID) unread++;
      }
      unread = Math.min(unread, UNREAD_SCAN_LIMIT);
      const { ok } = await retryLocked(() =>
        this.#kv.atomic()
          .check(markEntry, counterEntry)
          .set(markKey, { upTo: mark, received: received - unread } satisfies ReadMark)
          .commit()
      );
      if (ok) return unread;
      if (attempt === MARK_READ_ATTEMPTS) {
        throw new Error(
          `Cannot mark the conversation of ${userID} with ${peerID} read: it changed during ${attempt} counts`,
        );
      }
    }
  }
}
