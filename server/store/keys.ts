/**
 * The one place that names Deno KV keys. Every key of the chat (storage format 5),
 * its value, and why it exists:
 *
 * ```
 * ["meta", "format"]                      number          storage format version (migrations.ts)
 * ["meta", "ready_probe", probeID]        ms              a node's /readyz write; expires in a minute
 * ["meta", "import"]                      { startedAt }   an import under way (import.ts); the server refuses to start on it
 * ["meta", "retention"]                   { holder, until }   the node sweeping old messages (RETENTION_DAYS); expires
 * ["users", userID]                       { userID, username, createdAt, host?, deleted? }
 * ["usernames", nameKey]                  userID          each key of a name (nameKeys()), held once (anonymous users)
 * ["sessions", sessionID]                 { userID, refreshedAt }   expires after SESSION_TTL_DAYS unused
 * ["user_sessions", userID, sessionID]    true            a user's sessions, to end them all; may outlive one
 * ["activity", userID]                    { sessionsUntil }   when the user's last session ends (anonymous users)
 * ["receipts", authorID, readerID, "delivered" | "seen"]   messageID   how far reader got in author's messages
 * ["preferences", userID]                { readReceipts }
 * ["blocks", blockerID, blockedID]        { since }       blockerID takes nothing from blockedID
 * ["last_seen", userID]                   ms              when the user's last socket left
 * ["user_search", searchFold(name), userID]   true   every live user by the folded name (search users)
 * ["deletions", userID]                   { since }       an account deletion whose messages are still being tombstoned
 * ["messages", pairID, messageID]         { id, from, to, content, timestamp, clientId? }
 * ["received", userID, peerID]            KvU64           messages userID has received from peerID
 * ["sent", userID, peerID]                KvU64           messages userID has sent to peerID
 * ["read", userID, peerID]                { upTo, received }   read up to upTo, when `received` counted this many
 * ["presence", userID]                    { nodes: { nodeID: since } }   cluster: nodes holding the user
 * ["presence_nodes", nodeID, userID]      true            cluster: the users a node holds
 * ["cluster_nodes", nodeID]               { expiresAt } | { deadAt }     cluster: heartbeat or tombstone
 * ```
 *
 * A deleted account keeps its `users` row as `{ userID, username: "", createdAt,
 * deleted: true, deletedAt }`, so conversations with it still resolve; its
 * messages become tombstones (`deleted: true`, content ""), and its sessions,
 * name, activity, counters and read marks are gone.
 *
 * A name has one or two keys, its confusable skeletons: look-alikes, case and width
 * variants share one, and sign-up checks that none of its keys is held. Names that
 * already shared a key when format 4 came keep their accounts; the older one holds it.
 *
 * `pairID` is the two user IDs sorted and joined, the same from both sides. A message
 * costs three rows: itself and the two counters, summed in its commit. The counters'
 * versionstamps order a user's conversations by their last message, and unread is
 * `received` minus the `received` of the read mark.
 *
 * Format 1 had, besides users, sessions and messages, `["conversations", userID, peerID]`,
 * `["unread", userID, peerID]`, `["read_marks", userID, peerID]` and
 * `["client_ids", userID, clientId]`; only the migration reads them (`FORMAT_1`).
 * Formats 1 to 3 reserved a name under one key, its case- and width-folded form.
 */

/** A read mark: read up to `upTo`, when the conversation's received counter stood at `received`. */
export interface ReadMark {
  upTo: string;
  /** The received count minus the messages after `upTo`: unread is the counter minus this. */
  received: number;
}

/** The key part naming the conversation between two users, the same from both sides. */
export function pairID(a: string, b: string): string {
  return a < b ? `${a}:${b}` : `${b}:${a}`;
}

/** A node's readiness probe: a write that expires by itself (`/readyz`). */
export function readyProbeKey(probeID: string): Deno.KvKey {
  return ["meta", "ready_probe", probeID];
}

/** An import that has not finished: written by its first commit, deleted by its last. */
export function importKey(): Deno.KvKey {
  return ["meta", "import"];
}

/** The lease of the node that deletes old messages (`RETENTION_DAYS`) now. */
export function retentionLeaseKey(): Deno.KvKey {
  return ["meta", "retention"];
}

/** The storage format version. */
export function formatKey(): Deno.KvKey {
  return ["meta", "format"];
}

/** A user record. */
export function userKey(userID: string): Deno.KvKey {
  return ["users", userID];
}

/** Every user record. */
export function usersPrefix(): Deno.KvKey {
  return ["users"];
}

/** The reservation of a name key (`nameKeys()`): the user ID holding it. */
export function usernameKey(nameKey: string): Deno.KvKey {
  return ["usernames", nameKey];
}

/** Every name reservation. */
export function usernamesPrefix(): Deno.KvKey {
  return ["usernames"];
}

/** A session. */
export function sessionKey(sessionID: string): Deno.KvKey {
  return ["sessions", sessionID];
}

/** Every session. */
export function sessionsPrefix(): Deno.KvKey {
  return ["sessions"];
}

/** The index entry saying `sessionID` belongs to `userID`. */
export function userSessionKey(userID: string, sessionID: string): Deno.KvKey {
  return ["user_sessions", userID, sessionID];
}

/** Every session index entry of `userID` (of every user without it). */
export function userSessionsPrefix(userID?: string): Deno.KvKey {
  return userID === undefined ? ["user_sessions"] : ["user_sessions", userID];
}

/** When the sessions of an anonymous user end. */
export function activityKey(userID: string): Deno.KvKey {
  return ["activity", userID];
}

/** Every anonymous user's activity record. */
export function activityPrefix(): Deno.KvKey {
  return ["activity"];
}

/** A pending account deletion. */
export function deletionKey(userID: string): Deno.KvKey {
  return ["deletions", userID];
}

/** How far `readerID` has received (`delivered`) or read (`seen`) the messages of `authorID`. */
export function receiptKey(
  authorID: string,
  readerID: string,
  kind: "delivered" | "seen",
): Deno.KvKey {
  return ["receipts", authorID, readerID, kind];
}

/** Every receipt about the messages of `authorID` (of every author without it). */
export function receiptsPrefix(authorID?: string): Deno.KvKey {
  return authorID === undefined ? ["receipts"] : ["receipts", authorID];
}

/** A user's preferences. */
export function preferencesKey(userID: string): Deno.KvKey {
  return ["preferences", userID];
}

/** Every user's preferences. */
export function preferencesPrefix(): Deno.KvKey {
  return ["preferences"];
}

/** `blockerID` blocked `blockedID`. */
export function blockKey(blockerID: string, blockedID: string): Deno.KvKey {
  return ["blocks", blockerID, blockedID];
}

/** Every user `blockerID` blocked (every block without it). */
export function blocksPrefix(blockerID?: string): Deno.KvKey {
  return blockerID === undefined ? ["blocks"] : ["blocks", blockerID];
}

/** When a user was last online. */
export function lastSeenKey(userID: string): Deno.KvKey {
  return ["last_seen", userID];
}

/** When every user was last online. */
export function lastSeenPrefix(): Deno.KvKey {
  return ["last_seen"];
}

/** A live user, under the folded form of its name. */
export function searchKey(folded: string, userID: string): Deno.KvKey {
  return ["user_search", folded, userID];
}

/** Every user by folded name. */
export function searchPrefix(): Deno.KvKey {
  return ["user_search"];
}

/** Every pending account deletion. */
export function deletionsPrefix(): Deno.KvKey {
  return ["deletions"];
}

/** One message of the conversation between `a` and `b`. */
export function messageKey(a: string, b: string, messageID: string): Deno.KvKey {
  return ["messages", pairID(a, b), messageID];
}

/** Every message between `a` and `b`, in ID (time) order. */
export function messagesPrefix(a: string, b: string): Deno.KvKey {
  return ["messages", pairID(a, b)];
}

/** Every message of every conversation, by `pairID`, then in ID order. */
export function allMessagesPrefix(): Deno.KvKey {
  return ["messages"];
}

/** How many messages `userID` has received from `peerID` (a running count). */
export function receivedKey(userID: string, peerID: string): Deno.KvKey {
  return ["received", userID, peerID];
}

/** Every received counter of `userID`, by peer ID (every user's without it). */
export function receivedPrefix(userID?: string): Deno.KvKey {
  return userID === undefined ? ["received"] : ["received", userID];
}

/** How many messages `userID` has sent to `peerID` (a running count). */
export function sentKey(userID: string, peerID: string): Deno.KvKey {
  return ["sent", userID, peerID];
}

/** Every sent counter of `userID`, by peer ID (every user's without it). */
export function sentPrefix(userID?: string): Deno.KvKey {
  return userID === undefined ? ["sent"] : ["sent", userID];
}

/** How far `userID` has read its conversation with `peerID`. */
export function readKey(userID: string, peerID: string): Deno.KvKey {
  return ["read", userID, peerID];
}

/** Every read mark of `userID`, by peer ID (every user's without it). */
export function readPrefix(userID?: string): Deno.KvKey {
  return userID === undefined ? ["read"] : ["read", userID];
}

/** The keys of storage format 1 that format 2 replaced: read only by the migration. */
export const FORMAT_1 = {
  /** Every user's `{ peerID, lastMessageID, lastAt }` per conversation. */
  allConversations: (): Deno.KvKey => ["conversations"],
  /** KvU64: messages from `peerID` that `userID` had not read. */
  unreadKey: (userID: string, peerID: string): Deno.KvKey => ["unread", userID, peerID],
  /** messageID: read up to here. */
  readMarkKey: (userID: string, peerID: string): Deno.KvKey => ["read_marks", userID, peerID],
  /** `{ id, to }` per idempotency key of a sender. */
  clientIds: (): Deno.KvKey => ["client_ids"],
  unreadPrefixes: (): Deno.KvKey => ["unread"],
  readMarkPrefixes: (): Deno.KvKey => ["read_marks"],
} as const;

/** The cluster nodes holding a user. */
export function presenceKey(userID: string): Deno.KvKey {
  return ["presence", userID];
}

/** Every user's presence record. */
export function presencePrefix(): Deno.KvKey {
  return ["presence"];
}

/** The index entry saying `nodeID` holds `userID`. */
export function presenceNodeKey(nodeID: string, userID: string): Deno.KvKey {
  return ["presence_nodes", nodeID, userID];
}

/** Every user `nodeID` holds (every node's without it). */
export function presenceNodePrefix(nodeID?: string): Deno.KvKey {
  return nodeID === undefined ? ["presence_nodes"] : ["presence_nodes", nodeID];
}

/** A cluster node's heartbeat or tombstone. */
export function clusterNodeKey(nodeID: string): Deno.KvKey {
  return ["cluster_nodes", nodeID];
}

/** Every cluster node's record. */
export function clusterNodesPrefix(): Deno.KvKey {
  return ["cluster_nodes"];
}
