/**
 * The chat's state as plain data and pure functions: messages merged by ID, people in display
 * order, unread totals, users built from the server's `users` entries, receipts, edits and
 * deletions. No DOM, no socket, no storage: the connection calls these and keeps what they
 * return.
 */
import {
  type ErrorCode,
  LIMITS,
  type Message,
  type ReceiptsNotice,
  searchFold,
  type SessionInfo,
  type UserEntry,
  type UserUpdate,
  type WireError,
} from "../server/protocol.ts";
import type { OutboxEntry } from "./chat-outbox.ts";

/** Where the connection stands, as shown in the banner and fired in `chat-connection-change`. */
export type ConnectionState =
  | "signed-out"
  | "connecting"
  | "connected"
  | "reconnecting"
  | "offline"
  | "unreachable";

/** What the widget reports in `chat-error`: the server's codes, and `token_unavailable` (the host's `tokenProvider` failed). */
export type ChatErrorCode = ErrorCode | "token_unavailable";

/** A refusal or failure as the widget reports it: `message` for people, `code` for programs. */
export interface ChatError {
  code: ChatErrorCode;
  message: string;
}

/** Delivery state of one of your own messages. */
export type DeliveryState = "pending" | "sent" | "failed";

/**
 * How far one of your own messages has got: not stored yet (`pending`, `failed`), stored
 * (`sent`), on the other person's device (`delivered`), read by them (`seen`).
 */
export type Receipt = DeliveryState | "delivered" | "seen";

/** A message as the widget holds it: stored ones, plus your own not yet acknowledged. */
export interface ChatMessage extends Message {
  /** `sent` for every stored message; `pending`/`failed` only for your own unacknowledged ones. */
  state: DeliveryState;
  /** Why a failed message failed. */
  error?: WireError;
}

/** One person in the user list and the conversation with them. */
export interface ChatUser {
  /** The server's ID of this person. */
  userID: string;
  /** The name they picked. */
  username: string;
  /** Whether they have a connection open now. */
  connected: boolean;
  /** True for the signed-in user's own entry. */
  self: boolean;
  /** Oldest first. */
  messages: ChatMessage[];
  /** True when older messages exist on the server than those held. */
  hasMore: boolean;
  /** Messages from them not read yet. */
  unread: number;
  /** True while an older page is being fetched. */
  loadingOlder: boolean;
  /** They deleted the account: their messages are tombstones and nothing can be sent to them. */
  deleted: boolean;
  /** When they were last online (ms), for someone offline; undefined when never seen. */
  lastSeen?: number;
  /** How far they have received your messages (a message ID). */
  deliveredUpTo?: string;
  /** How far they have read your messages (a message ID); undefined when receipts are off. */
  seenUpTo?: string;
  /** You blocked them: nothing from them reaches you, and you cannot write to them. */
  blocked: boolean;
  /** They are typing to you now. */
  typing: boolean;
  /** The server listed them as a conversation partner, with or without messages held here. */
  partner: boolean;
}

/** The signed-in identity, without the session credential. */
export interface ChatIdentity {
  /** The server's ID of the signed-in user. */
  userID: string;
  /** Their username. */
  username: string;
}

/** Orders by message ID, which the server makes time-sortable. */
export function byId(a: { id: string }, b: { id: string }): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Stored messages merged by ID, in ID order; local unsent ones stay after them in the order they were written. */
export function mergeMessages(current: ChatMessage[], incoming: Message[]): ChatMessage[] {
  const stored = new Map<string, ChatMessage>();
  const settled = new Set<string>();
  for (const m of current) if (m.state === "sent") stored.set(m.id, m);
  for (const m of incoming) {
    stored.set(m.id, { ...m, state: "sent" });
    if (m.clientId) settled.add(m.clientId);
  }
  // A local message whose clientId the server now echoes is the stored one: drop the copy.
  const local = current.filter((m) =>
    m.state !== "sent" && !(m.clientId && settled.has(m.clientId))
  );
  return [...[...stored.values()].sort(byId), ...local];
}

/** The people list's two sections, each in display order. */
export interface UserSections {
  /** People there are messages with, the most recent conversation first. */
  conversations: ChatUser[];
  /** Everyone else: you first, then online people, then by name; deleted accounts last. */
  people: ChatUser[];
}

/** True when there are messages with `user`: held here, or on the server only (`partner`). */
export function inConversation(user: ChatUser): boolean {
  return user.messages.length > 0 || user.partner || user.unread > 0;
}

/** When the conversation last moved: its newest message's time, 0 when none is held. */
export function lastActivity(user: ChatUser): number {
  return user.messages.at(-1)?.timestamp ?? 0;
}

/**
 * The list's sections. Ties are broken by name as `collator` orders them, then by ID, so
 * equal entries never swap places between renders.
 */
export function sectionUsers(users: Iterable<ChatUser>, collator: Intl.Collator): UserSections {
  const byName = (a: ChatUser, b: ChatUser) =>
    collator.compare(a.username, b.username) || (a.userID < b.userID ? -1 : 1);
  const conversations: ChatUser[] = [];
  const people: ChatUser[] = [];
  for (const user of users) (inConversation(user) ? conversations : people).push(user);
  conversations.sort((a, b) => lastActivity(b) - lastActivity(a) || byName(a, b));
  people.sort((a, b) =>
    Number(b.self) - Number(a.self) || Number(a.deleted) - Number(b.deleted) ||
    Number(b.connected) - Number(a.connected) || byName(a, b)
  );
  return { conversations, people };
}

/** The one-line preview of a conversation: its newest message, whose it is, and when. */
export interface Preview {
  /** The message's text on one line, cut to `PREVIEW_LENGTH`; "" for a deleted message. */
  text: string;
  /** The signed-in user wrote it. */
  mine: boolean;
  /** It was deleted. */
  deleted: boolean;
  /** When it was sent (ms since the epoch). */
  timestamp: number;
}

/** Longest preview text, in UTF-16 code units: more never shows on one line. */
export const PREVIEW_LENGTH = 120;

/** The preview of the conversation with `user`, or undefined when no message is held. */
export function previewOf(user: ChatUser): Preview | undefined {
  const last = user.messages.at(-1);
  if (!last) return undefined;
  return {
    text: last.deleted ? "" : last.content.slice(0, PREVIEW_LENGTH).replace(/\s+/g, " ").trim(),
    mine: last.from !== user.userID,
    deleted: last.deleted === true,
    timestamp: last.timestamp,
  };
}

/** Whether `name` begins with `query`, both folded as the server folds names for `search users`. */
export function nameMatches(name: string, query: string): boolean {
  return searchFold(name).startsWith(searchFold(query));
}

/** Unread messages over all conversations. */
export function unreadTotal(users: Iterable<ChatUser>): number {
  let total = 0;
  for (const user of users) total += user.unread;
  return total;
}

/** A user from one `users` (or `user connected`) entry; `selfID` marks the signed-in user. */
export function userFromEntry(entry: UserEntry, selfID?: string): ChatUser {
  const user: ChatUser = {
    userID: entry.userID,
    username: entry.username,
    connected: entry.connected,
    self: entry.self ?? entry.userID === selfID,
    messages: (entry.messages ?? []).map((m) => ({ ...m, state: "sent" as const })).sort(byId),
    hasMore: entry.hasMore ?? false,
    unread: entry.unread ?? 0,
    loadingOlder: false,
    deleted: false,
    lastSeen: entry.connected ? undefined : entry.lastSeen,
    deliveredUpTo: entry.deliveredUpTo,
    seenUpTo: entry.seenUpTo,
    blocked: entry.blocked ?? false,
    typing: false,
    partner: (entry.messages?.length ?? 0) > 0 || (entry.hasMore ?? false),
  };
  return entry.deleted ? deletedUser(user) : user;
}

/** A message whose sender deleted the account: no content, same place and time. */
export function tombstone(message: ChatMessage): ChatMessage {
  return { ...message, content: "", deleted: true };
}

/**
 * `user` after they deleted the account: offline for good, every message from them a
 * tombstone, nothing unread (there is nothing left to read).
 */
export function deletedUser(user: ChatUser): ChatUser {
  return {
    ...user,
    deleted: true,
    connected: false,
    typing: false,
    unread: 0,
    messages: user.messages.map((m) => m.from === user.userID ? tombstone(m) : m),
  };
}

/**
 * The users after `user updated` (a new display name) or `user deleted` (an ID); a user not
 * held is left out, as the next `users` brings them as they are.
 */
export function applyUserChange(
  users: ReadonlyMap<string, ChatUser>,
  change: UserUpdate | string,
): Map<string, ChatUser> {
  const next = new Map(users);
  const userID = typeof change === "string" ? change : change.userID;
  const user = users.get(userID);
  if (user) {
    next.set(
      userID,
      typeof change === "string"
        ? deletedUser(user)
        : { ...user, username: user.deleted ? user.username : change.username },
    );
  }
  return next;
}

/** Someone known only by ID (a message from or to them arrived before their entry did). */
export function unknownUser(userID: string, selfID?: string): ChatUser {
  return userFromEntry({ userID, username: userID, connected: false, messages: [] }, selfID);
}

/**
 * The users after a fresh `users` payload: the server's entries, with older pages already
 * loaded kept (unless the fresh page leaves a gap after them), and people we talked to kept,
 * offline, when a bounded list leaves them out.
 */
export function mergeUsers(
  held: ReadonlyMap<string, ChatUser>,
  entries: UserEntry[],
  selfID?: string,
): Map<string, ChatUser> {
  const next = new Map<string, ChatUser>();
  for (const entry of entries) {
    let fresh = userFromEntry(entry, selfID);
    const old = held.get(entry.userID);
    if (old) {
      const oldStored = old.messages.filter((m) => m.state === "sent");
      const newest = oldStored.at(-1);
      const gap = fresh.hasMore && fresh.messages.length > 0 && newest !== undefined &&
        newest.id < fresh.messages[0].id;
      if (!gap && oldStored.length > 0) {
        // Keep older pages already loaded; the fresh page only adds what arrived while away.
        fresh.messages = mergeMessages(oldStored, fresh.messages);
        fresh.hasMore = old.hasMore;
        // Older pages held from before they deleted the account go too.
        if (fresh.deleted) fresh = deletedUser(fresh);
      }
    }
    next.set(entry.userID, fresh);
  }
  for (const [id, old] of held) {
    if (!next.has(id) && old.messages.length) next.set(id, { ...old, connected: false });
  }
  return next;
}

/** How an unsent message shows in its conversation until the server stores it. */
export function pendingMessage(unsent: OutboxEntry, from: string): ChatMessage {
  return {
    // Sorts after every stored ID ("~" is above the server's ID alphabet) and is unique.
    id: `~${unsent.timestamp.toString(36)}-${unsent.clientId}`,
    from,
    to: unsent.to,
    content: unsent.content,
    timestamp: unsent.timestamp,
    clientId: unsent.clientId,
    state: unsent.state,
    error: unsent.error,
  };
}

/** The server's content limit from a `session` (servers before it was announced send none). */
export function contentLimit(session: Pick<SessionInfo, "maxContentLength"> | undefined): number {
  const max = session?.maxContentLength;
  return typeof max === "number" && max >= 1 ? Math.floor(max) : LIMITS.maxContentLength;
}

/** The later of two message IDs (IDs sort by time); undefined only when both are. */
export function laterId(a: string | undefined, b: string | undefined): string | undefined {
  return a === undefined ? b : b === undefined || a >= b ? a : b;
}

/** `user` after a `receipts` notice from them: how far they got only ever grows. */
export function applyReceipts(user: ChatUser, notice: ReceiptsNotice): ChatUser {
  const delivered = typeof notice.delivered === "string" ? notice.delivered : undefined;
  const seen = typeof notice.seen === "string" ? notice.seen : undefined;
  return {
    ...user,
    // Read implies received.
    deliveredUpTo: laterId(laterId(user.deliveredUpTo, delivered), seen),
    seenUpTo: laterId(user.seenUpTo, seen),
  };
}

/**
 * How far one of your messages to `peer` has got. `readReceipts` false: never `seen`, as
 * someone who does not send read receipts does not see them either.
 */
export function receiptOf(message: ChatMessage, peer: ChatUser, readReceipts: boolean): Receipt {
  if (message.state !== "sent") return message.state;
  if (readReceipts && peer.seenUpTo !== undefined && message.id <= peer.seenUpTo) return "seen";
  const delivered = laterId(peer.deliveredUpTo, readReceipts ? peer.seenUpTo : undefined);
  return delivered !== undefined && message.id <= delivered ? "delivered" : "sent";
}

/** The newest stored message `user` wrote in the conversation with them, if any. */
export function newestFrom(user: ChatUser): ChatMessage | undefined {
  return user.messages.findLast((m) => m.state === "sent" && m.from === user.userID);
}

/**
 * The users after `message updated`: the message, where it is held, replaced by the server's
 * copy (edited, or a tombstone). A message not held is left out: paging brings it as it is now.
 */
export function applyMessageUpdate(
  users: ReadonlyMap<string, ChatUser>,
  message: Message,
  selfID: string,
): Map<string, ChatUser> {
  const next = new Map(users);
  const user = users.get(message.from === selfID ? message.to : message.from);
  const at = user?.messages.findIndex((m) => m.id === message.id && m.state === "sent") ?? -1;
  if (user && at >= 0) {
    const messages = [...user.messages];
    // The server's copy may omit the clientId; the held one keeps the node of a message sent here.
    messages[at] = { clientId: messages[at].clientId, ...message, state: "sent" };
    next.set(user.userID, { ...user, messages });
  }
  return next;
}

/**
 * Whether `selfID` may still edit or delete `message`: their own, stored, not deleted, and
 * sent less than `windowSeconds` before `now` (0: never).
 */
export function editable(
  message: ChatMessage,
  options: { selfID: string | undefined; windowSeconds: number; now: number },
): boolean {
  return message.from === options.selfID && message.state === "sent" && !message.deleted &&
    options.now - message.timestamp < options.windowSeconds * 1000;
}

/** Your newest message to `user` that you may still edit (for the Up arrow). */
export function lastEditable(
  user: ChatUser,
  options: { selfID: string | undefined; windowSeconds: number; now: number },
): ChatMessage | undefined {
  const last = user.messages.findLast((m) =>
    m.from === options.selfID && m.state === "sent" && !m.deleted
  );
  return last && editable(last, options) ? last : undefined;
}
