/**
 * `deno task bench`: starts the chat server as a separate process, drives it
 * with real socket.io-client connections (see `load.ts`) and prints each
 * figure as median (min-max) over several runs with PASS/MISS against the
 * targets (`targets.ts`), beside the peer's (the guide's server, `peer.ts`)
 * where a scenario runs it too. It always exits 0 unless it cannot run at
 * all (2 for a bad option): it is a measurement, not a test. Each scenario is a
 * file in `scenarios/`; `output.ts` prints and writes what they return.
 *
 *   deno task bench [--quick] [--runs N] [--workers N] [--only a,b]
 *                   [--json FILE] [--report FILE] [--cpu-prof DIR] [--server-dir DIR]
 *                   [--peer-dir DIR]
 */

import { type Flag, HELP_FLAG, optionsOrExit, parseFlags, usage, wholeNumber } from "./cli.ts";
import { writeOutputs } from "./output.ts";
import { Progress } from "./progress.ts";
import { GUIDE_SERVER_DIR } from "./peer.ts";
import { addResult, type BenchResults, lostDuplicatedTarget, type Scenario } from "./results.ts";
import { ServerRunner } from "./runner.ts";
import { abuse } from "./scenarios/abuse.ts";
import { bundle } from "./scenarios/bundle.ts";
import { cluster } from "./scenarios/cluster.ts";
import { connect } from "./scenarios/connect.ts";
import { fairness } from "./scenarios/fairness.ts";
import { history } from "./scenarios/history.ts";
import { latency } from "./scenarios/latency.ts";
import { metrics } from "./scenarios/metrics.ts";
import { rows } from "./scenarios/rows.ts";
import { search } from "./scenarios/search.ts";
import { steady } from "./scenarios/steady.ts";
import { throughput } from "./scenarios/throughput.ts";
import { ROOT } from "./server_process.ts";

/** The scenarios, in the order they run. */
const SCENARIOS = {
  bundle,
  throughput,
  rows,
  latency,
  metrics,
  steady,
  fairness,
  history,
  connect,
  cluster,
  abuse,
  search,
} satisfies Record<string, Scenario>;

/** The scenarios that run the peer beside ours. */
const PEER_SCENARIOS = new Set(["throughput", "latency"]);

const FLAGS = {
  quick: { type: "boolean", help: "1 run each, shorter phases, no 5,000-user run" },
  runs: { type: "string", value: "N", help: "runs of each scenario (default 3; 1 with --quick)" },
  workers: { type: "string", value: "N", help: "load generator threads, 1 to 8 (default 2)" },
  only: {
    type: "string",
    value: "A,B",
    help: `the scenarios to run, of ${Object.keys(SCENARIOS).join(",")}`,
  },
  json: { type: "string", value: "FILE", help: "write every run and figure to FILE as JSON" },
  report: { type: "string", value: "FILE", help: "write the HTML report with charts to FILE" },
  "cpu-prof": { type: "string", value: "DIR", help: "run the server under --cpu-prof into DIR" },
  "server-dir": {
    type: "string",
    value: "DIR",
    help: "measure the server/main.ts in DIR, e.g. a patched copy (default: this checkout)",
  },
  "peer-dir": {
    type: "string",
    value: "DIR",
    help: `the guide's server to run as the peer (default: ${GUIDE_SERVER_DIR})`,
  },
  help: HELP_FLAG,
} as const satisfies Record<string, Flag>;

/** The `--help` text. */
const USAGE = usage("deno task bench [options]", FLAGS);

/** Command-line options. */
export interface Options {
  quick: boolean;
  runs: number;
  workers: number;
  only: Set<string> | null;
  json: string | null;
  report: string | null;
  cpuProf: string | null;
  /** Folder holding the server to measure (`server/main.ts` inside), e.g. a patched copy. */
  serverDir: string;
  /** Folder holding the peer's source (`index.js`, `package.json`). */
  peerDir: string;
  help: boolean;
}

/** The options in `args`; throws on an unknown option, a missing value or a bad one. */
export function parseOptions(args: string[]): Options {
  const values = parseFlags(args, FLAGS);
  const quick = values.quick ?? false;
  // 0 stands for the default, as if --runs were not given.
  const runs = wholeNumber("runs", values.runs ?? "0");
  const only = values.only === undefined ? null : new Set(values.only.split(","));
  for (const name of only ?? []) {
    if (!Object.hasOwn(SCENARIOS, name)) {
      const names = Object.keys(SCENARIOS).join(", ");
      throw new TypeError(`Cannot run scenario "${name}": not one of ${names}`);
    }
  }
  return {
    quick,
    runs: runs === 0 ? (quick ? 1 : 3) : runs,
    workers: wholeNumber("workers", values.workers ?? "2", { min: 1, max: 8 }),
    only,
    json: values.json ?? null,
    report: values.report ?? null,
    cpuProf: values["cpu-prof"] ?? null,
    serverDir: values["server-dir"] ?? ROOT,
    peerDir: values["peer-dir"] ?? GUIDE_SERVER_DIR,
    help: values.help ?? false,
  };
}

/** The 1-minute load average, to tell a noisy machine from a slow server. */
function loadAverage(): number {
  try {
    return Number(Deno.readTextFileSync("/proc/loadavg").split(" ")[0]);
  } catch {
    return NaN;
  }
}

/** The checked-out commit, marked when server/ has changes not committed. */
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

/** Runs the scenarios `options` choose, in their order, and collects what they return. */
async function runSuite(options: Options, progress: Progress): Promise<BenchResults> {
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
      peerDir: options.peerDir,
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
      "Throughput is delivered messages / (first send -> last arrival). Our server relays and acknowledges a message only after its KV commit, so each delivered message is a durable one; the peer keeps messages in memory.",
      "Server CPU is % of one core from /proc/<pid>/stat over the measured phase; CPU per message is utime + stime of all the process's threads over the phase / messages delivered; RSS from /proc/<pid>/status.",
      "The peer is the Socket.IO guide's Private messaging Part III server under node, restarted for each repetition; ours / peer ratios are taken within each repetition, then their median.",
      "The guide protocol is what the guide's client sends: no acks, no clientId, no batchPresence; a message counts lost when it has not arrived once arrivals stop.",
    ],
    skipped: {},
  };
  // Ctrl-C ends the suite after the running scenario, so what was measured is still written.
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
  };
  Deno.addSignalListener("SIGINT", onSignal);
  try {
    await using runner = await ServerRunner.create(options);
    if (!options.only || [...options.only].some((name) => PEER_SCENARIOS.has(name))) {
      progress.status(`peer: installing the guide's server from ${options.peerDir}`);
      const peer = await runner.peer();
      progress.line(
        peer.ok
          ? `peer: the guide's server ${
            peer.cached ? "from the cache" : "installed"
          } in ${peer.dir}`
          : `peer: skipped: ${peer.reason}`,
      );
    }
    for (const [name, scenario] of Object.entries(SCENARIOS)) {
      if (options.only && !options.only.has(name)) continue;
      if (interrupted) break;
      try {
        addResult(results, name, await scenario(options, { runner, progress }));
      } catch (error) {
        // One scenario failing leaves the others' figures standing.
        results.skipped[name] = `failed: ${error instanceof Error ? error.message : error}`;
        progress.line(
          `${name}: FAILED: ${error instanceof Error ? error.stack ?? error.message : error}`,
        );
      }
    }
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
  }
  const lostDuplicated = lostDuplicatedTarget(results.runs);
  if (lostDuplicated) results.targets.push(lostDuplicated);
  results.meta.seconds = progress.seconds;
  results.meta.loadAverageAfter = loadAverage();
  return results;
}

async function main(): Promise<void> {
  const options = optionsOrExit(parseOptions, USAGE);
  const results = await runSuite(options, new Progress());
  await writeOutputs(results, options);
}

if (import.meta.main) await main();
