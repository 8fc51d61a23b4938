/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import type { ReactiveController, ReactiveControllerHost } from "lit";
import { io, type Socket } from "socket.io-client";
import {
  type ClientToServerEvents,
  type ErrorCode,
  type FailedAck,
  INVALID_USERNAME,
  LIMITS,
  type LoadMessagesAck,
  type Message,
  type MessagesReadAck,
  type MessagesReadNotice,
  type Preferences,
  type PreferencesAck,
  type SendMessageAck,
  type ServerToClientEvents,
  type SessionInfo,
  type UserEntry,
  type WireError,
} from "../server/protocol.ts";
import { ChatOutbox, type OutboxEntry, type StoredRecord } from "./chat-outbox.ts";
import {
  applyMessageUpdate,
  applyReceipts,
  applyUserChange,
  type ChatError,
  type ChatIdentity,
  type ChatMessage,
  type ChatUser,
  type ConnectionState,
  contentLimit,
  laterId,
  mergeMessages,
  mergeUsers,
  newestFrom,
  pendingMessage,
  sectionUsers,
  unknownUser,
  unreadTotal,
  userFromEntry,
  type UserSections,
} from "./chat-state.ts";

/** What the connection tells its host about, by event name: the element fires these as they are. */
export interface ChatConnectionEvents {
  /** Signed in: a new username or a restored session. */
  "chat-session": ChatIdentity;
  /** A message from someone else arrived. */
  "chat-message": { message: Message; user: ChatIdentity };
  /** The server stored one of this user's messages. */
  "chat-message-sent": { message: Message };
  /** A message was edited or deleted (by this user, in any tab, or by the other person). */
  "chat-message-updated": { message: Message };
  /** This user blocked or unblocked someone (here or in another tab). */
  "chat-block-change": { userID: string; blocked: boolean };
  /** The total unread count changed. */
  "chat-unread-change": { total: number };
  /** The connection state changed. */
  "chat-connection-change": { state: ConnectionState };
  /** The server refused something, or the host's `tokenProvider` failed; `source` names the request. */
  "chat-error": ChatError & { source: string };
  /** The user logged out; `deleted` when the account was deleted. */
  "chat-logout": { deleted: boolean };
}

/** Where to connect: the server URL, the localStorage key of the session, and the host's token. */
export interface ChatTarget {
  /** The chat server's URL. */
  server: string;
  /** The localStorage key of the session (the outbox is `<key>:outbox`). */
  storageKey: string;
  /** A token signed by the host site: connects as its user (host mode). */
  token?: string;
  /** Gives a token at every connect attempt (host mode); wins over `token`. */
  tokenProvider?: () => Promise<string>;
}

type ChatSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** How long to wait for the server to store a message before calling it failed. */
const ACK_TIMEOUT_MS = 15_000;
/** Consecutive failed connection attempts before the banner says the server cannot be reached. */
const UNREACHABLE_AFTER = 3;
/** Deliveries are reported this long after the first arrival, so a burst costs one event. */
const DELIVERED_DELAY_MS = 250;

function newClientId(): string {
  return globalThis.crypto?.randomUUID?.() ??
    `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}${
      Math.random().toString(36).slice(2)
    }`;
}

/** Fetches a token from the host, as a failure the widget reports when it cannot. */
function fetchToken(provider: () => Promise<string>): Promise<string> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return new Promise<string>((resolve, reject) => {
    // A provider that never settles must not leave the widget connecting forever.
    timer = setTimeout(reject, ACK_TIMEOUT_MS, new Error("no answer"));
    Promise.resolve().then(provider).then((token) => {
      if (typeof token === "string" && token) resolve(token);
      else reject(new TypeError("no token"));
    }, reject);
  }).catch((error) => {
    throw {
      code: "token_unavailable",
      message: `Cannot get a token from tokenProvider: ${error?.message ?? error}`,
    } satisfies ChatError;
  }).finally(() => clearTimeout(timer));
}

/** What a request that needs the server gets while there is no connection. */
function notConnected(): WireError {
  return { code: "internal", message: "Not connected to the chat server" };
}

function wireError(err: unknown, fallback: ErrorCode = "internal"): WireError {
  const e = err as { message?: string; data?: { code?: ErrorCode } };
  return { code: e?.data?.code ?? fallback, message: e?.message ?? String(err) };
}

/**
 * The chat's connection, as a controller of the element: one Socket.IO connection per
 * element, opened when the element is attached and closed when it is detached, with the
 * session and an outbox of unsent messages kept on the device (`ChatOutbox`). Holds the
 * state the element shows (built with `chat-state.ts`); owns no DOM; asks the host to
 * re-render on every change.
 */
export class ChatConnection implements ReactiveController {
  /** Connection state for the banner. */
  state: ConnectionState = "signed-out";
  /** The signed-in user, once the server has sent `session`. */
  identity?: ChatIdentity;
  /** Users by ID, in arrival order; `sortedUsers` gives display order. */
  users: Map<string, ChatUser> = new Map();
  /** Why the username form is shown again, or why a sign-in failed. */
  loginError?: WireError;
  /** True once this user deleted the account, until the next sign-in. */
  accountDeleted = false;
  /** Host mode: why the host's user could not be signed in. */
  hostError?: ChatError;
  /** True while a sign-in with a new username is in flight. */
  signingIn = false;
  /** The conversation whose messages count as read as they arrive. */
  activeUserID?: string;
  /** Longest message the server accepts: its `session` says, else the protocol's default. */
  maxContentLength: number = LIMITS.maxContentLength;
  /** Days an anonymous account with no signed-in device is kept (its `session` says); 0: kept. */
  accountTtlDays = 90;
  /** Seconds after sending in which a message may be edited or deleted (its `session` says); 0: never. */
  editWindowSeconds = 0;
  /** This user's choices, as the server keeps them. */
  preferences: Preferences = { readReceipts: true };

  #host: ReactiveControllerHost;
  #emit: <K extends keyof ChatConnectionEvents>(type: K, detail: ChatConnectionEvents[K]) => void;
  #target: () => ChatTarget;
  #socket?: ChatSocket;
  #server = "";
  #storageKey = "";
  #token?: string;
  #tokenProvider?: () => Promise<string>;
  // After `token_expired`, one more token is asked for; reset by every session.
  #refreshed = false;
  #outbox?: ChatOutbox;
  #outboxHosted = false;
  #attached = false;
  #failedAttempts = 0;
  #inflight = new Set<string>();
  #flushing = false;
  // The message `send()` is writing, while it calls `#flush()`.
  #fresh: string | undefined;
  #collator = new Intl.Collator(undefined, { sensitivity: "base", numeric: true });
  #lastTotal = 0;
  #connectedOnce = false;
  #visible: () => boolean;
  // When `typing` was last sent to each person, and the timers that clear theirs.
  #typingTimers = new Map<string, ReturnType<typeof setTimeout>>();
  // How far each conversation was reported delivered, and the conversations to report next.
  #delivered = new Map<string, string>();
  #deliveryDue = new Set<string>();
  #deliveryTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    host: ReactiveControllerHost,
    options: {
      /** Where to connect; read when the host is attached and before each of its updates. */
      target: () => ChatTarget;
      emit: <K extends keyof ChatConnectionEvents>(
        type: K,
        detail: ChatConnectionEvents[K],
      ) => void;
      /** Whether the open conversation is in front of the reader (its messages count as read). */
      isVisible?: () => boolean;
    },
  ) {
    this.#host = host;
    this.#target = options.target;
    this.#emit = options.emit;
    this.#visible = options.isVisible ?? (() => true);
    host.addController(this);
  }

  /** The element was attached: connect with the session stored for its target. */
  hostConnected(): void {
    this.#attached = true;
    globalThis.addEventListener?.("online", this.#onNetworkChange);
    globalThis.addEventListener?.("offline", this.#onNetworkChange);
    this.#connect(this.#target());
  }

  /** A new `server`, `storage-key`, `token` or `tokenProvider` while attached: connect with that instead. */
  hostUpdate(): void {
    if (!this.#attached) return;
    const target = this.#target();
    if (
      target.server !== this.#server || target.storageKey !== this.#storageKey ||
      target.token !== this.#token || target.tokenProvider !== this.#tokenProvider
    ) {
      this.#connect(target);
    }
  }

  /** Host mode: the host site's token identifies the user, and there is no username form. */
  get hostMode(): boolean {
    return !!(this.#tokenProvider || this.#token);
  }

  /** The element was detached: close the connection (attaching it again reconnects). */
  hostDisconnected(): void {
    this.#attached = false;
    globalThis.removeEventListener?.("online", this.#onNetworkChange);
    globalThis.removeEventListener?.("offline", this.#onNetworkChange);
    this.#outbox?.close();
    this.#closeSocket();
  }

  /** Signs in with a new username (the server validates it and says why it refuses). */
  signIn(username: string): void {
    this.loginError = undefined;
    this.accountDeleted = false;
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
    this.#signOut(false);
    return ended;
  }

  /**
   * Deletes this (anonymous) account on the server; once it has, forgets the session here
   * and returns to the username form with a notice, without reconnecting. Resolves with the
   * refusal when it did not.
   */
  deleteAccount(): Promise<WireError | undefined> {
    const socket = this.#socket;
    if (!socket?.connected) return Promise.resolve(notConnected());
    return new Promise((resolve) => {
      // A callback, not emitWithAck: it runs as the ack is read, before the server's
      // disconnect that follows it, which must not reconnect.
      const done = (err: Error | null, ack?: { ok: true } | FailedAck) => {
        if (ack?.ok) {
          if (socket === this.#socket) this.#signOut(true);
          resolve(undefined);
        } else {
          resolve(ack?.error ?? { code: "internal", message: err?.message ?? "No answer" });
        }
      };
      // The event's ack is optional in the map, so its types miss the timeout's error argument.
      socket.timeout(ACK_TIMEOUT_MS).emit("delete account", {}, done as never);
    });
  }

  /** The people list's sections: conversations, the most recent first, then everyone else. */
  get sections(): UserSections {
    return sectionUsers(this.users.values(), this.#collator);
  }

  /** Users in display order: the sections one after the other. */
  get sortedUsers(): ChatUser[] {
    const { conversations, people } = this.sections;
    return [...conversations, ...people];
  }

  /** Adds someone to the list (a person found by a search), unless listed already. */
  addUser(user: ChatUser): void {
    if (this.users.has(user.userID)) return;
    this.users.set(user.userID, user);
    this.#host.requestUpdate();
  }

  /** Unread messages over all conversations. */
  get totalUnread(): number {
    return unreadTotal(this.users.values());
  }

  /** The server URL in use. */
  get server(): string {
    return this.#server;
  }

  /** Sends a message now if connected, else queues it; either way it shows at once as pending. */
  send(to: string, content: string): ChatMessage | undefined {
    if (
      !this.identity || !content.trim() || content.length > this.maxContentLength ||
      this.users.get(to)?.blocked
    ) {
      return undefined;
    }
    const entry: OutboxEntry = {
      clientId: newClientId(),
      to,
      content,
      timestamp: Date.now(),
      state: "pending",
    };
    this.#updateOutbox((entries) => [...entries, entry]);
    const message = this.#addPending(entry);
    this.#fresh = entry.clientId;
    this.#flush();
    this.#fresh = undefined;
    this.#host.requestUpdate();
    return message;
  }

  /** Sends a failed message again with the same `clientId`, so the server never stores it twice. */
  retry(clientId: string): void {
    this.#updateOutbox((entries) =>
      entries.map((e) => e.clientId === clientId ? { ...e, state: "pending", error: undefined } : e)
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
    this.#updateOutbox((entries) => entries.filter((e) => e.clientId !== clientId));
    for (const user of this.users.values()) {
      user.messages = user.messages.filter((m) => !(m.clientId === clientId && m.state !== "sent"));
    }
    this.#host.requestUpdate();
  }

  /**
   * The conversation with `userID` asked for an older page (`loadingOlder` set), and this is
   * the answer: merged in, or (failed) nothing but the flag cleared.
   */
  olderLoaded(userID: string, ack: LoadMessagesAck | FailedAck): void {
    // A rename or a deletion meanwhile put a copy of the user in the map.
    const current = this.users.get(userID);
    if (current) current.loadingOlder = false;
    if (ack.ok && current) {
      current.messages = mergeMessages(current.messages, ack.messages);
      current.hasMore = ack.hasMore;
      this.#noteDelivered(userID);
    }
    this.#host.requestUpdate();
  }

  /**
   * Marks the conversation with `userID` as read up to its newest stored message, if it is in
   * front of the reader (open, and the page visible).
   */
  markRead(userID: string): void {
    const user = this.users.get(userID);
    if (!user || user.unread === 0 || !this.#isReading(userID)) return;
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

  /** Tells `to` that this user is typing to them (the conversation spaces these out). */
  typing(to: string): void {
    if (this.#socket?.connected) this.#socket.emit("typing", { to });
  }

  /** Blocks or unblocks `userID`; resolves with the refusal, if any. */
  async setBlocked(userID: string, blocked: boolean): Promise<WireError | undefined> {
    const ack = await this.request<{ ok: true }>(blocked ? "block user" : "unblock user", {
      userID,
    });
    if (!ack.ok) return ack.error;
    this.#onBlocked(userID, blocked);
  }

  /** Turns read receipts on or off (at once here; back if the server refuses). */
  async setReadReceipts(readReceipts: boolean): Promise<WireError | undefined> {
    if (!this.#socket?.connected) return notConnected();
    const before = this.preferences;
    this.preferences = { ...before, readReceipts };
    this.#host.requestUpdate();
    const ack = await this.request<PreferencesAck>("preferences", { readReceipts });
    if (ack.ok) this.#onPreferences(ack.preferences);
    else this.preferences = before;
    this.#host.requestUpdate();
    return ack.ok ? undefined : ack.error;
  }

  /** Tries to connect again right away (for a "retry now" control and when the browser comes back online). */
  reconnectNow(): void {
    const socket = this.#socket;
    if (socket && !socket.connected) {
      socket.disconnect();
      socket.connect();
    } else if (!socket && this.hostMode && this.#attached) {
      this.#open({});
    }
  }

  /** Forgets the session and the outbox on this device and shows the form (or, in host mode, says why not signed in). */
  #signOut(deleted: boolean): void {
    this.#closeSocket();
    this.#outbox?.clear();
    const hadSession = !!this.identity;
    this.identity = undefined;
    this.users = new Map();
    this.activeUserID = undefined;
    this.loginError = undefined;
    this.hostError = undefined;
    this.accountDeleted = deleted;
    this.#setState("signed-out");
    this.#updateTotal();
    if (hadSession) this.#emit("chat-logout", { deleted });
  }

  /** Changes this user's outbox; nothing is queued without a signed-in user. */
  #updateOutbox(change: (entries: readonly OutboxEntry[]) => OutboxEntry[]): void {
    const me = this.identity?.userID;
    if (me) this.#outbox?.update(me, change);
  }

  /** This user's unsent messages, oldest first. */
  #unsent(): readonly OutboxEntry[] {
    return this.#outbox?.entries(this.identity?.userID) ?? [];
  }

  /**
   * Connects to `target` with the session stored there, if any: a fresh state, a fresh
   * socket. Called on attach, on a new target, and when another tab changed the session.
   */
  #connect(target: ChatTarget): void {
    this.#closeSocket();
    this.#token = target.token;
    this.#tokenProvider = target.tokenProvider;
    const hosted = this.hostMode;
    if (target.storageKey !== this.#storageKey || !this.#outbox || hosted !== this.#outboxHosted) {
      this.#outbox?.close();
      // Host mode keeps nothing on the device: the next page asks the host for a token again.
      this.#outbox = new ChatOutbox(
        target.storageKey,
        hosted ? { storage: undefined } : { onChange: this.#onStored },
      );
      this.#outboxHosted = hosted;
    }
    this.#server = target.server;
    this.#storageKey = target.storageKey;
    this.#outbox.open();
    this.users = new Map();
    this.identity = undefined;
    this.activeUserID = undefined;
    this.hostError = undefined;
    const stored = this.#outbox.session;
    this.maxContentLength = contentLimit(stored);
    if (hosted) {
      this.#open({});
    } else if (stored?.sessionID) {
      this.identity = { userID: stored.userID, username: stored.username };
      this.#open({ sessionID: stored.sessionID });
    } else {
      this.#setState("signed-out");
    }
    this.#host.requestUpdate();
  }

  #setState(state: ConnectionState): void {
    if (this.state === state) return;
    this.state = state;
    // Update first, so a listener that awaits the host's next render sees this state.
    this.#host.requestUpdate();
    this.#emit("chat-connection-change", { state });
  }

  #updateTotal(): void {
    const total = this.totalUnread;
    if (total === this.#lastTotal) return;
    this.#lastTotal = total;
    this.#emit("chat-unread-change", { total });
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
  #onStored = (record: StoredRecord): void => {
    if (record !== "session" || !this.#attached) return;
    const stored = this.#outbox?.session;
    if (
      stored?.sessionID === (this.#socket?.auth as { sessionID?: string } | undefined)?.sessionID
    ) return;
    this.#connect({ server: this.#server, storageKey: this.#storageKey });
  };

  #closeSocket(): void {
    const socket = this.#socket;
    this.#socket = undefined;
    this.#inflight.clear();
    this.#flushing = false;
    for (const timer of this.#typingTimers.values()) clearTimeout(timer);
    this.#typingTimers.clear();
    clearTimeout(this.#deliveryTimer);
    this.#deliveryTimer = undefined;
    this.#deliveryDue.clear();
    this.#delivered.clear();
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
    this.#refreshed = false;
    this.hostError = undefined;
    this.#setState("connecting");
    const token = this.#token;
    const tokens = this.#tokenProvider ?? (token ? () => Promise.resolve(token) : undefined);
    // forceNew: two widgets on one page must not share a connection (they are different users).
    const socket: ChatSocket = io(this.#server, {
      // One `presence` event per burst of arrivals, so a crowd arriving renders once. In host
      // mode a function, so every connect attempt (each reconnect too) asks for a fresh token.
      auth: tokens
        ? (send) =>
          void fetchToken(tokens).then(
            (token) => socket === this.#socket && send({ token, batchPresence: true }),
            (error: ChatError) => socket === this.#socket && this.#authFailed(error),
          )
        : { ...auth, batchPresence: true },
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
        } else {
          this.#onUserDisconnected(
            c.userID,
            typeof c.lastSeen === "number" ? c.lastSeen : undefined,
          );
        }
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
    socket.on("typing", (notice) => {
      const user = this.users.get(notice?.from);
      if (user && !user.self && !user.blocked && !user.deleted) this.#setTyping(user.userID, true);
    });
    socket.on("receipts", (notice) => {
      const user = this.users.get(notice?.by);
      if (!user) return;
      this.users.set(user.userID, applyReceipts(user, notice));
      this.#host.requestUpdate();
    });
    socket.on("message updated", (update) => this.#onMessageUpdated(update?.message));
    socket.on("user blocked", (notice) => {
      if (typeof notice?.userID === "string" && typeof notice.blocked === "boolean") {
        this.#onBlocked(notice.userID, notice.blocked);
      }
    });
    socket.on("preferences", (preferences) => {
      this.#onPreferences(preferences);
      this.#host.requestUpdate();
    });
    socket.on("user updated", (update) => {
      if (typeof update?.userID !== "string" || typeof update.username !== "string") return;
      this.users = applyUserChange(this.users, update);
      if (this.identity?.userID === update.userID) {
        this.identity = { ...this.identity, username: update.username };
      }
      this.#host.requestUpdate();
    });
    socket.on("user deleted", (userID) => {
      // Your own account: the server disconnects every socket of it next.
      if (typeof userID !== "string" || userID === this.identity?.userID) return;
      this.users = applyUserChange(this.users, userID);
      this.#updateTotal();
      this.#host.requestUpdate();
    });
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
      if (error.code === "token_expired" && this.#tokenProvider && !this.#refreshed) {
        // The provider may have handed out a token it had cached: ask once more, then stop.
        this.#refreshed = true;
        socket.connect();
        return;
      }
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
      if (this.hostMode) return this.#authFailed(error);
      this.#closeSocket();
      this.signingIn = false;
      if (stale) {
        this.#outbox?.clear();
        this.identity = undefined;
        this.users = new Map();
        this.#updateTotal();
      }
      this.loginError = stale && wasSignedIn ? { code: "invalid_session", message: "" } : error;
      this.#setState("signed-out");
      this.#emit("chat-error", { ...error, source: "connect" });
      return;
    }
    this.#failedAttempts++;
    if ((globalThis.navigator as { onLine?: boolean } | undefined)?.onLine === false) {
      this.#setState("offline");
    } else if (this.#failedAttempts >= UNREACHABLE_AFTER) this.#setState("unreachable");
    else this.#setState(this.#connectedOnce ? "reconnecting" : "connecting");
  }

  /** Host mode: the host's user cannot be signed in; nothing is tried again until asked. */
  #authFailed(error: ChatError): void {
    this.#closeSocket();
    this.identity = undefined;
    this.users = new Map();
    this.activeUserID = undefined;
    this.hostError = error;
    this.#setState("signed-out");
    this.#updateTotal();
    this.#emit("chat-error", { ...error, source: "connect" });
  }

  #onSession(socket: ChatSocket, session: SessionInfo): void {
    const changed = this.identity?.userID !== session.userID;
    this.#refreshed = false;
    if (!this.hostMode) {
      socket.auth = { sessionID: session.sessionID, batchPresence: true };
      this.#outbox?.saveSession(session);
    }
    this.identity = { userID: session.userID, username: session.username };
    this.maxContentLength = contentLimit(session);
    if (typeof session.accountTtlDays === "number") this.accountTtlDays = session.accountTtlDays;
    const editWindow = session.editWindowSeconds;
    this.editWindowSeconds = typeof editWindow === "number" && editWindow > 0 ? editWindow : 0;
    this.preferences = { readReceipts: true };
    this.#onPreferences(session.preferences);
    this.signingIn = false;
    this.loginError = undefined;
    if (changed || !this.#connectedOnce) this.#emit("chat-session", { ...this.identity });
  }

  #onUserConnected(entry: UserEntry): void {
    const existing = this.users.get(entry.userID);
    if (existing) {
      existing.connected = true;
      existing.username = entry.username;
    } else {
      this.users.set(entry.userID, userFromEntry(entry, this.identity?.userID));
    }
  }

  /** `userID` went offline: at `lastSeen`, or (a server that does not say) now. */
  #onUserDisconnected(userID: string, lastSeen = Date.now()): void {
    const user = this.users.get(userID);
    if (!user || user.self) return;
    user.connected = false;
    user.lastSeen = lastSeen;
    this.#setTyping(userID, false);
  }

  #onUsers(entries: UserEntry[]): void {
    this.users = mergeUsers(this.users, entries, this.identity?.userID);
    for (const timer of this.#typingTimers.values()) clearTimeout(timer);
    this.#typingTimers.clear();
    for (const user of this.users.values()) {
      // Unread messages may have arrived while no device of this user was online; the rest
      // were reported by the device that received them.
      if (user.unread > 0) this.#noteDelivered(user.userID);
      else {
        const newest = newestFrom(user)?.id;
        if (newest) {
          this.#delivered.set(user.userID, laterId(this.#delivered.get(user.userID), newest)!);
        }
      }
    }
    for (const entry of this.#unsent()) this.#addPending(entry);
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
      user = unknownUser(userID, this.identity?.userID);
      this.users.set(userID, user);
    }
    return user;
  }

  #addPending(entry: OutboxEntry): ChatMessage {
    const user = this.#userFor(entry.to);
    const existing = user.messages.find((m) => m.clientId === entry.clientId);
    if (existing) return existing;
    const message = pendingMessage(entry, this.identity!.userID);
    user.messages = [...user.messages, message];
    return message;
  }

  #onMessage(message: Message): void {
    const me = this.identity?.userID;
    if (!me) return;
    const peerID = message.from === me ? message.to : message.from;
    const user = this.#userFor(peerID);
    if (user.messages.some((m) => m.id === message.id)) return;
    user.messages = mergeMessages(user.messages, [message]);
    if (message.from !== me) {
      this.#setTyping(peerID, false);
      this.#noteDelivered(peerID);
      if (this.#isReading(peerID)) {
        user.unread = 1;
        this.markRead(peerID);
      } else {
        user.unread++;
        this.#updateTotal();
      }
      this.#emit("chat-message", {
        message,
        user: { userID: user.userID, username: user.username },
      });
    }
    this.#host.requestUpdate();
  }

  /** Shows or clears `userID`'s typing indicator; shown, it clears itself after `LIMITS.typingTimeoutMs`. */
  #setTyping(userID: string, typing: boolean): void {
    clearTimeout(this.#typingTimers.get(userID));
    this.#typingTimers.delete(userID);
    const user = this.users.get(userID);
    if (!user) return;
    if (typing) {
      this.#typingTimers.set(
        userID,
        setTimeout(() => this.#setTyping(userID, false), LIMITS.typingTimeoutMs),
      );
    }
    if (user.typing !== typing) {
      user.typing = typing;
      this.#host.requestUpdate();
    }
  }

  /** Reports, shortly, that this device has received `userID`'s messages up to the newest held. */
  #noteDelivered(userID: string): void {
    this.#deliveryDue.add(userID);
    this.#deliveryTimer ??= setTimeout(() => {
      this.#deliveryTimer = undefined;
      const socket = this.#socket;
      for (const id of this.#deliveryDue) {
        const user = this.users.get(id);
        const upTo = user && !user.self && !user.deleted ? newestFrom(user)?.id : undefined;
        const reported = this.#delivered.get(id);
        if (!upTo || !socket?.connected || (reported !== undefined && upTo <= reported)) continue;
        this.#delivered.set(id, upTo);
        socket.emit("messages delivered", { with: id, upTo });
      }
      this.#deliveryDue.clear();
    }, DELIVERED_DELAY_MS);
  }

  #onMessageUpdated(message: Message | undefined): void {
    const me = this.identity?.userID;
    if (!me || typeof message?.id !== "string") return;
    // The ack of one's own change and its `message updated` carry the same copy: news once.
    const held = this.users.get(message.from === me ? message.to : message.from)?.messages
      .find((m) => m.id === message.id);
    if (
      held && held.content === message.content && held.editedAt === message.editedAt &&
      !!held.deleted === !!message.deleted
    ) return;
    this.users = applyMessageUpdate(this.users, message, me);
    this.#emit("chat-message-updated", { message });
    this.#host.requestUpdate();
  }

  #onBlocked(userID: string, blocked: boolean): void {
    const user = this.users.get(userID);
    if (!user || user.blocked === blocked) return;
    user.blocked = blocked;
    if (blocked) this.#setTyping(userID, false);
    this.#emit("chat-block-change", { userID, blocked });
    this.#host.requestUpdate();
  }

  #onPreferences(preferences: Preferences | undefined): void {
    if (typeof preferences?.readReceipts === "boolean") {
      this.preferences = { readReceipts: preferences.readReceipts };
    }
  }

  /** Sends an edit or a deletion and applies the server's copy; resolves with the refusal, if any. */
  /**
   * Sends `event` and waits for its ack, reporting a refusal as `chat-error`; without a
   * connection, or without an answer in time, resolves with a failure of its own.
   */
  async request<A extends { ok: boolean }>(
    event: string,
    payload: unknown,
  ): Promise<A | FailedAck> {
    const socket = this.#socket;
    if (!socket?.connected) return { ok: false, error: notConnected() };
    try {
      // One path for every request with an ack: the event map types each call site's payload.
      const ack = await (socket.timeout(ACK_TIMEOUT_MS) as unknown as {
        emitWithAck(event: string, payload: unknown): Promise<A | FailedAck>;
      }).emitWithAck(event, payload);
      if (!ack.ok) this.#emit("chat-error", { ...(ack as FailedAck).error, source: event });
      return ack;
    } catch (error) {
      return { ok: false, error: { code: "internal", message: (error as Error).message } };
    }
  }

  /**
   * Sends the outbox one message at a time, each after the previous one's ack:
   * concurrent emits may be stored in a different order than they were written.
   */
  #flush(): void {
    const socket = this.#socket;
    if (this.#flushing || !socket?.connected || this.state !== "connected") return;
    const entry = this.#unsent().find((e) =>
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
    this.#updateOutbox((entries) => entries.filter((e) => e.clientId !== entry.clientId));
    const user = this.#userFor(entry.to);
    user.messages = mergeMessages(user.messages, [{ ...message, clientId: entry.clientId }]);
    this.#emit("chat-message-sent", { message });
    this.#host.requestUpdate();
  }

  #fail(entry: OutboxEntry, error: WireError): void {
    this.#updateOutbox((entries) =>
      entries.map((e) => e.clientId === entry.clientId ? { ...e, state: "failed", error } : e)
    );
    const user = this.#userFor(entry.to);
    user.messages = user.messages.map((m) =>
      m.clientId === entry.clientId && m.state !== "sent" ? { ...m, state: "failed", error } : m
    );
    if (error.code === "recipient_deleted") this.users = applyUserChange(this.users, entry.to);
    this.#emit("chat-error", { ...error, source: "private message" });
    this.#host.requestUpdate();
  }
}
