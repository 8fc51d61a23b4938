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

import { writeOutputs } from "./output.ts";
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
  await writeOutputs(results, options);
}

if (import.meta.main) await main();
