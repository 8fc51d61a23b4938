/**
 * Presence broadcasts in bursts: `user connected` and `user disconnected` go to
 * every socket, so N users arriving together cost N² notices. Notices are
 * queued for a few milliseconds; a burst is then encoded once (`ws_frames.ts`)
 * and the same bytes go to every idle WebSocket of this node, one write per
 * socket and no per-socket copies. Sockets that asked for `batchPresence` get
 * the burst as a single `presence` event instead. Other nodes of a cluster get
 * the burst as one adapter message and fan it out to their own sockets.
 */

import type { Logger } from "../log.ts";
import type { PresenceChange, UserEntry } from "../protocol.ts";
import type { ChatServer, ChatSocket, RoomRelay } from "./types.ts";
import { eventFrame, joinBytes, presenceFrame } from "./ws_frames.ts";
import { idleFrameSender } from "./ws_internals.ts";

/** One queued broadcast; `except` is the socket that must not hear it. */
export type PresenceNotice =
  | { except: string; event: "user connected"; payload: UserEntry }
  | { except: null; event: "user disconnected"; payload: string; lastSeen?: number };

/** The event carrying a burst of notices to the other nodes. */
export const PRESENCE_NOTICES_EVENT = "presence notices";
/** The room bursts are sent to: no socket joins it, only other nodes' relays hear it. */
export const PRESENCE_RELAY_ROOM = "chat:presence-relay";

/** Queued presence broadcasts; see the module doc. */
export interface PresenceNotices {
  /** Queues `user connected` for every socket but `exceptSocketID`. */
  connected(exceptSocketID: string, user: UserEntry): void;
  /** Queues `user disconnected` for every socket (`presence` changes carry `lastSeen`). */
  disconnected(userID: string, lastSeen?: number): void;
  /** Sends what is queued now, e.g. before a message that must not overtake it. */
  flush(): void;
  /** Sends what is queued; later notices go out at once, unbatched (the server is closing). */
  close(): void;
}

/** How long presence notices wait to be sent together. */
export interface PresenceDelay {
  /** The wait on a node with few sockets. */
  delayMs: number;
  /** Writes a second the bursts may cost the node: past `delayMs`, the wait grows with the sockets. */
  writesPerSecond: number;
  /** The longest wait, however many sockets. */
  maxDelayMs: number;
}

/**
 * The server's wait: 25 ms up to 1,250 sockets, then growing so that bursts
 * cost at most 50,000 writes a second, up to 250 ms from 12,500 sockets.
 */
export const PRESENCE_DELAY: PresenceDelay = {
  delayMs: 25,
  writesPerSecond: 50_000,
  maxDelayMs: 250,
};

/** The wait before a burst is sent to `sockets` sockets: one write each per burst. */
export function presenceDelay(sockets: number, delay: PresenceDelay): number {
  const spread = (sockets * 1000) / delay.writesPerSecond;
  return Math.min(delay.maxDelayMs, Math.max(delay.delayMs, spread));
}

/** True when the socket asked to hear presence as one `presence` event per burst. */
export function batchesPresence(socket: ChatSocket): boolean {
  return socket.data.batchPresence === true;
}

const encoder = new TextEncoder();

function change(notice: PresenceNotice): PresenceChange {
  return notice.event === "user connected"
    ? { userID: notice.payload.userID, username: notice.payload.username, connected: true }
    : notice.lastSeen === undefined
    ? { userID: notice.payload, connected: false }
    : { userID: notice.payload, connected: false, lastSeen: notice.lastSeen };
}

/**
 * Sends `notices`, in order, to this node's sockets: one frame per notice, or
 * one `presence` event for the whole burst to sockets that asked for it.
 */
export function deliverLocally(io: ChatServer, notices: readonly PresenceNotice[]): void {
  if (notices.length === 0) return;
  const excepted = new Set<string>();
  for (const n of notices) if (n.except !== null) excepted.add(n.except);
  // Encoded lazily, once for all the sockets that hear the whole burst.
  let frames: Uint8Array[] | undefined;
  let shared: Uint8Array | undefined;
  let changes: Uint8Array[] | undefined;
  let sharedBatch: Uint8Array | undefined;
  for (const socket of io.of("/").sockets.values()) {
    const mine = excepted.has(socket.id);
    const sender = idleFrameSender(socket);
    if (batchesPresence(socket)) {
      // The socket's own arrival, which it does not hear; -1 when none.
      const skip = mine ? notices.findIndex((n) => n.except === socket.id) : -1;
      if (skip !== -1 && notices.length === 1) continue;
      if (!sender) {
        socket.emit("presence", notices.filter((_, i) => i !== skip).map(change));
        continue;
      }
      changes ??= notices.map((n) => encoder.encode(JSON.stringify(change(n))));
      sender.sendFrame([
        skip === -1 ? (sharedBatch ??= presenceFrame(changes)) : presenceFrame(changes, skip),
      ]);
      continue;
    }
    if (sender) {
      frames ??= notices.map((n) => eventFrame(n.event, n.payload));
      const bytes = mine
        ? joinBytes(frames.filter((_, i) => notices[i].except !== socket.id))
        : (shared ??= joinBytes(frames));
      if (bytes.length > 0) sender.sendFrame([bytes]);
      continue;
    }
    for (const n of notices) {
      if (n.except === socket.id) continue;
      if (n.event === "user connected") socket.emit("user connected", n.payload);
      else socket.emit("user disconnected", n.payload);
    }
  }
}

/** True when `value`, sent by another node, is a burst of well-formed notices. */
export function isPresenceNotices(value: unknown): value is PresenceNotice[] {
  return Array.isArray(value) && value.every(isNotice);
}

function isNotice(value: unknown): value is PresenceNotice {
  if (typeof value !== "object" || value === null) return false;
  const n = value as Record<string, unknown>;
  if (n.event === "user disconnected") {
    return n.except === null && typeof n.payload === "string" &&
      (n.lastSeen === undefined || typeof n.lastSeen === "number");
  }
  if (n.event !== "user connected" || typeof n.except !== "string") return false;
  const user = n.payload as Partial<UserEntry> | null;
  return typeof user === "object" && user !== null && typeof user.userID === "string" &&
    typeof user.username === "string";
}

interface Emitter {
  emit(event: string, ...args: unknown[]): boolean;
}

/** Options of `createPresenceNotices()`. */
export interface PresenceNoticesOptions extends PresenceDelay {
  /** How bursts reach the other nodes of a cluster, and theirs this one. */
  relay?: RoomRelay;
  logger: Logger;
}

/**
 * Starts queueing presence broadcasts of `io`, sent at most `presenceDelay()`
 * after they are queued. With a `relay`, bursts also go to the other nodes, as
 * an adapter broadcast to `PRESENCE_RELAY_ROOM`, and bursts from them are
 * delivered to this node's sockets.
 */
export function createPresenceNotices(
  io: ChatServer,
  options: PresenceNoticesOptions,
): PresenceNotices {
  let queue: PresenceNotice[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const { relay, logger } = options;

  relay?.listen(PRESENCE_RELAY_ROOM, ([event, notices]) => {
    if (event !== PRESENCE_NOTICES_EVENT) return;
    if (!isPresenceNotices(notices)) {
      logger.warn({ event: PRESENCE_NOTICES_EVENT }, "Ignored a malformed burst from another node");
      return;
    }
    deliverLocally(io, notices);
  });

  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    if (queue.length === 0) return;
    const notices = queue;
    queue = [];
    if (relay) {
      try {
        (io.to(PRESENCE_RELAY_ROOM) as unknown as Emitter).emit(PRESENCE_NOTICES_EVENT, notices);
      } catch (error) {
        logger.error({ err: error }, "Presence notices to other nodes failed");
      }
    }
    deliverLocally(io, notices);
  };

  let closed = false;
  const push = (notice: PresenceNotice) => {
    queue.push(notice);
    // Once closing, nothing waits: a node that is stopping still tells the
    // cluster who left, and leaves no timer behind.
    if (closed) flush();
    else timer ??= setTimeout(flush, presenceDelay(io.of("/").sockets.size, options));
  };

  return {
    connected: (except, user) => push({ except, event: "user connected", payload: user }),
    disconnected: (userID, lastSeen) =>
      push(
        lastSeen === undefined
          ? { except: null, event: "user disconnected", payload: userID }
          : { except: null, event: "user disconnected", payload: userID, lastSeen },
      ),
    flush,
    close: () => {
      flush();
      closed = true;
    },
  };
}
