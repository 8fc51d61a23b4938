/**
 * Fixtures for cluster tests: a real redis-server and real server processes on
 * free loopback ports, each started and stopped by PID and disposed with
 * `await using`, so a failing test still stops everything it started.
 */

import { fileURLToPath } from "node:url";
import { UNLIMITED, waitFor } from "../server/helpers.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const REDIS_SERVER = "/usr/bin/redis-server";

/** A free TCP port on 127.0.0.1 (free when asked; the caller binds it soon after). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** Polls `check` until it resolves true, or throws after `timeoutMs`. */
export async function until(
  check: () => Promise<boolean> | boolean,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    try {
      if (await check()) return;
    } catch {
      // Not yet.
    }
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Collects a child's output for diagnostics and readiness checks. */
function drain(
  stream: ReadableStream<Uint8Array<ArrayBuffer>>,
  into: { text: string },
): Promise<void> {
  return stream.pipeThrough(new TextDecoderStream()).pipeTo(
    new WritableStream({ write: (chunk) => void (into.text += chunk) }),
  ).catch(() => {});
}

/** A running child process with its output. */
class Child {
  readonly out = { text: "" };
  readonly #process: Deno.ChildProcess;
  readonly #drained: Promise<unknown>;
  exited: Deno.CommandStatus | null = null;
  readonly status: Promise<Deno.CommandStatus>;

  constructor(command: string, options: { args: string[]; env?: Record<string, string> }) {
    this.#process = new Deno.Command(command, {
      args: options.args,
      env: options.env,
      cwd: ROOT,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#drained = Promise.all([
      drain(this.#process.stdout, this.out),
      drain(this.#process.stderr, this.out),
    ]);
    this.status = this.#process.status.then((s) => (this.exited = s));
  }

  get pid(): number {
    return this.#process.pid;
  }

  /** Sends `signal` to this process (by PID) unless it has exited. */
  kill(signal: Deno.Signal): void {
    if (this.exited) return;
    try {
      this.#process.kill(signal);
    } catch {
      // Exited meanwhile.
    }
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`; waits for its end. */
  async stop(graceMs = 10_000): Promise<Deno.CommandStatus> {
    this.kill("SIGTERM");
    const timer = setTimeout(() => this.kill("SIGKILL"), graceMs);
    try {
      return await this.status;
    } finally {
      clearTimeout(timer);
      await this.#drained;
    }
  }
}

/** A redis-server on a free loopback port, without persistence. */
export class RedisServer {
  readonly port: number;
  #child: Child | null = null;

  private constructor(port: number) {
    this.port = port;
  }

  /** Starts one and waits until it answers. */
  static async start(): Promise<RedisServer> {
    const server = new RedisServer(freePort());
    await server.restart();
    return server;
  }

  /** `redis://127.0.0.1:port`. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts (again) on the same port and waits until it answers PING. */
  async restart(): Promise<void> {
    if (this.#child && !this.#child.exited) throw new Error("Cannot restart Redis: it is running");
    this.#child = new Child(REDIS_SERVER, {
      args: [
        "--port",
        String(this.port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
      ],
    });
    await until(() => this.#ping(), `redis-server on port ${this.port}`, 10_000);
  }

  /** Stops it (SIGTERM, by PID) and waits for its exit. */
  async stop(): Promise<void> {
    this.#child?.kill("SIGCONT");
    await this.#child?.stop();
  }

  /** Freezes it with SIGSTOP (by PID): connections stay open, nothing answers. */
  pause(): void {
    this.#child?.kill("SIGSTOP");
  }

  /** Thaws it with SIGCONT. */
  resume(): void {
    this.#child?.kill("SIGCONT");
  }

  async #ping(): Promise<boolean> {
    if (this.#child?.exited) throw new Error(`redis-server exited: ${this.#child.out.text}`);
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: this.port });
    try {
      await conn.write(new TextEncoder().encode("PING\r\n"));
      const buf = new Uint8Array(64);
      const n = await conn.read(buf);
      return n !== null && new TextDecoder().decode(buf.subarray(0, n)).startsWith("+PONG");
    } finally {
      conn.close();
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/** The `METRICS_TOKEN` of every node the tests start. */
export const METRICS_TOKEN = "cluster-test-metrics-token";

/** Health as `GET /health` reports it. */
export interface Health {
  status: string;
  sockets: number;
  node?: string;
  redis?: "up" | "down";
  writes: { commits: number; writes: number; lockRetries: number };
}

/** One server process: `deno run -A server/main.ts`. */
export class ServerNode {
  readonly port: number;
  readonly #child: Child;

  private constructor(port: number, child: Child) {
    this.port = port;
    this.#child = child;
  }

  /** Starts a node with `env` on a free port and waits until it serves `/health`. */
  static async start(env: Record<string, string>): Promise<ServerNode> {
    const port = freePort();
    const child = new Child(Deno.execPath(), {
      args: ["run", "-A", "server/main.ts"],
      env: {
        PORT: String(port),
        HOST: "127.0.0.1",
        NO_COLOR: "1",
        METRICS_TOKEN,
        ...UNLIMITED,
        ...env,
      },
    });
    const node = new ServerNode(port, child);
    try {
      await until(
        async () => {
          if (child.exited) throw new Error("exited");
          return (await node.health()).status === "ok";
        },
        `server on port ${port}`,
        30_000,
      );
    } catch (error) {
      await child.stop();
      throw new Error(`Server on port ${port} did not start: ${child.out.text}`, { cause: error });
    }
    return node;
  }

  /** `http://127.0.0.1:port`. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    return this.#child.pid;
  }

  /** What it printed so far (stdout and stderr). */
  get output(): string {
    return this.#child.out.text;
  }

  /** Its exit status, or null while it runs. */
  get exited(): Deno.CommandStatus | null {
    return this.#child.exited;
  }

  /** `GET /health`. */
  async health(): Promise<Health> {
    const response = await fetch(`${this.url}/health`, {
      headers: { Authorization: `Bearer ${METRICS_TOKEN}` },
    });
    return await response.json();
  }

  /** Kills it with SIGKILL, by PID, and waits for its end. */
  async crash(): Promise<void> {
    this.#child.kill("SIGKILL");
    await this.#child.status;
  }

  /** Stops it gracefully (SIGTERM, by PID) and waits for its end. */
  async stop(): Promise<Deno.CommandStatus> {
    return await this.#child.stop();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/** A temporary folder with a KV file path in it, removed on dispose. */
export async function tempKv(): Promise<{ path: string } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "chat-cluster-" });
  return {
    path: `${dir}/chat.kv`,
    async [Symbol.asyncDispose]() {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** Several nodes sharing one KV file and one Redis; stops them all on dispose. */
export class Cluster {
  readonly nodes: ServerNode[];
  private constructor(nodes: ServerNode[]) {
    this.nodes = nodes;
  }

  /** Starts `count` nodes at once (a fresh KV file opened concurrently is part of the test). */
  static async start(
    count: number,
    env: { KV_PATH: string; REDIS_URL: string } & Record<string, string>,
  ): Promise<Cluster> {
    const started = await Promise.allSettled(
      Array.from({ length: count }, () => ServerNode.start(env)),
    );
    const nodes = started.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
    const failed = started.find((r) => r.status === "rejected");
    if (failed) {
      await Promise.all(nodes.map((n) => n.stop()));
      throw (failed as PromiseRejectedResult).reason;
    }
    return new Cluster(nodes);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
  }
}

/** A cluster with a Redis and a fresh KV file of its own, all three gone on dispose. */
export interface OwnCluster extends AsyncDisposable {
  readonly nodes: ServerNode[];
  readonly redis: RedisServer;
}

/**
 * Starts a Redis, a fresh KV file and `count` nodes on both, with `env` besides;
 * on dispose the nodes stop first, then the file and Redis go.
 */
export async function startCluster(
  count: number,
  env: Record<string, string> = {},
): Promise<OwnCluster> {
  const redis = await RedisServer.start();
  const kv = await tempKv();
  try {
    const cluster = await Cluster.start(count, { ...env, KV_PATH: kv.path, REDIS_URL: redis.url });
    return {
      nodes: cluster.nodes,
      redis,
      async [Symbol.asyncDispose]() {
        await cluster[Symbol.asyncDispose]();
        await kv[Symbol.asyncDispose]();
        await redis[Symbol.asyncDispose]();
      },
    };
  } catch (error) {
    await kv[Symbol.asyncDispose]();
    await redis[Symbol.asyncDispose]();
    throw error;
  }
}

/** Closes client sockets on dispose. */
export function clients(): { add<T extends { close(): unknown }>(socket: T): T } & AsyncDisposable {
  const sockets: { close(): unknown }[] = [];
  return {
    add(socket) {
      sockets.push(socket);
      return socket;
    },
    async [Symbol.asyncDispose]() {
      for (const s of sockets) s.close();
      await new Promise((r) => setTimeout(r, 20));
    },
  };
}

export { waitFor };
