/** `ChatStore` over Deno KV; the keys are named in `keys.ts`. */

import type { Message } from "../protocol.ts";
import {
  type ChatStore,
  CLIENT_ID_WINDOW,
  type ConversationRecord,
  type MessagePage,
  type SessionRecord,
  type UserRecord,
} from "../chat/ports.ts";
import { CheckFailedError, GroupWriter, type WriterStats } from "./group_writer.ts";
import {
  messageKey,
  messagesPrefix,
  readKey,
  readPrefix,
  receivedKey,
  receivedPrefix,
  sentKey,
  sentPrefix,
  sessionKey,
  userKey,
  usernameKey,
  usersPrefix,
} from "./keys.ts";
import { retryLocked } from "./retry.ts";

// Most messages from one peer counted exactly when marking read; beyond it the
// count is capped (the widget shows "999+").
const UNREAD_SCAN_LIMIT = 1000;
// Counts of one conversation before markRead gives up on a conversation that keeps changing.
const MARK_READ_ATTEMPTS = 8;

/** A read mark: read up to `upTo`, when the conversation's received counter stood at `received`. */
export interface ReadMark {
  upTo: string;
  /** The received count minus the messages after `upTo`: unread is the counter minus this. */
  received: number;
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

  async markRead(
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
      const mark = previous !== undefined && previous > upTo ? previous : upTo;
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
      const received = Number(counterEntry.value?.value ?? 0n);
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
