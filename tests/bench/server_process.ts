/**
 * A server under test as a separate OS process (ours: `deno run -A server/main.ts`;
 * the peer: `node index.js`, see `peer.ts`), started on a free loopback port and
 * stopped by its PID, with RSS and CPU read from /proc/<pid>.
 */

import { fileURLToPath } from "node:url";

/** The repository root (two levels up from this file). */
export const ROOT = fileURLToPath(new URL("../../", import.meta.url));

// Linux reports CPU times in clock ticks; 100 a second on every platform Deno supports.
const CLK_TCK = 100;

/** One reading of a process's resources. */
export interface ProcSample {
  /** performance.now() of the reading, ms. */
  at: number;
  rssKB: number;
  /** User + system CPU time so far, seconds. */
  cpuSeconds: number;
}

/** Reads RSS and CPU time of `pid` from /proc; null once the process is gone. */
export function readProc(pid: number): ProcSample | null {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    return { at: performance.now(), rssKB: rss, cpuSeconds: ticks / CLK_TCK };
  } catch {
    return null;
  }
}

/**
 * CPU time so far (seconds) of each thread of `pid`, by thread kind: `main` for the
 * thread that runs JavaScript (the process's first thread), the others by their name
 * with trailing digits dropped (Deno KV's SQLite work runs on `sw-*`, node's on
 * `libuv-worker`). Empty once the process is gone.
 */
export function readThreads(pid: number): Map<string, number> {
  const threads = new Map<string, number>();
  let tids: string[];
  try {
    tids = [...Deno.readDirSync(`/proc/${pid}/task`)].map((e) => e.name);
  } catch {
    return threads;
  }
  for (const tid of tids) {
    try {
      const stat = Deno.readTextFileSync(`/proc/${pid}/task/${tid}/stat`);
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const kind = tid === String(pid) ? "main" : name.replace(/[-#\s]*\d+$/, "").trim();
      const seconds = (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
      threads.set(kind, (threads.get(kind) ?? 0) + seconds);
    } catch {
      // The thread ended meanwhile.
    }
  }
  return threads;
}

/** CPU seconds each kind of thread spent between two `readThreads()` readings. */
export function threadDeltas(
  from: Map<string, number>,
  to: Map<string, number>,
): Record<string, number> {
  const deltas: Record<string, number> = {};
  for (const [kind, seconds] of to) {
    const spent = seconds - (from.get(kind) ?? 0);
    if (spent > 0) deltas[kind] = spent;
  }
  return deltas;
}

/** CPU use between two samples, as a share of one core (100 = one core busy). */
export function cpuPercent(from: ProcSample, to: ProcSample): number {
  const seconds = (to.at - from.at) / 1000;
  return seconds > 0 ? ((to.cpuSeconds - from.cpuSeconds) / seconds) * 100 : NaN;
}

/** Samples a process every `intervalMs` until stopped; keeps the peak RSS. */
export class ProcSampler {
  #pid: number;
  #timer: ReturnType<typeof setInterval> | undefined;
  samples: ProcSample[] = [];

  constructor(pid: number) {
    this.#pid = pid;
  }

  /** Starts sampling; returns the first sample. */
  start(intervalMs = 200): ProcSample | null {
    this.samples = [];
    const first = this.sample();
    this.#timer = setInterval(() => this.sample(), intervalMs);
    return first;
  }

  /** Takes one sample now. */
  sample(): ProcSample | null {
    const s = readProc(this.#pid);
    if (s) this.samples.push(s);
    return s;
  }

  /** Stops sampling; returns the last sample and the peak RSS seen. */
  stop(): { last: ProcSample | null; peakRssKB: number } {
    clearInterval(this.#timer);
    const last = this.sample();
    const peakRssKB = Math.max(0, ...this.samples.map((s) => s.rssKB));
    return { last, peakRssKB };
  }
}

/** A free TCP port on loopback (bound and released; a tiny race is acceptable here). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** A server process under test. */
export interface ServerProcess {
  pid: number;
  port: number;
  url: string;
  /** The last lines the server printed, for error messages. */
  output: string[];
  /** `GET /health` as JSON; `{}` for a server that has no such route (the peer). */
  health(): Promise<Record<string, unknown>>;
  /** SIGTERM (graceful: drains writes, closes KV), SIGKILL after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<void>;
}

/** The `METRICS_TOKEN` the benchmark gives our server, so that `/health` reports its statistics. */
export const BENCH_METRICS_TOKEN = "bench-metrics-token-0123456789";

/** Where the Deno binary is: the one running this benchmark. */
export function denoPath(): string {
  return Deno.execPath();
}

/**
 * Starts `server/main.ts` with `env` (PORT is chosen here) and resolves once it
 * prints that it listens. Extra `denoArgs` go before the script (e.g. `--cpu-prof`).
 */
export function startServerProcess(
  env: Record<string, string>,
  options: { denoArgs?: string[]; timeoutMs?: number; cwd?: string; script?: string } = {},
): Promise<ServerProcess> {
  return startProcess(denoPath(), {
    args: ["run", "-A", ...(options.denoArgs ?? []), options.script ?? "server/main.ts"],
    cwd: options.cwd ?? ROOT,
    env: {
      HOST: "127.0.0.1",
      METRICS_TOKEN: BENCH_METRICS_TOKEN,
      // Every simulated user comes from 127.0.0.1.
      SIGNUP_LIMIT: "0",
      CONNECTIONS_PER_IP: "0",
      CONNECTIONS_PER_USER: "0",
      ...env,
    },
    ready: "output",
    timeoutMs: options.timeoutMs,
  });
}

/** How a started process shows it is ready: a line saying "listening on", or its port answering. */
export type Readiness = "output" | "port";

/**
 * Starts `program` with `args` on a free loopback port (given as `PORT` in its
 * environment) and resolves once it is `ready`; stops it by its PID. Without
 * `health`, `health()` answers `{}` at once instead of asking the server.
 */
export async function startProcess(
  program: string,
  options: {
    args: string[];
    cwd: string;
    env: Record<string, string>;
    ready: Readiness;
    health?: boolean;
    timeoutMs?: number;
  },
): Promise<ServerProcess> {
  const port = freePort();
  const child = new Deno.Command(program, {
    args: options.args,
    cwd: options.cwd,
    env: { PORT: String(port), ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output: string[] = [];
  let listening: () => void;
  const ready = new Promise<void>((resolve) => (listening = resolve));
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    let rest = "";
    for await (const bytes of stream) {
      const chunk = decoder.decode(bytes, { stream: true });
      const parts = (rest + chunk).split("\n");
      rest = parts.pop()!;
      for (const line of parts) {
        output.push(line);
        if (output.length > 50) output.shift();
        if (options.ready === "output" && line.includes("listening on")) listening();
      }
    }
  };
  const pumps = Promise.all([pump(child.stdout), pump(child.stderr)]);
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  if (options.ready === "port") {
    portAnswers(port, () => exited).then((answered) => answered && listening());
  }
  const timeoutMs = options.timeoutMs ?? 30_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const outcome = await Promise.race([
    ready.then(() => "ready" as const),
    status.then(() => "exited" as const),
    new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), timeoutMs))),
  ]);
  clearTimeout(timer);
  if (outcome !== "ready") {
    if (!exited) child.kill("SIGKILL");
    await status;
    await pumps;
    throw new Error(`Cannot start the server (${outcome}): ${output.slice(-10).join("\n")}`);
  }
  const url = `http://127.0.0.1:${port}`;
  return {
    pid: child.pid,
    port,
    url,
    output,
    async health() {
      if (options.health === false) return {};
      const res = await fetch(`${url}/health`, {
        signal: AbortSignal.timeout(3000),
        headers: { Authorization: `Bearer ${BENCH_METRICS_TOKEN}` },
      });
      return await res.json();
    },
    async stop(stopTimeoutMs = 15_000) {
      if (!exited) {
        try {
          child.kill("SIGTERM");
        } catch {
          // Already gone.
        }
        let killTimer: ReturnType<typeof setTimeout> | undefined;
        const killed = new Promise<void>((resolve) => {
          killTimer = setTimeout(() => {
            if (!exited) {
              try {
                child.kill("SIGKILL");
              } catch {
                // Already gone.
              }
            }
            resolve();
          }, stopTimeoutMs);
        });
        await Promise.race([status, killed]);
        clearTimeout(killTimer);
      }
      await status;
      await pumps;
    },
  };
}

/** Resolves true once a TCP connection to `port` on loopback succeeds, false if `gone()` first. */
async function portAnswers(port: number, gone: () => boolean): Promise<boolean> {
  while (!gone()) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
      return true;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return false;
}
