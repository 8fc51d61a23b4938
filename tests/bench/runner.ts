/**
 * Runs the server under test around a measurement: starts it (or the floor,
 * Socket.IO storing nothing, or the peer, the guide's server) in a process of
 * its own with a temporary KV file, samples its resources over the measured
 * phase, and always stops it.
 */

import { join } from "node:path";
import { benchCacheDir } from "./cache.ts";
import { GUIDE_SERVER_DIR, type PeerInstall, preparePeer, startPeer } from "./peer.ts";
import {
  cpuPercent,
  ProcSampler,
  readProc,
  readThreads,
  ROOT,
  type ServerProcess,
  startServerProcess,
  threadDeltas,
} from "./server_process.ts";

/** Server resources around one run. */
export interface Resources {
  rssBeforeKB: number;
  rssPeakKB: number;
  rssAfterKB: number;
  /** Server CPU during the measured phase, % of one core. */
  serverCpu: number;
  /** Server CPU time during the measured phase, all threads (utime + stime), seconds. */
  serverCpuSeconds: number;
  /** The same by kind of thread (see `readThreads()`): where the CPU went. */
  serverThreadSeconds: Record<string, number>;
  /** The load generator's CPU (this process, all workers) during the same phase. */
  clientCpu: number;
  writes?: Record<string, unknown>;
  /** V8 heap in use at the end, when the server's /health reports `memory`. */
  heapUsedKB: number;
}

/** Which server a phase measures: ours, the floor (Socket.IO storing nothing) or the peer. */
export type Side = "ours" | "floor" | "peer";

/** A started server with its sampler, and the bounds of the phase being measured. */
export interface ServerRun {
  server: ServerProcess;
  sampler: ProcSampler;
  /** Marks the start of the measured phase. */
  begin(): void;
  /** Ends the measured phase and returns the resources around it. */
  end(): Promise<Resources>;
}

// Socket.IO with nothing stored: what the chat server's figures are compared with.
const FLOOR_SCRIPT = join(ROOT, "tests/bench/floor_server.ts");

/** Starts servers for the scenarios and owns the folder their KV files go in. */
export class ServerRunner implements AsyncDisposable {
  /** Folder holding the server to measure (`server/main.ts` inside), e.g. a patched copy. */
  readonly serverDir: string;
  /** Folder holding the peer's source (`index.js` and `package.json`). */
  readonly peerDir: string;
  #cpuProf: string | null;
  #tempRoot: string;
  #profiles = 0;
  #peer: Promise<PeerInstall> | null = null;

  private constructor(
    { serverDir, peerDir, cpuProf, tempRoot }: {
      serverDir: string;
      peerDir: string;
      cpuProf: string | null;
      tempRoot: string;
    },
  ) {
    this.serverDir = serverDir;
    this.peerDir = peerDir;
    this.#cpuProf = cpuProf;
    this.#tempRoot = tempRoot;
  }

  /** A runner for the server in `serverDir` (profiled into `cpuProf`) and the peer in `peerDir`. */
  static async create(
    { serverDir = ROOT, peerDir = GUIDE_SERVER_DIR, cpuProf = null }: {
      serverDir?: string;
      peerDir?: string;
      cpuProf?: string | null;
    } = {},
  ): Promise<ServerRunner> {
    const tempRoot = await Deno.makeTempDir({ prefix: "chat-bench-" });
    return new ServerRunner({ serverDir, peerDir, cpuProf, tempRoot });
  }

  /** The peer installed (once per runner, from the cache when its files have not changed), or why not. */
  peer(): Promise<PeerInstall> {
    return this.#peer ??= preparePeer(this.peerDir, { cacheDir: benchCacheDir() });
  }

  /** Starts the peer afresh, runs `fn`, always stops it; throws if the peer cannot be installed. */
  async withPeer<T>(fn: (run: ServerRun) => Promise<T>): Promise<T> {
    const install = await this.peer();
    if (!install.ok) throw new Error(`Cannot start the peer: ${install.reason}`);
    const server = await startPeer(install.dir);
    try {
      return await fn(measure(server));
    } finally {
      await server.stop();
    }
  }

  /** A new KV file path, in a folder of its own that goes when the runner is disposed. */
  async tempKv(name: string): Promise<string> {
    const dir = await Deno.makeTempDir({ dir: this.#tempRoot, prefix: `${name}-` });
    return join(dir, "chat.kv");
  }

  /** Starts a server with `env` (the floor with `floor`), runs `fn`, always stops it. */
  async withServer<T>(
    env: Record<string, string>,
    fn: (run: ServerRun) => Promise<T>,
    { floor = false }: { floor?: boolean } = {},
  ): Promise<T> {
    const denoArgs: string[] = [];
    if (this.#cpuProf) {
      denoArgs.push(
        "--cpu-prof",
        `--cpu-prof-dir=${this.#cpuProf}`,
        `--cpu-prof-name=server-${++this.#profiles}.cpuprofile`,
      );
    }
    const server = await startServerProcess({ MESSAGE_RATE: "0", ...env }, {
      denoArgs,
      cwd: floor ? ROOT : this.serverDir,
      script: floor ? FLOOR_SCRIPT : undefined,
    });
    try {
      return await fn(measure(server));
    } finally {
      await server.stop();
    }
  }

  /** Starts `side` (ours, or the floor, with `env`; the peer as it is), runs `fn`, always stops it. */
  withSide<T>(
    side: Side,
    env: Record<string, string>,
    fn: (run: ServerRun) => Promise<T>,
  ): Promise<T> {
    return side === "peer"
      ? this.withPeer(fn)
      : this.withServer(env, fn, { floor: side === "floor" });
  }

  /** Starts one server with `env`, unprofiled, for a caller that stops it (a cluster's nodes). */
  start(env: Record<string, string>): Promise<ServerProcess> {
    return startServerProcess({ MESSAGE_RATE: "0", ...env }, { cwd: this.serverDir });
  }

  /** Removes every KV file made by `tempKv`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await Deno.remove(this.#tempRoot, { recursive: true }).catch(() => {});
  }
}

/** Samples `server` and this process (the load generator) between `begin()` and `end()`. */
export function measure(server: ServerProcess): ServerRun {
  const sampler = new ProcSampler(server.pid);
  const client = new ProcSampler(Deno.pid);
  const before = readProc(server.pid);
  let serverStart: ReturnType<typeof readProc> = null;
  let threadsStart = new Map<string, number>();
  let clientStart: ReturnType<typeof readProc> = null;
  return {
    server,
    sampler,
    begin() {
      threadsStart = readThreads(server.pid);
      serverStart = sampler.start(100);
      clientStart = client.start(1000);
    },
    async end() {
      const { last, peakRssKB } = sampler.stop();
      const serverThreadSeconds = threadDeltas(threadsStart, readThreads(server.pid));
      const clientEnd = client.stop().last;
      let writes: Record<string, unknown> | undefined;
      let memory: Record<string, number> | undefined;
      try {
        const health = await server.health();
        writes = health.writes as Record<string, unknown>;
        // Reported by servers whose /health includes Deno.memoryUsage().
        memory = health.memory as Record<string, number> | undefined;
      } catch {
        // Health is informative only.
      }
      return {
        rssBeforeKB: before?.rssKB ?? NaN,
        rssPeakKB: peakRssKB,
        rssAfterKB: last?.rssKB ?? NaN,
        serverCpu: serverStart && last ? cpuPercent(serverStart, last) : NaN,
        serverCpuSeconds: serverStart && last ? last.cpuSeconds - serverStart.cpuSeconds : NaN,
        serverThreadSeconds,
        clientCpu: clientStart && clientEnd ? cpuPercent(clientStart, clientEnd) : NaN,
        writes,
        heapUsedKB: memory?.heapUsed !== undefined ? memory.heapUsed / 1024 : NaN,
      };
    },
  };
}

/** The server's V8 heap in use (KB) when its /health reports it; NaN otherwise. */
export async function heapUsedKB(server: ServerProcess): Promise<number> {
  try {
    const memory = (await server.health()).memory as { heapUsed?: number } | undefined;
    return memory?.heapUsed !== undefined ? memory.heapUsed / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Resolves after `ms`. */
export function wait(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
