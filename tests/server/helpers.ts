/** Fixtures for server tests: a real server on loopback, real Socket.IO clients. */

import { io, type Socket } from "socket.io-client";
import { loadConfig } from "../../server/config.ts";
import { type RunningServer, startServer } from "../../server/app.ts";
import type {
  ClientToServerEvents,
  HandshakeAuth,
  ServerToClientEvents,
  SessionInfo,
  UserEntry,
} from "../../server/protocol.ts";
import { createLogger, type Logger } from "../../server/log.ts";

/** A typed client socket. */
export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** The two ways a client reaches the server. */
export const TRANSPORTS = {
  polling: ["polling", "websocket"],
  websocket: ["websocket"],
} as const;

/** One line the server logged, parsed. */
export interface LogEntry {
  level: string;
  msg: string;
  [field: string]: unknown;
}

/** The server's own logger writing JSON lines into memory, for assertions and quiet test output. */
export function memoryLogger(): Logger & { lines: string[]; entries(): LogEntry[] } {
  const lines: string[] = [];
  const logger = createLogger({
    level: "debug",
    format: "json",
    destination: { write: (line) => lines.push(line) },
  });
  return Object.assign(logger, {
    lines,
    entries: () => lines.map((line) => JSON.parse(line) as LogEntry),
  });
}

/** A temporary folder, removed with everything in it when disposed. */
export async function tempDir(): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempDir({ prefix: "chat-test-" });
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }) };
}

/** A server for one test: it closes every client it opened, then itself, when disposed. */
export interface TestServer extends RunningServer, AsyncDisposable {
  logger: ReturnType<typeof memoryLogger>;
  /** `connect()` to this server; the client is closed with the server. */
  connect(auth: HandshakeAuth, transports?: readonly string[]): Promise<Connected>;
  /** `openSocket()` to this server; the client is closed with the server. */
  open(auth: HandshakeAuth, transports?: readonly string[]): ClientSocket;
}

/**
 * The limits per address and the sign-up limit, off: every test client comes
 * from 127.0.0.1. The tests of those limits set them.
 */
export const UNLIMITED = {
  SIGNUP_LIMIT: "0",
  CONNECTIONS_PER_IP: "0",
  CONNECTIONS_PER_USER: "0",
} as const;

/**
 * Starts a server on a free loopback port with `:memory:` KV unless `env` says
 * otherwise, and without the limits per address (`UNLIMITED`). Use it with `await using`, so a failing assertion still stops it.
 */
export async function startTestServer(
  env: Record<string, string> = {},
  options: { kv?: Deno.Kv; now?: () => number } = {},
): Promise<TestServer> {
  const logger = memoryLogger();
  const config = loadConfig({ PORT: "0", KV_PATH: ":memory:", ...UNLIMITED, ...env });
  const server = await startServer(config, { logger, kv: options.kv, now: options.now });
  const clients = new Set<ClientSocket>();
  const track = (socket: ClientSocket) => {
    clients.add(socket);
    return socket;
  };
  return Object.assign(server, {
    logger,
    async connect(auth: HandshakeAuth, transports?: readonly string[]) {
      const connected = await connect(server.url, auth, transports);
      track(connected.socket);
      return connected;
    },
    open: (auth: HandshakeAuth, transports?: readonly string[]) =>
      track(openSocket(server.url, auth, transports)),
    async [Symbol.asyncDispose]() {
      for (const socket of clients) socket.close();
      await server.close();
    },
  });
}

/** A connected client with its session and first `users` payload. */
export interface Connected {
  socket: ClientSocket;
  session: SessionInfo;
  users: UserEntry[];
}

/** Resolves with the next `event` on `socket`, or rejects after `timeoutMs`. */
export function nextEvent<T = unknown>(
  socket: ClientSocket,
  event: string,
  timeoutMs = 5000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      // deno-lint-ignore no-explicit-any
      (socket as any).off(event, handler);
      reject(new Error(`Timed out waiting for "${event}"`));
    }, timeoutMs);
    const handler = (value: T) => {
      clearTimeout(timer);
      resolve(value);
    };
    // deno-lint-ignore no-explicit-any
    (socket as any).once(event, handler);
  });
}

/** Collects every `event` on `socket` into an array. */
export function collect<T = unknown>(socket: ClientSocket, event: string): T[] {
  const items: T[] = [];
  // deno-lint-ignore no-explicit-any
  (socket as any).on(event, (value: T) => items.push(value));
  return items;
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `condition` until it holds, or throws after `timeoutMs`. */
export async function waitFor(
  condition: () => boolean,
  what: string,
  timeoutMs = 5000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Opens a client without waiting for the outcome. */
export function openSocket(
  url: string,
  auth: HandshakeAuth,
  transports: readonly string[] = TRANSPORTS.websocket,
): ClientSocket {
  return io(url, {
    auth,
    transports: [...transports],
    reconnection: false,
    forceNew: true,
    timeout: 5000,
  }) as ClientSocket;
}

/** Connects and waits for `session` and `users`. */
export async function connect(
  url: string,
  auth: HandshakeAuth,
  transports: readonly string[] = TRANSPORTS.websocket,
): Promise<Connected> {
  const socket = openSocket(url, auth, transports);
  const session = nextEvent<SessionInfo>(socket, "session");
  const users = nextEvent<UserEntry[]>(socket, "users");
  const failed = nextEvent<Error>(socket, "connect_error", 6000).then((e) => {
    throw e;
  });
  failed.catch(() => {});
  try {
    const result = await Promise.race([Promise.all([session, users]), failed]);
    return { socket, session: result[0], users: result[1] };
  } catch (error) {
    socket.close();
    throw error;
  }
}

/** Resolves with the `connect_error` a connect attempt gets. */
export async function connectError(
  url: string,
  auth: HandshakeAuth,
): Promise<Error & { data?: { code: string } }> {
  const socket = openSocket(url, auth);
  try {
    return await nextEvent(socket, "connect_error");
  } finally {
    socket.close();
  }
}

/** Waits until the server side of every client has seen its disconnect. */
export async function closeAll(...sockets: ClientSocket[]): Promise<void> {
  for (const s of sockets) s.close();
  await new Promise((r) => setTimeout(r, 20));
}
