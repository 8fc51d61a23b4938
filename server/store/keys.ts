/**
 * The one place that names Deno KV keys. Every key of the chat, its value, and
 * why it exists:
 *
 * ```
 * ["meta", "format"]                      number          storage format version (migrations.ts)
 * ["users", userID]                       { userID, username, createdAt }
 * ["usernames", foldedName]               userID          unique names, case-insensitive
 * ["sessions", sessionID]                 { userID, refreshedAt }   expires after SESSION_TTL_DAYS unused
 * ["messages", pairID, messageID]         { id, from, to, content, timestamp, clientId? }
 * ["conversations", userID, peerID]       { peerID, lastMessageID, lastAt }
 * ["unread", userID, peerID]              KvU64 count     summed in the message's commit
 * ["read_marks", userID, peerID]          messageID       read up to here
 * ["client_ids", userID, clientId]        { id, to }      idempotency, kept 7 days
 * ["presence", userID]                    { nodes: { nodeID: since } }   cluster: nodes holding the user
 * ["presence_nodes", nodeID, userID]      true            cluster: the users a node holds
 * ["cluster_nodes", nodeID]               { expiresAt } | { deadAt }     cluster: heartbeat or tombstone
 * ```
 *
 * `pairID` is the two user IDs sorted and joined, the same from both sides.
 */

/** The key part naming the conversation between two users, the same from both sides. */
export function pairID(a: string, b: string): string {
  return a < b ? `${a}:${b}` : `${b}:${a}`;
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

/** The claim on a folded username. */
export function usernameKey(foldedName: string): Deno.KvKey {
  return ["usernames", foldedName];
}

/** A session. */
export function sessionKey(sessionID: string): Deno.KvKey {
  return ["sessions", sessionID];
}

/** One message of the conversation between `a` and `b`. */
export function messageKey(a: string, b: string, messageID: string): Deno.KvKey {
  return ["messages", pairID(a, b), messageID];
}

/** Every message between `a` and `b`, in ID (time) order. */
export function messagesPrefix(a: string, b: string): Deno.KvKey {
  return ["messages", pairID(a, b)];
}

/** `userID`'s record of its conversation with `peerID`. */
export function conversationKey(userID: string, peerID: string): Deno.KvKey {
  return ["conversations", userID, peerID];
}

/** Every conversation record of `userID`, by peer ID. */
export function conversationsPrefix(userID: string): Deno.KvKey {
  return ["conversations", userID];
}

/** How many messages from `peerID` `userID` has not read. */
export function unreadKey(userID: string, peerID: string): Deno.KvKey {
  return ["unread", userID, peerID];
}

/** Every unread counter of `userID`. */
export function unreadPrefix(userID: string): Deno.KvKey {
  return ["unread", userID];
}

/** The message up to which `userID` has read its conversation with `peerID`. */
export function readMarkKey(userID: string, peerID: string): Deno.KvKey {
  return ["read_marks", userID, peerID];
}

/** The message a sender's idempotency key stored. */
export function clientIdKey(userID: string, clientId: string): Deno.KvKey {
  return ["client_ids", userID, clientId];
}

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

/** Every user `nodeID` holds. */
export function presenceNodePrefix(nodeID: string): Deno.KvKey {
  return ["presence_nodes", nodeID];
}

/** A cluster node's heartbeat or tombstone. */
export function clusterNodeKey(nodeID: string): Deno.KvKey {
  return ["cluster_nodes", nodeID];
}

/** Every cluster node's record. */
export function clusterNodesPrefix(): Deno.KvKey {
  return ["cluster_nodes"];
}
