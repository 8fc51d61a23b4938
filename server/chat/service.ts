/** The chat domain: identity, messages, history and unread counts. Knows neither Socket.IO nor KV. */

import type { Message, MessagesReadNotice, SessionInfo, UserEntry } from "../protocol.ts";
import { INVALID_USERNAME } from "../protocol.ts";
import { ChatError } from "./errors.ts";
import { createMessageIdGenerator, newSessionId, newUserId } from "./ids.ts";
import type { ChatStore, MessagePage, Presence, UserRecord } from "./ports.ts";
import { foldUsername, normalizeUsername } from "./usernames.ts";
import {
  type HandshakeRequest,
  parseLoadRequest,
  parseReadRequest,
  parseSendRequest,
} from "./validation.ts";

/** Limits the service applies; see `Config` for their meaning. */
export interface ChatServiceOptions {
  maxContentLength: number;
  userListLimit: number;
  historyPageSize: number;
  historyBudget: number;
  sessionTtlMs: number;
}

/** The result of a send. */
export interface SendResult {
  message: Message;
  /** True when an earlier send with the same `clientId` had stored it. */
  duplicate: boolean;
}

// Sessions are re-stamped at most this often, not on every connect.
const SESSION_REFRESH_MS = 24 * 60 * 60 * 1000;
// Usernames never change, so a cache entry never goes stale; the bound only caps memory.
const USER_CACHE_LIMIT = 100_000;
// Idempotency keys this node stored lately: most retries are answered from here, the
// rest from the conversation's latest messages.
const RECENT_SENDS_LIMIT = 20_000;

/** The chat's rules; every method validates its untrusted input. */
export class ChatService {
  #store: ChatStore;
  #presence: Presence;
  #options: ChatServiceOptions;
  #nextId = createMessageIdGenerator();
  #users = new Map<string, UserRecord>();
  #inflight = new Map<string, Promise<Message>>();
  /** Messages this node stored lately, by sender and idempotency key (oldest first). */
  #recent = new Map<string, Message>();
  #lanes = new Map<string, Promise<void>>();

  constructor(
    deps: { store: ChatStore; presence: Presence },
    options: ChatServiceOptions,
  ) {
    this.#store = deps.store;
    this.#presence = deps.presence;
    this.#options = options;
  }

  /**
   * Resolves a handshake (see `parseHandshake()`) to a session: a known
   * `sessionID` restores it, else a `username` registers a new user. Throws
   * `ChatError` otherwise.
   */
  async authenticate(request: HandshakeRequest): Promise<SessionInfo> {
    const { sessionID, username } = request;
    let staleSession = false;
    if (sessionID !== undefined) {
      const session = await this.#store.getSession(sessionID);
      const user = session && await this.getUser(session.userID);
      if (session && user) {
        if (Date.now() - session.refreshedAt > SESSION_REFRESH_MS) {
          await this.#store.refreshSession(sessionID, {
            userID: user.userID,
            ttlMs: this.#options.sessionTtlMs,
          });
        }
        return { sessionID, userID: user.userID, username: user.username };
      }
      staleSession = true;
    }
    if (username === undefined) {
      throw new ChatError(staleSession ? "invalid_session" : "invalid_username", INVALID_USERNAME);
    }
    const name = normalizeUsername(username);
    const user: UserRecord = { userID: newUserId(), username: name, createdAt: Date.now() };
    const newSession = newSessionId();
    const created = await this.#store.createUser(user, {
      foldedName: foldUsername(name),
      sessionID: newSession,
      ttlMs: this.#options.sessionTtlMs,
    });
    if (!created) {
      throw new ChatError("username_taken", `Username "${name}" is already taken`);
    }
    this.#remember(user);
    return { sessionID: newSession, userID: user.userID, username: name };
  }

  /** Ends a session. */
  async logout(sessionID: string): Promise<void> {
    await this.#store.deleteSession(sessionID);
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
        include(user.userID);
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
    const [records, connected] = await Promise.all([
      Promise.all(ids.map((id) => this.getUser(id))),
      this.#presence.onlineAmong(ids),
    ]);
    const entries: UserEntry[] = [];
    for (let i = 0; i < ids.length; i++) {
      const record = records[i];
      if (!record) continue;
      const page = await pages.get(record.userID);
      const entry: UserEntry = {
        userID: record.userID,
        username: record.username,
        connected: record.userID === userID || connected.has(record.userID),
        messages: page?.messages ?? [],
        hasMore: page ? page.hasMore : partners.has(record.userID),
        unread: unread.get(record.userID) ?? 0,
      };
      if (record.userID === userID) entry.self = true;
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
      if (request.to !== userID && !(await this.getUser(request.to))) {
        throw new ChatError("unknown_recipient", `Unknown user "${request.to}"`);
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
