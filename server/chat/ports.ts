/**
 * The ports of the chat domain: what it needs from storage (`store/kv_store.ts`
 * provides it over Deno KV) and from presence (`chat/presence.ts` for one
 * process, `store/kv_presence.ts` for a cluster).
 */

import type { Message } from "../protocol.ts";

/** A registered user. */
export interface UserRecord {
  userID: string;
  username: string;
  createdAt: number;
}

/**
 * How many of a conversation's latest messages a retry's idempotency key is looked
 * for in: a client retries within moments of its first send, long before a
 * conversation moves on by this many messages.
 */
export const CLIENT_ID_WINDOW = 500;

/** A stored session. */
export interface SessionRecord {
  userID: string;
  /** When the session's expiry was last pushed back (ms). */
  refreshedAt: number;
}

/** One of a user's conversations. */
export interface ConversationRecord {
  peerID: string;
  /** Orders a user's conversations by their last message, either way: greater is more recent. */
  recency: string;
  /** Messages from the peer the user has not read. */
  unread: number;
}

/** A page of one conversation, oldest first. */
export interface MessagePage {
  messages: Message[];
  hasMore: boolean;
}

/** Presence as the chat domain sees it; a cluster implementation spans every node. */
export interface Presence {
  /** Counts one more socket of `userID`; true when it is the user's first anywhere. */
  add(userID: string): Promise<boolean>;
  /** Counts one socket fewer; true when it was the user's last anywhere. */
  remove(userID: string): Promise<boolean>;
  /** The subset of `userIDs` that is online. */
  onlineAmong(userIDs: readonly string[]): Promise<Set<string>>;
  /** Up to `limit` online user IDs. */
  list(limit: number): Promise<string[]>;
}

/** Storage for users, sessions and messages. Every method may be called concurrently. */
export interface ChatStore {
  /** The session, or null when unknown or expired. */
  getSession(sessionID: string): Promise<SessionRecord | null>;
  /** Pushes the session's expiry back by `ttlMs`. */
  refreshSession(sessionID: string, options: { userID: string; ttlMs: number }): Promise<void>;
  /** Deletes a session. */
  deleteSession(sessionID: string): Promise<void>;
  /**
   * Creates a user and its first session in one atomic write. Returns false,
   * writing nothing, when `foldedName` is taken.
   */
  createUser(
    user: UserRecord,
    options: { foldedName: string; sessionID: string; ttlMs: number },
  ): Promise<boolean>;
  /** The user, or null. */
  getUser(userID: string): Promise<UserRecord | null>;
  /** Up to `limit` users in storage order. */
  listUsers(limit: number): Promise<UserRecord[]>;
  /**
   * Durably stores a message (with its idempotency key, if any); resolves only
   * once it is committed.
   */
  saveMessage(message: Message): Promise<void>;
  /**
   * The message an earlier send of `userID` to `peerID` stored under this idempotency
   * key, or null; it is looked for among the conversation's latest `CLIENT_ID_WINDOW`.
   */
  findByClientId(
    userID: string,
    options: { peerID: string; clientId: string },
  ): Promise<Message | null>;
  /** Up to `limit` of a user's conversations, most recent first, with their unread counts. */
  listConversations(userID: string, limit: number): Promise<ConversationRecord[]>;
  /** The newest `limit` messages between two users older than `before`, oldest first. */
  listMessages(
    pair: [string, string],
    options: { before?: string; limit: number },
  ): Promise<MessagePage>;
  /**
   * Records that `userID` read its conversation with `peerID` up to `upTo` and
   * returns how many messages from the peer remain unread.
   */
  markRead(userID: string, options: { peerID: string; upTo: string }): Promise<number>;
}
