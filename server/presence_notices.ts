/**
 * Presence broadcasts in bursts: `user connected` and `user disconnected` go to
 * every socket, so N users arriving together cost N² frames. Queued for a few
 * milliseconds and sent in order with every WebSocket corked, a burst costs
 * about one write per socket instead of one write per socket per arrival.
 */

import type { ChatServer } from "./socket.ts";
import type { UserEntry } from "./protocol.ts";

/** One queued broadcast. */
type Notice =
  | { except: string; event: "user connected"; payload: UserEntry }
  | { except: null; event: "user disconnected"; payload: string };

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

/** Starts queueing presence broadcasts of `io`, sent at most `delayMs` after they are queued. */
export function createPresenceNotices(
  io: ChatServer,
  options: { delayMs: number },
): PresenceNotices {
  let queue: Notice[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;

  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    if (queue.length === 0) return;
    const notices = queue;
    queue = [];
    const corked: Corkable[] = [];
    for (const socket of io.of("/").sockets.values()) {
      const raw = rawSocket(socket.conn.transport);
      if (raw) {
        raw.cork();
        corked.push(raw);
      }
    }
    try {
      for (const notice of notices) {
        // Through the adapter, so other nodes of a cluster broadcast it too.
        if (notice.event === "user connected") {
          io.except(notice.except).emit("user connected", notice.payload);
        } else {
          io.emit("user disconnected", notice.payload);
        }
      }
    } finally {
      for (const raw of corked) raw.uncork();
    }
  };

  let closed = false;
  const push = (notice: Notice) => {
    queue.push(notice);
    // Once closing, nothing waits: a node that is stopping still tells the
    // cluster who left, and leaves no timer behind.
    if (closed) flush();
    else timer ??= setTimeout(flush, options.delayMs);
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
