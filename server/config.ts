/** Server configuration: environment variables -> a validated, typed `Config`. */

import { LIMITS } from "./protocol.ts";

/** Everything the server can be configured with. */
export interface Config {
  /** TCP port; 0 picks a free one. */
  port: number;
  /** Interface to listen on. */
  host: string;
  /** KV file path, `:memory:`, or a KV Connect URL. */
  kvPath: string;
  /** Origins allowed to connect besides the server's own; `["*"]` allows any. */
  corsOrigins: string[];
  /** Longest message content in UTF-16 code units. */
  maxContentLength: number;
  /** Most users listed in `users`. */
  userListLimit: number;
  /** Messages per conversation in `users`. */
  historyPageSize: number;
  /** Messages across all conversations in `users`. */
  historyBudget: number;
  /** Sustained events per second allowed per socket; 0 disables rate limiting. */
  messageRate: number;
  /** Events a socket may send in a burst. */
  messageBurst: number;
  /** Days a session stays valid after its last use. */
  sessionTtlDays: number;
  /** Largest Socket.IO packet in bytes. */
  maxPacketBytes: number;
  /** Redis URL for multi-node operation; empty for a single process. */
  redisUrl: string;
  /** Redis stream the adapter uses. */
  redisStreamName: string;
  /** Approximate longest length of the Redis stream. */
  redisStreamMaxLen: number;
  /** Seconds without a heartbeat after which a cluster node's users count as offline. */
  presenceTtlSeconds: number;
  /** Folder served at `/`. */
  demoDir: string;
  /** Widget bundle served at `/chat-widget.js`. */
  bundlePath: string;
}

/** The names `loadConfig()` reads, for scoped `--allow-env`. */
export const CONFIG_ENV_NAMES = [
  "PORT",
  "HOST",
  "KV_PATH",
  "CORS_ORIGINS",
  "MAX_CONTENT_LENGTH",
  "USER_LIST_LIMIT",
  "HISTORY_PAGE_SIZE",
  "HISTORY_BUDGET",
  "MESSAGE_RATE",
  "MESSAGE_BURST",
  "SESSION_TTL_DAYS",
  "MAX_PACKET_BYTES",
  "REDIS_URL",
  "REDIS_STREAM_NAME",
  "REDIS_STREAM_MAX_LEN",
  "PRESENCE_TTL_SECONDS",
  "DEMO_DIR",
  "BUNDLE_PATH",
] as const;

/** Values used when a variable is unset or empty. */
export const DEFAULT_CONFIG: Config = {
  port: 3000,
  host: "127.0.0.1",
  kvPath: "./data/chat.kv",
  corsOrigins: [],
  maxContentLength: LIMITS.maxContentLength,
  userListLimit: 200,
  historyPageSize: 30,
  historyBudget: 300,
  messageRate: 20,
  messageBurst: 100,
  sessionTtlDays: 30,
  maxPacketBytes: 256 * 1024,
  redisUrl: "",
  redisStreamName: "chat-widget",
  redisStreamMaxLen: 10_000,
  presenceTtlSeconds: 15,
  demoDir: "./demo",
  bundlePath: "./dist/chat-widget.js",
};

// A KV value holds at most 64 KiB; content is UTF-8, up to 3 bytes per code unit.
const MAX_CONTENT_CEILING = 20_000;

function parseInteger(
  name: string,
  raw: string,
  range: { min: number; max: number },
): number {
  if (!/^\d+$/.test(raw)) {
    throw new TypeError(`Cannot parse ${name} "${raw}": not a whole number`);
  }
  const value = Number(raw);
  if (value < range.min || value > range.max) {
    throw new RangeError(
      `Cannot use ${name} "${raw}": must be between ${range.min} and ${range.max}`,
    );
  }
  return value;
}

function parseOrigins(raw: string): string[] {
  const origins = raw.split(",").map((s) => s.trim()).filter((s) => s !== "");
  return origins.map((origin) => {
    if (origin === "*") return origin;
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      throw new TypeError(
        `Cannot parse CORS_ORIGINS entry "${origin}": not a URL`,
      );
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new TypeError(
        `Cannot use CORS_ORIGINS entry "${origin}": must be http or https`,
      );
    }
    if (url.origin !== origin.replace(/\/$/, "")) {
      throw new TypeError(
        `Cannot use CORS_ORIGINS entry "${origin}": must be an origin like "${url.origin}", without a path`,
      );
    }
    return url.origin;
  });
}

function parseKvPath(raw: string): string {
  if (raw === ":memory:") return raw;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) {
    const url = new URL(raw);
    if (url.protocol !== "https:" && url.protocol !== "http:") {
      throw new TypeError(
        `Cannot use KV_PATH "${raw}": a URL must be a KV Connect http(s) URL`,
      );
    }
    return raw;
  }
  if (raw.endsWith("/")) {
    throw new TypeError(`Cannot use KV_PATH "${raw}": names a folder, not a file`);
  }
  return raw;
}

/**
 * Builds a `Config` from environment variables, throwing a `TypeError` or
 * `RangeError` that names the variable and its value when one is invalid.
 */
export function loadConfig(
  env: Record<string, string | undefined>,
): Config {
  const get = (name: (typeof CONFIG_ENV_NAMES)[number]) => {
    const value = env[name]?.trim();
    return value === undefined || value === "" ? undefined : value;
  };
  const int = (
    name: (typeof CONFIG_ENV_NAMES)[number],
    fallback: number,
    range: { min: number; max: number },
  ) => {
    const raw = get(name);
    return raw === undefined ? fallback : parseInteger(name, raw, range);
  };
  const d = DEFAULT_CONFIG;
  const config: Config = {
    port: int("PORT", d.port, { min: 0, max: 65535 }),
    host: get("HOST") ?? d.host,
    kvPath: parseKvPath(get("KV_PATH") ?? d.kvPath),
    corsOrigins: parseOrigins(get("CORS_ORIGINS") ?? ""),
    maxContentLength: int("MAX_CONTENT_LENGTH", d.maxContentLength, {
      min: 1,
      max: MAX_CONTENT_CEILING,
    }),
    userListLimit: int("USER_LIST_LIMIT", d.userListLimit, {
      min: 1,
      max: 10_000,
    }),
    historyPageSize: int("HISTORY_PAGE_SIZE", d.historyPageSize, {
      min: 1,
      max: LIMITS.maxPageSize,
    }),
    historyBudget: int("HISTORY_BUDGET", d.historyBudget, {
      min: 0,
      max: 100_000,
    }),
    messageRate: int("MESSAGE_RATE", d.messageRate, { min: 0, max: 1_000_000 }),
    messageBurst: int("MESSAGE_BURST", d.messageBurst, {
      min: 1,
      max: 1_000_000,
    }),
    sessionTtlDays: int("SESSION_TTL_DAYS", d.sessionTtlDays, {
      min: 1,
      max: 3650,
    }),
    maxPacketBytes: int("MAX_PACKET_BYTES", d.maxPacketBytes, {
      min: 16 * 1024,
      max: 16 * 1024 * 1024,
    }),
    redisUrl: get("REDIS_URL") ?? d.redisUrl,
    redisStreamName: get("REDIS_STREAM_NAME") ?? d.redisStreamName,
    redisStreamMaxLen: int("REDIS_STREAM_MAX_LEN", d.redisStreamMaxLen, {
      min: 100,
      max: 10_000_000,
    }),
    presenceTtlSeconds: int("PRESENCE_TTL_SECONDS", d.presenceTtlSeconds, { min: 2, max: 3600 }),
    demoDir: get("DEMO_DIR") ?? d.demoDir,
    bundlePath: get("BUNDLE_PATH") ?? d.bundlePath,
  };
  if (!/^[A-Za-z0-9.:\-\[\]]+$/.test(config.host)) {
    throw new TypeError(`Cannot use HOST "${config.host}": not a host name or address`);
  }
  if (config.redisUrl !== "") {
    let url: URL;
    try {
      url = new URL(config.redisUrl);
    } catch {
      throw new TypeError(`Cannot parse REDIS_URL "${config.redisUrl}": not a URL`);
    }
    if (url.protocol !== "redis:" && url.protocol !== "rediss:") {
      throw new TypeError(
        `Cannot use REDIS_URL "${config.redisUrl}": must start with redis:// or rediss://`,
      );
    }
  }
  if (!/^[A-Za-z0-9_.:\-]{1,100}$/.test(config.redisStreamName)) {
    throw new TypeError(
      `Cannot use REDIS_STREAM_NAME "${config.redisStreamName}": use up to 100 letters, digits and _ . : -`,
    );
  }
  return config;
}
