/** Assembles a running server from a `Config`: KV, store, chat, HTTP and Socket.IO. */

import { createServer, type Server as HttpServer } from "node:http";
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { Server } from "socket.io";
import type { Config } from "./config.ts";
import { ChatService } from "./chat/service.ts";
import { LocalPresence } from "./chat/presence.ts";
import type { Presence } from "./chat/ports.ts";
import { createHttpHandler } from "./http/static_files.ts";
import type { Logger } from "./log.ts";
import { attachChat } from "./transport/socket.ts";
import type { ChatServer } from "./transport/types.ts";
import { KvChatStore } from "./store/kv_store.ts";
import { retryLocked } from "./store/retry.ts";
import { KvPresence } from "./store/kv_presence.ts";
import { connectRedisAdapter, type RedisLink } from "./transport/redis_adapter.ts";

/** A started server. */
export interface RunningServer {
  /** The port actually listened on (useful with `port: 0`). */
  port: number;
  /** `http://host:port`. */
  url: string;
  io: ChatServer;
  store: KvChatStore;
  /** Stops accepting, disconnects clients, flushes pending writes and closes KV. */
  close(): Promise<void>;
}

/** Options that are not configuration: injected parts, mostly for tests. */
export interface StartOptions {
  /** An open KV to use instead of opening `config.kvPath`; it is not closed by `close()`. */
  kv?: Deno.Kv;
  logger?: Logger;
}

/** Opens KV at a path, creating its folder; retried when another process is creating the same file. */
export async function openKv(path: string): Promise<Deno.Kv> {
  if (path !== ":memory:" && !/^https?:\/\//.test(path)) {
    await mkdir(dirname(path), { recursive: true });
  }
  return await retryLocked(() => Deno.openKv(path), { timeoutMs: 10_000 });
}

/** Starts the chat server described by `config`. */
export async function startServer(
  config: Config,
  options: StartOptions = {},
): Promise<RunningServer> {
  const kv = options.kv ?? await openKv(config.kvPath);
  const store = new KvChatStore(kv);
  const logger: Logger = options.logger ?? console;
  // With Redis, several nodes share KV: presence lives there, cluster-wide.
  let redis: RedisLink | undefined;
  let cluster: KvPresence | undefined;
  if (config.redisUrl !== "") {
    redis = await connectRedisAdapter({
      url: config.redisUrl,
      streamName: config.redisStreamName,
      maxLen: config.redisStreamMaxLen,
      logger,
    });
    // Its callbacks run from heartbeats, which start once `io` exists (below).
    cluster = new KvPresence(kv, {
      ttlMs: config.presenceTtlSeconds * 1000,
      logger,
      onUsersGone: (userIDs) => {
        for (const userID of userIDs) io.emit("user disconnected", userID);
      },
      onUsersBack: (userIDs) => {
        for (const userID of userIDs) {
          chat.getUser(userID).then((user) => {
            if (user) {
              io.emit("user connected", {
                userID,
                username: user.username,
                connected: true,
                messages: [],
              });
            }
          }).catch((error) => logger.error(`Announcing user ${userID} failed`, error));
        }
      },
    });
  }
  const presence: Presence = cluster ?? new LocalPresence();
  const chat = new ChatService({ store, presence }, {
    maxContentLength: config.maxContentLength,
    userListLimit: config.userListLimit,
    historyPageSize: config.historyPageSize,
    historyBudget: config.historyBudget,
    sessionTtlMs: config.sessionTtlDays * 24 * 60 * 60 * 1000,
  });
  const startedAt = Date.now();
  const http: HttpServer = createServer(createHttpHandler({
    demoDir: config.demoDir,
    bundlePath: config.bundlePath,
    health: () => ({
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
      sockets: io.engine.clientsCount,
      writes: store.writerStats,
      memory: Deno.memoryUsage(),
      ...(cluster ? { node: cluster.nodeID, redis: redis?.ready ? "up" : "down" } : {}),
    }),
  }));
  const any = config.corsOrigins.includes("*");
  const io = new Server(http, {
    maxHttpBufferSize: config.maxPacketBytes,
    adapter: redis?.adapter,
    cors: config.corsOrigins.length > 0 ? { origin: any ? true : config.corsOrigins } : undefined,
    allowRequest: (req, callback) => {
      const origin = req.headers.origin;
      // Browsers always send Origin cross-site; other clients are not subject to CORS.
      if (origin === undefined || any || config.corsOrigins.includes(origin)) {
        return callback(null, true);
      }
      let sameHost = false;
      try {
        sameHost = new URL(origin).host === req.headers.host;
      } catch {
        // A malformed Origin is refused below.
      }
      callback(sameHost ? null : "Origin not allowed", sameHost);
    },
  }) as ChatServer;
  const wiring = attachChat(io, { chat, presence, logger }, {
    messageRate: config.messageRate,
    messageBurst: config.messageBurst,
    maxContentLength: config.maxContentLength,
    relay: redis,
  });
  await cluster?.start();

  try {
    await new Promise<void>((resolve, reject) => {
      http.once("error", reject);
      http.listen(config.port, config.host, () => {
        http.off("error", reject);
        resolve();
      });
    });
  } catch (error) {
    // Stop heartbeats and Redis so a failed start leaves nothing running.
    await cluster?.close().catch(() => {});
    await redis?.close();
    throw error;
  }
  const address = http.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  const host = config.host.includes(":") ? `[${config.host}]` : config.host;

  let closing: Promise<void> | undefined;
  return {
    port,
    url: `http://${host}:${port}`,
    io,
    store,
    close() {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => io.close(() => resolve()));
        // Idle keep-alive connections would otherwise hold the HTTP server open;
        // busy ones get a moment to finish their response.
        http.closeIdleConnections();
        const force = setTimeout(() => http.closeAllConnections(), 2000);
        await closed;
        clearTimeout(force);
        wiring.close();
        if (cluster) {
          // Users only this node held are gone: say so while Redis is still open.
          for (const userID of await cluster.close()) io.emit("user disconnected", userID);
        }
        await store.close();
        await redis?.close();
        if (!options.kv) kv.close();
      })();
      return closing;
    },
  };
}
