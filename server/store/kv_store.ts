/** `ChatStore` over Deno KV; the keys are named in `keys.ts`. */

import type { Message } from "../protocol.ts";
import type {
  ChatStore,
  ConversationRecord,
  MessagePage,
  SessionRecord,
  UserRecord,
} from "../chat/ports.ts";
import { CheckFailedError, GroupWriter, type WriterStats } from "./group_writer.ts";
import {
  clientIdKey,
  conversationKey,
  conversationsPrefix,
  messageKey,
  messagesPrefix,
  readMarkKey,
  sessionKey,
  unreadKey,
  unreadPrefix,
  userKey,
  usernameKey,
  usersPrefix,
} from "./keys.ts";
import { retryLocked } from "./retry.ts";

/** How long an idempotency key is remembered: retries come within minutes, not days. */
export const CLIENT_ID_TTL_MS = 7 * 24 * 60 * 60 * 1000;

// Most messages from one peer counted exactly when marking read; beyond it the
// count is capped (the widget shows "999+").
const UNREAD_SCAN_LIMIT = 1000;
// Counts of one conversation before markRead gives up on a conversation that keeps changing.
const MARK_READ_ATTEMPTS = 8;

const encoder = new TextEncoder();

interface ClientIdRecord {
  id: string;
  to: string;
}

/** `ChatStore` over a `Deno.Kv` handle it does not own: closing the KV is the caller's job. */
export class KvChatStore implements ChatStore {
  #kv: Deno.Kv;
  #writer: GroupWriter;

  constructor(kv: Deno.Kv) {
    this.#kv = kv;
    this.#writer = new GroupWriter(kv);
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
    const record: SessionRecord = { userID, refreshedAt: Date.now() };
    await retryLocked(() => this.#kv.set(sessionKey(sessionID), record, { expireIn: ttlMs }));
  }

  async deleteSession(sessionID: string): Promise<void> {
    await retryLocked(() => this.#kv.delete(sessionKey(sessionID)));
  }

  async createUser(
    user: UserRecord,
    { foldedName, sessionID, ttlMs }: { foldedName: string; sessionID: string; ttlMs: number },
  ): Promise<boolean> {
    const session: SessionRecord = { userID: user.userID, refreshedAt: user.createdAt };
    try {
      // Through the writer: a burst of sign-ups shares commits.
      await this.#writer.write({
        checks: [{ key: usernameKey(foldedName), versionstamp: null }],
        sets: [
          { key: usernameKey(foldedName), value: user.userID },
          { key: userKey(user.userID), value: user },
          { key: sessionKey(sessionID), value: session, expireIn: ttlMs },
        ],
        bytes: 512,
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

  async listUsers(limit: number): Promise<UserRecord[]> {
    const users: UserRecord[] = [];
    for await (const entry of this.#kv.list<UserRecord>({ prefix: usersPrefix() }, { limit })) {
      users.push(entry.value);
    }
    return users;
  }

  saveMessage(message: Message): Promise<void> {
    const { from, to, id, timestamp } = message;
    const sets: { key: Deno.KvKey; value: unknown; expireIn?: number }[] = [
      { key: messageKey(from, to, id), value: message },
      {
        key: conversationKey(from, to),
        value: { peerID: to, lastMessageID: id, lastAt: timestamp } satisfies ConversationRecord,
      },
    ];
    if (from !== to) {
      sets.push({
        key: conversationKey(to, from),
        value: { peerID: from, lastMessageID: id, lastAt: timestamp } satisfies ConversationRecord,
      });
    }
    if (message.clientId !== undefined) {
      sets.push({
        key: clientIdKey(from, message.clientId),
        value: { id, to } satisfies ClientIdRecord,
        expireIn: CLIENT_ID_TTL_MS,
      });
    }
    return this.#writer.write({
      sets,
      sums: from === to ? [] : [{ key: unreadKey(to, from), by: 1n }],
      bytes: encoder.encode(message.content).length + 512,
    });
  }

  async findByClientId(userID: string, clientId: string): Promise<Message | null> {
    const ref = await this.#kv.get<ClientIdRecord>(clientIdKey(userID, clientId));
    if (ref.value === null) return null;
    const { id, to } = ref.value;
    return (await this.#kv.get<Message>(messageKey(userID, to, id))).value;
  }

  async listConversations(userID: string, limit: number): Promise<ConversationRecord[]> {
    const all: ConversationRecord[] = [];
    // Listed by peer ID; sorted by recency here. Bounded so a user with a vast
    // number of peers still connects in bounded time.
    for await (
      const entry of this.#kv.list<ConversationRecord>(
        { prefix: conversationsPrefix(userID) },
        { limit: Math.max(limit, 1000), batchSize: 500 },
      )
    ) {
      all.push(entry.value);
    }
    all.sort((
      a,
      b,
    ) => (a.lastMessageID < b.lastMessageID ? 1 : a.lastMessageID > b.lastMessageID ? -1 : 0));
    return all.slice(0, limit);
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

  async unreadCounts(userID: string): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    for await (const entry of this.#kv.list<Deno.KvU64>({ prefix: unreadPrefix(userID) })) {
      const n = Number(entry.value.value);
      if (n > 0) counts.set(entry.key[2] as string, n);
    }
    return counts;
  }

  async markRead(
    userID: string,
    { peerID, upTo }: { peerID: string; upTo: string },
  ): Promise<number> {
    const markKey = readMarkKey(userID, peerID);
    const counterKey = unreadKey(userID, peerID);
    const prefix = messagesPrefix(userID, peerID);
    // The count replaces the counter only if neither it nor the mark changed since they
    // were read: a message stored during the count (or another tab's mark) starts it again.
    for (let attempt = 1;; attempt++) {
      const [markEntry, unreadEntry] = await this.#kv.getMany<[string, Deno.KvU64]>([
        markKey,
        counterKey,
      ]);
      const previous = markEntry.value;
      const mark = previous !== null && previous > upTo ? previous : upTo;
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
          .check(markEntry, unreadEntry)
          .set(markKey, mark)
          .set(counterKey, new Deno.KvU64(BigInt(unread)))
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
