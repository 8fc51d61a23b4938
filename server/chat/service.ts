/** The chat domain: identity, messages, history and unread counts. Knows neither Socket.IO nor KV. */

import type {
  BlockNotice,
  Message,
  MessagesReadNotice,
  Preferences,
  ReceiptsNotice,
  SessionInfo,
  UserEntry,
} from "../protocol.ts";
import { DELETED_USERNAME, INVALID_USERNAME, searchFold } from "../protocol.ts";
import { ChatError } from "./errors.ts";
import { createMessageIdGenerator, hostUserId, newSessionId, newUserId } from "./ids.ts";
import type { ChatStore, MessagePage, Presence, TokenVerifier, UserRecord } from "./ports.ts";
import { nameKeys, normalizeUsername } from "./usernames.ts";
import {
  encodeCursor,
  type HandshakeRequest,
  parseBlockRequest,
  parseDeleteAccountRequest,
  parseDeleteMessageRequest,
  parseDeliveredRequest,
  parseEditRequest,
  parseLoadRequest,
  parsePreferencesRequest,
  parseReadRequest,
  parseSearchRequest,
  parseSendRequest,
  parseTypingRequest,
} from "./validation.ts";

/** Limits the service applies; see `Config` for their meaning. */
export interface ChatServiceOptions {
  maxContentLength: number;
  userListLimit: number;
  historyPageSize: number;
  historyBudget: number;
  sessionTtlMs: number;
  /** An anonymous account with no live session this long is deleted; 0 keeps accounts. */
  accountTtlMs: number;
  /** How long after sending its sender may edit or delete a message (s); 0: never. */
  editWindowSeconds: number;
  /** Messages older than this are deleted by `sweepMessages()` (ms); 0 or absent keeps them. */
  retentionMs?: number;
}

/** `seconds` in words: "15 minutes", "1 minute", "90 seconds". */
function duration(seconds: number): string {
  const [n, unit] = seconds % 3600 === 0
    ? [seconds / 3600, "hour"]
    : seconds % 60 === 0
    ? [seconds / 60, "minute"]
    : [seconds, "second"];
  return `${n} ${unit}${n === 1 ? "" : "s"}`;
}

/** What a user has not chosen. */
export const DEFAULT_PREFERENCES: Preferences = { readReceipts: true };

// A cached "last seen" is trusted this long; other nodes' users leave without telling this one.
const LAST_SEEN_TTL_MS = 60_000;

/** What the transport decides during `authenticate()`. */
export interface AuthenticateHooks {
  /** Called before a new user is stored; throws (a `ChatError`) to refuse the sign-up. */
  beforeSignUp?: () => void;
}

/** A resolved handshake. */
export interface Authenticated extends SessionInfo {
  /** A host-issued token carried a new display name for a known user. */
  renamed?: boolean;
  /** What let the user in: a new username, a stored session, or a host-issued token. */
  via: "username" | "session" | "token";
  /** The handshake created the account (a sign-up, or a host user's first sign-in). */
  signedUp: boolean;
}

/** The result of a send. */
export interface SendResult {
  message: Message;
  /** True when an earlier send with the same `clientId` had stored it. */
  duplicate: boolean;
}

// Sessions are re-stamped at most this often, not on every connect.
const SESSION_REFRESH_MS = 24 * 60 * 60 * 1000;
// Anonymous names never change; a host user's rename or an account deletion is
// forgotten on every node (`forgetUser()`). The bound only caps memory.
const USER_CACHE_LIMIT = 100_000;
// Idempotency keys this node stored lately: most retries are answered from here, the
// rest from the conversation's latest messages.
const RECENT_SENDS_LIMIT = 20_000;

/** The chat's rules; every method validates its untrusted input. */
export class ChatService {
  #store: ChatStore;
  #presence: Presence;
  #verifier: TokenVerifier | undefined;
  #options: ChatServiceOptions;
  #nextId = createMessageIdGenerator();
  #users = new Map<string, UserRecord>();
  #preferences = new Map<string, Preferences>();
  /** Whom each user blocked: the read, and once it is done its set, for checks that need not wait. */
  #blocks = new Map<string, { reading: Promise<Set<string>>; set?: Set<string> }>();
  #lastSeen = new Map<string, { at: number | undefined; read: number }>();
  #inflight = new Map<string, Promise<Message>>();
  /** Messages this node stored lately, by sender and idempotency key (oldest first). */
  #recent = new Map<string, Message>();
  #lanes = new Map<string, Promise<void>>();

  constructor(
    deps: { store: ChatStore; presence: Presence; verifier?: TokenVerifier },
    options: ChatServiceOptions,
  ) {
    this.#store = deps.store;
    this.#presence = deps.presence;
    this.#verifier = deps.verifier;
    this.#options = options;
  }

  /** True when identity comes from host-issued tokens, not self-chosen usernames. */
  get hostIdentity(): boolean {
    return this.#verifier !== undefined;
  }

  /**
   * Resolves a handshake (see `parseHandshake()`) to a session: with host
   * identity, a token; else a known `sessionID` restores it, or a `username`
   * registers a new user. Throws `ChatError` otherwise.
   */
  authenticate(request: HandshakeRequest, hooks: AuthenticateHooks = {}): Promise<Authenticated> {
    return this.#verifier
      ? this.#authenticateHost(request, this.#verifier)
      : this.#authenticateAnonymous(request, hooks);
  }

  async #authenticateHost(
    request: HandshakeRequest,
    verifier: TokenVerifier,
  ): Promise<Authenticated> {
    if (request.token === undefined) {
      throw new ChatError(
        "auth_required",
        request.sessionID !== undefined || request.username !== undefined
          ? "This chat signs people in through the site: usernames and earlier sessions are not accepted"
          : "This chat signs people in through the site: no token was offered",
      );
    }
    const claims = await verifier.verify(request.token);
    let name: string;
    try {
      name = normalizeUsername(claims.name);
    } catch (error) {
      if (!(error instanceof ChatError)) throw error;
      throw new ChatError(
        "invalid_token",
        `Token claim "name" is not a usable display name: ${error.message}`,
      );
    }
    const userID = await hostUserId(claims.sub);
    const known = await this.#store.getUser(userID);
    let renamed = false;
    if (!known || known.username !== name || known.deleted) {
      const user: UserRecord = {
        userID,
        username: name,
        createdAt: known?.createdAt ?? Date.now(),
        host: true,
      };
      await this.#store.putUser(user, known?.deleted ? undefined : known?.username);
      renamed = known !== null;
      this.#remember(user);
    }
    return {
      sessionID: "",
      userID,
      username: name,
      identity: "host",
      renamed,
      via: "token",
      signedUp: known === null,
    };
  }

  async #authenticateAnonymous(
    request: HandshakeRequest,
    hooks: AuthenticateHooks,
  ): Promise<Authenticated> {
    const { sessionID, username } = request;
    let staleSession = false;
    if (sessionID !== undefined) {
      const session = await this.#store.getSession(sessionID);
      const user = session && await this.getUser(session.userID);
      if (session && user && !user.deleted && !user.host) {
        if (Date.now() - session.refreshedAt > SESSION_REFRESH_MS) {
          await this.#store.refreshSession(sessionID, {
            userID: user.userID,
            ttlMs: this.#options.sessionTtlMs,
          });
        }
        return {
          sessionID,
          userID: user.userID,
          username: user.username,
          identity: "anonymous",
          via: "session",
          signedUp: false,
        };
      }
      staleSession = true;
    }
    if (username === undefined) {
      throw new ChatError(staleSession ? "invalid_session" : "invalid_username", INVALID_USERNAME);
    }
    const name = normalizeUsername(username);
    hooks.beforeSignUp?.();
    const user: UserRecord = { userID: newUserId(), username: name, createdAt: Date.now() };
    const newSession = newSessionId();
    const created = await this.#store.createUser(user, {
      nameKeys: nameKeys(name),
      sessionID: newSession,
      ttlMs: this.#options.sessionTtlMs,
    });
    if (!created) {
      throw new ChatError("username_taken", `Username "${name}" is already taken`);
    }
    this.#remember(user);
    return {
      sessionID: newSession,
      userID: user.userID,
      username: name,
      identity: "anonymous",
      via: "username",
      signedUp: true,
    };
  }

  /** Ends a session; the user's other sessions, and so the name, stay. */
  async logout(sessionID: string, userID: string): Promise<void> {
    if (sessionID === "") return;
    await this.#store.endSession(sessionID, userID);
  }

  /**
   * Deletes the caller's anonymous account (see `ChatStore.deleteAccount()`).
   * Refused with `not_allowed` for a user the host site signs in.
   */
  async deleteAccount(userID: string, payload: unknown): Promise<void> {
    parseDeleteAccountRequest(payload);
    const user = await this.getUser(userID);
    if (this.#verifier || user?.host) {
      throw new ChatError(
        "not_allowed",
        "This account belongs to the site: it is deleted there, not in the chat",
      );
    }
    await this.#store.deleteAccount(userID);
    this.forgetUser(userID);
  }

  /**
   * Deletes every anonymous account with no live session for `accountTtlMs`,
   * and finishes interrupted deletions. Returns the IDs deleted now.
   */
  async sweepAccounts(now = Date.now()): Promise<string[]> {
    const deleted: string[] = [];
    if (this.#options.accountTtlMs > 0) {
      for (
        const userID of await this.#store.listAbandoned(now - this.#options.accountTtlMs, 1000)
      ) {
        if (await this.#store.deleteAccount(userID)) deleted.push(userID);
        this.forgetUser(userID);
      }
    }
    await this.#store.finishDeletions();
    return deleted;
  }

  /**
   * Deletes the messages older than `retentionMs` at `now`, unread counts kept
   * right. Null when retention is off or another node is sweeping now.
   */
  async sweepMessages(now = Date.now()): Promise<{ deleted: number; skipped: number } | null> {
    const retention = this.#options.retentionMs ?? 0;
    if (retention <= 0) return null;
    return await this.#store.deleteMessagesBefore(now - retention);
  }

  /** Drops a cached user record: its name changed or the account was deleted, on this node or another. */
  forgetUser(userID: string): void {
    this.#users.delete(userID);
    this.#preferences.delete(userID);
    this.#blocks.delete(userID);
    this.#lastSeen.delete(userID);
  }

  /** The user's preferences, from the cache when possible. */
  async preferencesOf(userID: string): Promise<Preferences> {
    const cached = this.#preferences.get(userID);
    if (cached) return cached;
    const stored = { ...DEFAULT_PREFERENCES, ...(await this.#store.getPreferences(userID)) };
    if (this.#preferences.size >= USER_CACHE_LIMIT) this.#preferences.clear();
    this.#preferences.set(userID, stored);
    return stored;
  }

  /** Changes the caller's preferences; returns all of them. */
  async setPreferences(userID: string, payload: unknown): Promise<Preferences> {
    const change = parsePreferencesRequest(payload);
    const preferences = { ...(await this.preferencesOf(userID)), ...change };
    await this.#store.savePreferences(userID, preferences);
    this.#preferences.set(userID, preferences);
    return preferences;
  }

  #blocksOf(userID: string): Promise<Set<string>> {
    const cached = this.#blocks.get(userID);
    if (cached) return cached.reading;
    if (this.#blocks.size >= USER_CACHE_LIMIT) this.#blocks.clear();
    const entry: { reading: Promise<Set<string>>; set?: Set<string> } = {
      reading: this.#store.listBlocks(userID),
    };
    entry.reading.then((set) => (entry.set = set), () => {
      if (this.#blocks.get(userID) === entry) this.#blocks.delete(userID);
    });
    this.#blocks.set(userID, entry);
    return entry.reading;
  }

  // Whether either of the two blocked the other, when both sets are read
  // already; undefined when that needs a read.
  #blockedIfKnown(a: string, b: string): boolean | undefined {
    const ofA = this.#blocks.get(a)?.set;
    const ofB = this.#blocks.get(b)?.set;
    return ofA && ofB ? ofA.has(b) || ofB.has(a) : undefined;
  }

  /** True when `blocker` blocked `other`. */
  async blocks(blocker: string, other: string): Promise<boolean> {
    return (await this.#blocksOf(blocker)).has(other);
  }

  /** True when either of the two blocked the other: nothing passes between them. */
  async blockedEitherWay(a: string, b: string): Promise<boolean> {
    const known = this.#blockedIfKnown(a, b);
    if (known !== undefined) return known;
    const [ab, ba] = await Promise.all([this.blocks(a, b), this.blocks(b, a)]);
    return ab || ba;
  }

  /** Blocks or unblocks a user for the caller. */
  async setBlock(userID: string, payload: unknown, blocked: boolean): Promise<BlockNotice> {
    const request = parseBlockRequest(payload);
    if (request.userID === userID) {
      throw new ChatError("invalid_payload", "You cannot block yourself");
    }
    if (!(await this.getUser(request.userID))) {
      throw new ChatError("unknown_recipient", `Unknown user "${request.userID}"`);
    }
    await this.#store.saveBlock(userID, request.userID, blocked);
    const set = await this.#blocksOf(userID);
    if (blocked) set.add(request.userID);
    else set.delete(request.userID);
    return { userID: request.userID, blocked };
  }

  /** Whom a `typing` payload is for; throws `ChatError` for a malformed one. */
  typingTarget(payload: unknown): string {
    return parseTypingRequest(payload).to;
  }

  /**
   * True when `to` should hear that `userID` is typing: not oneself, not an
   * unknown or deleted user, no block either way.
   */
  async hearsTyping(userID: string, to: string): Promise<boolean> {
    if (to === userID) return false;
    const recipient = await this.getUser(to);
    if (!recipient || recipient.deleted) return false;
    return !(await this.blockedEitherWay(userID, to));
  }

  /**
   * Records that `userID`'s device received its conversation with `with` up to
   * `upTo`; returns the receipt for the other user, or null when it has none to
   * hear (a block).
   */
  async delivered(userID: string, payload: unknown): Promise<ReceiptsNotice | null> {
    const request = parseDeliveredRequest(payload);
    if (request.with === userID) return null;
    if (!(await this.getUser(request.with))) {
      throw new ChatError("unknown_recipient", `Unknown user "${request.with}"`);
    }
    await this.#store.saveReceipt(request.with, userID, "delivered", request.upTo);
    if (await this.blockedEitherWay(userID, request.with)) return null;
    return { by: userID, delivered: request.upTo };
  }

  /**
   * Records that `userID` read the messages of `peerID` up to `upTo` (after
   * `markRead()`); returns the receipt for the peer, or null when either has
   * read receipts off, or a block stands.
   */
  async seen(userID: string, notice: MessagesReadNotice): Promise<ReceiptsNotice | null> {
    const peerID = notice.with;
    if (peerID === userID) return null;
    await this.#store.saveReceipt(peerID, userID, "seen", notice.upTo);
    const [mine, theirs, blocked] = await Promise.all([
      this.preferencesOf(userID),
      this.preferencesOf(peerID),
      this.blockedEitherWay(userID, peerID),
    ]);
    if (!mine.readReceipts || !theirs.readReceipts || blocked) return null;
    return { by: userID, seen: notice.upTo };
  }

  /** The stored message `id` of `userID`'s conversations, looked for with `with` or among them all. */
  async #ownMessage(userID: string, ref: { id: string; with?: string }) {
    const peers = ref.with !== undefined
      ? [ref.with]
      : [userID, ...(await this.#store.listSentTo(userID, 1000))];
    for (let i = 0; i < peers.length; i += 10) {
      const found = (await Promise.all(
        peers.slice(i, i + 10).map((peer) => this.#store.getMessage(userID, peer, ref.id)),
      )).find((m) => m !== null);
      if (found) {
        if (found.message.from !== userID) {
          throw new ChatError("forbidden", "Only the sender of a message can change it");
        }
        if (found.message.deleted) {
          throw new ChatError("forbidden", "This message was deleted");
        }
        const window = this.#options.editWindowSeconds;
        if (window === 0) {
          throw new ChatError("forbidden", "Messages cannot be changed on this server");
        }
        if (Date.now() - found.message.timestamp > window * 1000) {
          throw new ChatError(
            "forbidden",
            `Messages can be changed for ${duration(window)} after they are sent`,
          );
        }
        return found;
      }
    }
    throw new ChatError("unknown_message", `No message "${ref.id}" of yours`);
  }

  /** Edits one of the caller's messages within the edit window; returns it as stored. */
  editMessage(userID: string, payload: unknown): Promise<Message> {
    const request = parseEditRequest(payload, this.#options);
    return this.#changeOwn(userID, request, (message) => {
      const { clientId: _, ...rest } = message;
      return { ...rest, content: request.content, editedAt: Date.now() };
    });
  }

  /** Deletes one of the caller's messages within the edit window: a tombstone takes its place. */
  deleteMessage(userID: string, payload: unknown): Promise<Message> {
    return this.#changeOwn(userID, parseDeleteMessageRequest(payload), (message) => {
      const { id, from, to, timestamp } = message;
      return { id, from, to, content: "", timestamp, deleted: true };
    });
  }

  /** Rewrites one of the caller's messages as `change` says, again if it changed meanwhile. */
  async #changeOwn(
    userID: string,
    ref: { id: string; with?: string },
    change: (message: Message) => Message,
  ): Promise<Message> {
    for (let attempt = 0;; attempt++) {
      const stored = await this.#ownMessage(userID, ref);
      const changed = change(stored.message);
      if (await this.#store.replaceMessage(stored, changed)) return changed;
      if (attempt === 3) throw new Error(`Cannot change message ${ref.id}: it keeps changing`);
    }
  }

  /**
   * People whose name begins with the query (folded as names are), a page at a
   * time, in name order; the caller is left out.
   */
  async searchUsers(
    userID: string,
    payload: unknown,
  ): Promise<{ users: UserEntry[]; next?: string }> {
    const request = parseSearchRequest(payload);
    // One more than asked for, as the caller may be among them and is left out.
    const page = await this.#store.searchUsers(searchFold(request.query), {
      limit: request.limit + 1,
      after: request.after,
    });
    const found = page.found.filter(([, id]) => id !== userID);
    const more = page.more || found.length > request.limit;
    if (found.length > request.limit) found.length = request.limit;
    const ids = found.map(([, id]) => id);
    const [records, connected, blocks] = await Promise.all([
      Promise.all(ids.map((id) => this.getUser(id))),
      this.#presence.onlineAmong(ids),
      this.#blocksOf(userID),
    ]);
    const lastSeen = await this.#lastSeenOf(ids.filter((id) => !connected.has(id)));
    const users: UserEntry[] = [];
    for (const record of records) {
      if (!record || record.deleted) continue;
      const entry: UserEntry = {
        userID: record.userID,
        username: record.username,
        connected: connected.has(record.userID),
        messages: [],
        hasMore: true,
      };
      const at = lastSeen.get(record.userID);
      if (at !== undefined && !entry.connected) entry.lastSeen = at;
      if (blocks.has(record.userID)) entry.blocked = true;
      users.push(entry);
    }
    return { users, ...(more && found.length > 0 ? { next: encodeCursor(found.at(-1)!) } : {}) };
  }

  /** The user's last socket anywhere left: remembers when, and returns it. */
  async userLeft(userID: string): Promise<number> {
    const at = Date.now();
    this.#lastSeen.set(userID, { at, read: at });
    await this.#store.saveLastSeen(userID, at);
    return at;
  }

  async #lastSeenOf(userIDs: readonly string[]): Promise<Map<string, number>> {
    const now = Date.now();
    const result = new Map<string, number>();
    const missing: string[] = [];
    for (const id of userIDs) {
      const cached = this.#lastSeen.get(id);
      if (cached && now - cached.read < LAST_SEEN_TTL_MS) {
        if (cached.at !== undefined) result.set(id, cached.at);
      } else missing.push(id);
    }
    if (missing.length > 0) {
      const read = await this.#store.getLastSeen(missing);
      if (this.#lastSeen.size >= USER_CACHE_LIMIT) this.#lastSeen.clear();
      for (const id of missing) {
        const at = read.get(id);
        this.#lastSeen.set(id, { at, read: now });
        if (at !== undefined) result.set(id, at);
      }
    }
    return result;
  }

  /** A user by ID, from the cache when possible. */
  async getUser(userID: string): Promise<UserRecord | null> {
    const cached = this.#users.get(userID);
    if (cached) return cached;
    const user = await this.#store.getUser(userID);
    if (user) this.#remember(user);
    return user;
  }

  #rememberSend(key: string, message: Message): void {
    if (this.#recent.size >= RECENT_SENDS_LIMIT) {
      this.#recent.delete(this.#recent.keys().next().value!);
    }
    this.#recent.set(key, message);
  }

  #remember(user: UserRecord): void {
    if (this.#users.size >= USER_CACHE_LIMIT) this.#users.clear();
    this.#users.set(user.userID, user);
  }

  /**
   * The `users` payload for `userID`: self first, then conversation partners by
   * recency, then online users, then others, capped at `userListLimit`; the
   * latest page of each conversation within `historyBudget` messages in all.
   */
  async usersFor(userID: string): Promise<UserEntry[]> {
    const { userListLimit, historyPageSize, historyBudget } = this.#options;
    const [conversations, online] = await Promise.all([
      this.#store.listConversations(userID, userListLimit),
      this.#presence.list(userListLimit),
    ]);
    const unread = new Map(conversations.map((c) => [c.peerID, c.unread]));
    const ids: string[] = [userID];
    const seen = new Set(ids);
    const include = (id: string) => {
      if (ids.length < userListLimit && !seen.has(id)) {
        seen.add(id);
        ids.push(id);
      }
    };
    for (const c of conversations) include(c.peerID);
    for (const id of online) include(id);
    if (ids.length < userListLimit) {
      for (const user of await this.#store.listUsers(userListLimit)) {
        this.#remember(user);
        // A deleted account is listed only as a conversation partner.
        if (!user.deleted) include(user.userID);
      }
    }
    const partners = new Set(conversations.map((c) => c.peerID));
    let budget = historyBudget;
    const pages = new Map<string, Promise<MessagePage>>();
    for (const c of conversations) {
      if (budget <= 0 || !seen.has(c.peerID)) continue;
      const limit = Math.min(historyPageSize, budget);
      budget -= limit;
      pages.set(c.peerID, this.#store.listMessages([userID, c.peerID], { limit }));
    }
    const [records, connected, receipts, myBlocks, mine] = await Promise.all([
      Promise.all(ids.map((id) => this.getUser(id))),
      this.#presence.onlineAmong(ids),
      conversations.length > 0 ? this.#store.listReceipts(userID) : new Map(),
      this.#blocksOf(userID),
      this.preferencesOf(userID),
    ]);
    const lastSeen = await this.#lastSeenOf(
      ids.filter((id) => !connected.has(id) && id !== userID),
    );
    // Seen receipts show only between two users who both have them on.
    const readers = [...receipts.entries()].filter(([, r]) => r.seen !== undefined);
    const seenOn = new Set<string>();
    if (mine.readReceipts) {
      await Promise.all(readers.map(async ([reader]) => {
        if ((await this.preferencesOf(reader)).readReceipts) seenOn.add(reader);
      }));
    }
    const entries: UserEntry[] = [];
    for (let i = 0; i < ids.length; i++) {
      const record = records[i];
      if (!record) continue;
      const page = await pages.get(record.userID);
      const entry: UserEntry = {
        userID: record.userID,
        username: record.deleted ? DELETED_USERNAME : record.username,
        connected: !record.deleted && (record.userID === userID || connected.has(record.userID)),
        messages: page?.messages ?? [],
        hasMore: page ? page.hasMore : partners.has(record.userID),
        unread: unread.get(record.userID) ?? 0,
      };
      if (record.userID === userID) entry.self = true;
      if (record.deleted) entry.deleted = true;
      const at = lastSeen.get(record.userID);
      if (at !== undefined && !entry.connected) entry.lastSeen = at;
      const receipt = receipts.get(record.userID);
      if (receipt?.delivered) entry.deliveredUpTo = receipt.delivered;
      if (receipt?.seen && seenOn.has(record.userID)) entry.seenUpTo = receipt.seen;
      if (myBlocks.has(record.userID)) entry.blocked = true;
      entries.push(entry);
    }
    return entries;
  }

  /**
   * Validates and durably stores a message from `userID`. A repeated
   * `clientId` returns the message stored the first time. One sender's
   * messages are stamped, stored and acknowledged in the order they arrived.
   */
  async send(userID: string, payload: unknown): Promise<SendResult> {
    const request = parseSendRequest(payload, this.#options);
    const { id, timestamp } = this.#nextId();
    // Each send of a user waits for the previous one to be queued for commit,
    // so the lookups below cannot reorder a sender's messages.
    const previous = this.#lanes.get(userID);
    let release!: () => void;
    const lane = new Promise<void>((resolve) => (release = resolve));
    this.#lanes.set(userID, lane);
    const key = request.clientId === undefined ? undefined : `${userID}\u0000${request.clientId}`;
    let registered = false;
    try {
      if (previous) await previous;
      if (request.to !== userID) {
        const recipient = await this.getUser(request.to);
        if (!recipient) throw new ChatError("unknown_recipient", `Unknown user "${request.to}"`);
        if (recipient.deleted) {
          throw new ChatError("recipient_deleted", "This person deleted their account");
        }
        if (await this.blocks(request.to, userID)) {
          throw new ChatError(
            "blocked",
            "Not delivered: this person does not accept your messages",
          );
        }
        if (await this.blocks(userID, request.to)) {
          throw new ChatError("blocked", "You blocked this person: unblock them to write");
        }
      }
      if (key !== undefined) {
        const inflight = this.#inflight.get(key);
        if (inflight) return { message: await inflight, duplicate: true };
        // A first send (`retry: false`) has nothing stored to find.
        if (request.retry !== false) {
          const stored = this.#recent.get(key) ??
            await this.#store.findByClientId(userID, {
              peerID: request.to,
              clientId: request.clientId!,
            });
          if (stored) return { message: stored, duplicate: true };
        }
      }
      const message: Message = {
        id,
        from: userID,
        to: request.to,
        content: request.content,
        timestamp,
      };
      if (request.clientId !== undefined) message.clientId = request.clientId;
      const saved = this.#store.saveMessage(message).then(() => {
        if (key !== undefined) this.#rememberSend(key, message);
        return message;
      });
      if (key !== undefined) {
        this.#inflight.set(key, saved);
        registered = true;
      }
      release();
      return { message: await saved, duplicate: false };
    } finally {
      release();
      if (this.#lanes.get(userID) === lane) this.#lanes.delete(userID);
      if (registered) this.#inflight.delete(key!);
    }
  }

  /** A page of the caller's conversation with another user, oldest first. */
  async loadMessages(userID: string, payload: unknown): Promise<MessagePage> {
    const request = parseLoadRequest(payload);
    if (request.with !== userID && !(await this.getUser(request.with))) {
      throw new ChatError("unknown_recipient", `Unknown user "${request.with}"`);
    }
    return this.#store.listMessages([userID, request.with], {
      before: request.before,
      limit: request.limit,
    });
  }

  /** Marks the caller's conversation read up to a message; returns what remains unread. */
  async markRead(userID: string, payload: unknown): Promise<MessagesReadNotice> {
    const request = parseReadRequest(payload);
    if (request.with !== userID && !(await this.getUser(request.with))) {
      throw new ChatError("unknown_recipient", `Unknown user "${request.with}"`);
    }
    const unread = await this.#store.markRead(userID, {
      peerID: request.with,
      upTo: request.upTo,
    });
    return { with: request.with, upTo: request.upTo, unread };
  }
}
