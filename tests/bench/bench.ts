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

import { dirname } from "node:path";
import { type BarChart, reportHtml, type Table } from "./report.ts";
import { Progress } from "./progress.ts";
import { addResult, type BenchResults, type Scenario } from "./results.ts";
import { ServerRunner } from "./runner.ts";
import { bundle } from "./scenarios/bundle.ts";
import { cluster } from "./scenarios/cluster.ts";
import { connect } from "./scenarios/connect.ts";
import { fairness } from "./scenarios/fairness.ts";
import { history } from "./scenarios/history.ts";
import { latency } from "./scenarios/latency.ts";
import { throughput } from "./scenarios/throughput.ts";
import { ROOT } from "./server_process.ts";
import { fmt, fmtSpread, type Spread, spread } from "./stats.ts";
import { type Target, TARGETS } from "./targets.ts";

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

// In the order they run.
const SCENARIOS = {
  bundle,
  throughput,
  latency,
  fairness,
  history,
  connect,
  cluster,
} satisfies Record<string, Scenario>;

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
        "deno task bench [--quick] [--runs N] [--workers N] [--only " +
          Object.keys(SCENARIOS).join(",") +
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
    if (!Object.hasOwn(SCENARIOS, name)) {
      const names = Object.keys(SCENARIOS).join(", ");
      throw new TypeError(`Cannot run scenario "${name}": not one of ${names}`);
    }
  }
  if (options.runs === 0) options.runs = options.quick ? 1 : 3;
  return options;
}

// ---------------------------------------------------------------------------
// Output

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

function targetRows(targets: Target[]): string[][] {
  return targets.map((t) => {
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

function figureRows(results: BenchResults): string[][] {
  const rows: string[][] = [];
  for (const [scenario, figures] of Object.entries(results.figures)) {
    for (const [name, s] of Object.entries(figures)) {
      rows.push([scenario, name, fmtSpread(s), String(s.runs.filter(Number.isFinite).length)]);
    }
  }
  return rows;
}

function latencyGroup(results: BenchResults, [label, scenario, variant]: string[]) {
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

function charts(results: BenchResults): BarChart[] {
  const out: BarChart[] = [];
  const groups = [
    ["throughput KV file (unpaced)", "throughput", "file"],
    ["throughput :memory: (unpaced)", "throughput", "memory"],
    ["paced 2,000/s KV file", "latency", "file"],
    ["paced 2,000/s, Socket.IO alone (floor)", "latency", "floor"],
    ["fairness baseline 1,000/s", "fairness", "baseline"],
    ["fairness with flooder", "fairness", "flood"],
    ["one node 1,000/s", "cluster", "one node"],
    ["two nodes + Redis cross-node", "cluster", "two nodes"],
  ].map((g) => latencyGroup(results, g)).filter((g) => g !== null);
  if (groups.length > 0) {
    const { latencyP50: p50, latencyP99: p99 } = TARGETS;
    out.push({
      title: "Delivery latency (send -> arrival) per scenario, median of runs with min-max",
      unit: "ms",
      series: ["p50", "p95", "p99"],
      groups,
      log: true,
      targets: [
        { value: p99.limit, label: `paced target p99 ${p99.limit} ms` },
        { value: p50.limit, label: `paced target p50 ${p50.limit} ms` },
      ],
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
      targets: [{
        value: TARGETS.throughputFile.limit,
        label: `target ${TARGETS.throughputFile.limit.toLocaleString("en-US")}/s`,
      }],
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
      targets: [{
        value: TARGETS.idleMemory1000.limit,
        label: `target ${TARGETS.idleMemory1000.limit} KB`,
      }],
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
      // The 1,000-user target as a cost per user.
      targets: [{
        value: TARGETS.connect1000.limit / 1000,
        label: `1,000 in ${TARGETS.connect1000.limit / 1000} s`,
      }],
    });
  }
  return out;
}

async function writeOutputs(results: BenchResults, options: Options): Promise<void> {
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
        rows: targetRows(results.targets),
      },
      {
        title: "All figures: median (min-max) over runs",
        header: ["scenario", "figure", "value", "runs"],
        rows: figureRows(results),
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
        charts: charts(results),
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
  let options: Options;
  try {
    options = parseArgs(Deno.args);
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    Deno.exit(2);
  }
  const progress = new Progress();
  const results: BenchResults = {
    meta: {
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
    },
    runs: [],
    figures: {},
    targets: [],
    notes: [
      "Latency is measured from the sender's emit to the recipient's 'private message' event; both clocks are performance.timeOrigin + performance.now() of worker threads of one process.",
      "Throughput is delivered messages / (first send -> last arrival). Every message is acknowledged only after its KV commit, so a delivered message is a durable one.",
      "Server CPU is % of one core from /proc/<pid>/stat over the measured phase; RSS from /proc/<pid>/status.",
    ],
    skipped: {},
  };
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
  };
  Deno.addSignalListener("SIGINT", onSignal);
  try {
    await using runner = await ServerRunner.create(options);
    for (const [name, scenario] of Object.entries(SCENARIOS)) {
      if (options.only && !options.only.has(name)) continue;
      if (interrupted) break;
      try {
        addResult(results, name, await scenario(options, { runner, progress }));
      } catch (error) {
        results.skipped[name] = `failed: ${error instanceof Error ? error.message : error}`;
        progress.line(
          `${name}: FAILED: ${error instanceof Error ? error.stack ?? error.message : error}`,
        );
      }
    }
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
  }
  results.meta.seconds = progress.seconds;
  results.meta.loadAverageAfter = loadAverage();
  console.log("");
  console.log("Figures: median (min-max) over runs");
  printTable(["scenario", "figure", "value", "runs"], figureRows(results));
  console.log("");
  console.log(
    `Targets (${options.quick ? "quick mode, " : ""}${options.runs} run(s) each, suite ${
      fmt(results.meta.seconds as number)
    } s)`,
  );
  printTable(["scenario", "target", "measured", "limit", "result"], targetRows(results.targets));
  for (const t of results.targets.filter((t) => t.note && Number.isFinite(t.value))) {
    console.log(`  note: ${t.label}: ${t.note}`);
  }
  for (const [k, v] of Object.entries(results.skipped)) console.log(`  skipped: ${k}: ${v}`);
  await writeOutputs(results, options);
}

if (import.meta.main) await main();
