/**
 * Receipts on their way to a message's author. Each device says `messages
 * delivered` for every message it gets, so an author would hear one `receipts`
 * event, and its socket one more write, per message sent. Instead, each of the
 * author's sockets on this node holds its receipts for up to
 * `RECEIPT_HOLD_MS`: those of one reader are folded into one (the furthest
 * `delivered` and `seen` win), and they go out encoded once (`ws_frames.ts`)
 * in the same write as the next packets the socket gets anyway (an ack, a
 * message; see `framesFor()`), or on their own when the wait is over. The
 * author's sockets on other nodes get ordinary emits through the adapter.
 */

import type { ReceiptsNotice } from "../protocol.ts";
import type { ChatServer, ChatSocket } from "./types.ts";
import { eventFrames } from "./ws_frames.ts";
import { idleFrameSender } from "./ws_internals.ts";

/** How long a receipt waits for a write to ride along with (and up to `TICK_MS` more). */
export const RECEIPT_HOLD_MS = 250;
// The timer wakes at most this often.
const TICK_MS = 20;

/** Held receipts; see the module doc. */
export interface ReceiptRelay {
  /** Queues `receipt` for every socket of `authorID`, on every node. */
  send(authorID: string, receipt: ReceiptsNotice): void;
  /**
   * The frames of the receipts held for the engine.io connection `conn`, which
   * then count as sent; undefined when it has none. For `corkWebSocketBatches()`.
   */
  framesFor(conn: unknown): Uint8Array | undefined;
  /** Sends what is held; later receipts go out at once (the server is closing). */
  close(): void;
}

/** The furthest of two message IDs (they sort by time), either possibly absent. */
function furthest(a: string | undefined, b: string | undefined): string | undefined {
  return a === undefined ? b : b === undefined || a >= b ? a : b;
}

/** `next` folded into `held`: one receipt of the same reader with the furthest marks of both. */
export function foldReceipts(held: ReceiptsNotice, next: ReceiptsNotice): ReceiptsNotice {
  const folded: ReceiptsNotice = { by: next.by };
  const delivered = furthest(held.delivered, next.delivered);
  const seen = furthest(held.seen, next.seen);
  if (delivered !== undefined) folded.delivered = delivered;
  if (seen !== undefined) folded.seen = seen;
  return folded;
}

/** What one socket holds. */
interface Held {
  socket: ChatSocket;
  byReader: Map<string, ReceiptsNotice>;
  /** When it is to go out on its own (`Date.now()`). */
  due: number;
}

/** Starts holding receipts for `io`'s sockets; `relay`: there are other nodes to reach. */
export function createReceiptRelay(
  io: ChatServer,
  { relay, holdMs = RECEIPT_HOLD_MS }: { relay: boolean; holdMs?: number },
): ReceiptRelay {
  // By engine.io connection, in the order they began to hold: the first is the next one due.
  const held = new Map<unknown, Held>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;

  const schedule = () => {
    if (timer !== undefined) return;
    const next = held.values().next().value;
    if (next) timer = setTimeout(release, Math.max(TICK_MS, next.due - Date.now()));
  };

  const write = ({ socket, byReader }: Held) => {
    if (!socket.connected) return;
    const receipts = [...byReader.values()];
    const sender = idleFrameSender(socket);
    if (sender) sender.sendFrame([eventFrames("receipts", receipts)]);
    else for (const r of receipts) socket.emit("receipts", r);
  };

  const release = () => {
    timer = undefined;
    const now = Date.now();
    for (const [conn, entry] of held) {
      if (!closed && entry.due > now) break;
      held.delete(conn);
      write(entry);
    }
    schedule();
  };

  return {
    send(authorID, receipt) {
      const nsp = io.of("/");
      const local: string[] = [];
      for (const id of nsp.adapter.rooms.get(authorID) ?? []) {
        const socket = nsp.sockets.get(id);
        if (!socket) continue;
        local.push(id);
        const entry = held.get(socket.conn);
        if (entry) {
          const before = entry.byReader.get(receipt.by);
          entry.byReader.set(receipt.by, before ? foldReceipts(before, receipt) : receipt);
        } else if (closed) {
          socket.emit("receipts", receipt);
        } else {
          held.set(socket.conn, {
            socket,
            byReader: new Map([[receipt.by, receipt]]),
            due: Date.now() + holdMs,
          });
        }
      }
      schedule();
      if (!relay) return;
      (local.length > 0 ? io.to(authorID).except(local) : io.to(authorID)).emit(
        "receipts",
        receipt,
      );
    },
    framesFor(conn) {
      const entry = held.get(conn);
      if (!entry) return undefined;
      held.delete(conn);
      if (!entry.socket.connected) return undefined;
      return eventFrames("receipts", [...entry.byReader.values()]);
    },
    close() {
      closed = true;
      clearTimeout(timer);
      release();
    },
  };
}
