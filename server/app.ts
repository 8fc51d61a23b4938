/** Assembles a running server from a `Config`: KV, store, chat, HTTP and Socket.IO. */

import { createServer, type Server as HttpServer } from "node:http";
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { Server } from "socket.io";
import type { Config } from "./config.ts";
import { ChatService } from "./chat/service.ts";
import { LocalPresence, type Presence } from "./chat/presence.ts";
import { createHttpHandler } from "./http.ts";
import { attachChat, type ChatServer, type Logger } from "./socket.ts";
import { KvChatStore } from "./store/kv_store.ts";
import { retryLocked } from "./store/retry.ts";

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
export async function startServer(config: Config, options: StartOptions = {}): Promise<RunningServer> {
  const kv = options.kv ?? await openKv(config.kvPath);
  const store = new KvChatStore(kv);
  const presence: Presence = new LocalPresence();
  const chat = new ChatService({ store, presence }, {
    maxContentLength: config.maxContentLength,
    userListLimit: config.userListLimit,
    historyPageSize: config.historyPageSize,
    historyBudget: config.historyBudget,
    sessionTtlMs: config.sessionTtlDays * 24 * 60 * 60 * 1000,
  });
  const startedAt = Date.now();
  let io: ChatServer | undefined;
  const http: HttpServer = createServer(createHttpHandler({
    demoDir: config.demoDir,
    bundlePath: config.bundlePath,
    health: () => ({
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
      sockets: io?.engine.clientsCount ?? 0,
      writes: store.writerStats,
    }),
  }));
  const any = config.corsOrigins.includes("*");
  io = new Server(http, {
    maxHttpBufferSize: config.maxPacketBytes,
    cors: config.corsOrigins.length > 0 ? { origin: any ? true : config.corsOrigins } : undefined,
    allowRequest: (req, callback) => {
      const origin = req.headers.origin;
      // Browsers always send Origin cross-site; other clients are not subject to CORS.
      if (origin === undefined || any || config.corsOrigins.includes(origin)) return callback(null, true);
      let sameHost = false;
      try {
        sameHost = new URL(origin).host === req.headers.host;
      } catch {
        // A malformed Origin is refused below.
      }
      callback(sameHost ? null : "Origin not allowed", sameHost);
    },
  }) as ChatServer;
  attachChat(io, { chat, presence, logger: options.logger }, {
    messageRate: config.messageRate,
    messageBurst: config.messageBurst,
  });

  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(config.port, config.host, () => {
      http.off("error", reject);
      resolve();
    });
  });
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
        await new Promise<void>((resolve) => io!.close(() => resolve()));
        await store.close();
        if (!options.kv) kv.close();
      })();
      return closing;
    },
  };
}
