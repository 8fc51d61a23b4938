/**
 * The only code that reaches into engine.io's and `ws`'s internals (engine.io
 * 6.6, ws 8). Both paths are guarded: when a field is missing (another
 * version, another transport), the socket simply takes the ordinary path.
 * `tests/server/ws_internals_test.ts` fails if an upgrade removes them.
 *
 * - `conn.transport.socket` is engine.io's `ws` WebSocket; `._socket` is its
 *   TCP socket and `._sender` its frame writer, whose `sendFrame()` writes
 *   ready-made frames (engine.io's own broadcasts use it).
 * - `conn.writeBuffer` holds packets engine.io has not written yet, and
 *   `transport.send(packets)` writes one batch of them.
 */

import type { ChatServer, ChatSocket } from "./types.ts";

interface Corkable {
  cork(): void;
  uncork(): void;
}

/** What writes a ready-made WebSocket frame to one socket. */
export interface FrameSender {
  sendFrame(list: Uint8Array[], cb?: (error?: Error) => void): void;
}

// The TCP socket under a WebSocket transport; undefined for long-polling,
// whose writes are HTTP responses.
function rawSocket(transport: unknown): Corkable | undefined {
  // deno-lint-ignore no-explicit-any
  const raw = (transport as any)?.socket?._socket;
  return typeof raw?.cork === "function" && typeof raw?.uncork === "function" ? raw : undefined;
}

/** Options of `corkWebSocketBatches()`. */
export interface CorkOptions {
  /**
   * Ready-made frames to write to the connection `conn` (engine.io's, as
   * `socket.conn`) just before a batch of its packets, in the same system call.
   */
  framesBefore?: (conn: unknown) => Uint8Array | undefined;
}

/**
 * Makes every WebSocket transport of `io` write the packets of one batch
 * (engine.io sends what queued up during a write as one batch), and the
 * frames `framesBefore` gives, in one system call instead of one per packet.
 */
export function corkWebSocketBatches(io: ChatServer, { framesBefore }: CorkOptions = {}): void {
  const wrap = (conn: unknown, transport: unknown) => {
    // deno-lint-ignore no-explicit-any
    const t = transport as any;
    if (t?.name !== "websocket" || t.corksBatches) return;
    const send = t.send.bind(t);
    t.corksBatches = true;
    t.send = (packets: unknown[]) => {
      const sender: FrameSender | undefined = t.perMessageDeflate ? undefined : t.socket?._sender;
      const before = typeof sender?.sendFrame === "function" ? framesBefore?.(conn) : undefined;
      const raw = packets.length > 1 || before ? rawSocket(t) : undefined;
      raw?.cork();
      try {
        if (before) sender!.sendFrame([before]);
        send(packets);
      } finally {
        raw?.uncork();
      }
    };
  };
  io.engine.on(
    "connection",
    (conn: { transport: unknown; on(e: "upgrade", f: (t: unknown) => void): void }) => {
      wrap(conn, conn.transport);
      conn.on("upgrade", (transport) => wrap(conn, transport));
    },
  );
}

/**
 * The frame writer of a socket whose WebSocket can take a ready-made frame now
 * without overtaking anything: open, not upgrading, nothing queued in
 * engine.io, no compression. Undefined otherwise: the socket gets ordinary emits.
 */
export function idleFrameSender(socket: ChatSocket): FrameSender | undefined {
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

function byteLength(data: unknown): number {
  if (typeof data === "string") return data.length;
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return data.byteLength;
  return 0;
}

/**
 * Bytes written to a socket that its client has not taken yet: packets
 * engine.io holds (`conn.writeBuffer`, for a long-polling client between
 * polls), frames `ws` holds (`_sender._bufferedBytes`) and what the TCP socket
 * holds (`writableLength`). What the kernel holds is not counted.
 */
export function unsentBytes(socket: ChatSocket): number {
  // deno-lint-ignore no-explicit-any
  const conn = socket.conn as any;
  let bytes = 0;
  for (const packet of conn.writeBuffer ?? []) bytes += byteLength(packet?.data);
  const ws = conn.transport?.name === "websocket" ? conn.transport.socket : undefined;
  if (typeof ws?._sender?._bufferedBytes === "number") bytes += ws._sender._bufferedBytes;
  if (typeof ws?._socket?.writableLength === "number") bytes += ws._socket.writableLength;
  return bytes;
}

/**
 * Closes a socket at once, dropping what it has not sent: a WebSocket is
 * terminated (its TCP socket destroyed, with no closing handshake to wait
 * for behind the queue), then Socket.IO forgets the socket.
 */
export function dropSocket(socket: ChatSocket): void {
  // deno-lint-ignore no-explicit-any
  const ws = (socket.conn as any).transport?.socket;
  if (typeof ws?.terminate === "function") ws.terminate();
  socket.disconnect(true);
}
