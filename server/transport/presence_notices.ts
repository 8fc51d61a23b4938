/**
 * Presence broadcasts in bursts: `user connected` and `user disconnected` go to
 * every socket, so N users arriving together cost N² notices. Notices are
 * queued for a few milliseconds; a burst is then encoded once, as WebSocket
 * frames joined into one buffer that every idle WebSocket of this node shares,
 * so it costs one write per socket and no per-socket copies. Sockets that asked
 * for `batchPresence` get the burst as a single `presence` event instead. Other
 * nodes of a cluster get the burst as one adapter message and fan it out to
 * their own sockets.
 */

import type { PresenceChange, UserEntry } from "../protocol.ts";
import type { ChatServer, ChatSocket, RoomRelay } from "./types.ts";

/** One queued broadcast; `except` is the socket that must not hear it. */
export type PresenceNotice =
  | { except: string; event: "user connected"; payload: UserEntry }
  | { except: null; event: "user disconnected"; payload: string };

/** The event carrying a burst of notices to the other nodes, and the room it is sent to. */
export const PRESENCE_NOTICES_EVENT = "presence notices";
export const PRESENCE_RELAY_ROOM = "chat:presence-relay";

/** Queued presence broadcasts; see the module doc. */
export interface PresenceNotices {
  /** Queues `user connected` for every socket but `exceptSocketID`. */
  connected(exceptSocketID: string, user: UserEntry): void;
  /** Queues `user disconnected` for every socket. */
  disconnected(userID: string): void;
  /** Sends what is queued now, e.g. before a message that must not overtake it. */
  flush(): void;
  /** Sends what is queued; later notices go out at once, unbatched (the server is closing). */
  close(): void;
}

interface Corkable {
  cork(): void;
  uncork(): void;
}

// The TCP socket under a Socket.IO socket's WebSocket transport (`ws` keeps it
// as `_socket`); undefined for long-polling, whose writes are HTTP responses.
function rawSocket(transport: unknown): Corkable | undefined {
  // deno-lint-ignore no-explicit-any
  const raw = (transport as any)?.socket?._socket;
  return typeof raw?.cork === "function" && typeof raw?.uncork === "function" ? raw : undefined;
}

/**
 * Makes every WebSocket transport of `io` write the packets it sends together
 * (engine.io sends what queued up during a write as one batch) in one write.
 */
export function corkWebSocketBatches(io: ChatServer): void {
  const wrap = (transport: unknown) => {
    // deno-lint-ignore no-explicit-any
    const t = transport as any;
    if (t?.name !== "websocket" || t.corksBatches) return;
    const send = t.send.bind(t);
    t.corksBatches = true;
    t.send = (packets: unknown[]) => {
      const raw = packets.length > 1 ? rawSocket(t) : undefined;
      raw?.cork();
      try {
        send(packets);
      } finally {
        raw?.uncork();
      }
    };
  };
  io.engine.on(
    "connection",
    (conn: { transport: unknown; on(e: "upgrade", f: (t: unknown) => void): void }) => {
      wrap(conn.transport);
      conn.on("upgrade", wrap);
    },
  );
}

const encoder = new TextEncoder();

/**
 * An unmasked, unfragmented WebSocket text frame (RFC 6455 section 5.2)
 * holding the Socket.IO event packet `[event, payload]` of namespace "/" in an
 * engine.io message packet: what engine.io would write for `emit(event, payload)`.
 */
export function eventFrame(event: string, payload: unknown): Uint8Array {
  return textFrame([encoder.encode("42" + JSON.stringify([event, payload]))]);
}

const PRESENCE_OPEN = encoder.encode('42["presence",[');
const PRESENCE_CLOSE = encoder.encode("]]");
const COMMA = encoder.encode(",");

/**
 * The frame of a `presence` event holding `changes`, each given as its JSON
 * bytes, but the one at index `skip`: per-socket variants of one burst cost a
 * copy, not a new encoding.
 */
export function presenceFrame(changes: readonly Uint8Array[], skip = -1): Uint8Array {
  const parts: Uint8Array[] = [PRESENCE_OPEN];
  for (let i = 0; i < changes.length; i++) {
    if (i === skip) continue;
    if (parts.length > 1) parts.push(COMMA);
    parts.push(changes[i]);
  }
  parts.push(PRESENCE_CLOSE);
  return textFrame(parts);
}

// An unmasked, unfragmented text frame holding `parts` joined.
function textFrame(parts: readonly Uint8Array[]): Uint8Array {
  const n = parts.reduce((sum, p) => sum + p.length, 0);
  const header = new Uint8Array(n < 126 ? 2 : n < 65_536 ? 4 : 10);
  header[0] = 0x81; // FIN, text
  const view = new DataView(header.buffer);
  if (header.length === 2) header[1] = n;
  else if (header.length === 4) {
    header[1] = 126;
    view.setUint16(2, n);
  } else {
    header[1] = 127;
    view.setBigUint64(2, BigInt(n));
  }
  return concat([header, ...parts]);
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

interface FrameSender {
  sendFrame(list: Uint8Array[], cb?: (error?: Error) => void): void;
}

// The `ws` sender of a socket whose WebSocket can take a pre-built frame now
// without overtaking anything: open, not upgrading, nothing queued in engine.io,
// no compression. Undefined otherwise (the socket gets ordinary emits).
function idleFrameSender(socket: ChatSocket): FrameSender | undefined {
  // deno-lint-ignore no-explicit-any
  const conn = socket.conn as any;
  const transport = conn.transport;
  if (
    conn.readyState !== "open" || conn.upgrading || conn.writeBuffer?.length !== 0 ||
    transport?.name !== "websocket" || transport.perMessageDeflate
  ) return undefined;
  const sender = transport.socket?._sender;
  const raw = transport.socket?._socket;
  if (typeof sender?.sendFrame !== "function" || !raw || raw.destroyed || !raw.writable) {
    return undefined;
  }
  return sender;
}

/** True when the socket asked to hear presence as one `presence` event per burst. */
export function batchesPresence(socket: ChatSocket): boolean {
  return (socket.handshake.auth as { batchPresence?: unknown } | undefined)?.batchPresence === true;
}

function change(notice: PresenceNotice): PresenceChange {
  return notice.event === "user connected"
    ? { userID: notice.payload.userID, username: notice.payload.username, connected: true }
    : { userID: notice.payload, connected: false };
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
        ? concat(frames.filter((_, i) => notices[i].except !== socket.id))
        : (shared ??= concat(frames));
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
  if (n.event === "user disconnected") return n.except === null && typeof n.payload === "string";
  if (n.event !== "user connected" || typeof n.except !== "string") return false;
  const user = n.payload as Partial<UserEntry> | null;
  return typeof user === "object" && user !== null && typeof user.userID === "string" &&
    typeof user.username === "string";
}

interface Emitter {
  emit(event: string, ...args: unknown[]): boolean;
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

/** The wait before a burst is sent to `sockets` sockets: one write each per burst. */
export function presenceDelay(sockets: number, delay: PresenceDelay): number {
  const spread = (sockets * 1000) / delay.writesPerSecond;
  return Math.min(delay.maxDelayMs, Math.max(delay.delayMs, spread));
}

/**
 * Starts queueing presence broadcasts of `io`, sent at most `presenceDelay()`
 * after they are queued. With a `relay`, bursts also go to the other nodes, as
 * an adapter broadcast to `PRESENCE_RELAY_ROOM`, and bursts from them are
 * delivered to this node's sockets.
 */
export function createPresenceNotices(
  io: ChatServer,
  options: PresenceDelay & { relay?: RoomRelay; onError?: (error: unknown) => void },
): PresenceNotices {
  let queue: PresenceNotice[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const onError = options.onError ?? ((error) => console.error(error));

  const relay = options.relay;
  relay?.listen(PRESENCE_RELAY_ROOM, ([event, notices]) => {
    if (event !== PRESENCE_NOTICES_EVENT) return;
    if (!isPresenceNotices(notices)) {
      onError(new TypeError(`Ignored a malformed "${PRESENCE_NOTICES_EVENT}" from another node`));
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
        // No socket is in the room: only the other nodes' relays hear it.
        (io.to(PRESENCE_RELAY_ROOM) as unknown as Emitter).emit(PRESENCE_NOTICES_EVENT, notices);
      } catch (error) {
        onError(error);
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
    disconnected: (userID) => push({ except: null, event: "user disconnected", payload: userID }),
    flush,
    close: () => {
      flush();
      closed = true;
    },
  };
}
