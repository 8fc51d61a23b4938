/** Socket.IO wiring: the auth middleware, event handlers -> chat domain, acks, rooms. */

import type { ClientToServerEvents, ConnectErrorData, ErrorCode, FailedAck } from "../protocol.ts";
import { ChatError, toWireError } from "../chat/errors.ts";
import type { Presence } from "../chat/ports.ts";
import type { ChatService } from "../chat/service.ts";
import { parseHandshake } from "../chat/validation.ts";
import type { Logger } from "../log.ts";
import type { ChatCounters } from "../metrics.ts";
import {
  addressGroup,
  clientAddress,
  ConnectionLimits,
  SignupLimits,
  UserRateLimits,
} from "./admission.ts";
import { createPresenceNotices, PRESENCE_DELAY } from "./presence_notices.ts";
import { createReceiptRelay } from "./receipt_relay.ts";
import { createTypingRelay } from "./typing_relay.ts";
import type { ChatServer, ChatSocket, RoomRelay, SocketData } from "./types.ts";
import { corkWebSocketBatches, dropSocket, unsentBytes } from "./ws_internals.ts";

/** Limits of incoming events and connections, and limits announced to clients. */
export interface SocketOptions {
  /** Events a second per user on this node, over all of the user's sockets. */
  messageRate: number;
  messageBurst: number;
  /** Sign-ups an hour per address (0: no limit). */
  signupLimit: number;
  /** Sockets per address and per user on this node (0: no limit). */
  connectionsPerIp: number;
  connectionsPerUser: number;
  /** Proxy hops whose `X-Forwarded-For` is trusted. */
  trustProxy: number;
  /** Unsent bytes a socket may queue before it is dropped. */
  maxBufferedBytes: number;
  /** Announced to anonymous users in `session`. */
  accountTtlDays: number;
  /** Announced in `session`. */
  editWindowSeconds: number;
  /** Announced in `session`. */
  maxContentLength: number;
  /** How presence bursts reach the other nodes of a cluster, and theirs this one. */
  relay?: RoomRelay;
  /**
   * Whether a page from the handshake's Origin may connect; a refused one is told so
   * (`origin_not_allowed`). Absent: every origin may.
   */
  originAllowed?: (headers: { origin?: string; host?: string }) => boolean;
}

/** What `attachChat()` leaves running. */
export interface ChatWiring {
  /** Tells everyone that these users left (their last socket was on a node that died). */
  usersGone(userIDs: readonly string[]): void;
  /** Tells everyone that these users, held by this node, are here (after it was declared dead). */
  usersBack(userIDs: readonly string[]): void;
  /**
   * Tells everyone, on every node, that these accounts were deleted, and
   * disconnects whatever sockets they still have.
   */
  usersDeleted(userIDs: readonly string[]): void;
  /** Users with at least one socket on this node. */
  readonly connectedUsers: number;
  /** Sends queued presence notices; later ones go out at once. */
  close(): void;
}

// How often every socket's unsent bytes are looked at.
const SLOW_CONSUMER_CHECK_MS = 1000;

const RATE_LIMITED: FailedAck = {
  ok: false,
  error: { code: "rate_limited", message: "Too many requests: slow down" },
};

/**
 * Wires the chat onto `io`: auth middleware, connection handling, every event;
 * counted in `deps.metrics` when given.
 */
export function attachChat(
  io: ChatServer,
  deps: { chat: ChatService; presence: Presence; logger: Logger; metrics?: ChatCounters },
  options: SocketOptions,
): ChatWiring {
  const { chat, presence, logger, metrics } = deps;
  const connections = new ConnectionLimits({
    perAddress: options.connectionsPerIp,
    perUser: options.connectionsPerUser,
  });
  const signups = new SignupLimits({ limit: options.signupLimit });
  const rates = new UserRateLimits({ rate: options.messageRate, burst: options.messageBurst });
  const pruning = setInterval(() => {
    signups.prune();
    rates.prune();
  }, 60_000);
  Deno.unrefTimer(pruning);
  // A client that stopped reading (while still answering pings) would otherwise
  // make its queue grow for as long as others write to it.
  const watching = setInterval(() => {
    for (const socket of io.of("/").sockets.values()) {
      const bytes = unsentBytes(socket);
      if (bytes > options.maxBufferedBytes) {
        logger.warn(
          { event: "slow consumer", userID: socket.data.userID, bytes },
          "Dropped a socket that stopped reading",
        );
        dropSocket(socket);
        metrics?.slowConsumerDropped();
      }
    }
  }, SLOW_CONSUMER_CHECK_MS);
  Deno.unrefTimer(watching);
  const notices = createPresenceNotices(io, { ...PRESENCE_DELAY, relay: options.relay, logger });
  const receipts = createReceiptRelay(io, { relay: options.relay !== undefined });
  const typing = createTypingRelay((from, to) => {
    chat.hearsTyping(from, to).then((hears) => {
      if (hears) io.to(to).emit("typing", { from });
    }, (error) => logger.error({ event: "typing", userID: from, err: error }, "Typing failed"));
  });
  // Held receipts ride along with the next packets their socket gets.
  corkWebSocketBatches(io, { framesBefore: receipts.framesFor });

  // Another node renamed or deleted a user: its cached record is stale here.
  io.on("user changed", (userID) => {
    if (typeof userID === "string") chat.forgetUser(userID);
  });
  const changed = (userID: string) => {
    chat.forgetUser(userID);
    if (!options.relay) return; // One process: no other node to tell.
    try {
      io.serverSideEmit("user changed", userID);
    } catch (error) {
      logger.warn({ event: "user changed", userID, err: error }, "Other nodes were not told");
    }
  };
  const deleted = (userIDs: readonly string[]) => {
    for (const userID of userIDs) {
      changed(userID);
      io.emit("user deleted", userID);
      io.in(userID).disconnectSockets(true);
    }
  };

  io.use(async (socket, next) => {
    try {
      if (options.originAllowed && !options.originAllowed(socket.handshake.headers)) {
        throw new ChatError(
          "origin_not_allowed",
          `Pages from ${
            String(socket.handshake.headers.origin).slice(0, 200)
          } may not connect (CORS_ORIGINS)`,
        );
      }
      const group = addressGroup(clientAddress(socket.handshake, options.trustProxy));
      const crowded = connections.refuseAddress(group);
      if (crowded) {
        metrics?.connectionRefused("per_address");
        throw new ChatError("rate_limited", crowded);
      }
      const handshake = parseHandshake(socket.handshake.auth);
      const { renamed, via, signedUp, ...session } = await chat.authenticate(handshake, {
        beforeSignUp() {
          const refused = signups.take(group);
          if (refused) {
            metrics?.rateLimited("signups");
            throw new ChatError("rate_limited", refused);
          }
        },
      });
      if (signedUp && via !== "session") metrics?.signup(via);
      const byAddress = connections.refuseAddress(group);
      const busy = byAddress ?? connections.refuseUser(session.userID);
      if (busy) {
        metrics?.connectionRefused(byAddress ? "per_address" : "per_user");
        throw new ChatError("rate_limited", busy);
      }
      // Counted until the connection closes, whether or not it gets as far as "connection".
      socket.conn.once("close", connections.hold(group, session.userID));
      socket.data = { ...session, batchPresence: handshake.batchPresence };
      if (renamed) {
        changed(session.userID);
        io.emit("user updated", { userID: session.userID, username: session.username });
      }
      metrics?.login(via);
      next();
    } catch (error) {
      const wire = toWireError(error);
      metrics?.handshakeRefused(wire.code);
      if (!(error instanceof ChatError)) {
        logger.error({ event: "handshake", code: wire.code, err: error }, "Handshake failed");
      }
      const err = new Error(wire.message) as Error & { data: ConnectErrorData };
      err.data = { code: wire.code };
      next(err);
    }
  });

  io.on("connection", (socket: ChatSocket) => {
    const { userID, username, sessionID, identity } = socket.data;
    const { bucket, release: releaseRate } = rates.hold(userID);
    const logged = new Set<ErrorCode>();

    // Registered before anything awaits, so no event of this socket is missed.
    const on = <T>(
      event: keyof ClientToServerEvents,
      run: (payload: unknown) => Promise<T>,
      reply: (result: T) => Record<string, unknown>,
    ) => {
      const isMessage = event === "private message";
      // deno-lint-ignore no-explicit-any
      (socket as any).on(event, async (...args: unknown[]) => {
        if (isMessage) metrics?.messageReceived();
        const ack = typeof args.at(-1) === "function"
          ? args.pop() as (r: unknown) => void
          : undefined;
        // Only an answered event has a time to measure.
        const arrived = metrics && ack ? performance.now() : 0;
        const answer = (result: unknown) => {
          ack!(result);
          metrics?.acked(event, (performance.now() - arrived) / 1000);
        };
        if (!bucket.take()) {
          metrics?.rateLimited("events");
          if (isMessage) metrics?.messageRefused("rate_limited");
          if (ack) answer(RATE_LIMITED);
          else logOnce("rate_limited", event);
          return;
        }
        try {
          const result = await run(args[0]);
          if (ack) answer({ ok: true, ...reply(result) });
        } catch (error) {
          const wire = toWireError(error);
          if (isMessage) metrics?.messageRefused(wire.code);
          if (wire.code === "internal") {
            logger.error({ event, userID, code: wire.code, err: error }, "Event failed");
          }
          if (ack) {
            // The client is told; the log hears of it only when asked for (LOG_LEVEL=debug).
            if (wire.code !== "internal" && logger.isLevelEnabled("debug")) {
              logger.debug({ event, userID, code: wire.code, reason: wire.message }, "Refused");
            }
            answer({ ok: false, error: wire });
          } else logOnce(wire.code, event, wire.message);
        }
      });
    };
    // An event without an ack has nobody to tell: the first drop of each kind is logged.
    const logOnce = (code: ErrorCode, event: string, reason?: string) => {
      if (logged.has(code)) return;
      logged.add(code);
      logger.warn({ event, userID, code, reason }, "Dropped an event without an ack");
    };

    socket.join(userID);

    on("private message", async (payload) => {
      const { message, duplicate } = await chat.send(userID, payload);
      // A duplicate was relayed when it was first stored. The recipient hears
      // `user connected` of a new sender before its first message.
      if (duplicate) {
        metrics?.messageDuplicate();
      } else {
        metrics?.messageStored();
        typing.drop(userID, message.to);
        notices.flush();
        socket.to(message.to).to(userID).emit("private message", message);
        metrics?.messageRelayed();
      }
      return message;
    }, (message) => ({ message }));

    // Typing is never stored and never answered: a refused one is dropped silently.
    // deno-lint-ignore no-explicit-any
    (socket as any).on("typing", (payload: unknown) => {
      if (!bucket.take()) {
        metrics?.rateLimited("events");
        return;
      }
      let to: string;
      try {
        to = chat.typingTarget(payload);
      } catch {
        return;
      }
      if (to !== userID) typing.hold(userID, to);
    });

    on("messages delivered", async (payload) => {
      const receipt = await chat.delivered(userID, payload);
      if (receipt) receipts.send((payload as { with: string }).with, receipt);
      return null;
    }, () => ({}));

    for (
      const [event, change] of [
        ["edit message", chat.editMessage],
        ["delete message", chat.deleteMessage],
      ] as const
    ) {
      on(event, async (payload) => {
        const message = await change.call(chat, userID, payload);
        io.to(message.from).to(message.to).emit("message updated", { message });
        return message;
      }, (message) => ({ message }));
    }

    for (const [event, blocked] of [["block user", true], ["unblock user", false]] as const) {
      on(event, async (payload) => {
        const notice = await chat.setBlock(userID, payload, blocked);
        socket.to(userID).emit("user blocked", notice);
        changed(userID);
        return null;
      }, () => ({}));
    }

    on("preferences", async (payload) => {
      const preferences = await chat.setPreferences(userID, payload);
      socket.to(userID).emit("preferences", preferences);
      changed(userID);
      return preferences;
    }, (preferences) => ({ preferences }));

    on("search users", (payload) => chat.searchUsers(userID, payload), (page) => ({ ...page }));

    on("load messages", (payload) => chat.loadMessages(userID, payload), (page) => ({ ...page }));

    on("messages read", async (payload) => {
      const notice = await chat.markRead(userID, payload);
      socket.to(userID).emit("messages read", notice);
      const receipt = await chat.seen(userID, notice);
      if (receipt) receipts.send(notice.with, receipt);
      return notice;
    }, ({ unread }) => ({ unread }));

    on("logout", async () => {
      await chat.logout(sessionID, userID);
      // Cluster-wide when the adapter can reach the other nodes, else this node's.
      const sockets: { id: string; data: SocketData; disconnect(close: boolean): unknown }[] =
        await io.in(userID).fetchSockets().catch((error) => {
          logger.warn({ event: "logout", userID, err: error }, "Logout reaches this node only");
          return [...io.of("/").sockets.values()];
        });
      // A host-signed user has no session of its own: only this socket leaves.
      for (const s of sockets) {
        if (sessionID !== "" && s.data.sessionID === sessionID && s.id !== socket.id) {
          s.disconnect(true);
        }
      }
      // Let the ack reach this socket before it is closed.
      setTimeout(() => socket.disconnect(true), 50);
      return null;
    }, () => ({}));

    on("delete account", async (payload) => {
      await chat.deleteAccount(userID, payload);
      // Let the ack reach this socket before the user's sockets are closed.
      setTimeout(() => deleted([userID]), 50);
      return null;
    }, () => ({}));

    const joined = presence.add(userID).then((first) => {
      if (first) notices.connected(socket.id, { userID, username, connected: true, messages: [] });
    }).catch((error) =>
      logger.error({ event: "connect", userID, err: error }, "Presence update failed")
    );

    socket.on("disconnect", async () => {
      releaseRate();
      await joined;
      try {
        if (await presence.remove(userID)) {
          notices.disconnected(userID, await chat.userLeft(userID));
        }
      } catch (error) {
        logger.error({ event: "disconnect", userID, err: error }, "Presence update failed");
      }
    });

    chat.preferencesOf(userID).then((preferences) => {
      if (!socket.connected) return;
      socket.emit("session", {
        sessionID,
        userID,
        username,
        identity,
        maxContentLength: options.maxContentLength,
        ...(identity === "anonymous" ? { accountTtlDays: options.accountTtlDays } : {}),
        editWindowSeconds: options.editWindowSeconds,
        preferences,
      });
      return chat.usersFor(userID);
    }).then((users) => {
      if (!users) return;
      if (socket.connected) socket.emit("users", users);
    }).catch((error) => {
      logger.error({ event: "users", userID, err: error }, "Listing users failed");
      socket.disconnect(true);
    });
  });

  return {
    usersGone(userIDs) {
      for (const userID of userIDs) notices.disconnected(userID);
    },
    usersBack(userIDs) {
      for (const userID of userIDs) {
        chat.getUser(userID).then((user) => {
          // One of the user's own sockets here, which knows it is connected; none left
          // means the user has gone again, and that is announced when the socket closes.
          const own = io.of("/").adapter.rooms.get(userID)?.values().next().value;
          if (user && own !== undefined) {
            notices.connected(own, {
              userID,
              username: user.username,
              connected: true,
              messages: [],
            });
          }
        }).catch((error) =>
          logger.error({ event: "presence", userID, err: error }, "Announcing a user failed")
        );
      }
    },
    usersDeleted: deleted,
    get connectedUsers() {
      return connections.counts.users;
    },
    close() {
      typing.close();
      receipts.close();
      clearInterval(pruning);
      clearInterval(watching);
      notices.close();
    },
  };
}
