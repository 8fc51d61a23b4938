/**
 * The wire contract between the chat server and its clients: Socket.IO v4,
 * namespace "/". The guide's events are kept byte for byte; extensions only add
 * fields and events, so a client that ignores unknown fields keeps working.
 *
 * The widget imports this module for types and constants only.
 */

/** Default and hard limits shared by the server and the widget. */
export const LIMITS = {
  /** Longest message content, in UTF-16 code units (what `String#length` counts). */
  maxContentLength: 10_000,
  /** Longest username, in Unicode code points after trimming and normalisation. */
  maxUsernameLength: 32,
  /** Default number of messages a `load messages` page returns. */
  defaultPageSize: 50,
  /** Largest `limit` a `load messages` request may ask for. */
  maxPageSize: 200,
  /** Longest `clientId` accepted, in characters. */
  maxClientIdLength: 64,
  /** Default and largest page of `search users`. */
  defaultSearchLimit: 20,
  maxSearchLimit: 50,
  /** The widget sends `typing` at most this often while someone types (ms). */
  typingIntervalMs: 2000,
  /** A typing indicator clears after this long without another `typing` (ms). */
  typingTimeoutMs: 5000,
} as const;

/** Error codes carried by `{ ok: false, error }` acks and by connect errors. */
export type ErrorCode =
  | "invalid_payload"
  | "content_empty"
  | "content_too_long"
  | "unknown_recipient"
  | "rate_limited"
  | "internal"
  | "invalid_username"
  | "username_taken"
  | "invalid_session"
  | "invalid_token"
  | "token_expired"
  | "auth_required"
  | "recipient_deleted"
  | "not_allowed"
  | "forbidden"
  | "blocked"
  | "unknown_message"
  | "origin_not_allowed";

/** The error half of an ack. `message` is meant for people, `code` for programs. */
export interface WireError {
  code: ErrorCode;
  message: string;
}

/** A failed request. */
export interface FailedAck {
  ok: false;
  error: WireError;
}

/** One private message, as stored and as relayed. */
export interface Message {
  /** Time-sortable, unique: ordering by `id` is ordering by send time. */
  id: string;
  from: string;
  to: string;
  content: string;
  /** Milliseconds since the epoch, assigned by the server. */
  timestamp: number;
  /** The sender's idempotency key, when it sent one. */
  clientId?: string;
  /**
   * A tombstone: the message was deleted (by its sender, or with the sender's
   * account), and `content` is "". It keeps its place in the conversation.
   */
  deleted?: true;
  /** When its sender last edited it (ms since the epoch). */
  editedAt?: number;
}

/**
 * The form names are searched by (`search users`): case- and width-folded (NFKC, lower case),
 * so "ali", "ALI" and "ａｌｉ" find "Alice". A query is folded the same way and
 * matches a name that begins with it.
 */
export function searchFold(text: string): string {
  return text.normalize("NFKC").toLowerCase().normalize("NFKC");
}

/** One entry of the `users` event (the guide's shape plus extensions). */
export interface UserEntry {
  userID: string;
  username: string;
  connected: boolean;
  /** The latest page of the conversation with this user, oldest first. */
  messages: Message[];
  /** True when older messages exist than those in `messages` (page with `load messages`). */
  hasMore?: boolean;
  /** Messages from this user that the receiving user has not read yet. */
  unread?: number;
  /** Set on the entry of the receiving user itself. */
  self?: boolean;
  /** The user deleted the account: `username` is "Deleted user", and nothing can be sent to it. */
  deleted?: true;
  /** When an offline user was last online (ms); absent for one never seen or online now. */
  lastSeen?: number;
  /** How far this user has received the receiving user's messages (a message id). */
  deliveredUpTo?: string;
  /**
   * How far this user has read the receiving user's messages; absent when either
   * of them has read receipts off.
   */
  seenUpTo?: string;
  /** The receiving user blocked this user. */
  blocked?: true;
}

/** `session`: sent first after a successful connect. */
export interface SessionInfo {
  sessionID: string;
  userID: string;
  username: string;
  /** The server's limit on message content (`MAX_CONTENT_LENGTH`), for the client's counter. */
  maxContentLength?: number;
  /**
   * How the user is known: `"anonymous"` (a self-chosen username and this
   * `sessionID`), or `"host"` (signed in by the host site's token; `sessionID`
   * is "" and there is nothing to keep: the next connect needs a token again).
   */
  identity?: "anonymous" | "host";
  /**
   * Anonymous users: days an account with no signed-in device is kept before
   * it is deleted and its name comes free (`ACCOUNT_TTL_DAYS`); 0 keeps it.
   */
  accountTtlDays?: number;
  /** How long after sending a message its sender may edit or delete it (s); 0: never. */
  editWindowSeconds?: number;
  /** The user's preferences, as `preferences` last set them. */
  preferences?: Preferences;
}

/** What a user chose; `preferences` changes them. */
export interface Preferences {
  /** Send and see seen receipts (delivered receipts always flow). Default true. */
  readReceipts: boolean;
}

/**
 * Handshake `auth` payload: a stored session, or a username for a new one, or,
 * when the server verifies host-issued tokens, a token.
 */
export interface HandshakeAuth {
  sessionID?: string;
  username?: string;
  /** A JWT signed by the host site: `sub` (its user id), `name` (display name), `exp`. */
  token?: string;
  /**
   * True: hear presence as `presence` events, one per burst, instead of one
   * `user connected` / `user disconnected` event per user.
   */
  batchPresence?: boolean;
}

/** One change of a `presence` event: a user arrived (with its name) or left. */
export type PresenceChange =
  | { userID: string; username: string; connected: true }
  | { userID: string; connected: false; lastSeen?: number };

/** `typing` from a client: the sender is typing to `to`. Never stored; no ack. */
export interface TypingRequest {
  to: string;
}

/** `typing` to the recipient's sockets. */
export interface TypingNotice {
  from: string;
}

/** `messages delivered`: this device has received the conversation with `with` up to `upTo`. */
export interface MessagesDeliveredRequest {
  with: string;
  upTo: string;
}

/**
 * `receipts` to a sender's sockets: `by` has received (`delivered`) or read
 * (`seen`) the sender's messages up to these message ids.
 */
export interface ReceiptsNotice {
  by: string;
  delivered?: string;
  seen?: string;
}

/** `edit message`: new content for one's own message `id` (in the conversation with `with`, if given). */
export interface EditMessageRequest {
  id: string;
  content: string;
  /** The other user of the conversation: spares the server looking for the message. */
  with?: string;
}

/** `delete message`: one's own message `id` becomes a tombstone. */
export interface DeleteMessageRequest {
  id: string;
  with?: string;
}

/** Ack of `edit message` and `delete message`: the message as stored now. */
export type MessageChangeAck = { ok: true; message: Message } | FailedAck;

/** `message updated` to both participants' sockets: an edit (`editedAt`) or a deletion (`deleted`). */
export interface MessageUpdate {
  message: Message;
}

/** `search users`: people whose name begins with `query` (folded as names are), a page at a time. */
export interface SearchUsersRequest {
  query: string;
  /** 1 to `LIMITS.maxSearchLimit`; `LIMITS.defaultSearchLimit` when absent. */
  limit?: number;
  /** The `next` of the page before. */
  after?: string;
}

/**
 * Ack of `search users`: entries in name order (their `messages` empty; the
 * caller excluded; deleted accounts never found), and `next` when there are more.
 */
export type SearchUsersAck = { ok: true; users: UserEntry[]; next?: string } | FailedAck;

/** `block user` / `unblock user`. */
export interface BlockRequest {
  userID: string;
}

/** `user blocked` to the blocker's other sockets, so every tab agrees. */
export interface BlockNotice {
  userID: string;
  blocked: boolean;
}

/** `preferences`: the fields to change; absent ones stay. */
export type PreferencesRequest = Partial<Preferences>;

/** Ack of `preferences`, and the push to the user's other sockets: all of them, as stored. */
export type PreferencesAck = { ok: true; preferences: Preferences } | FailedAck;

/** `private message` from a client. */
export interface SendMessageRequest {
  content: string;
  to: string;
  /** Idempotency key: a retry with the same key returns the stored message. */
  clientId?: string;
  /**
   * `false` promises that this is the first send of `clientId` anywhere, so the
   * server stores it without looking the key up first. Omitted or `true`: the
   * server returns the message an earlier send stored under the key, if any.
   */
  retry?: boolean;
}

/** Ack of `private message`: sent only once the message is durably stored. */
export type SendMessageAck = { ok: true; message: Message } | FailedAck;

/** `load messages`: a page of one conversation, older than `before`. */
export interface LoadMessagesRequest {
  /** The other user of the conversation. */
  with: string;
  /** A message id: only messages strictly older are returned. */
  before?: string;
  /** Page size, 1 to `LIMITS.maxPageSize`; `LIMITS.defaultPageSize` when absent. */
  limit?: number;
}

/** Ack of `load messages`: oldest first. */
export type LoadMessagesAck =
  | { ok: true; messages: Message[]; hasMore: boolean }
  | FailedAck;

/** `messages read`: the caller has read the conversation up to and including `upTo`. */
export interface MessagesReadRequest {
  with: string;
  upTo: string;
}

/** Ack of `messages read`: how many messages from that user remain unread. */
export type MessagesReadAck = { ok: true; unread: number } | FailedAck;

/** `messages read` pushed to a user's other sockets so every tab agrees on unread counts. */
export interface MessagesReadNotice {
  with: string;
  upTo: string;
  unread: number;
}

/** `user updated`: a user's display name changed (a host-issued token carried a new `name`). */
export interface UserUpdate {
  userID: string;
  username: string;
}

/** The display name of a deleted user's entry in `users` (the widget shows its own words). */
export const DELETED_USERNAME = "Deleted user";

/** Events the server emits. */
export interface ServerToClientEvents {
  session: (session: SessionInfo) => void;
  users: (users: UserEntry[]) => void;
  "user connected": (user: UserEntry) => void;
  "user disconnected": (userID: string) => void;
  /** For sockets that asked with `batchPresence`: a burst of changes, in order. */
  presence: (changes: PresenceChange[]) => void;
  "private message": (message: Message) => void;
  "messages read": (notice: MessagesReadNotice) => void;
  "user updated": (update: UserUpdate) => void;
  /**
   * The user deleted the account: show it as deleted, its messages as tombstones,
   * and send it nothing more.
   */
  "user deleted": (userID: string) => void;
  typing: (notice: TypingNotice) => void;
  receipts: (notice: ReceiptsNotice) => void;
  "message updated": (update: MessageUpdate) => void;
  "user blocked": (notice: BlockNotice) => void;
  preferences: (preferences: Preferences) => void;
}

/** Events the server accepts. Every ack is optional: the guide's client sends none. */
export interface ClientToServerEvents {
  "private message": (
    request: SendMessageRequest,
    ack?: (response: SendMessageAck) => void,
  ) => void;
  "load messages": (
    request: LoadMessagesRequest,
    ack: (response: LoadMessagesAck) => void,
  ) => void;
  "messages read": (
    request: MessagesReadRequest,
    ack?: (response: MessagesReadAck) => void,
  ) => void;
  /** Ends the session for good: every socket of the session is disconnected. */
  logout: (ack?: (response: { ok: true } | FailedAck) => void) => void;
  /**
   * Deletes the caller's anonymous account: every session ends, the name is free
   * again, every message the user wrote becomes a tombstone, and every socket of
   * the user, on every node, is disconnected. Refused with `not_allowed` for a
   * user signed in by the host site.
   */
  "delete account": (
    request: Record<string, never>,
    ack?: (response: { ok: true } | FailedAck) => void,
  ) => void;
  /** Rate-limited like every event; a refused or invalid one is dropped silently. */
  typing: (request: TypingRequest) => void;
  "messages delivered": (
    request: MessagesDeliveredRequest,
    ack?: (response: { ok: true } | FailedAck) => void,
  ) => void;
  "edit message": (request: EditMessageRequest, ack?: (response: MessageChangeAck) => void) => void;
  "delete message": (
    request: DeleteMessageRequest,
    ack?: (response: MessageChangeAck) => void,
  ) => void;
  /** The blocked user's messages, typing and receipts no longer reach the caller. */
  "block user": (request: BlockRequest, ack?: (response: { ok: true } | FailedAck) => void) => void;
  "unblock user": (
    request: BlockRequest,
    ack?: (response: { ok: true } | FailedAck) => void,
  ) => void;
  preferences: (request: PreferencesRequest, ack?: (response: PreferencesAck) => void) => void;
  "search users": (request: SearchUsersRequest, ack: (response: SearchUsersAck) => void) => void;
}

/**
 * `connect_error` from the auth middleware: `err.message` is meant for people,
 * `err.data.code` for programs. No auth at all, or an unknown session without a
 * username, gives the guide's message "invalid username" (its client then shows
 * the username form again); a refused name gives a message that says why, such as
 * `Username "bob" is already taken`. When the server verifies host-issued tokens,
 * anything but a good token is refused: `auth_required` (no token offered),
 * `invalid_token` (malformed, bad signature, wrong audience or issuer, bad
 * claims) or `token_expired`; the message says what is wrong, never the token.
 */
export interface ConnectErrorData {
  code: ErrorCode;
}

/** The guide's connect-error message when no usable identity was offered. */
export const INVALID_USERNAME = "invalid username";
