/**
 * The ports of the chat domain: what it needs from storage (`store/kv_store.ts`
 * provides it over Deno KV) and from presence (`chat/presence.ts` for one
 * process, `store/kv_presence.ts` for a cluster).
 */

import type { Message, Preferences } from "../protocol.ts";

/** A registered user. */
export interface UserRecord {
  userID: string;
  /** The display name; "" once the account is deleted. */
  username: string;
  createdAt: number;
  /** Signed in by the host site's token: the name may change, and no name is reserved. */
  host?: true;
  /** The account was deleted: only the ID is left, so conversations with it still resolve. */
  deleted?: true;
  deletedAt?: number;
}

/** What a verified host-issued token says about its user. */
export interface HostClaims {
  /** The host site's user id, 1-128 characters. */
  sub: string;
  /** The display name, not yet normalised. */
  name: string;
}

/** Checks host-issued tokens; throws `ChatError` (`invalid_token`, `token_expired`) or, when keys cannot be had, another error. */
export interface TokenVerifier {
  verify(token: string): Promise<HostClaims>;
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

/** How far one reader has got in an author's messages. */
export interface ReceiptRecord {
  delivered?: string;
  seen?: string;
}

/** A stored message and the version it was read at, for a checked rewrite. */
export interface StoredMessage {
  message: Message;
  versionstamp: string;
}

/** Storage for users, sessions and messages. Every method may be called concurrently. */
export interface ChatStore {
  /** The session, or null when unknown or expired. */
  getSession(sessionID: string): Promise<SessionRecord | null>;
  /** Pushes the session's expiry back by `ttlMs`. */
  refreshSession(sessionID: string, options: { userID: string; ttlMs: number }): Promise<void>;
  /**
   * Creates a user, the reservation of its name's keys (`nameKeys()`) and its
   * first session in one atomic write. Returns false, writing nothing, when one
   * of the keys is taken.
   */
  createUser(
    user: UserRecord,
    options: { nameKeys: readonly string[]; sessionID: string; ttlMs: number },
  ): Promise<boolean>;
  /**
   * Ends a session and reports whether the user still has another live one; when
   * not, the user's sessions ended now (`sessionsUntil`).
   */
  endSession(sessionID: string, userID: string): Promise<{ othersLive: boolean }>;
  /** The user, or null. */
  getUser(userID: string): Promise<UserRecord | null>;
  /**
   * Writes a user record as is (host users: created on first sign-in, renamed by
   * a token), and its search entry; `previousName` is the name it had, if any.
   */
  putUser(user: UserRecord, previousName?: string): Promise<void>;
  /**
   * Live users whose folded name begins with `folded`, in name order, `limit` at
   * most, after the entry `after` (a folded name and a user ID); `more` when
   * there are others after these.
   */
  searchUsers(
    folded: string,
    options: { limit: number; after?: readonly [string, string] },
  ): Promise<{ found: [string, string][]; more: boolean }>;
  /**
   * Deletes an anonymous account: tombstones the user record, frees the name,
   * ends every session, then turns every message the user wrote into a
   * tombstone. Returns false when there was no such live account. Safe to
   * repeat: an interrupted deletion is finished by `finishDeletions()`.
   */
  deleteAccount(userID: string): Promise<boolean>;
  /** Finishes deletions interrupted before every message was tombstoned; returns how many. */
  finishDeletions(): Promise<number>;
  /**
   * Anonymous accounts with no live session whose sessions all ended at or
   * before `endedBy` (ms), at most `limit` of them.
   */
  listAbandoned(endedBy: number, limit: number): Promise<string[]>;
  /**
   * Deletes every message sent before `before` (ms), keeping unread counts right:
   * an unread message deleted no longer counts. Safe while messages are sent and
   * read, and with several nodes sweeping. Null when another node is sweeping now.
   */
  deleteMessagesBefore(before: number): Promise<{ deleted: number; skipped: number } | null>;
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
  /** One message of the conversation between `a` and `b`, or null. */
  getMessage(a: string, b: string, id: string): Promise<StoredMessage | null>;
  /** The users `userID` has written to (its conversations it has sent in), up to `limit`. */
  listSentTo(userID: string, limit: number): Promise<string[]>;
  /** Rewrites a message unless it changed since it was read; false when it had. */
  replaceMessage(stored: StoredMessage, message: Message): Promise<boolean>;
  /** Records that `readerID` has `kind` the messages of `authorID` up to `upTo` (never moves back). */
  saveReceipt(
    authorID: string,
    readerID: string,
    kind: "delivered" | "seen",
    upTo: string,
  ): Promise<void>;
  /** Every reader's progress in the messages of `authorID`, by reader. */
  listReceipts(authorID: string): Promise<Map<string, ReceiptRecord>>;
  /** The user's preferences, or null for the defaults. */
  getPreferences(userID: string): Promise<Preferences | null>;
  savePreferences(userID: string, preferences: Preferences): Promise<void>;
  /** The users `blockerID` blocked. */
  listBlocks(blockerID: string): Promise<Set<string>>;
  /** Blocks (`blocked` true) or unblocks `blockedID` for `blockerID`. */
  saveBlock(blockerID: string, blockedID: string, blocked: boolean): Promise<void>;
  /** When each of `userIDs` was last online, for those ever seen. */
  getLastSeen(userIDs: readonly string[]): Promise<Map<string, number>>;
  saveLastSeen(userID: string, at: number): Promise<void>;
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
