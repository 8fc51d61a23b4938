/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import type { ReactiveController, ReactiveControllerHost } from "lit";
import { io, type Socket } from "socket.io-client";
import {
  type ClientToServerEvents,
  type ErrorCode,
  INVALID_USERNAME,
  LIMITS,
  type LoadMessagesAck,
  type Message,
  type MessagesReadAck,
  type MessagesReadNotice,
  type SendMessageAck,
  type ServerToClientEvents,
  type SessionInfo,
  type UserEntry,
  type WireError,
} from "../server/protocol.ts";

/** Where the connection stands, as shown in the banner and fired in `chat-connection-change`. */
export type ConnectionState =
  | "signed-out"
  | "connecting"
  | "connected"
  | "reconnecting"
  | "offline"
  | "unreachable";

/** Delivery state of one of your own messages. */
export type DeliveryState = "pending" | "sent" | "failed";

/** A message as the widget holds it: stored ones, plus your own not yet acknowledged. */
export interface ChatMessage extends Message {
  /** `sent` for every stored message; `pending`/`failed` only for your own unacknowledged ones. */
  state: DeliveryState;
  /** Why a failed message failed. */
  error?: WireError;
}

/** One person in the user list and the conversation with them. */
export interface ChatUser {
  userID: string;
  username: string;
  connected: boolean;
  self: boolean;
  /** Oldest first. */
  messages: ChatMessage[];
  hasMore: boolean;
  unread: number;
  loadingOlder: boolean;
}

/** The signed-in identity, without the session credential. */
export interface ChatIdentity {
  userID: string;
  username: string;
}

/** What the client tells its host about; the element turns these into DOM events. */
export interface ChatClientEvents {
  session: ChatIdentity;
  message: { message: Message; user: ChatIdentity };
  "message-sent": { message: Message };
  "unread-change": { total: number };
  "connection-change": { state: ConnectionState };
  error: WireError & { source: string };
  logout: Record<never, never>;
}

interface OutboxEntry {
  clientId: string;
  to: string;
  content: string;
  timestamp: number;
  state: "pending" | "failed";
  error?: WireError;
}

type ChatSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** How long to wait for the server to store a message before calling it failed. */
const ACK_TIMEOUT_MS = 15_000;
/** Consecutive failed connection attempts before the banner says the server cannot be reached. */
const UNREACHABLE_AFTER = 3;

function readJSON<T>(key: string): T | undefined {
  try {
    const raw = globalThis.localStorage?.getItem(key);
    return raw ? JSON.parse(raw) as T : undefined;
  } catch {
    return undefined;
  }
}

function writeJSON(key: string, value: unknown): void {
  try {
    if (value === undefined) globalThis.localStorage?.removeItem(key);
    else globalThis.localStorage?.setItem(key, JSON.stringify(value));
  } catch {
    // Storage can be full or disabled (private mode, sandboxed frames): the chat still works for this page.
  }
}

function byId(a: { id: string }, b: { id: string }): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function newClientId(): string {
  return globalThis.crypto?.randomUUID?.() ??
    `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}${
      Math.random().toString(36).slice(2)
    }`;
}

/** The server's content limit from a `session` (servers before it was announced send none). */
function contentLimit(session: SessionInfo | undefined): number {
  const max = session?.maxContentLength;
  return typeof max === "number" && max >= 1 ? Math.floor(max) : LIMITS.maxContentLength;
}

function wireError(err: unknown, fallback: ErrorCode = "internal"): WireError {
  const e = err as { message?: string; data?: { code?: ErrorCode } };
  return { code: e?.data?.code ?? fallback, message: e?.message ?? String(err) };
}

/**
 * The chat's connection and state: one Socket.IO connection per element, the
 * session in localStorage, an outbox of unacknowledged messages that survives
 * reloads. Owns no DOM; the host re-renders on every change.
 */
export class ChatClient implements ReactiveController {
  /** Connection state for the banner. */
  state: ConnectionState = "signed-out";
  /** The signed-in user, once the server has sent `session`. */
  identity?: ChatIdentity;
  /** Users by ID, in arrival order; `sortedUsers` gives display order. */
  users = new Map<string, ChatUser>();
  /** Why the username form is shown again, or why a sign-in failed. */
  loginError?: WireError;
  /** True while a sign-in with a new username is in flight. */
  signingIn = false;
  /** The conversation whose messages count as read as they arrive. */
  activeUserID?: string;
  /** Longest message the server accepts: its `session` says, else the protocol's default. */
  maxContentLength: number = LIMITS.maxContentLength;

  #host: ReactiveControllerHost;
  #emit: <K extends keyof ChatClientEvents>(type: K, detail: ChatClientEvents[K]) => void;
  #socket?: ChatSocket;
  #server = "";
  #storageKey = "";
  #failedAttempts = 0;
  #inflight = new Set<string>();
  #flushing = false;
  // The message `send()` is writing, while it calls `#flush()`.
  #fresh: string | undefined;
  #configured = false;
  #collator = new Intl.Collator(undefined, { sensitivity: "base", numeric: true });
  #lastTotal = 0;
  #connectedOnce = false;
  #visible: () => boolean;

  constructor(
    host: ReactiveControllerHost,
    options: {
      emit: <K extends keyof ChatClientEvents>(type: K, detail: ChatClientEvents[K]) => void;
      isVisible?: () => boolean;
    },
  ) {
    this.#host = host;
    this.#emit = options.emit;
    this.#visible = options.isVisible ?? (() => true);
    host.addController(this);
  }

  hostConnected(): void {
    globalThis.addEventListener?.("online", this.#onNetworkChange);
    globalThis.addEventListener?.("offline", this.#onNetworkChange);
    globalThis.addEventListener?.("storage", this.#onStorage);
  }

  hostDisconnected(): void {
    globalThis.removeEventListener?.("online", this.#onNetworkChange);
    globalThis.removeEventListener?.("offline", this.#onNetworkChange);
    globalThis.removeEventListener?.("storage", this.#onStorage);
    this.#closeSocket();
    // Attached again later: configure() must open a fresh connection.
    this.#configured = false;
  }

  /**
   * Points the client at a server and storage key and connects with the stored session if
   * there is one. Returns false when nothing changed (cheap enough to call on every render).
   */
  configure(server: string, storageKey: string): boolean {
    if (this.#configured && server === this.#server && storageKey === this.#storageKey) {
      return false;
    }
    this.#configured = true;
    this.#closeSocket();
    this.#server = server;
    this.#storageKey = storageKey;
    this.users = new Map();
    this.identity = undefined;
    const stored = readJSON<SessionInfo>(storageKey);
    this.maxContentLength = contentLimit(stored);
    if (stored?.sessionID) {
      this.identity = { userID: stored.userID, username: stored.username };
      this.#open({ sessionID: stored.sessionID });
    } else {
      this.#setState("signed-out");
    }
    return true;
  }

  /** Signs in with a new username (the server validates it and says why it refuses). */
  signIn(username: string): void {
    this.loginError = undefined;
    this.signingIn = true;
    this.#open({ username: username.trim() });
  }

  /**
   * Forgets the session and the outbox on this device, returns to the username
   * form at once, and ends the session on the server; resolves when the server
   * has confirmed (or could not be asked).
   */
  logout(): Promise<void> {
    const socket = this.#socket;
    let ended = Promise.resolve();
    if (socket?.connected) {
      this.#socket = undefined;
      socket.removeAllListeners();
      ended = socket.timeout(3_000).emitWithAck("logout").then(() => {}, () => {}).finally(() => {
        socket.disconnect();
      });
    }
    this.#closeSocket();
    writeJSON(this.#storageKey, undefined);
    writeJSON(this.#outboxKey(), undefined);
    const hadSession = !!this.identity;
    this.identity = undefined;
    this.users = new Map();
    this.activeUserID = undefined;
    this.loginError = undefined;
    this.#setState("signed-out");
    this.#updateTotal();
    if (hadSession) this.#emit("logout", {});
    return ended;
  }

  /** Users for display: self first, then by name (case-insensitive), then by ID, so the order never jumps. */
  get sortedUsers(): ChatUser[] {
    const collator = this.#collator;
    return [...this.users.values()].sort((a, b) =>
      Number(b.self) - Number(a.self) || collator.compare(a.username, b.username) ||
      (a.userID < b.userID ? -1 : 1)
    );
  }

  /** Unread messages over all conversations. */
  get totalUnread(): number {
    let total = 0;
    for (const user of this.users.values()) total += user.unread;
    return total;
  }

  /** The server URL in use. */
  get server(): string {
    return this.#server;
  }

  /** Sends a message now if connected, else queues it; either way it shows at once as pending. */
  send(to: string, content: string): ChatMessage | undefined {
    if (!this.identity || !content.trim() || content.length > this.maxContentLength) {
      return undefined;
    }
    const entry: OutboxEntry = {
      clientId: newClientId(),
      to,
      content,
      timestamp: Date.now(),
      state: "pending",
    };
    this.#saveOutbox([...this.#outbox(), entry]);
    const message = this.#addPending(entry);
    this.#fresh = entry.clientId;
    this.#flush();
    this.#fresh = undefined;
    this.#host.requestUpdate();
    return message;
  }

  /** Sends a failed message again with the same `clientId`, so the server never stores it twice. */
  retry(clientId: string): void {
    this.#saveOutbox(
      this.#outbox().map((e) =>
        e.clientId === clientId ? { ...e, state: "pending", error: undefined } : e
      ),
    );
    for (const user of this.users.values()) {
      user.messages = user.messages.map((m) =>
        m.clientId === clientId && m.state === "failed"
          ? { ...m, state: "pending", error: undefined }
          : m
      );
    }
    this.#flush();
    this.#host.requestUpdate();
  }

  /** Drops a failed message from the outbox and the conversation. */
  discard(clientId: string): void {
    this.#saveOutbox(this.#outbox().filter((e) => e.clientId !== clientId));
    for (const user of this.users.values()) {
      user.messages = user.messages.filter((m) => !(m.clientId === clientId && m.state !== "sent"));
    }
    this.#host.requestUpdate();
  }

  /** Loads the page before the oldest message held for `userID`. Resolves false when nothing was loaded. */
  async loadOlder(userID: string): Promise<boolean> {
    const user = this.users.get(userID);
    const socket = this.#socket;
    if (!user || !user.hasMore || user.loadingOlder || !socket?.connected) return false;
    const oldest = user.messages.find((m) => m.state === "sent");
    user.loadingOlder = true;
    this.#host.requestUpdate();
    try {
      const ack: LoadMessagesAck = await socket.timeout(ACK_TIMEOUT_MS).emitWithAck(
        "load messages",
        {
          with: userID,
          before: oldest?.id,
          limit: LIMITS.defaultPageSize,
        },
      );
      if (!ack.ok) {
        this.#emit("error", { ...ack.error, source: "load messages" });
        return false;
      }
      const current = this.users.get(userID);
      if (!current) return false;
      current.messages = this.#merge(current.messages, ack.messages);
      current.hasMore = ack.hasMore;
      return ack.messages.length > 0;
    } catch {
      return false;
    } finally {
      user.loadingOlder = false;
      this.#host.requestUpdate();
    }
  }

  /** Marks the conversation with `userID` as read up to its newest stored message. */
  markRead(userID: string): void {
    const user = this.users.get(userID);
    if (!user || user.unread === 0) return;
    const last = user.messages.findLast((m) => m.state === "sent" && m.from === userID);
    user.unread = 0;
    this.#updateTotal();
    this.#host.requestUpdate();
    if (!last || !this.#socket?.connected) return;
    this.#socket.timeout(ACK_TIMEOUT_MS).emitWithAck("messages read", {
      with: userID,
      upTo: last.id,
    }).then(
      (ack: MessagesReadAck) => {
        const u = this.users.get(userID);
        if (ack.ok && u && u.unread !== ack.unread && !this.#isReading(userID)) {
          u.unread = ack.unread;
          this.#updateTotal();
          this.#host.requestUpdate();
        }
      },
      () => {/* Lost with the connection: the next "users" brings the server's count. */},
    );
  }

  /** Tries to connect again right away (for a "retry now" control and when the browser comes back online). */
  reconnectNow(): void {
    const socket = this.#socket;
    if (socket && !socket.connected) {
      socket.disconnect();
      socket.connect();
    }
  }

  #outboxKey(): string {
    return `${this.#storageKey}:outbox`;
  }

  #outbox(): OutboxEntry[] {
    const stored = readJSON<{ userID: string; entries: OutboxEntry[] }>(this.#outboxKey());
    return stored && stored.userID === this.identity?.userID && Array.isArray(stored.entries)
      ? stored.entries
      : [];
  }

  #saveOutbox(entries: OutboxEntry[]): void {
    if (!this.identity) return;
    writeJSON(
      this.#outboxKey(),
      entries.length ? { userID: this.identity.userID, entries } : undefined,
    );
  }

  #setState(state: ConnectionState): void {
    if (this.state === state) return;
    this.state = state;
    this.#emit("connection-change", { state });
    this.#host.requestUpdate();
  }

  #updateTotal(): void {
    const total = this.totalUnread;
    if (total === this.#lastTotal) return;
    this.#lastTotal = total;
    this.#emit("unread-change", { total });
  }

  #isReading(userID: string): boolean {
    return this.activeUserID === userID && this.#visible();
  }

  #onNetworkChange = (): void => {
    if (!this.#socket) return;
    if ((globalThis.navigator as { onLine?: boolean } | undefined)?.onLine === false) {
      if (!this.#socket.connected) this.#setState("offline");
    } else {
      this.reconnectNow();
    }
  };

  /** Another tab with the same storage key signed in or out: follow it. */
  #onStorage = (event: StorageEvent): void => {
    if (event.key !== this.#storageKey || !this.#configured) return;
    const stored = readJSON<SessionInfo>(this.#storageKey);
    if (
      stored?.sessionID === (this.#socket?.auth as { sessionID?: string } | undefined)?.sessionID
    ) return;
    this.#configured = false;
    this.configure(this.#server, this.#storageKey);
  };

  #closeSocket(): void {
    const socket = this.#socket;
    this.#socket = undefined;
    this.#inflight.clear();
    this.#flushing = false;
    if (socket) {
      socket.removeAllListeners();
      socket.io.removeAllListeners?.();
      socket.disconnect();
    }
  }

  #open(auth: { sessionID?: string; username?: string }): void {
    this.#closeSocket();
    this.#failedAttempts = 0;
    this.#connectedOnce = false;
    this.#setState("connecting");
    // forceNew: two widgets on one page must not share a connection (they are different users).
    const socket: ChatSocket = io(this.#server, {
      // One `presence` event per burst of arrivals, so a crowd arriving renders once.
      auth: { ...auth, batchPresence: true },
      forceNew: true,
      // WebSocket first (no sticky sessions needed behind a balancer), long-polling where it is blocked.
      transports: ["websocket", "polling"],
      tryAllTransports: true,
    });
    this.#socket = socket;

    socket.on("connect", () => {
      this.#failedAttempts = 0;
    });
    socket.on("session", (session) => this.#onSession(socket, session));
    socket.on("users", (users) => this.#onUsers(users));
    socket.on("presence", (changes) => {
      if (!Array.isArray(changes)) return;
      for (const c of changes) {
        if (typeof c?.userID !== "string") continue;
        if (c.connected) {
          this.#onUserConnected({ ...c, messages: [] });
        } else this.#onUserDisconnected(c.userID);
      }
      this.#host.requestUpdate();
    });
    // What a server without `batchPresence` sends.
    socket.on("user connected", (entry) => {
      this.#onUserConnected(entry);
      this.#host.requestUpdate();
    });
    socket.on("user disconnected", (userID) => {
      this.#onUserDisconnected(userID);
      this.#host.requestUpdate();
    });
    socket.on("private message", (message) => this.#onMessage(message));
    socket.on("messages read", (notice: MessagesReadNotice) => {
      const user = this.users.get(notice.with);
      if (!user) return;
      user.unread = notice.unread;
      this.#updateTotal();
      this.#host.requestUpdate();
    });
    socket.on("disconnect", (reason) => {
      this.#inflight.clear();
      if (reason === "io client disconnect") return;
      // The server closed this socket (the session ended in another tab, or the server is
      // shutting down): Socket.IO would not retry, so ask again; a dead session comes back
      // as a connect error and shows the form.
      if (reason === "io server disconnect") socket.connect();
      this.#setState(
        (globalThis.navigator as { onLine?: boolean } | undefined)?.onLine === false
          ? "offline"
          : "reconnecting",
      );
      // Without a connection nobody's presence is known; the next "users" tells again.
      for (const user of this.users.values()) user.connected = false;
      this.#host.requestUpdate();
    });
    socket.on("connect_error", (err) => this.#onConnectError(socket, err));
  }

  #onConnectError(socket: ChatSocket, err: Error & { data?: { code?: ErrorCode } }): void {
    if (!socket.active) {
      // The server refused the handshake (middleware error): no automatic retry follows.
      const error = wireError(err, "invalid_username");
      const stale = err.message === INVALID_USERNAME || error.code === "invalid_session";
      const wasSignedIn = !this.signingIn;
      if (wasSignedIn && (error.code === "internal" || error.code === "rate_limited")) {
        // The server could not check the session just now: it may well be valid, so ask again.
        this.#failedAttempts++;
        this.#setState(this.#failedAttempts >= UNREACHABLE_AFTER ? "unreachable" : "reconnecting");
        setTimeout(() => {
          if (socket === this.#socket && !socket.connected) socket.connect();
        }, Math.min(30_000, 1_000 * 2 ** this.#failedAttempts));
        return;
      }
      this.#closeSocket();
      this.signingIn = false;
      if (stale) {
        writeJSON(this.#storageKey, undefined);
        writeJSON(this.#outboxKey(), undefined);
        this.identity = undefined;
        this.users = new Map();
        this.#updateTotal();
      }
      this.loginError = stale && wasSignedIn ? { code: "invalid_session", message: "" } : error;
      this.#setState("signed-out");
      this.#emit("error", { ...error, source: "connect" });
      return;
    }
    this.#failedAttempts++;
    if ((globalThis.navigator as { onLine?: boolean } | undefined)?.onLine === false) {
      this.#setState("offline");
    } else if (this.#failedAttempts >= UNREACHABLE_AFTER) this.#setState("unreachable");
    else this.#setState(this.#connectedOnce ? "reconnecting" : "connecting");
  }

  #onSession(socket: ChatSocket, session: SessionInfo): void {
    socket.auth = { sessionID: session.sessionID, batchPresence: true };
    const changed = this.identity?.userID !== session.userID;
    writeJSON(this.#storageKey, session);
    this.identity = { userID: session.userID, username: session.username };
    this.maxContentLength = contentLimit(session);
    this.signingIn = false;
    this.loginError = undefined;
    if (changed || !this.#connectedOnce) this.#emit("session", { ...this.identity });
  }

  #fromEntry(entry: UserEntry): ChatUser {
    return {
      userID: entry.userID,
      username: entry.username,
      connected: entry.connected,
      self: entry.self ?? entry.userID === this.identity?.userID,
      messages: (entry.messages ?? []).map((m) => ({ ...m, state: "sent" as const })).sort(byId),
      hasMore: entry.hasMore ?? false,
      unread: entry.unread ?? 0,
      loadingOlder: false,
    };
  }

  #onUserConnected(entry: UserEntry): void {
    const existing = this.users.get(entry.userID);
    if (existing) {
      existing.connected = true;
      existing.username = entry.username;
    } else {
      this.users.set(entry.userID, this.#fromEntry(entry));
    }
  }

  #onUserDisconnected(userID: string): void {
    const user = this.users.get(userID);
    if (user && !user.self) user.connected = false;
  }

  #onUsers(entries: UserEntry[]): void {
    const next = new Map<string, ChatUser>();
    for (const entry of entries) {
      const fresh = this.#fromEntry(entry);
      const old = this.users.get(entry.userID);
      if (old) {
        const oldStored = old.messages.filter((m) => m.state === "sent");
        const newest = oldStored.at(-1);
        const gap = fresh.hasMore && fresh.messages.length > 0 && newest !== undefined &&
          newest.id < fresh.messages[0].id;
        if (!gap && oldStored.length > 0) {
          // Keep older pages already loaded; the fresh page only adds what arrived while away.
          fresh.messages = this.#merge(oldStored, fresh.messages);
          fresh.hasMore = old.hasMore;
        }
      }
      next.set(entry.userID, fresh);
    }
    // Someone we talked to may be missing from a bounded list: keep them rather than losing the conversation.
    for (const [id, old] of this.users) {
      if (!next.has(id) && old.messages.length) next.set(id, { ...old, connected: false });
    }
    this.users = next;
    for (const entry of this.#outbox()) this.#addPending(entry);
    this.#connectedOnce = true;
    this.#setState("connected");
    if (this.activeUserID && this.#isReading(this.activeUserID)) this.markRead(this.activeUserID);
    this.#updateTotal();
    this.#host.requestUpdate();
    this.#flush();
  }

  #userFor(userID: string): ChatUser {
    let user = this.users.get(userID);
    if (!user) {
      user = {
        userID,
        username: userID,
        connected: false,
        self: userID === this.identity?.userID,
        messages: [],
        hasMore: false,
        unread: 0,
        loadingOlder: false,
      };
      this.users.set(userID, user);
    }
    return user;
  }

  #addPending(entry: OutboxEntry): ChatMessage {
    const user = this.#userFor(entry.to);
    const existing = user.messages.find((m) => m.clientId === entry.clientId);
    if (existing) return existing;
    const message: ChatMessage = {
      id: `~${entry.timestamp.toString(36)}-${entry.clientId}`,
      from: this.identity!.userID,
      to: entry.to,
      content: entry.content,
      timestamp: entry.timestamp,
      clientId: entry.clientId,
      state: entry.state,
      error: entry.error,
    };
    user.messages = [...user.messages, message];
    return message;
  }

  /** Stored messages merged by ID; local pending ones stay after them in the order they were written. */
  #merge(current: ChatMessage[], incoming: Message[]): ChatMessage[] {
    const stored = new Map<string, ChatMessage>();
    const settled = new Set<string>();
    for (const m of current) if (m.state === "sent") stored.set(m.id, m);
    for (const m of incoming) {
      stored.set(m.id, { ...m, state: "sent" });
      if (m.clientId) settled.add(m.clientId);
    }
    const local = current.filter((m) =>
      m.state !== "sent" && !(m.clientId && settled.has(m.clientId))
    );
    return [...[...stored.values()].sort(byId), ...local];
  }

  #onMessage(message: Message): void {
    const me = this.identity?.userID;
    if (!me) return;
    const peerID = message.from === me ? message.to : message.from;
    const user = this.#userFor(peerID);
    if (user.messages.some((m) => m.id === message.id)) return;
    user.messages = this.#merge(user.messages, [message]);
    if (message.from !== me) {
      if (this.#isReading(peerID)) {
        user.unread = 1;
        this.markRead(peerID);
      } else {
        user.unread++;
        this.#updateTotal();
      }
      this.#emit("message", { message, user: { userID: user.userID, username: user.username } });
    }
    this.#host.requestUpdate();
  }

  /**
   * Sends the outbox one message at a time, each after the previous one's ack:
   * concurrent emits may be stored in a different order than they were written.
   */
  #flush(): void {
    const socket = this.#socket;
    if (this.#flushing || !socket?.connected || this.state !== "connected") return;
    const entry = this.#outbox().find((e) =>
      e.state === "pending" && !this.#inflight.has(e.clientId)
    );
    if (!entry) return;
    this.#flushing = true;
    this.#inflight.add(entry.clientId);
    // Only a message sent in the task that wrote it is surely sent for the first
    // time: any later send may follow one by this tab or another tab of the session.
    const first = entry.clientId === this.#fresh;
    socket.timeout(ACK_TIMEOUT_MS).emitWithAck(
      "private message",
      { content: entry.content, to: entry.to, clientId: entry.clientId, retry: !first },
    ).then(
      (ack: SendMessageAck) => {
        if (socket !== this.#socket) return;
        if (ack.ok) this.#settle(entry, ack.message);
        else this.#fail(entry, ack.error);
      },
      (err: Error) => {
        // Lost with the connection: still pending, sent again on reconnect. Connected but no answer: failed.
        if (socket === this.#socket && socket.connected) {
          this.#fail(entry, { code: "internal", message: err.message });
        }
      },
    ).finally(() => {
      this.#inflight.delete(entry.clientId);
      this.#flushing = false;
      if (socket === this.#socket) this.#flush();
    });
  }

  #settle(entry: OutboxEntry, message: Message): void {
    this.#saveOutbox(this.#outbox().filter((e) => e.clientId !== entry.clientId));
    const user = this.#userFor(entry.to);
    user.messages = this.#merge(user.messages, [{ ...message, clientId: entry.clientId }]);
    this.#emit("message-sent", { message });
    this.#host.requestUpdate();
  }

  #fail(entry: OutboxEntry, error: WireError): void {
    this.#saveOutbox(
      this.#outbox().map((e) =>
        e.clientId === entry.clientId ? { ...e, state: "failed", error } : e
      ),
    );
    const user = this.#userFor(entry.to);
    user.messages = user.messages.map((m) =>
      m.clientId === entry.clientId && m.state !== "sent" ? { ...m, state: "failed", error } : m
    );
    this.#emit("error", { ...error, source: "private message" });
    this.#host.requestUpdate();
  }
}
