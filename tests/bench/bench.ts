/**
 * `deno task bench`: starts the chat server as a separate process, drives it
 * with real socket.io-client connections (see `load.ts`) and prints each
 * figure as median (min-max) over several runs with PASS/MISS against the
 * targets of issue 5. It always exits 0 unless it cannot run at all: it is a
 * measurement, not a test.
 *
 *   deno task bench [--quick] [--runs N] [--workers N] [--only a,b]
 *                   [--json FILE] [--report FILE] [--cpu-prof DIR]
 */

import { gzipSync } from "node:zlib";
import { dirname, join } from "node:path";
import { RedisServer } from "../cluster/helpers.ts";
import { LoadGenerator, type SendResult } from "./load.ts";
import { cachedPrefill, type Prefilled } from "./prefill.ts";
import { type BarChart, reportHtml, type Table } from "./report.ts";
import {
  cpuPercent,
  ProcSampler,
  readProc,
  ROOT,
  type ServerProcess,
  startServerProcess,
} from "./server_process.ts";
import { fmt, fmtSpread, type Spread, spread } from "./stats.ts";
import { runStoreCeiling, type StoreCeiling } from "./store_ceiling.ts";

/** Command-line options. */
interface Options {
  quick: boolean;
  runs: number;
  workers: number;
  only: Set<string> | null;
  json: string | null;
  report: string | null;
  cpuProf: string | null;
  /** Folder holding the server to measure (`server/main.ts` inside), e.g. a patched copy. */
  serverDir: string;
}

const SCENARIOS = [
  "throughput",
  "latency",
  "connect",
  "history",
  "fairness",
  "cluster",
  "bundle",
] as const;
type ScenarioName = (typeof SCENARIOS)[number];

function parseArgs(args: string[]): Options {
  const options: Options = {
    quick: false,
    runs: 0,
    workers: 2,
    only: null,
    json: null,
    report: null,
    cpuProf: null,
    serverDir: ROOT,
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const value = () => {
      const v = args[++i];
      if (v === undefined) throw new TypeError(`Cannot use option "${arg}": it needs a value`);
      return v;
    };
    if (arg === "--quick") options.quick = true;
    else if (arg === "--runs") options.runs = Number(value());
    else if (arg === "--workers") options.workers = Number(value());
    else if (arg === "--only") options.only = new Set(value().split(","));
    else if (arg === "--json") options.json = value();
    else if (arg === "--report") options.report = value();
    else if (arg === "--cpu-prof") options.cpuProf = value();
    else if (arg === "--server-dir") options.serverDir = value();
    else if (arg === "--help" || arg === "-h") {
      console.log(
        "deno task bench [--quick] [--runs N] [--workers N] [--only " + SCENARIOS.join(",") +
          "] [--json FILE] [--report FILE] [--cpu-prof DIR] [--server-dir DIR]",
      );
      Deno.exit(0);
    } else throw new TypeError(`Cannot parse option "${arg}"`);
  }
  if (!Number.isInteger(options.runs) || options.runs < 0) {
    throw new RangeError(`Cannot use --runs "${options.runs}": must be a whole number`);
  }
  if (!Number.isInteger(options.workers) || options.workers < 1 || options.workers > 8) {
    throw new RangeError(`Cannot use --workers "${options.workers}": must be 1 to 8`);
  }
  for (const name of options.only ?? []) {
    if (!SCENARIOS.includes(name as ScenarioName)) {
      throw new TypeError(`Cannot run scenario "${name}": not one of ${SCENARIOS.join(", ")}`);
    }
  }
  if (options.runs === 0) options.runs = options.quick ? 1 : 3;
  return options;
}

// ---------------------------------------------------------------------------
// Results

/** One target of the issue, judged on a median. */
interface Target {
  scenario: string;
  label: string;
  /** The measured figure (a median unless said otherwise). */
  value: number;
  range?: [number, number];
  unit: string;
  op: "<=" | ">=" | "<" | "==";
  limit: number;
  /** null: not measured (e.g. not built, not available). */
  pass: boolean | null;
  note?: string;
}

/** Server resources around one run. */
interface Resources {
  rssBeforeKB: number;
  rssPeakKB: number;
  rssAfterKB: number;
  /** Server CPU during the measured phase, % of one core. */
  serverCpu: number;
  /** The load generator's CPU (this process, all workers) during the same phase. */
  clientCpu: number;
  writes?: Record<string, unknown>;
  /** V8 heap in use at the end, when the server's /health reports `memory`. */
  heapUsedKB: number;
}

/** One measured run. */
interface Run {
  scenario: string;
  variant: string;
  rep: number;
  figures: Record<string, number>;
  resources?: Resources;
  send?: Omit<SendResult, "latency" | "ackLatency"> & {
    latency: Record<string, number>;
    ackLatency: Record<string, number>;
  };
  notes?: string[];
}

const results = {
  meta: {} as Record<string, unknown>,
  runs: [] as Run[],
  figures: {} as Record<string, Record<string, Spread>>,
  targets: [] as Target[],
  notes: [] as string[],
  skipped: {} as Record<string, string>,
};

function judge(value: number, { op, limit }: Pick<Target, "op" | "limit">): boolean | null {
  if (!Number.isFinite(value)) return null;
  switch (op) {
    case "<=":
      return value <= limit;
    case ">=":
      return value >= limit;
    case "<":
      return value < limit;
    case "==":
      return value === limit;
  }
}

function addTarget(t: Omit<Target, "pass"> & { pass?: boolean | null }): void {
  results.targets.push({
    ...t,
    pass: t.pass === undefined ? judge(t.value, t) : t.pass,
  });
}

/** A target's measured value and range from a figure's spread. */
function measured(s: Spread): { value: number; range: [number, number] } {
  return { value: s.median, range: [s.min, s.max] };
}

/** Chart groups of one bar each, for the figures of `figures` named in `pairs` that exist. */
function spreadGroups(
  figures: Record<string, Spread>,
  pairs: [label: string, name: string][],
): { label: string; values: number[]; ranges: [number, number][] }[] {
  return pairs.filter(([, name]) => figures[name]).map(([label, name]) => ({
    label,
    values: [figures[name].median],
    ranges: [[figures[name].min, figures[name].max]],
  }));
}

function figure(scenario: string, [name, values]: [string, number[]]): Spread {
  const s = spread(values);
  (results.figures[scenario] ??= {})[name] = s;
  return s;
}

// ---------------------------------------------------------------------------
// Progress

const isTty = Deno.stderr.isTerminal();
const encoder = new TextEncoder();
const suiteStarted = performance.now();

function elapsed(): string {
  return `${((performance.now() - suiteStarted) / 1000).toFixed(0).padStart(4)}s`;
}

/** A progress line on stderr; `transient` lines are overwritten on a terminal. */
function progress(message: string, transient = false): void {
  if (transient && !isTty) return;
  const line = `[${elapsed()}] ${message}`;
  Deno.stderr.writeSync(
    encoder.encode(isTty ? `\r\x1b[K${line}${transient ? "" : "\n"}` : `${line}\n`),
  );
}

// ---------------------------------------------------------------------------
// Running the server around a measurement

let options: Options;
let tempRoot = "";
let profileCount = 0;

interface ServerRun {
  server: ServerProcess;
  sampler: ProcSampler;
  /** Marks the start of the measured phase. */
  begin(): void;
  /** Ends the measured phase and returns the resources around it. */
  end(): Promise<Resources>;
}

// Socket.IO with nothing stored: what the chat server's figures are compared with.
const FLOOR_SCRIPT = join(ROOT, "tests/bench/floor_server.ts");

/** Starts a server with `env` (the floor with `floor`), runs `fn`, always stops it. */
async function withServer<T>(
  env: Record<string, string>,
  fn: (run: ServerRun) => Promise<T>,
  { floor = false }: { floor?: boolean } = {},
): Promise<T> {
  const denoArgs: string[] = [];
  if (options.cpuProf) {
    denoArgs.push(
      "--cpu-prof",
      `--cpu-prof-dir=${options.cpuProf}`,
      `--cpu-prof-name=server-${++profileCount}.cpuprofile`,
    );
  }
  const server = await startServerProcess({ MESSAGE_RATE: "0", ...env }, {
    denoArgs,
    cwd: floor ? ROOT : options.serverDir,
    script: floor ? FLOOR_SCRIPT : undefined,
  });
  try {
    return await fn(measure(server));
  } finally {
    await server.stop();
  }
}

function measure(server: ServerProcess): ServerRun {
  const sampler = new ProcSampler(server.pid);
  const client = new ProcSampler(Deno.pid);
  const before = readProc(server.pid);
  let serverStart: ReturnType<typeof readProc> = null;
  let clientStart: ReturnType<typeof readProc> = null;
  return {
    server,
    sampler,
    begin() {
      serverStart = sampler.start(100);
      clientStart = client.start(1000);
    },
    async end() {
      const { last, peakRssKB } = sampler.stop();
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
        clientCpu: clientStart && clientEnd ? cpuPercent(clientStart, clientEnd) : NaN,
        writes,
        heapUsedKB: memory?.heapUsed !== undefined ? memory.heapUsed / 1024 : NaN,
      };
    },
  };
}

/** The server's V8 heap in use (KB) when its /health reports it; NaN otherwise. */
async function heapUsedKB(server: ServerProcess): Promise<number> {
  try {
    const memory = (await server.health()).memory as { heapUsed?: number } | undefined;
    return memory?.heapUsed !== undefined ? memory.heapUsed / 1024 : NaN;
  } catch {
    return NaN;
  }
}

async function tempKv(name: string): Promise<string> {
  const dir = await Deno.makeTempDir({ dir: tempRoot, prefix: `${name}-` });
  return join(dir, "chat.kv");
}

function usernames(prefix: string, n: number): { username: string }[] {
  return Array.from({ length: n }, (_, i) => ({ username: `${prefix}${i}` }));
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

function sendRecord(r: SendResult): Run["send"] {
  return { ...r, latency: { ...r.latency }, ackLatency: { ...r.ackLatency } };
}

function sendProgress(label: string, total: number): (n: number) => void {
  return (n) =>
    progress(
      `${label}: ${n.toLocaleString("en-US")}/${total.toLocaleString("en-US")} delivered`,
      true,
    );
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------
// Scenarios

/** The storage path alone (no Socket.IO) on `kvPath`, in its own process, for the server under test. */
async function storeCeiling(
  kvPath: string,
  { users, perUser }: { users: number; perUser: number },
): Promise<StoreCeiling> {
  const run = await runStoreCeiling([
    "--kv",
    kvPath,
    "--users",
    String(users),
    "--per-user",
    String(perUser),
    "--server-dir",
    options.serverDir,
  ]);
  if (run.code !== 0) {
    throw new Error(`store_ceiling.ts failed (${run.code}): ${run.stderr.trim()}`);
  }
  return JSON.parse(run.stdout.trim().split("\n").at(-1)!) as StoreCeiling;
}

/**
 * 200 users x 50 messages unpaced, KV file vs :memory: vs Socket.IO alone, alternating
 * order; then the same messages through the storage path alone, on a file and :memory:.
 */
async function throughput(): Promise<void> {
  const users = 200;
  const perUser = 50;
  const rows: Record<string, number[]> = {};
  const push = (k: string, v: number) => (rows[k] ??= []).push(v);
  for (let rep = 1; rep <= options.runs; rep++) {
    const order = rep % 2 === 1 ? ["file", "memory", "floor"] : ["floor", "memory", "file"];
    const dps: Record<string, number> = {};
    for (const variant of order) {
      const kvPath = variant === "file" ? await tempKv("throughput") : ":memory:";
      const label = `throughput ${variant} ${rep}/${options.runs}`;
      progress(`${label}: connecting ${users} users`, true);
      await withServer({ KV_PATH: kvPath }, async (run) => {
        const gen = new LoadGenerator(run.server.url, options.workers);
        try {
          const c = await gen.connect(usernames("t", users), { concurrency: 100 });
          if (c.errors.length > 0) throw new Error(`connect failed: ${c.errors[0]}`);
          await wait(200);
          run.begin();
          const r = await gen.send({
            senders: range(users),
            perUser,
            onProgress: sendProgress(label, users * perUser),
          });
          const resources = await run.end();
          dps[variant] = r.deliveredPerSecond;
          push(`${variant} delivered/s`, r.deliveredPerSecond);
          push(`${variant} lost`, r.lost);
          push(`${variant} duplicated`, r.duplicated);
          push(`${variant} latency p50 ms`, r.latency.p50);
          push(`${variant} latency p99 ms`, r.latency.p99);
          push(`${variant} server CPU %`, resources.serverCpu);
          push(`${variant} client CPU %`, resources.clientCpu);
          push(`${variant} commits`, Number(resources.writes?.commits ?? NaN));
          results.runs.push({
            scenario: "throughput",
            variant,
            rep,
            figures: {
              deliveredPerSecond: r.deliveredPerSecond,
              lost: r.lost,
              duplicated: r.duplicated,
            },
            resources,
            send: sendRecord(r),
          });
          progress(
            `${label}: ${
              fmt(r.deliveredPerSecond)
            } delivered/s, lost ${r.lost}, dup ${r.duplicated}, p99 ${
              fmt(r.latency.p99)
            } ms, server CPU ${fmt(resources.serverCpu)}%, ${
              resources.writes?.commits ?? "?"
            } commits`,
          );
        } finally {
          await gen.close();
        }
      }, { floor: variant === "floor" });
    }
    push("file / memory", dps.file / dps.memory);
    push("file / floor", dps.file / dps.floor);
    for (const variant of ["file", "memory"] as const) {
      const label = `throughput storage alone, ${variant} ${rep}/${options.runs}`;
      progress(`${label}: writing ${users * perUser} messages through KvChatStore`, true);
      const c = await storeCeiling(variant === "file" ? await tempKv("store") : ":memory:", {
        users,
        perUser,
      });
      push(`storage alone ${variant} msg/s`, c.perSecond);
      push(`storage alone ${variant} KV mutations/message`, c.mutationsPerMessage);
      results.runs.push({
        scenario: "throughput",
        variant: `storage ${variant}`,
        rep,
        figures: { ...c },
      });
      progress(
        `${label}: ${fmt(c.perSecond)} msg/s, ${c.commits} commits, ${
          fmt(c.mutationsPerMessage)
        } mutations/message`,
      );
    }
  }
  for (const [k, v] of Object.entries(rows)) figure("throughput", [k, v]);
  const f = results.figures.throughput;
  addTarget({
    scenario: "throughput",
    label: "durable 200x50 unpaced, delivered/s (KV file)",
    ...measured(f["file delivered/s"]),
    unit: "msg/s",
    op: ">=",
    limit: 15_000,
  });
  addTarget({
    scenario: "throughput",
    label: "KV file / :memory: delivered/s (same rep)",
    ...measured(f["file / memory"]),
    unit: "x",
    op: ">=",
    limit: 0.8,
  });
  addTarget({
    scenario: "throughput",
    label: "storage alone (KvChatStore, no Socket.IO), KV file",
    ...measured(f["storage alone file msg/s"]),
    unit: "msg/s",
    op: ">=",
    limit: Number.NaN,
    pass: null,
  });
  const lostDup = [
    ...f["file lost"].runs,
    ...f["memory lost"].runs,
    ...f["file duplicated"].runs,
    ...f["memory duplicated"].runs,
  ]
    .reduce((a, b) => a + b, 0);
  addTarget({
    scenario: "throughput",
    label: "lost + duplicated, all throughput runs",
    value: lostDup,
    unit: "msgs",
    op: "==",
    limit: 0,
  });
}

/** 200 users paced at 2,000 msg/s in total, KV file; a warm-up phase first. */
async function latency(): Promise<void> {
  const users = 200;
  const rate = 2000;
  const seconds = options.quick ? 3 : 5;
  const rows: Record<string, number[]> = {};
  // Each rep on the chat server, and once on the floor (Socket.IO storing nothing).
  const plan = [
    ...range(options.runs).map((i) => ({ rep: i + 1, floor: false })),
    { rep: 1, floor: true },
  ];
  for (const { rep, floor } of plan) {
    const label = floor ? "latency floor" : `latency ${rep}/${options.runs}`;
    const push = (k: string, v: number) => (rows[floor ? `floor ${k}` : k] ??= []).push(v);
    progress(`${label}: connecting ${users} users`, true);
    await withServer({ KV_PATH: await tempKv("latency") }, async (run) => {
      const gen = new LoadGenerator(run.server.url, options.workers);
      try {
        const c = await gen.connect(usernames("l", users), { concurrency: 100 });
        if (c.errors.length > 0) throw new Error(`connect failed: ${c.errors[0]}`);
        progress(`${label}: warming up 1 s`, true);
        await gen.send({
          senders: range(users),
          perUser: Math.ceil(rate / users),
          rate,
          durationMs: 1000,
        });
        run.begin();
        const perUser = Math.ceil((rate * seconds) / users);
        const r = await gen.send({
          senders: range(users),
          perUser,
          rate,
          durationMs: seconds * 1000,
          onProgress: sendProgress(label, perUser * users),
        });
        const resources = await run.end();
        push("p50 ms", r.latency.p50);
        push("p95 ms", r.latency.p95);
        push("p99 ms", r.latency.p99);
        push("max ms", r.latency.max);
        push("ack p99 ms", r.ackLatency.p99);
        push("delivered/s", r.delivered / seconds);
        push("lost", r.lost);
        push("duplicated", r.duplicated);
        push("server CPU %", resources.serverCpu);
        push("client CPU %", resources.clientCpu);
        push("commits/s", Number(resources.writes?.commits ?? NaN) / (seconds + 1));
        results.runs.push({
          scenario: "latency",
          variant: floor ? "floor" : "file",
          rep,
          figures: { p50: r.latency.p50, p99: r.latency.p99 },
          resources,
          send: sendRecord(r),
        });
        progress(
          `${label}: ${r.delivered} delivered, p50 ${fmt(r.latency.p50)} ms, p99 ${
            fmt(r.latency.p99)
          } ms, max ${fmt(r.latency.max)} ms, lost ${r.lost}, server CPU ${
            fmt(resources.serverCpu)
          }%, client CPU ${fmt(resources.clientCpu)}%`,
        );
      } finally {
        await gen.close();
      }
    }, { floor });
  }
  for (const [k, v] of Object.entries(rows)) figure("latency", [k, v]);
  const f = results.figures.latency;
  addTarget({
    scenario: "latency",
    label: "paced 2,000/s, 200 users: p50",
    ...measured(f["p50 ms"]),
    unit: "ms",
    op: "<=",
    limit: 1,
  });
  addTarget({
    scenario: "latency",
    label: "paced 2,000/s, 200 users: p99",
    ...measured(f["p99 ms"]),
    unit: "ms",
    op: "<=",
    limit: 5,
  });
}

// V8 keeps the heap a burst grew to until its memory reducer finds the process
// idle, some 30 s later; idle memory is measured after that.
const SETTLE_CAP_MS = 60_000;

/**
 * Samples the RSS of `pid`, left idle, once a second until it has fallen by a
 * tenth and then holds within 1% for 3 s, or for `SETTLE_CAP_MS` at most.
 */
async function settledRss(pid: number): Promise<{ rssKB: number; ms: number }> {
  const started = performance.now();
  const samples: number[] = [];
  while (performance.now() - started < SETTLE_CAP_MS) {
    await wait(1000);
    const rss = readProc(pid)?.rssKB;
    if (rss === undefined) break;
    samples.push(rss);
    const last = samples.slice(-4);
    const fell = Math.min(...samples) <= 0.9 * samples[0];
    if (fell && last.length === 4 && Math.max(...last) <= 1.01 * Math.min(...last)) break;
  }
  return { rssKB: samples.at(-1) ?? NaN, ms: performance.now() - started };
}

/** Connects `n` new users to a fresh server; returns time, per-user cost and RSS per idle user. */
async function connectRun(
  n: number,
  { label, capMs, settle = false }: { label: string; capMs: number; settle?: boolean },
): Promise<Record<string, number>> {
  return await withServer({ KV_PATH: await tempKv("connect") }, async (run) => {
    const gen = new LoadGenerator(run.server.url, options.workers);
    try {
      await wait(300);
      const before = readProc(run.server.pid);
      const heapBefore = await heapUsedKB(run.server);
      run.begin();
      progress(`${label}: connecting ${n} users`, true);
      const ticker = setInterval(() => progress(`${label}: connecting ${n} users…`, true), 1000);
      // Users connect in slices so a run that would exceed the cap stops early and reports a rate.
      const slice = Math.min(n, 250);
      const started = performance.now();
      let connected = 0;
      let errors = 0;
      const perUser: number[] = [];
      for (let first = 0; first < n && performance.now() - started < capMs; first += slice) {
        const c = await gen.connect(usernames(`c${first}-`, Math.min(slice, n - first)), {
          first,
          concurrency: 100,
        });
        connected += c.users.length;
        errors += c.errors.length;
        perUser.push(c.perUser.p99);
      }
      const ms = performance.now() - started;
      clearInterval(ticker);
      await wait(1000);
      const resources = await run.end();
      const after = readProc(run.server.pid);
      const kbPerUser = after && before
        ? (after.rssKB - before.rssKB) / Math.max(1, connected)
        : NaN;
      const heapKbPerUser = (resources.heapUsedKB - heapBefore) / Math.max(1, connected);
      let settledKbPerUser = NaN;
      let settleMs = NaN;
      if (settle && before) {
        progress(`${label}: waiting for the idle server's heap to settle`, true);
        const settled = await settledRss(run.server.pid);
        settledKbPerUser = (settled.rssKB - before.rssKB) / Math.max(1, connected);
        settleMs = settled.ms;
      }
      const figures = {
        users: n,
        connected,
        errors,
        ms,
        msPerUser: ms / Math.max(1, connected),
        kbPerUser,
        heapKbPerUser,
        settledKbPerUser,
        settleMs,
        capped: connected < n ? 1 : 0,
      };
      results.runs.push({ scenario: "connect", variant: String(n), rep: 0, figures, resources });
      progress(
        `${label}: ${connected}/${n} users in ${fmt(ms)} ms (${
          fmt(ms / Math.max(1, connected))
        } ms/user), ${fmt(kbPerUser)} KB RSS/user${
          Number.isFinite(heapKbPerUser) ? ` (${fmt(heapKbPerUser)} KB V8 heap)` : ""
        }${
          Number.isFinite(settledKbPerUser)
            ? `, ${fmt(settledKbPerUser)} KB/user settled after ${fmt(settleMs / 1000)} s idle`
            : ""
        }, server CPU ${fmt(resources.serverCpu)}%, client CPU ${fmt(resources.clientCpu)}%${
          connected < n ? `, stopped at the ${capMs / 1000} s cap` : ""
        }`,
      );
      return figures;
    } finally {
      await gen.close();
    }
  });
}

// Connecting 5,000 users costs 12.5 million presence announcements (O(users^2)); a run that
// takes longer than this stops and reports the users it reached, keeping the suite near 4 minutes.
const BIG_CAP_MS = 40_000;

/** 1,000 and 5,000 new users: total time, per-user cost ratio, RSS per idle user. */
async function connect(): Promise<void> {
  const small: Record<string, number>[] = [];
  const large: Record<string, number>[] = [];
  const bigN = 5000;
  const bigRuns = options.quick ? 0 : 1;
  for (let rep = 1; rep <= options.runs; rep++) {
    small.push(
      await connectRun(1000, {
        label: `connect 1000 ${rep}/${options.runs}`,
        capMs: 30_000,
        // Settling takes about 30 s: once per size, and not in quick mode.
        settle: !options.quick && rep === options.runs,
      }),
    );
  }
  for (let rep = 1; rep <= bigRuns; rep++) {
    large.push(
      await connectRun(bigN, {
        label: `connect ${bigN} ${rep}/${bigRuns}`,
        capMs: BIG_CAP_MS,
        settle: true,
      }),
    );
  }
  // Idle memory: settled when measured, else right after the burst (quick mode).
  const idleMemory = (runs: Record<string, number>[], n: string, burst: Spread) => {
    const settled = runs.filter((r) => Number.isFinite(r.settledKbPerUser));
    if (settled.length === 0) return { figure: burst, how: "right after the burst" };
    figure("connect", [`${n} users: s to settle`, settled.map((r) => r.settleMs / 1000)]);
    const values = settled.map((r) => r.settledKbPerUser);
    return {
      figure: figure("connect", [`${n} users: KB RSS/user settled`, values]),
      how: "settled",
    };
  };
  const s1 = figure("connect", ["1,000 users: total ms", small.map((r) => r.ms)]);
  const u1 = figure("connect", ["1,000 users: ms/user", small.map((r) => r.msPerUser)]);
  const m1 = figure("connect", ["1,000 users: KB RSS/user", small.map((r) => r.kbPerUser)]);
  if (small.some((r) => Number.isFinite(r.heapKbPerUser))) {
    figure("connect", ["1,000 users: KB V8 heap/user", small.map((r) => r.heapKbPerUser)]);
  }
  addTarget({
    scenario: "connect",
    label: "1,000 new users connect (session + users), total",
    ...measured(s1),
    unit: "ms",
    op: "<=",
    limit: 1500,
  });
  const idle1 = idleMemory(small, "1,000", m1);
  addTarget({
    scenario: "memory",
    label: `RSS per idle user at 1,000 (${idle1.how})`,
    ...measured(idle1.figure),
    unit: "KB",
    op: "<=",
    limit: 50,
  });
  if (large.length > 0) {
    const u5 = figure("connect", ["5,000 users: ms/user", large.map((r) => r.msPerUser)]);
    figure("connect", ["5,000 users: total ms", large.map((r) => r.ms)]);
    figure("connect", ["5,000 users: connected", large.map((r) => r.connected)]);
    const m5 = figure("connect", ["5,000 users: KB RSS/user", large.map((r) => r.kbPerUser)]);
    const capped = large.some((r) => r.capped === 1);
    addTarget({
      scenario: "connect",
      label: "ms/user at 5,000 / ms/user at 1,000",
      value: u5.median / u1.median,
      unit: "x",
      op: "<=",
      limit: 1.5,
      note: capped
        ? `the 5,000 run stopped at its ${BIG_CAP_MS / 1000} s cap after ${
          large[0].connected
        } users: the ratio uses the users it reached`
        : undefined,
    });
    const idle5 = idleMemory(large, "5,000", m5);
    addTarget({
      scenario: "memory",
      label: `RSS per idle user at 5,000 (${idle5.how}${
        capped ? `, ${large[0].connected} reached` : ""
      })`,
      value: idle5.figure.median,
      unit: "KB",
      op: "<=",
      limit: 50,
    });
  } else {
    results.skipped["connect 5,000"] = "quick mode";
  }
}

/**
 * 500 of 1,000 users reconnect (by session) to a store with 100,000 messages vs
 * one with none; the hub's `users` payload and paging back with `load messages`.
 */
async function history(): Promise<void> {
  const users = 1000;
  // Fewer than all, to keep the O(users^2) presence fan-out from hiding the cost of history.
  const reconnecting = 500;
  const messages = 100_000;
  progress(
    `history: prefilling ${users} users + ${messages.toLocaleString("en-US")} messages`,
    true,
  );
  const storedPath = await tempKv("history-stored");
  const emptyPath = await tempKv("history-empty");
  const cacheDir = join(Deno.env.get("TMPDIR") ?? "/tmp", "chat-bench-cache");
  const stored = await cachedPrefill(storedPath, {
    users,
    messages,
    hubPeers: 300,
    hubShare: 0.3,
    cacheDir,
  });
  const empty = await cachedPrefill(emptyPath, { users, messages: 0, cacheDir });
  progress(
    `history: prefilled ${messages.toLocaleString("en-US")} messages in ${fmt(stored.ms)} ms (${
      fmt(messages / (stored.ms / 1000))
    } msg/s through KvChatStore)${stored.cached ? ", reused from " + cacheDir : ""}`,
  );
  results.meta.prefill = {
    users,
    messages,
    ms: stored.ms,
    hubPeers: stored.hubPeers.length,
    cached: stored.cached,
  };
  const rows: Record<string, number[]> = {};
  const push = (k: string, v: number) => (rows[k] ??= []).push(v);
  const once = async (variant: "stored" | "empty", data: Prefilled, path: string, rep: number) => {
    const label = `history ${variant} ${rep}/${options.runs}`;
    progress(`${label}: reconnecting ${reconnecting} users`, true);
    await withServer({ KV_PATH: path }, async (run) => {
      const gen = new LoadGenerator(run.server.url, options.workers);
      try {
        await wait(300);
        run.begin();
        const c = await gen.connect(
          data.users.slice(0, reconnecting).map((u) => ({ sessionID: u.sessionID })),
          {
            concurrency: 100,
            measurePayload: true,
          },
        );
        if (c.errors.length > 0) throw new Error(`reconnect failed: ${c.errors[0]}`);
        const figures: Record<string, number> = {
          ms: c.ms,
          msPerUser: c.ms / reconnecting,
          hubUsersBytes: c.users[0].usersBytes,
          hubUsersEntries: c.users[0].usersEntries,
          hubUsersMessages: c.users[0].usersMessages,
          maxUsersBytes: Math.max(...c.users.map((u) => u.usersBytes)),
        };
        push(`${variant}: 500 returning users, total ms`, c.ms);
        if (variant === "stored") {
          push("hub users payload KB", figures.hubUsersBytes / 1024);
          push("largest users payload KB", figures.maxUsersBytes / 1024);
          push("hub users entries", figures.hubUsersEntries);
          push("hub users messages", figures.hubUsersMessages);
          progress(`${label}: paging history (load messages x 300)`, true);
          const h = await gen.loadHistory(0, data.hubPeers, { requests: 300, limit: 50 });
          figures.loadP50 = h.latency.p50;
          figures.loadP99 = h.latency.p99;
          figures.loadErrors = h.errors;
          push("load messages p50 ms", h.latency.p50);
          push("load messages p99 ms", h.latency.p99);
          push("load messages max ms", h.latency.max);
        }
        const resources = await run.end();
        results.runs.push({ scenario: "history", variant, rep, figures, resources });
        progress(
          `${label}: reconnect ${fmt(c.ms)} ms, hub users payload ${
            fmt(figures.hubUsersBytes / 1024)
          } KB (${figures.hubUsersEntries} users, ${figures.hubUsersMessages} messages)${
            variant === "stored"
              ? `, load messages p50 ${fmt(figures.loadP50)} ms p99 ${fmt(figures.loadP99)} ms`
              : ""
          }`,
        );
      } finally {
        await gen.close();
      }
    });
  };
  for (let rep = 1; rep <= options.runs; rep++) {
    if (rep % 2 === 1) {
      await once("stored", stored, storedPath, rep);
      await once("empty", empty, emptyPath, rep);
    } else {
      await once("empty", empty, emptyPath, rep);
      await once("stored", stored, storedPath, rep);
    }
  }
  for (const [k, v] of Object.entries(rows)) figure("history", [k, v]);
  const f = results.figures.history;
  const s = f["stored: 500 returning users, total ms"];
  const e = f["empty: 500 returning users, total ms"];
  const ratios = s.runs.map((v, i) => v / e.runs[i]);
  const r = figure("history", ["stored / empty reconnect time", ratios]);
  addTarget({
    scenario: "connect",
    label: "reconnect 500 users: 100,000 stored / empty store",
    ...measured(r),
    unit: "x",
    op: "<=",
    limit: 1.5,
  });
  addTarget({
    scenario: "history",
    label: "hub's users payload with 100,000 stored",
    value: f["hub users payload KB"].median,
    unit: "KB",
    op: "<",
    limit: 100,
  });
  addTarget({
    scenario: "history",
    label: "load messages p99 with 100,000 stored",
    ...measured(f["load messages p99 ms"]),
    unit: "ms",
    op: "<",
    limit: 20,
  });
}

// The flooder's rate: 250x the default allowance of 20/s. Paced rather than
// as-fast-as-possible so that the flooding client's own CPU use (on the same 2
// cores) stays the same from run to run.
const FLOOD_RATE = 5000;

/** Others paced at 1,000/s with default rate limits, with and without one flooding client. */
async function fairness(): Promise<void> {
  const users = 200;
  const rate = 1000;
  const seconds = options.quick ? 3 : 4;
  const rows: Record<string, number[]> = {};
  const push = (k: string, v: number) => (rows[k] ??= []).push(v);
  // Default limits from config.ts, set explicitly so the scenario does not drift with them.
  const env = { KV_PATH: await tempKv("fairness"), MESSAGE_RATE: "20", MESSAGE_BURST: "100" };
  await withServer(env, async (run) => {
    const gen = new LoadGenerator(run.server.url, options.workers);
    // The flooder runs in its own worker thread so its sending does not delay the others' clients.
    const flooder = new LoadGenerator(run.server.url, 1);
    try {
      const c = await gen.connect(usernames("f", users), { concurrency: 100 });
      if (c.errors.length > 0) throw new Error(`connect failed: ${c.errors[0]}`);
      await flooder.connect([{ username: "flooder" }], { first: 0 });
      // The flooder writes to the others (index 0 is itself, never picked).
      await flooder.setPeers([flooder.userIDs[0], ...gen.userIDs]);
      await gen.send({ senders: range(users), perUser: 5, rate, durationMs: 1000 });
      const perUser = Math.ceil((rate * seconds) / users) + 1;
      const phase = async (variant: "baseline" | "flood", rep: number) => {
        const label = `fairness ${variant} ${rep}/${options.runs}`;
        run.begin();
        const flooding = variant === "flood"
          ? flooder.send({
            senders: [0],
            perUser: FLOOD_RATE * (seconds + 1),
            rate: FLOOD_RATE,
            durationMs: seconds * 1000 + 500,
            tracked: false,
          })
          : null;
        const r = await gen.send({
          senders: range(users),
          perUser,
          rate,
          durationMs: seconds * 1000,
          onProgress: sendProgress(label, perUser * users),
        });
        const f = flooding ? await flooding : null;
        const resources = await run.end();
        push(`${variant} p50 ms`, r.latency.p50);
        push(`${variant} p99 ms`, r.latency.p99);
        push(`${variant} lost`, r.lost);
        push(`${variant} rejected (others)`, Object.values(r.failed).reduce((a, b) => a + b, 0));
        if (f) {
          push("flooder sent", f.sent);
          push("flooder accepted", f.acked);
          push("flooder rejected", f.failed.rate_limited ?? 0);
        }
        push(`${variant} server CPU %`, resources.serverCpu);
        results.runs.push({
          scenario: "fairness",
          variant,
          rep,
          figures: { p50: r.latency.p50, p99: r.latency.p99, flooderSent: f?.sent ?? 0 },
          resources,
          send: sendRecord(r),
        });
        progress(
          `${label}: others p50 ${fmt(r.latency.p50)} ms p99 ${
            fmt(r.latency.p99)
          } ms, lost ${r.lost}${
            f
              ? `; flooder sent ${f.sent}, accepted ${f.acked}, rate_limited ${
                f.failed.rate_limited ?? 0
              }`
              : ""
          }; server CPU ${fmt(resources.serverCpu)}%`,
        );
        return r.latency.p99;
      };
      for (let rep = 1; rep <= options.runs; rep++) {
        const base = await phase("baseline", rep);
        const flood = await phase("flood", rep);
        push("flood p99 / baseline p99", flood / base);
      }
    } finally {
      await flooder.close();
      await gen.close();
    }
  });
  for (const [k, v] of Object.entries(rows)) figure("fairness", [k, v]);
  const r = results.figures.fairness["flood p99 / baseline p99"];
  addTarget({
    scenario: "fairness",
    label: "others' p99 with one flooder / without (same run)",
    ...measured(r),
    unit: "x",
    op: "<=",
    limit: 2,
  });
}

/** True when the server wires REDIS_URL to an adapter (the scale-out issue has landed). */
async function clusterSupported(): Promise<boolean> {
  try {
    const app = await Deno.readTextFile(join(options.serverDir, "server/app.ts"));
    return /config\.redisUrl/.test(app) && /adapter/i.test(app);
  } catch {
    return false;
  }
}

/** 2 nodes + Redis: cross-node latency at 1,000 msg/s vs the same traffic on one node. */
async function cluster(): Promise<void> {
  if (!(await clusterSupported())) {
    results.skipped.cluster = "server/app.ts does not use REDIS_URL yet";
    progress("cluster: skipped (no REDIS_URL support in server/app.ts)");
    return;
  }
  const users = 200;
  const rate = 1000;
  const seconds = options.quick ? 3 : 4;
  const rows: Record<string, number[]> = {};
  const push = (k: string, v: number) => (rows[k] ??= []).push(v);
  const redis = await RedisServer.start();
  try {
    const phase = async (variant: "one node" | "two nodes", rep: number) => {
      const label = `cluster ${variant} ${rep}/${options.runs}`;
      const kvPath = await tempKv("cluster");
      const env: Record<string, string> = { KV_PATH: kvPath };
      if (variant === "two nodes") env.REDIS_URL = redis.url;
      env.REDIS_STREAM_NAME = `bench-${rep}-${variant === "one node" ? 1 : 2}`;
      progress(`${label}: starting`, true);
      const a = await startServerProcess({ MESSAGE_RATE: "0", ...env }, { cwd: options.serverDir });
      const b = variant === "two nodes"
        ? await startServerProcess({ MESSAGE_RATE: "0", ...env }, { cwd: options.serverDir })
        : null;
      const gen = new LoadGenerator(a.url, options.workers);
      try {
        const c = await gen.connect(usernames("k", users), {
          concurrency: 100,
          urlOf: (i) => (b && i % 2 === 1 ? b.url : a.url),
        });
        if (c.errors.length > 0) throw new Error(`connect failed: ${c.errors[0]}`);
        await gen.send({
          senders: range(users),
          perUser: 5,
          rate,
          durationMs: 1000,
          crossParity: true,
        });
        const ra = measure(a);
        const rb = b ? measure(b) : null;
        ra.begin();
        rb?.begin();
        const perUser = Math.ceil((rate * seconds) / users) + 1;
        const r = await gen.send({
          senders: range(users),
          perUser,
          rate,
          durationMs: seconds * 1000,
          crossParity: true,
          onProgress: sendProgress(label, perUser * users),
        });
        const resA = await ra.end();
        const resB = rb ? await rb.end() : null;
        push(`${variant} p50 ms`, r.latency.p50);
        push(`${variant} p99 ms`, r.latency.p99);
        push(`${variant} lost`, r.lost);
        push(`${variant} duplicated`, r.duplicated);
        results.runs.push({
          scenario: "cluster",
          variant,
          rep,
          figures: { p50: r.latency.p50, p99: r.latency.p99 },
          resources: resA,
          send: sendRecord(r),
          notes: resB ? [`node B: ${JSON.stringify(resB)}`] : undefined,
        });
        progress(
          `${label}: p50 ${fmt(r.latency.p50)} ms p99 ${
            fmt(r.latency.p99)
          } ms, delivered ${r.delivered}, lost ${r.lost}, dup ${r.duplicated}`,
        );
        return r.latency.p99;
      } finally {
        await gen.close();
        await b?.stop();
        await a.stop();
      }
    };
    for (let rep = 1; rep <= options.runs; rep++) {
      const one = await phase("one node", rep);
      const two = await phase("two nodes", rep);
      push("two nodes p99 / one node p99", two / one);
    }
  } catch (error) {
    results.skipped.cluster = `failed: ${error instanceof Error ? error.message : error}`;
    progress(`cluster: failed: ${error instanceof Error ? error.message : error}`);
  } finally {
    await redis.stop();
  }
  for (const [k, v] of Object.entries(rows)) figure("cluster", [k, v]);
  const f = results.figures.cluster;
  if (f?.["two nodes p99 ms"]) {
    addTarget({
      scenario: "cluster",
      label: "2 nodes + Redis, cross-node p99 at 1,000/s",
      ...measured(f["two nodes p99 ms"]),
      unit: "ms",
      op: "<=",
      limit: Number.NaN,
      pass: null,
      note: `one node, same traffic: p99 ${fmtSpread(f["one node p99 ms"])} ms; ratio ${
        fmtSpread(f["two nodes p99 / one node p99"])
      } (the issue sets no limit: reported for comparison)`,
    });
  }
}

/** Raw and gzipped size of dist/chat-widget.js. */
async function bundle(): Promise<void> {
  const path = join(ROOT, "dist/chat-widget.js");
  let data: Uint8Array;
  try {
    data = await Deno.readFile(path);
  } catch {
    results.skipped.bundle = "dist/chat-widget.js not built (deno run -A tools/build_widget.ts)";
    addTarget({
      scenario: "bundle",
      label: "widget bundle gzipped",
      value: NaN,
      unit: "KB",
      op: "<=",
      limit: 25,
      pass: null,
      note: "not built",
    });
    progress("bundle: not built");
    return;
  }
  const gz = gzipSync(data, { level: 9 }).length;
  figure("bundle", ["raw KB", [data.length / 1024]]);
  figure("bundle", ["gzip -9 KB", [gz / 1024]]);
  addTarget({
    scenario: "bundle",
    label: "widget bundle gzipped",
    value: gz / 1024,
    unit: "KB",
    op: "<=",
    limit: 25,
  });
  progress(`bundle: ${fmt(data.length / 1024)} KB raw, ${fmt(gz / 1024)} KB gzipped`);
}

// ---------------------------------------------------------------------------
// Output

function targetRows(): string[][] {
  return results.targets.map((t) => {
    const value = Number.isFinite(t.value)
      ? (t.range && t.range[0] !== t.range[1]
        ? `${fmt(t.value)} (${fmt(t.range[0])}-${fmt(t.range[1])})`
        : fmt(t.value))
      : (t.note ?? "-");
    const limit = Number.isFinite(t.limit) ? `${t.op} ${fmt(t.limit)}` : "-";
    const result = t.pass === null
      ? (t.note === "not built" ? "n/a" : "info")
      : t.pass
      ? "PASS"
      : "MISS";
    return [
      t.scenario,
      t.label,
      `${value} ${t.unit}`,
      `${limit} ${Number.isFinite(t.limit) ? t.unit : ""}`.trim(),
      result,
    ];
  });
}

function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
  console.log(line(header));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const r of rows) console.log(line(r));
}

function figureRows(): string[][] {
  const rows: string[][] = [];
  for (const [scenario, figures] of Object.entries(results.figures)) {
    for (const [name, s] of Object.entries(figures)) {
      rows.push([scenario, name, fmtSpread(s), String(s.runs.filter(Number.isFinite).length)]);
    }
  }
  return rows;
}

function latencyGroup(label: string, scenario: string, variant: string) {
  const runs = results.runs.filter((r) =>
    r.scenario === scenario && r.variant === variant && r.send
  );
  if (runs.length === 0) return null;
  const pick = (k: string) => spread(runs.map((r) => r.send!.latency[k]));
  const ps = ["p50", "p95", "p99"].map(pick);
  return {
    label,
    values: ps.map((s) => s.median),
    ranges: ps.map((s) => [s.min, s.max] as [number, number]),
  };
}

function charts(): BarChart[] {
  const out: BarChart[] = [];
  const groups = [
    latencyGroup("throughput KV file (unpaced)", "throughput", "file"),
    latencyGroup("throughput :memory: (unpaced)", "throughput", "memory"),
    latencyGroup("paced 2,000/s KV file", "latency", "file"),
    latencyGroup("paced 2,000/s, Socket.IO alone (floor)", "latency", "floor"),
    latencyGroup("fairness baseline 1,000/s", "fairness", "baseline"),
    latencyGroup("fairness with flooder", "fairness", "flood"),
    latencyGroup("one node 1,000/s", "cluster", "one node"),
    latencyGroup("two nodes + Redis cross-node", "cluster", "two nodes"),
  ].filter((g) => g !== null);
  if (groups.length > 0) {
    out.push({
      title: "Delivery latency (send -> arrival) per scenario, median of runs with min-max",
      unit: "ms",
      series: ["p50", "p95", "p99"],
      groups,
      log: true,
      targets: [{ value: 5, label: "paced target p99 5 ms" }, {
        value: 1,
        label: "paced target p50 1 ms",
      }],
    });
  }
  const tput = results.figures.throughput;
  if (tput) {
    const g = (label: string, key: string) => ({
      label,
      values: [tput[key]?.median ?? NaN],
      ranges: [tput[key] ? [tput[key].min, tput[key].max] as [number, number] : null],
    });
    out.push({
      title: "Delivered messages per second, 200 users x 50 unpaced",
      unit: "msg/s",
      series: ["delivered/s"],
      groups: [
        g("KV file (durable)", "file delivered/s"),
        g(":memory:", "memory delivered/s"),
        g("Socket.IO alone (floor)", "floor delivered/s"),
        g("storage alone, KV file", "storage alone file msg/s"),
        g("storage alone, :memory:", "storage alone memory msg/s"),
      ],
      targets: [{ value: 15_000, label: "target 15,000/s" }],
    });
  }
  const conn = results.figures.connect;
  if (conn) {
    const groupsMem = spreadGroups(conn, [
      ["1,000 users, idle (settled)", "1,000 users: KB RSS/user settled"],
      ["1,000 users, right after the burst", "1,000 users: KB RSS/user"],
      ["5,000 users, idle (settled)", "5,000 users: KB RSS/user settled"],
      ["5,000 users, right after the burst", "5,000 users: KB RSS/user"],
    ]);
    out.push({
      title: "Server RSS per connected idle user",
      unit: "KB",
      series: ["KB/user"],
      groups: groupsMem,
      targets: [{ value: 50, label: "target 50 KB" }],
    });
    const groupsConn = spreadGroups(conn, [
      ["1,000 new users", "1,000 users: ms/user"],
      ["5,000 new users", "5,000 users: ms/user"],
    ]);
    const hist = results.figures.history;
    if (hist) {
      for (
        const [label, k] of [["500 returning, empty", "empty: 500 returning users, total ms"], [
          "500 returning, 100k stored",
          "stored: 500 returning users, total ms",
        ]]
      ) {
        if (hist[k]) {
          groupsConn.push({
            label,
            values: [hist[k].median / 500],
            ranges: [[hist[k].min / 500, hist[k].max / 500] as [number, number]],
          });
        }
      }
    }
    out.push({
      title: "Connect cost per user (wall time / users)",
      unit: "ms per user",
      series: ["ms/user"],
      groups: groupsConn,
      targets: [{ value: 1.5, label: "1,000 in 1.5 s" }],
    });
  }
  return out;
}

async function writeOutputs(): Promise<void> {
  for (const file of [options.json, options.report]) {
    if (file) await Deno.mkdir(dirname(file), { recursive: true });
  }
  if (options.json) {
    await Deno.writeTextFile(
      options.json,
      JSON.stringify(
        results,
        (_, v) => (typeof v === "number" && !Number.isFinite(v) ? null : v),
        2,
      ),
    );
    console.log(`Raw figures: ${options.json}`);
  }
  if (options.report) {
    const tables: Table[] = [
      {
        title: "Targets",
        header: ["scenario", "target", "measured: median (min-max)", "limit", "result"],
        rows: targetRows(),
      },
      {
        title: "All figures: median (min-max) over runs",
        header: ["scenario", "figure", "value", "runs"],
        rows: figureRows(),
      },
    ];
    const skipped = Object.entries(results.skipped).map(([k, v]) => `${k} skipped: ${v}`);
    await Deno.writeTextFile(
      options.report,
      reportHtml({
        title: "<chat-widget> server benchmark",
        meta: [
          `Run ${results.meta.date} on ${results.meta.host} (${results.meta.cpus} CPUs), Deno ${results.meta.deno}, commit ${results.meta.commit}`,
          `Command: ${results.meta.command}`,
          `Runs per scenario: ${options.runs}; load generator: ${options.workers} worker threads in one process on the same machine; suite time ${
            fmt(Number(results.meta.seconds))
          } s`,
          `Load average (1 min) before ${results.meta.loadAverageBefore}, after ${results.meta.loadAverageAfter}: other work on the machine shows up as noise`,
        ],
        charts: charts(),
        tables,
        notes: [...skipped, ...results.notes],
      }),
    );
    console.log(`Report: ${options.report}`);
  }
}

/** The 1-minute load average, to tell a noisy machine from a slow server. */
function loadAverage(): number {
  try {
    return Number(Deno.readTextFileSync("/proc/loadavg").split(" ")[0]);
  } catch {
    return NaN;
  }
}

async function gitCommit(): Promise<string> {
  try {
    const out = await new Deno.Command("git", {
      args: ["rev-parse", "--short", "HEAD"],
      cwd: ROOT,
      stdout: "piped",
      stderr: "null",
    })
      .output();
    const dirty = await new Deno.Command("git", {
      args: ["status", "--porcelain", "server"],
      cwd: ROOT,
      stdout: "piped",
      stderr: "null",
    })
      .output();
    return new TextDecoder().decode(out.stdout).trim() +
      (dirty.stdout.length > 0 ? " (server/ modified)" : "");
  } catch {
    return "unknown";
  }
}

async function main(): Promise<void> {
  try {
    options = parseArgs(Deno.args);
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    Deno.exit(2);
  }
  tempRoot = await Deno.makeTempDir({ prefix: "chat-bench-" });
  results.meta = {
    date: new Date().toISOString(),
    loadAverageBefore: loadAverage(),
    host: Deno.hostname(),
    cpus: navigator.hardwareConcurrency,
    deno: Deno.version.deno,
    commit: await gitCommit(),
    command: `deno task bench ${Deno.args.join(" ")}`.trim(),
    serverDir: options.serverDir,
    runs: options.runs,
    workers: options.workers,
    quick: options.quick,
    prefillMethod:
      "KvChatStore (server/store/kv_store.ts) writing into the KV file before the server starts",
  };
  results.notes.push(
    "Latency is measured from the sender's emit to the recipient's 'private message' event; both clocks are performance.timeOrigin + performance.now() of worker threads of one process.",
    "Throughput is delivered messages / (first send -> last arrival). Every message is acknowledged only after its KV commit, so a delivered message is a durable one.",
    "Server CPU is % of one core from /proc/<pid>/stat over the measured phase; RSS from /proc/<pid>/status.",
  );
  const plan: [ScenarioName, () => Promise<void>][] = [
    ["bundle", bundle],
    ["throughput", throughput],
    ["latency", latency],
    ["fairness", fairness],
    ["history", history],
    ["connect", connect],
    ["cluster", cluster],
  ];
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
  };
  Deno.addSignalListener("SIGINT", onSignal);
  try {
    for (const [name, run] of plan) {
      if (options.only && !options.only.has(name)) continue;
      if (interrupted) break;
      try {
        await run();
      } catch (error) {
        results.skipped[name] = `failed: ${error instanceof Error ? error.message : error}`;
        progress(
          `${name}: FAILED: ${error instanceof Error ? error.stack ?? error.message : error}`,
        );
      }
    }
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    await Deno.remove(tempRoot, { recursive: true }).catch(() => {});
  }
  results.meta.seconds = (performance.now() - suiteStarted) / 1000;
  results.meta.loadAverageAfter = loadAverage();
  console.log("");
  console.log("Figures: median (min-max) over runs");
  printTable(["scenario", "figure", "value", "runs"], figureRows());
  console.log("");
  console.log(
    `Targets (${options.quick ? "quick mode, " : ""}${options.runs} run(s) each, suite ${
      fmt(results.meta.seconds as number)
    } s)`,
  );
  printTable(["scenario", "target", "measured", "limit", "result"], targetRows());
  for (const t of results.targets.filter((t) => t.note && Number.isFinite(t.value))) {
    console.log(`  note: ${t.label}: ${t.note}`);
  }
  for (const [k, v] of Object.entries(results.skipped)) console.log(`  skipped: ${k}: ${v}`);
  await writeOutputs();
}

if (import.meta.main) await main();
