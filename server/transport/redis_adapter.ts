/**
 * The Socket.IO Redis Streams adapter over a `redis` client that survives Redis
 * going away: the node keeps serving its own sockets and reconnects forever.
 */

import { createAdapter } from "@socket.io/redis-streams-adapter";
import {
  ClientClosedError,
  ClientOfflineError,
  ConnectionTimeoutError,
  createClient,
  DisconnectsClientError,
  ErrorReply,
  SocketClosedUnexpectedlyError,
  SocketTimeoutError,
} from "redis";
import type { Logger } from "../log.ts";
import type { RoomRelay } from "./types.ts";

/** Options of `connectRedisAdapter()`. */
export interface RedisAdapterOptions {
  /** `redis://` or `rediss://` URL. */
  url: string;
  /** Stream name; also the prefix of the adapter's pub/sub channels, so deployments sharing a Redis stay apart. */
  streamName: string;
  /** Approximate longest length of the stream. */
  maxLen: number;
  /** How long a relay waits for Redis before it is delivered on this node only (ms). */
  publishTimeoutMs?: number;
  /** How long to wait for Redis at start before starting without it (ms). */
  connectTimeoutMs?: number;
  logger: Logger;
}

/** Where a cross-node message's time goes, medians and 99th percentiles of the latest 1,024, ms. */
export interface RelayTimes {
  /** This node's append to the stream (`XADD`), call to reply. */
  publishP50Ms: number;
  publishP99Ms: number;
  /** From Redis appending another node's message (the entry ID's time) to this node reading it. */
  readLagP50Ms: number;
  readLagP99Ms: number;
}

// Messages the relay times are drawn from.
const TIMED = 1024;

/** The latest `TIMED` durations, as a ring. */
class Durations {
  #ms = new Float64Array(TIMED);
  #count = 0;

  add(ms: number): void {
    this.#ms[this.#count++ % TIMED] = ms;
  }

  /** The `p`-th quantile of what the ring holds; 0 when it is empty. */
  quantile(p: number): number {
    const held = this.#ms.slice(0, Math.min(this.#count, TIMED)).sort();
    return held.length === 0 ? 0 : held[Math.min(held.length - 1, Math.floor(held.length * p))];
  }
}

/** A Redis connection and the adapter built on it. */
export interface RedisLink extends RoomRelay {
  /** For `new Server(http, { adapter })` or `io.adapter()`. */
  adapter: ReturnType<typeof createAdapter>;
  /** How long the stream takes, over the latest messages; see `RelayTimes`. */
  readonly times: RelayTimes;
  /** True while the publishing connection is up. */
  readonly ready: boolean;
  /** Closes the connection, waiting briefly for pending commands. */
  close(): Promise<void>;
}

// The part of an adapter message a relay reads (a broadcast's rooms and event).
interface RelayedMessage {
  uid?: string;
  nsp?: string;
  data?: { opts?: { rooms?: unknown }; packet?: { data?: unknown } };
}

// Retry every few hundred ms at first, then every 2 s, never giving up: a
// strategy that gives up closes the client, and every later command would
// then fail at once (the adapter's stream reader would spin on it).
function reconnectDelay(retries: number): number {
  return Math.min(100 * 2 ** retries, 2000) + Math.floor(Math.random() * 100);
}

const REDIS_ERRORS = [
  ClientClosedError,
  ClientOfflineError,
  ConnectionTimeoutError,
  DisconnectsClientError,
  ErrorReply,
  SocketClosedUnexpectedlyError,
  SocketTimeoutError,
];

/** True for the errors a Redis command fails with when Redis is away or refuses it. */
export function isRedisError(error: unknown): boolean {
  return REDIS_ERRORS.some((type) => error instanceof type);
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not answer within ${ms} ms`)), ms);
  });
  promise.catch(() => {}); // It may still fail after the timeout.
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** `url` without its password, for logs. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, "//***@");
}

/**
 * Connects to Redis and creates the adapter. Resolves once connected, or after
 * `connectTimeoutMs` without Redis: the node then starts serving its own
 * sockets and joins the cluster when Redis answers.
 */
export async function connectRedisAdapter(options: RedisAdapterOptions): Promise<RedisLink> {
  const logger = options.logger.child({ redis: redactUrl(options.url) });
  const client = createClient({
    url: options.url,
    // Commands fail at once while Redis is away instead of queueing: the adapter
    // awaits its publish before delivering to this node's own sockets, so a
    // queued publish would hold up local delivery for the whole outage.
    disableOfflineQueue: true,
    pingInterval: 10_000,
    socket: { reconnectStrategy: reconnectDelay, connectTimeout: 5000 },
  });
  // The adapter's reader and subscriber are duplicates: they do queue, so a
  // blocked XREAD waits for the reconnection instead of failing in a loop.
  const duplicate = client.duplicate.bind(client);
  // deno-lint-ignore no-explicit-any
  (client as any).duplicate = (overrides?: Record<string, unknown>) =>
    duplicate({ ...overrides, disableOfflineQueue: false });
  // A Redis that hangs with its connection open would hold every relay, local
  // ones included, for as long as it hangs: give up on the publish instead.
  const xAdd = client.xAdd.bind(client);
  const publishes = new Durations();
  const readLags = new Durations();
  // deno-lint-ignore no-explicit-any
  (client as any).xAdd = (...args: Parameters<typeof xAdd>) => {
    const started = performance.now();
    const added = withTimeout(xAdd(...args), options.publishTimeoutMs ?? 2000);
    added.then(() => publishes.add(performance.now() - started), () => {});
    return added;
  };

  let up = false;
  let lost = false;
  let closing: Promise<void> | undefined;
  client.on("error", (error: Error) => {
    // Emitted on every failed attempt; one line per outage is enough.
    if (lost) return;
    lost = true;
    up = false;
    logger.warn(
      { event: "redis", reason: error.message || error.name },
      "Redis unreachable: serving local sockets only, reconnecting",
    );
  });
  client.on("ready", () => {
    up = true;
    if (lost) logger.warn({ event: "redis" }, "Redis reachable again: cross-node delivery resumed");
    lost = false;
  });

  // The adapter leaves a few command promises unobserved (a pub/sub publish,
  // subscriptions of its duplicates); when Redis is away they reject, and an
  // unhandled rejection would end the process. Only Redis errors are caught.
  let unobserved = 0;
  const onUnhandled = (event: PromiseRejectionEvent) => {
    if (!isRedisError(event.reason)) return;
    event.preventDefault();
    if (unobserved++ === 0) {
      logger.warn(
        { event: "redis", reason: event.reason.message },
        "A Redis command failed unobserved: ignored",
      );
    }
  };
  globalThis.addEventListener("unhandledrejection", onUnhandled);

  const connected = client.connect().then(() => true, (error: unknown) => {
    // Only when closed while still connecting.
    if (!closing) logger.error({ event: "redis", err: error }, "Redis connection failed");
    return false;
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), options.connectTimeoutMs ?? 5000);
  });
  const ok = await Promise.race([connected, timedOut]);
  clearTimeout(timer);
  if (!ok && !lost) {
    lost = true;
    logger.warn(
      { event: "redis" },
      "Redis not reachable yet: serving local sockets only, reconnecting",
    );
  }

  const base = createAdapter(client, {
    streamName: options.streamName,
    channelPrefix: options.streamName,
    maxLen: options.maxLen,
    // Our payloads are JSON: skip the adapter's binary scan.
    onlyPlaintext: true,
  });
  // Broadcasts from other nodes to a relay room reach its handler, read from
  // the stream in order with every other broadcast of the sending node.
  const relays = new Map<string, (args: unknown[]) => void>();
  // Socket.IO calls it with `new`: a function (not an arrow) returning the instance.
  const adapter = function (nsp: Parameters<typeof base>[0]) {
    const instance = base(nsp);
    // deno-lint-ignore no-explicit-any
    const a = instance as any;
    const onMessage = a.onMessage.bind(a);
    a.onMessage = (message: RelayedMessage, offset?: string) => {
      // A stream entry's ID starts with the Redis clock's milliseconds at the append.
      const appendedAt = Number(offset?.split("-")[0]);
      if (message?.uid !== a.uid && Number.isFinite(appendedAt)) {
        readLags.add(Date.now() - appendedAt);
      }
      if (relays.size > 0 && message?.uid !== a.uid && message?.nsp === nsp.name) {
        const rooms = message.data?.opts?.rooms;
        const args = message.data?.packet?.data;
        if (Array.isArray(rooms) && Array.isArray(args)) {
          for (const room of rooms) {
            try {
              relays.get(room)?.(args);
            } catch (error) {
              // The adapter still gets the message; one bad relay never stops the stream.
              logger.error({ event: "relay", room: String(room), err: error }, "A relay failed");
            }
          }
        }
      }
      return onMessage(message, offset);
    };
    return instance;
  } as typeof base;

  return {
    adapter,
    listen(room, handler) {
      relays.set(room, handler);
    },
    get ready() {
      return up && client.isReady;
    },
    get times() {
      return {
        publishP50Ms: publishes.quantile(0.5),
        publishP99Ms: publishes.quantile(0.99),
        readLagP50Ms: readLags.quantile(0.5),
        readLagP99Ms: readLags.quantile(0.99),
      };
    },
    close() {
      closing ??= (async () => {
        let timeout: ReturnType<typeof setTimeout> | undefined;
        const gaveUp = new Promise<void>((resolve) => timeout = setTimeout(resolve, 2000));
        await Promise.race([client.close().catch(() => {}), gaveUp]);
        clearTimeout(timeout);
        try {
          client.destroy();
        } catch {
          // Already closed.
        }
        // Late rejections of the closing duplicates stay harmless for a moment,
        // without keeping the process alive.
        const late = setTimeout(
          () => globalThis.removeEventListener("unhandledrejection", onUnhandled),
          6000,
        );
        Deno.unrefTimer(late as unknown as number);
      })();
      return closing;
    },
  };
}
