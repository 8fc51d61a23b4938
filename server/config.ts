/**
 * Server configuration: environment variables -> a validated, typed `Config`.
 * `SETTINGS` is the one table of every setting; `--help` prints it.
 */

import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from "./log.ts";
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
  /** Days an anonymous account with no live session is kept; 0 keeps it forever. */
  accountTtlDays: number;
  /** Days a message is kept; 0 keeps messages forever. */
  retentionDays: number;
  /** Seconds after sending during which a message may be edited or deleted; 0: never. */
  editWindowSeconds: number;
  /** HS256 secret host sites sign tokens with; "" for none. */
  authSecret: string;
  /** URL of the host site's JWKS (RS256/ES256); "" for none. */
  authJwksUrl: string;
  /** Required `aud` of tokens; "" for any. */
  authAudience: string;
  /** Required `iss` of tokens; "" for any. */
  authIssuer: string;
  /** Serve `/demo-token` for the signed-in demo page (never in production). */
  demoAuth: boolean;
  /** Largest Socket.IO packet in bytes. */
  maxPacketBytes: number;
  /** Sign-ups allowed per client address per hour; 0 disables the limit. */
  signupLimit: number;
  /** Open sockets allowed per client address on a node; 0 disables the limit. */
  connectionsPerIp: number;
  /** Open sockets allowed per user on a node; 0 disables the limit. */
  connectionsPerUser: number;
  /** Proxy hops whose `X-Forwarded-For` is trusted for the client address; 0 trusts none. */
  trustProxy: number;
  /** Unsent bytes a socket may have queued before it is disconnected. */
  maxBufferedBytes: number;
  /** The public origin pages are served from; "" to allow the request's own Host. */
  publicUrl: string;
  /** Serve `/metrics` and count what it shows; off only to measure what counting costs. */
  metrics: boolean;
  /** Bearer token for `/metrics` and the full `/health`; "" leaves `/metrics` open and shows only `{status}`. */
  metricsToken: string;
  /** Redis URL for multi-node operation; empty for a single process. */
  redisUrl: string;
  /** Redis stream the adapter uses. */
  redisStreamName: string;
  /** Approximate longest length of the Redis stream. */
  redisStreamMaxLen: number;
  /** Seconds without a heartbeat after which a cluster node's users count as offline. */
  presenceTtlSeconds: number;
  /** Seconds a stopping server goes on serving, not ready, before it disconnects its clients. */
  drainSeconds: number;
  /** Folder served at `/`. */
  demoDir: string;
  /** Widget bundle served at `/chat-widget.js`. */
  bundlePath: string;
  /** Least severe log level written. */
  logLevel: LogLevel;
  /** Log lines as JSON objects, readable text, or text on a terminal only. */
  logFormat: LogFormat;
}

/** One environment variable: the `Config` field it sets, its default, what it means, how it is read. */
export interface Setting<T> {
  env: string;
  default: T;
  /** The default as `--help` shows it. */
  shown: string;
  /** What the setting does, in one line. */
  doc: string;
  /** Reads a non-empty value; throws a `TypeError` or `RangeError` naming `env` and the value. */
  parse(raw: string, env: string): T;
}

/** What each reader of a value accepts, in words, for `--help` and the documentation. */
const ALLOWED = new WeakMap<object, string>();

/** Notes what `parse` accepts, and returns it. */
function accepts<F extends (raw: string, env: string) => unknown>(allowed: string, parse: F): F {
  ALLOWED.set(parse, allowed);
  return parse;
}

/** What a setting accepts, in words. */
export function allowedValues(setting: Setting<unknown>): string {
  return ALLOWED.get(setting.parse) ?? "text";
}

function integer(min: number, max: number): (raw: string, env: string) => number {
  return accepts(`${min} to ${max}`, (raw, env) => {
    if (!/^\d+$/.test(raw)) throw new TypeError(`Cannot parse ${env} "${raw}": not a whole number`);
    const value = Number(raw);
    if (value < min || value > max) {
      throw new RangeError(`Cannot use ${env} "${raw}": must be between ${min} and ${max}`);
    }
    return value;
  });
}

function text(raw: string): string {
  return raw;
}

function oneOf<T extends string>(values: readonly T[]): (raw: string, env: string) => T {
  return accepts(values.join(", "), (raw, env) => {
    if (!(values as readonly string[]).includes(raw)) {
      throw new TypeError(`Cannot use ${env} "${raw}": must be one of ${values.join(", ")}`);
    }
    return raw as T;
  });
}

function onOff(raw: string, env: string): boolean {
  if (raw === "on") return true;
  if (raw === "off") return false;
  throw new TypeError(`Cannot use ${env} "${raw}": must be on or off`);
}

function flag(raw: string, env: string): boolean {
  if (raw === "1" || raw === "true") return true;
  if (raw === "0" || raw === "false") return false;
  throw new TypeError(`Cannot use ${env} "${raw}": must be 1 or 0`);
}

// The secret itself never appears in an error message.
function parseSecret(raw: string, env: string): string {
  if (raw.length < 32) {
    throw new RangeError(
      `Cannot use ${env}: it has ${raw.length} characters, at least 32 are needed (256 bits for HS256)`,
    );
  }
  return raw;
}

function url(raw: string, env: string): URL {
  try {
    return new URL(raw);
  } catch {
    throw new TypeError(`Cannot parse ${env} "${raw}": not a URL`);
  }
}

function parseHttpsUrl(raw: string, env: string): string {
  const parsed = url(raw, env);
  const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(parsed.hostname);
  if (parsed.protocol !== "https:" && !(parsed.protocol === "http:" && loopback)) {
    throw new TypeError(`Cannot use ${env} "${raw}": must be https (http only on loopback)`);
  }
  return raw;
}

function parsePublicUrl(raw: string, env: string): string {
  const parsed = url(raw, env);
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
    throw new TypeError(`Cannot use ${env} "${raw}": must be an http or https URL`);
  }
  return parsed.origin;
}

// The token itself never appears in an error message.
function parseMetricsToken(raw: string, env: string): string {
  if (raw.length < 16 || /\s/.test(raw)) {
    throw new RangeError(`Cannot use ${env}: must be at least 16 characters without spaces`);
  }
  return raw;
}

function parseParts(raw: string, env: string): string {
  if (/\p{Cc}/u.test(raw) || raw.length > 512) {
    throw new TypeError(
      `Cannot use ${env}: must be up to 512 characters without control characters`,
    );
  }
  return raw;
}

function parseHost(raw: string, env: string): string {
  if (!/^[A-Za-z0-9.:\-\[\]]+$/.test(raw)) {
    throw new TypeError(`Cannot use ${env} "${raw}": not a host name or address`);
  }
  return raw;
}

function parseOrigins(raw: string, env: string): string[] {
  const origins = raw.split(",").map((s) => s.trim()).filter((s) => s !== "");
  return origins.map((origin) => {
    if (origin === "*") return origin;
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      throw new TypeError(`Cannot parse ${env} entry "${origin}": not a URL`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new TypeError(`Cannot use ${env} entry "${origin}": must be http or https`);
    }
    if (url.origin !== origin.replace(/\/$/, "")) {
      throw new TypeError(
        `Cannot use ${env} entry "${origin}": must be an origin like "${url.origin}", without a path`,
      );
    }
    return url.origin;
  });
}

function parseKvPath(raw: string, env: string): string {
  if (raw === ":memory:") return raw;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) {
    const url = new URL(raw);
    if (url.protocol !== "https:" && url.protocol !== "http:") {
      throw new TypeError(`Cannot use ${env} "${raw}": a URL must be a KV Connect http(s) URL`);
    }
    return raw;
  }
  if (raw.endsWith("/")) {
    throw new TypeError(`Cannot use ${env} "${raw}": names a folder, not a file`);
  }
  return raw;
}

function parseRedisUrl(raw: string, env: string): string {
  const { protocol } = url(raw, env);
  if (protocol !== "redis:" && protocol !== "rediss:") {
    throw new TypeError(`Cannot use ${env} "${raw}": must start with redis:// or rediss://`);
  }
  return raw;
}

function parseStreamName(raw: string, env: string): string {
  if (!/^[A-Za-z0-9_.:\-]{1,100}$/.test(raw)) {
    throw new TypeError(
      `Cannot use ${env} "${raw}": use up to 100 letters, digits and _ . : -`,
    );
  }
  return raw;
}

accepts("any text", text);
accepts("1 or 0 (true, false)", flag);
accepts("on or off", onOff);
accepts("32 characters or more", parseSecret);
accepts("an https URL (http on loopback)", parseHttpsUrl);
accepts("an http(s) URL; its origin is kept", parsePublicUrl);
accepts("16 characters or more, no spaces", parseMetricsToken);
accepts("up to 512 characters, no control characters", parseParts);
accepts("a host name or IP address", parseHost);
accepts("origins, comma-separated, or *", parseOrigins);
accepts("a file path, :memory:, or a KV Connect URL", parseKvPath);
accepts("a redis:// or rediss:// URL", parseRedisUrl);
accepts("up to 100 of A-Z a-z 0-9 _ . : -", parseStreamName);

// A KV value holds at most 64 KiB; content is UTF-8, up to 3 bytes per code unit.
const MAX_CONTENT_CEILING = 20_000;

/** Every setting, in the order `--help` and the documentation list them. */
export const SETTINGS: { readonly [K in keyof Config]: Setting<Config[K]> } = {
  port: {
    env: "PORT",
    default: 3000,
    shown: "3000",
    doc: "TCP port (0: any free port)",
    parse: integer(0, 65535),
  },
  host: {
    env: "HOST",
    default: "127.0.0.1",
    shown: "127.0.0.1",
    doc: "Interface to listen on (0.0.0.0 for all)",
    parse: parseHost,
  },
  kvPath: {
    env: "KV_PATH",
    default: "./data/chat.kv",
    shown: "./data/chat.kv",
    doc: "Deno KV file (created on first run), :memory:, or a KV Connect URL",
    parse: parseKvPath,
  },
  corsOrigins: {
    env: "CORS_ORIGINS",
    default: [],
    shown: "(same origin only)",
    doc: "Comma-separated origins whose pages may connect; * for any",
    parse: parseOrigins,
  },
  maxContentLength: {
    env: "MAX_CONTENT_LENGTH",
    default: LIMITS.maxContentLength,
    shown: String(LIMITS.maxContentLength),
    doc: `Longest message, in characters (at most ${MAX_CONTENT_CEILING})`,
    parse: integer(1, MAX_CONTENT_CEILING),
  },
  userListLimit: {
    env: "USER_LIST_LIMIT",
    default: 200,
    shown: "200",
    doc: "Most users in the users list: self, partners, online users, then others",
    parse: integer(1, 10_000),
  },
  historyPageSize: {
    env: "HISTORY_PAGE_SIZE",
    default: 30,
    shown: "30",
    doc: "Messages per conversation sent on connect",
    parse: integer(1, LIMITS.maxPageSize),
  },
  historyBudget: {
    env: "HISTORY_BUDGET",
    default: 300,
    shown: "300",
    doc: "Messages over all conversations sent on connect, most recent conversations first",
    parse: integer(0, 100_000),
  },
  messageRate: {
    env: "MESSAGE_RATE",
    default: 20,
    shown: "20",
    doc: "Events per second a socket may send, sustained (0: no limit)",
    parse: integer(0, 1_000_000),
  },
  messageBurst: {
    env: "MESSAGE_BURST",
    default: 100,
    shown: "100",
    doc: "Events a socket may send at once before the rate applies",
    parse: integer(1, 1_000_000),
  },
  sessionTtlDays: {
    env: "SESSION_TTL_DAYS",
    default: 30,
    shown: "30",
    doc: "A session unused this many days expires",
    parse: integer(1, 3650),
  },
  accountTtlDays: {
    env: "ACCOUNT_TTL_DAYS",
    default: 90,
    shown: "90",
    doc: "An anonymous account with no live session this many days is deleted (0: never)",
    parse: integer(0, 36500),
  },
  retentionDays: {
    env: "RETENTION_DAYS",
    default: 0,
    shown: "0",
    doc: "Messages older than this many days are deleted, hourly (0: kept forever)",
    parse: integer(0, 36500),
  },
  editWindowSeconds: {
    env: "EDIT_WINDOW_SECONDS",
    default: 900,
    shown: "900",
    doc: "Seconds after sending during which its sender may edit or delete a message (0: never)",
    parse: integer(0, 31_536_000),
  },
  authSecret: {
    env: "AUTH_SECRET",
    default: "",
    shown: "(anonymous usernames)",
    doc: "HS256 secret the host site signs tokens with; switches on host identity",
    parse: parseSecret,
  },
  authJwksUrl: {
    env: "AUTH_JWKS_URL",
    default: "",
    shown: "(none)",
    doc: "JWKS URL of the host site's RS256/ES256 keys; switches on host identity",
    parse: parseHttpsUrl,
  },
  authAudience: {
    env: "AUTH_AUDIENCE",
    default: "",
    shown: "(any)",
    doc: "The aud a token must carry",
    parse: parseParts,
  },
  authIssuer: {
    env: "AUTH_ISSUER",
    default: "",
    shown: "(any)",
    doc: "The iss a token must carry",
    parse: parseParts,
  },
  demoAuth: {
    env: "DEMO_AUTH",
    default: false,
    shown: "0",
    doc:
      "1: serve /demo-token, signing tokens for two demo users (AUTH_SECRET, else a random one); a demo, never production",
    parse: flag,
  },
  maxPacketBytes: {
    env: "MAX_PACKET_BYTES",
    default: 256 * 1024,
    shown: String(256 * 1024),
    doc: "Largest Socket.IO packet; a larger one closes that connection",
    parse: integer(16 * 1024, 16 * 1024 * 1024),
  },
  signupLimit: {
    env: "SIGNUP_LIMIT",
    default: 20,
    shown: "20",
    doc: "Sign-ups per client address per hour (0: no limit)",
    parse: integer(0, 1_000_000),
  },
  connectionsPerIp: {
    env: "CONNECTIONS_PER_IP",
    default: 50,
    shown: "50",
    doc: "Open sockets per client address on a node (0: no limit)",
    parse: integer(0, 1_000_000),
  },
  connectionsPerUser: {
    env: "CONNECTIONS_PER_USER",
    default: 20,
    shown: "20",
    doc: "Open sockets per user on a node (0: no limit)",
    parse: integer(0, 1_000_000),
  },
  trustProxy: {
    env: "TRUST_PROXY",
    default: 0,
    shown: "0",
    doc: "Proxy hops in front of the server whose X-Forwarded-For is trusted (0: none)",
    parse: integer(0, 10),
  },
  maxBufferedBytes: {
    env: "MAX_BUFFERED_BYTES",
    default: 1024 * 1024,
    shown: String(1024 * 1024),
    doc:
      "Unsent bytes a socket may queue (a reader that stopped reading) before it is disconnected",
    parse: integer(64 * 1024, 1024 * 1024 * 1024),
  },
  publicUrl: {
    env: "PUBLIC_URL",
    default: "",
    shown: "(the request's Host)",
    doc:
      "Public origin of the server, e.g. https://chat.example; pages of other origins need CORS_ORIGINS",
    parse: parsePublicUrl,
  },
  metrics: {
    env: "METRICS",
    default: true,
    shown: "on",
    doc: "on: count and serve Prometheus metrics at /metrics; off: neither (to measure their cost)",
    parse: onOff,
  },
  metricsToken: {
    env: "METRICS_TOKEN",
    default: "",
    shown: "(none)",
    doc:
      "Bearer token for /metrics and the full /health; without it /metrics is open and /health says only its status",
    parse: parseMetricsToken,
  },
  redisUrl: {
    env: "REDIS_URL",
    default: "",
    shown: "(one process)",
    doc: "redis:// or rediss:// URL, to run several servers as one",
    parse: parseRedisUrl,
  },
  redisStreamName: {
    env: "REDIS_STREAM_NAME",
    default: "chat-widget",
    shown: "chat-widget",
    doc: "Redis stream (and channel prefix) the nodes share",
    parse: parseStreamName,
  },
  redisStreamMaxLen: {
    env: "REDIS_STREAM_MAX_LEN",
    default: 10_000,
    shown: "10000",
    doc: "Approximate longest length of the Redis stream",
    parse: integer(100, 10_000_000),
  },
  presenceTtlSeconds: {
    env: "PRESENCE_TTL_SECONDS",
    default: 15,
    shown: "15",
    doc: "Seconds without a heartbeat after which a node's users count as offline",
    parse: integer(2, 3600),
  },
  drainSeconds: {
    env: "DRAIN_SECONDS",
    default: 0,
    shown: "0",
    doc:
      "Seconds a stopping server goes on serving with /readyz at 503, for the load balancer to notice, before it disconnects its clients",
    parse: integer(0, 600),
  },
  demoDir: {
    env: "DEMO_DIR",
    default: "./demo",
    shown: "./demo",
    doc: "Folder served at /",
    parse: text,
  },
  bundlePath: {
    env: "BUNDLE_PATH",
    default: "./dist/chat-widget.js",
    shown: "./dist/chat-widget.js",
    doc: "Widget bundle served at /chat-widget.js",
    parse: text,
  },
  logLevel: {
    env: "LOG_LEVEL",
    default: "info",
    shown: "info",
    doc: `Least severe log level written: ${LOG_LEVELS.join(", ")}`,
    parse: oneOf(LOG_LEVELS),
  },
  logFormat: {
    env: "LOG_FORMAT",
    default: "auto",
    shown: "auto",
    doc: "json (one object per line), text, or auto (text on a terminal, else json)",
    parse: oneOf(LOG_FORMATS),
  },
};

type SettingName = (typeof SETTINGS)[keyof Config]["env"];

/** The names `loadConfig()` reads, for scoped `--allow-env`. */
export const CONFIG_ENV_NAMES: readonly SettingName[] = Object.values(SETTINGS).map((s) => s.env);

/** Values used when a variable is unset or empty. */
export const DEFAULT_CONFIG: Config = Object.fromEntries(
  Object.entries(SETTINGS).map(([key, s]) => [key, s.default]),
) as unknown as Config;

/**
 * Builds a `Config` from environment variables, throwing a `TypeError` or
 * `RangeError` that names the variable and its value when one is invalid.
 */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const config: Record<string, unknown> = {};
  for (const [key, setting] of Object.entries(SETTINGS) as [string, Setting<unknown>][]) {
    const raw = env[setting.env]?.trim();
    config[key] = raw === undefined || raw === ""
      ? structuredClone(setting.default)
      : setting.parse(raw, setting.env);
  }
  const result = config as unknown as Config;
  if (result.authSecret !== "" && result.authJwksUrl !== "") {
    throw new TypeError("Cannot use both AUTH_SECRET and AUTH_JWKS_URL: set one of them");
  }
  if (result.demoAuth && result.authJwksUrl !== "") {
    throw new TypeError(
      "Cannot use DEMO_AUTH=1 with AUTH_JWKS_URL: the demo signs its tokens with AUTH_SECRET",
    );
  }
  return result;
}

/** The settings table as `--help` prints it: name, default, what it accepts, meaning. */
export function settingsHelp(): string {
  const rows = Object.values(SETTINGS).map((s) => [s.env, s.shown, allowedValues(s), s.doc]);
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map(([env, shown, allowed, doc]) =>
    `  ${env.padEnd(widths[0])}  ${shown.padEnd(widths[1])}  ${allowed.padEnd(widths[2])}  ${doc}`
  ).join("\n");
}

/**
 * The settings table of docs/operations.md, in Markdown: name, default, what it accepts,
 * meaning. `deno task settings` writes it there; a test checks that it is the same.
 */
export function settingsTable(): string {
  const cell = (text: string) => text.replaceAll("|", "\\|");
  const rows = Object.values(SETTINGS).map((s) => [
    `\`${s.env}\``,
    /^\(.*\)$/.test(s.shown) ? s.shown.slice(1, -1) : `\`${s.shown}\``,
    cell(allowedValues(s)),
    cell(s.doc),
  ]);
  const head = ["Variable", "Default", "Accepts", "Meaning"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

// The first word of every setting's name: a variable that starts like one of ours
// but is none of them is most likely a misspelling.
const PREFIXES = new Set(Object.values(SETTINGS).map((s) => s.env.split("_")[0]));
PREFIXES.add("CHAT");

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

/**
 * A warning for each variable of `names` that looks like a setting but is none:
 * a WORD_WORD name that starts with a setting's first word (or `CHAT_`), or is
 * within two edits of one. It names the closest setting.
 */
export function unknownSettingWarnings(names: readonly string[]): string[] {
  const known = CONFIG_ENV_NAMES as readonly string[];
  const warnings: string[] = [];
  for (const name of names) {
    // Only NAMES_LIKE_THESE: HOME, PATH or USER are never taken for a misspelling,
    // nor Deno's own (DENO_DIR is not a misspelt DEMO_DIR).
    if (known.includes(name) || !/^[A-Z][A-Z0-9]*_[A-Z0-9_]+$/.test(name)) continue;
    if (name.startsWith("DENO_")) continue;
    let closest = known[0];
    let distance = Infinity;
    for (const k of known) {
      const d = editDistance(name, k);
      if (d < distance) [closest, distance] = [k, d];
    }
    if (distance <= 2 || PREFIXES.has(name.split("_")[0])) {
      warnings.push(
        `Unknown setting ${name}: did you mean ${closest}? (deno task serve --help lists them all)`,
      );
    }
  }
  return warnings;
}
