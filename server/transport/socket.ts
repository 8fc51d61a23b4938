/** Socket.IO wiring: the auth middleware, event handlers -> chat domain, acks, rooms. */

import type { ClientToServerEvents, ConnectErrorData, ErrorCode, FailedAck } from "../protocol.ts";
import { ChatError, toWireError } from "../chat/errors.ts";
import type { Presence } from "../chat/ports.ts";
import type { ChatService } from "../chat/service.ts";
import type { Logger } from "../log.ts";
import { TokenBucket } from "./rate_limit.ts";
import { corkWebSocketBatches, createPresenceNotices } from "./presence_notices.ts";
import type { ChatServer, ChatSocket, RoomRelay, SocketData } from "./types.ts";

/** Per-socket rate limit of incoming events, and limits announced to clients. */
export interface SocketOptions {
  messageRate: number;
  messageBurst: number;
  /** Announced in `session`. */
  maxContentLength: number;
  /** How presence bursts reach the other nodes of a cluster, and theirs this one. */
  relay?: RoomRelay;
}

// Presence broadcasts of a burst of connects go out together; see presence_notices.ts.
// 25 ms up to 1,250 sockets, then growing so that bursts cost at most 50,000
// writes a second, up to 250 ms from 12,500 sockets.
const PRESENCE_DELAY = { delayMs: 25, writesPerSecond: 50_000, maxDelayMs: 250 };

const RATE_LIMITED: FailedAck = {
  ok: false,
  error: { code: "rate_limited", message: "Too many requests: slow down" },
};

/** Wires the chat onto `io`: auth middleware, connection handling, every event. */
export function attachChat(
  io: ChatServer,
  deps: { chat: ChatService; presence: Presence; logger?: Logger },
  options: SocketOptions,
): { close(): void } {
  const { chat, presence } = deps;
  const logger: Logger = deps.logger ?? console;
  const notices = createPresenceNotices(io, {
    ...PRESENCE_DELAY,
    relay: options.relay,
    onError: (error) => logger.error("Presence notices to other nodes failed", error),
  });
  corkWebSocketBatches(io);

  io.use(async (socket, next) => {
    try {
      socket.data = await chat.authenticate(socket.handshake.auth);
      next();
    } catch (error) {
      const wire = toWireError(error);
      if (!(error instanceof ChatError)) logger.error("Handshake failed", error);
      const err = new Error(wire.message) as Error & { data: ConnectErrorData };
      err.data = { code: wire.code };
      next(err);
    }
  });

  io.on("connection", (socket: ChatSocket) => {
    const { userID, username, sessionID } = socket.data;
    const bucket = new TokenBucket({ rate: options.messageRate, burst: options.messageBurst });
    const logged = new Set<ErrorCode>();

    // Registered before anything awaits, so no event of this socket is missed.
    const on = <T>(
      event: keyof ClientToServerEvents,
      run: (payload: unknown) => Promise<T>,
      reply: (result: T) => Record<string, unknown>,
    ) => {
      // deno-lint-ignore no-explicit-any
      (socket as any).on(event, async (...args: unknown[]) => {
        const ack = typeof args.at(-1) === "function"
          ? args.pop() as (r: unknown) => void
          : undefined;
        if (!bucket.take()) {
          if (ack) ack(RATE_LIMITED);
          else logOnce("rate_limited", event);
          return;
        }
        try {
          const result = await run(args[0]);
          ack?.({ ok: true, ...reply(result) });
        } catch (error) {
          const wire = toWireError(error);
          if (wire.code === "internal") {
            logger.error(`Event "${event}" from user ${userID} failed`, error);
          }
          if (ack) ack({ ok: false, error: wire });
          else logOnce(wire.code, event, wire.message);
        }
      });
    };
    const logOnce = (code: ErrorCode, event: string, message = "") => {
      if (logged.has(code)) return;
      logged.add(code);
      logger.warn(`Dropped "${event}" from user ${userID} (${code}) ${message}`.trimEnd());
    };

    socket.join(userID);

    on("private message", async (payload) => {
      const { message, duplicate } = await chat.send(userID, payload);
      // A duplicate was relayed when it was first stored. The recipient hears
      // `user connected` of a new sender before its first message.
      if (!duplicate) {
        notices.flush();
        socket.to(message.to).to(userID).emit("private message", message);
      }
      return message;
    }, (message) => ({ message }));

    on("load messages", (payload) => chat.loadMessages(userID, payload), (page) => ({ ...page }));

    on("messages read", async (payload) => {
      const notice = await chat.markRead(userID, payload);
      socket.to(userID).emit("messages read", notice);
      return notice;
    }, ({ unread }) => ({ unread }));

    on("logout", async () => {
      await chat.logout(sessionID);
      // Cluster-wide when the adapter can reach the other nodes, else this node's.
      const sockets: { id: string; data: SocketData; disconnect(close: boolean): unknown }[] =
        await io.in(userID).fetchSockets().catch((error) => {
          logger.warn(
            `Logout reaches this node only: ${error instanceof Error ? error.message : error}`,
          );
          return [...io.of("/").sockets.values()];
        });
      for (const s of sockets) {
        if (s.data.sessionID === sessionID && s.id !== socket.id) s.disconnect(true);
      }
      // Let the ack reach this socket before it is closed.
      setTimeout(() => socket.disconnect(true), 50);
      return null;
    }, () => ({}));

    const joined = presence.add(userID).then((first) => {
      if (first) notices.connected(socket.id, { userID, username, connected: true, messages: [] });
    }).catch((error) => logger.error(`Presence update for user ${userID} failed`, error));

    socket.on("disconnect", async () => {
      await joined;
      try {
        if (await presence.remove(userID)) notices.disconnected(userID);
      } catch (error) {
        logger.error(`Presence update for user ${userID} failed`, error);
      }
    });

    socket.emit("session", {
      sessionID,
      userID,
      username,
      maxContentLength: options.maxContentLength,
    });
    chat.usersFor(userID).then((users) => {
      if (socket.connected) socket.emit("users", users);
    }).catch((error) => {
      logger.error(`Listing users for user ${userID} failed`, error);
      socket.disconnect(true);
    });
  });

  return { close: notices.close };
}
