/** Assembles a running server from a `Config`: store, chat domain, Socket.IO transport and HTTP routes. */

import { createServer, type Server as HttpServer } from "node:http";
import { Server } from "socket.io";
import { createTokenVerifier, signToken } from "./auth/tokens.ts";
import type { Config } from "./config.ts";
import { LocalPresence } from "./chat/presence.ts";
import { ChatService } from "./chat/service.ts";
import { originAllowed, originPolicy } from "./http/origin_policy.ts";
import { createHttpHandler } from "./http/routes.ts";
import type { Logger } from "./log.ts";
import { ServerMetrics } from "./metrics.ts";
import { KvPresence } from "./store/kv_presence.ts";
import { readyProbeKey } from "./store/keys.ts";
import { kvProbe } from "./store/probe.ts";
import { KvChatStore } from "./store/kv_store.ts";
import { migrate } from "./store/migrations.ts";
import { openKv } from "./store/open_kv.ts";
import { connectRedisAdapter, type RedisLink } from "./transport/redis_adapter.ts";
import { attachChat } from "./transport/socket.ts";
import type { ChatServer } from "./transport/types.ts";

/** A started server. */
export interface RunningServer {
  /** The port actually listened on (useful with `port: 0`). */
  port: number;
  /** `http://host:port`. */
  url: string;
  io: ChatServer;
  store: KvChatStore;
  /** Runs the periodic sweep now (abandoned accounts, then old messages); resolves when done. */
  sweep(): Promise<void>;
  /** What `/metrics` shows; undefined with `METRICS=off`. */
  metrics?: ServerMetrics;
  /**
   * Says not ready at once, goes on serving for `DRAIN_SECONDS`, then stops
   * accepting, disconnects clients, flushes pending writes and closes what it opened.
   */
  close(): Promise<void>;
}

/** What the server is given rather than configured with. */
export interface StartOptions {
  logger: Logger;
  /** An open KV to use instead of opening `config.kvPath`; it is not closed by `close()`. */
  kv?: Deno.Kv;
  /** The clock the sweeps judge ages by; `Date.now` unless given. */
  now?: () => number;
}

const DAY_MS = 24 * 60 * 60 * 1000;
// How often abandoned accounts are looked for; the first look is soon after start.
const SWEEP_INTERVAL_MS = 60 * 60 * 1000;
const FIRST_SWEEP_MS = 30_000;
// A KV write that takes longer than this says "not ready": a locked file waits 5 s.
const READY_PROBE_MS = 2000;

/** The two fixed users `/demo-token` signs for when `DEMO_AUTH=1`. */
export const DEMO_USERS: Readonly<Record<string, { sub: string; name: string }>> = {
  ada: { sub: "demo-ada", name: "Ada Lovelace" },
  grace: { sub: "demo-grace", name: "Grace Hopper" },
};
// Demo tokens are short-lived so that the widget's refresh is seen at work.
const DEMO_TOKEN_SECONDS = 10 * 60;

function listen(http: HttpServer, config: Config): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(config.port, config.host, () => {
      http.off("error", reject);
      resolve();
    });
  });
}

/** Starts the chat server described by `config`. */
export async function startServer(config: Config, options: StartOptions): Promise<RunningServer> {
  const { logger } = options;
  const kv = options.kv ?? await openKv(config.kvPath);
  try {
    await migrate(kv, { logger, sessionTtlMs: config.sessionTtlDays * DAY_MS });
  } catch (error) {
    if (!options.kv) kv.close();
    throw error;
  }
  // Read when scraped: `io`, `wiring` and `redis` exist by the time anyone can ask.
  const metrics = config.metrics
    ? new ServerMetrics({
      sockets: () => io.of("/").sockets.size,
      users: () => wiring.connectedUsers,
      redisConnected: config.redisUrl !== "" ? () => redis?.ready ?? false : undefined,
    })
    : undefined;
  const store = new KvChatStore(kv, { onCommit: metrics && ((info) => metrics.commit(info)) });
  // Set once `close()` is called: /readyz says so from then on.
  let closing: Promise<void> | undefined;
  const probeID = crypto.randomUUID();
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
    cluster = new KvPresence(kv, { ttlMs: config.presenceTtlSeconds * 1000, logger });
  }
  const presence = cluster ?? new LocalPresence();
  // The demo signs with AUTH_SECRET, or with a secret that lives as long as the process.
  const secret = config.authSecret !== "" || !config.demoAuth
    ? config.authSecret
    : btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
  if (config.demoAuth) {
    logger.warn(
      { event: "demo auth", users: Object.keys(DEMO_USERS) },
      "DEMO_AUTH=1: /demo-token signs tokens for anyone who asks; never use it in production",
    );
  }
  const verifier = secret !== "" || config.authJwksUrl !== ""
    ? createTokenVerifier({
      secret: secret !== "" ? secret : undefined,
      jwksUrl: config.authJwksUrl !== "" ? config.authJwksUrl : undefined,
      audience: config.authAudience || undefined,
      issuer: config.authIssuer || undefined,
    })
    : undefined;
  const chat = new ChatService({ store, presence, verifier }, {
    maxContentLength: config.maxContentLength,
    userListLimit: config.userListLimit,
    historyPageSize: config.historyPageSize,
    historyBudget: config.historyBudget,
    sessionTtlMs: config.sessionTtlDays * DAY_MS,
    accountTtlMs: config.accountTtlDays * DAY_MS,
    editWindowSeconds: config.editWindowSeconds,
    retentionMs: config.retentionDays * DAY_MS,
  });
  const now = options.now ?? Date.now;
  const startedAt = Date.now();
  const probeKv = kvProbe(kv, { key: readyProbeKey(probeID), timeoutMs: READY_PROBE_MS });
  const http: HttpServer = createServer(createHttpHandler({
    demoDir: config.demoDir,
    bundlePath: config.bundlePath,
    logger,
    metricsToken: config.metricsToken,
    metrics: metrics && (() => metrics.render()),
    readiness: async () => {
      const kvCheck = await probeKv();
      // Read after the probe: a shutdown may have begun meanwhile.
      const checks: Record<string, string> = {};
      if (closing) checks.server = "shutting down";
      checks.kv = kvCheck;
      if (redis) checks.redis = redis.ready ? "ok" : "not connected";
      const ready = !closing && checks.kv === "ok" && (!redis || redis.ready);
      return { ready, checks };
    },
    demoToken: config.demoAuth
      ? (user) => {
        const demo = DEMO_USERS[user];
        if (!demo) return null;
        return signToken({
          secret,
          ...demo,
          expiresInSeconds: DEMO_TOKEN_SECONDS,
          audience: config.authAudience || undefined,
          issuer: config.authIssuer || undefined,
        });
      }
      : undefined,
    health: () => ({
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
      sockets: io.engine.clientsCount,
      writes: store.writerStats,
      memory: Deno.memoryUsage(),
      ...(cluster
        ? { node: cluster.nodeID, redis: redis?.ready ? "up" : "down", relay: redis?.times }
        : {}),
    }),
  }));
  const io = new Server(http, {
    maxHttpBufferSize: config.maxPacketBytes,
    adapter: redis?.adapter,
    ...originPolicy(config.corsOrigins, config.publicUrl),
  }) as ChatServer;
  const wiring = attachChat(io, { chat, presence, logger, metrics }, {
    messageRate: config.messageRate,
    messageBurst: config.messageBurst,
    signupLimit: config.signupLimit,
    connectionsPerIp: config.connectionsPerIp,
    connectionsPerUser: config.connectionsPerUser,
    trustProxy: config.trustProxy,
    maxBufferedBytes: config.maxBufferedBytes,
    accountTtlDays: config.accountTtlDays,
    editWindowSeconds: config.editWindowSeconds,
    maxContentLength: config.maxContentLength,
    relay: redis,
    originAllowed: (headers) => originAllowed(config.corsOrigins, config.publicUrl, headers),
  });
  await cluster?.start({ onUsersGone: wiring.usersGone, onUsersBack: wiring.usersBack });

  let sweeping: Promise<void> | undefined;
  const sweep = () => {
    sweeping ??= chat.sweepAccounts(now()).then((deleted) => {
      if (deleted.length > 0) {
        logger.info(
          { event: "account sweep", deleted: deleted.length },
          "Deleted abandoned accounts",
        );
        wiring.usersDeleted(deleted);
      }
    }).catch((error) => {
      logger.error({ event: "account sweep", err: error }, "Sweeping abandoned accounts failed");
    }).then(() => chat.sweepMessages(now())).then((swept) => {
      if (swept && (swept.deleted > 0 || swept.skipped > 0)) {
        logger.info({ event: "retention", ...swept }, "Deleted old messages");
      }
    }).catch((error) => {
      logger.error({ event: "retention", err: error }, "Deleting old messages failed");
    }).finally(() => (sweeping = undefined));
    return sweeping;
  };
  const firstSweep = setTimeout(sweep, FIRST_SWEEP_MS);
  const sweeps = setInterval(sweep, SWEEP_INTERVAL_MS);
  Deno.unrefTimer(firstSweep);
  Deno.unrefTimer(sweeps);

  try {
    await listen(http, config);
  } catch (error) {
    // Stop heartbeats and Redis so a failed start leaves nothing running.
    clearTimeout(firstSweep);
    clearInterval(sweeps);
    await sweeping;
    await cluster?.close().catch(() => {});
    await redis?.close();
    metrics?.close();
    if (!options.kv) kv.close();
    throw error;
  }
  const address = http.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  const host = config.host.includes(":") ? `[${config.host}]` : config.host;

  return {
    port,
    url: `http://${host}:${port}`,
    io,
    store,
    sweep,
    metrics,
    close() {
      closing ??= (async () => {
        // Not ready from now on; serving on meanwhile lets a load balancer see it first.
        if (config.drainSeconds > 0) {
          await new Promise((resolve) => setTimeout(resolve, config.drainSeconds * 1000));
        }
        const closed = new Promise<void>((resolve) => io.close(() => resolve()));
        // Idle keep-alive connections would otherwise hold the HTTP server open;
        // busy ones get a moment to finish their response.
        http.closeIdleConnections();
        const force = setTimeout(() => http.closeAllConnections(), 2000);
        await closed;
        clearTimeout(force);
        clearTimeout(firstSweep);
        clearInterval(sweeps);
        await sweeping;
        wiring.close();
        // Users only this node held are gone: say so while Redis is still open.
        if (cluster) wiring.usersGone(await cluster.close());
        await store.close();
        await redis?.close();
        metrics?.close();
        if (!options.kv) kv.close();
      })();
      return closing;
    },
  };
}
