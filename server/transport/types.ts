/** The typed Socket.IO server and socket, and how nodes of a cluster hear each other's broadcasts. */

import type { Server, Socket } from "socket.io";
import type { ClientToServerEvents, ServerToClientEvents, SessionInfo } from "../protocol.ts";

/** What the server keeps on each socket. */
export interface SocketData extends SessionInfo {
  /** The socket hears presence as one `presence` event per burst. */
  batchPresence: boolean;
}

/** What the nodes of a cluster tell each other (`serverSideEmit`). */
export interface InterServerEvents {
  /** A user was renamed or deleted: drop its cached record. */
  "user changed": (userID: string) => void;
}

/** The typed Socket.IO server. */
export type ChatServer = Server<
  ClientToServerEvents,
  ServerToClientEvents,
  InterServerEvents,
  SocketData
>;

/** One typed connection. */
export type ChatSocket = Socket<
  ClientToServerEvents,
  ServerToClientEvents,
  InterServerEvents,
  SocketData
>;

/**
 * How a node hears what other nodes broadcast to a room no socket joins: the
 * cluster adapter's messages, so bursts stay in order with message relays.
 */
export interface RoomRelay {
  /** Calls `handler` with the event arguments of each broadcast to `room` from another node. */
  listen(room: string, handler: (args: unknown[]) => void): void;
}
