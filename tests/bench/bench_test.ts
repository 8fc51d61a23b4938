/**
 * The benchmark's own parts, so its figures can be trusted: the statistics, the
 * targets' judging (ratios to the peer's figures included), the options, the
 * collected results and their tables, the load generator's counting in both
 * protocols against real servers (and against one that loses and repeats
 * messages on purpose), the peer's preparation and loopback preload, and the
 * storage-path script. None of it needs the peer itself.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { parseOptions } from "./bench.ts";
import { LoadGenerator, range, type SendResult } from "./load.ts";
import { wait } from "./runner.ts";
import { resultsJson, summary, targetRows } from "./output.ts";
import { GUIDE_SERVER_DIR, preparePeer } from "./peer.ts";
import { Progress } from "./progress.ts";
import {
  addResult,
  type BenchResults,
  lostDuplicatedTarget,
  type Run,
  Samples,
} from "./results.ts";
import { bundle } from "./scenarios/bundle.ts";
import {
  COMMIT_SIZES,
  commitLine,
  commitMs,
  LAYOUTS,
  MARKS_PER_ROW,
  rows,
} from "./scenarios/rows.ts";
import { denoPath, ROOT, startProcess, startServerProcess } from "./server_process.ts";
import { distribution, percentile, spread } from "./stats.ts";
import { runStoreCeiling, type StoreCeiling } from "./store_ceiling.ts";
import { judge, measured, ratios, target, TARGETS } from "./targets.ts";

Deno.test("percentile() takes the nearest rank; spread() leaves out runs that measured nothing", () => {
  const sorted = Float64Array.from(range(100), (i) => i + 1);
  assert.equal(percentile(sorted, 50), 50);
  assert.equal(percentile(sorted, 99), 99);
  assert.equal(percentile(sorted, 100), 100);
  assert.equal(percentile(sorted, 0), 1);
  assert.ok(Number.isNaN(percentile(new Float64Array(0), 50)));
  const d = distribution(Float64Array.from([5, 1, 4, 2, 3]));
  assert.deepEqual({ ...d }, { count: 5, p50: 3, p95: 5, p99: 5, max: 5, mean: 3 });
  assert.deepEqual(spread([3, NaN, 1, 2, 10]), {
    median: 2.5,
    min: 1,
    max: 10,
    runs: [3, NaN, 1, 2, 10],
  });
  assert.ok(Number.isNaN(spread([NaN]).median));
});

Deno.test("judge() compares with the limit and judges nothing without a value or a limit", () => {
  assert.equal(judge(5, { op: "<=", limit: 5 }), true);
  assert.equal(judge(5.01, { op: "<=", limit: 5 }), false);
  assert.equal(judge(5, { op: "<", limit: 5 }), false);
  assert.equal(judge(15_000, { op: ">=", limit: 15_000 }), true);
  assert.equal(judge(0, { op: "==", limit: 0 }), true);
  assert.equal(judge(1, { op: "==", limit: 0 }), false);
  assert.equal(judge(NaN, { op: "<=", limit: 25 }), null);
  assert.equal(judge(Infinity, { op: ">=", limit: 1 }), null);
  assert.equal(judge(93.6, { op: "<=", limit: NaN }), null);
});

Deno.test("target() takes unit and limit from the table and the detail into the label", () => {
  const s = spread([1.2, 0.8, 1]);
  assert.deepEqual(target(TARGETS.latencyP50, measured(s)), {
    scenario: "latency",
    label: "paced 2,000/s, 200 users, guide protocol: p50",
    value: 1,
    range: [0.8, 1.2],
    unit: "ms",
    op: "<=",
    limit: 1.5,
    pass: true,
  });
  const idle = target(TARGETS.idleMemory1000, { value: 101 }, { detail: "right after the burst" });
  assert.equal(idle.label, "RSS per idle user at 1,000 (right after the burst)");
  assert.equal(idle.pass, false);
  assert.equal("range" in idle, false);
  const notBuilt = target(TARGETS.bundleGzipped, { value: NaN }, { note: "not built" });
  assert.deepEqual([notBuilt.pass, notBuilt.note], [null, "not built"]);
  // Figures without a limit are reported, never judged.
  assert.equal(target(TARGETS.storageAloneFile, { value: 1e9 }).pass, null);
  for (const [name, spec] of Object.entries(TARGETS)) {
    assert.ok(spec.label && spec.unit && spec.scenario, name);
  }
});

Deno.test("target() judges a ratio target on ours / the peer's, and an absolute one on ours", () => {
  // Our CPU per message may be up to twice the peer's: 120 µs against 50 µs is not.
  const cpu = target(TARGETS.cpuPerMessage, { value: 120 }, {
    peer: { value: 50 },
    ratio: { value: 2.4, range: [2.1, 2.6] },
  });
  assert.deepEqual([cpu.pass, cpu.judged, cpu.peer, cpu.ratio], [false, "ratio", { value: 50 }, {
    value: 2.4,
    range: [2.1, 2.6],
  }]);
  assert.equal(target(TARGETS.cpuPerMessage, { value: 95 }, { ratio: { value: 1.9 } }).pass, true);
  // At least 0.7 of the peer's throughput, however large ours is.
  const slow = target(TARGETS.throughputVsPeer, { value: 50_000 }, { ratio: { value: 0.69 } });
  assert.equal(slow.pass, false);
  assert.equal(
    target(TARGETS.throughputVsPeer, { value: 5 }, { ratio: { value: 0.7 } }).pass,
    true,
  );
  // Without the peer there is no ratio to judge.
  const skipped = target(TARGETS.throughputVsPeer, { value: 5_000 }, { note: "peer skipped" });
  assert.deepEqual([skipped.pass, "peer" in skipped, "ratio" in skipped], [null, false, false]);
  // An absolute target keeps its limit on our figure, whatever the ratio beside it.
  const p99 = target(TARGETS.latencyP99, { value: 4.2 }, {
    peer: { value: 1 },
    ratio: { value: 4.2 },
  });
  assert.deepEqual([p99.pass, "judged" in p99], [true, false]);
  // The growth and cluster targets are ratios of our own figures, judged as values.
  assert.equal(target(TARGETS.steadyP99Growth, { value: 1.51 }).pass, false);
  assert.equal(target(TARGETS.steadyCpuGrowth, { value: 1.2 }).pass, true);
  assert.equal(target(TARGETS.clusterCrossNodeRatio, { value: 2.5 }).pass, false);
  assert.equal(target(TARGETS.idleMemory1000, { value: 41 }).pass, false);
});

Deno.test("ratios() divides each repetition by the same one of the other side", () => {
  assert.deepEqual(ratios([2, 9, 4], [1, 3, 8]), {
    median: 2,
    min: 0.5,
    max: 3,
    runs: [2, 3, 0.5],
  });
});

Deno.test("lostDuplicatedTarget() counts over every run that sent, the peer's apart", () => {
  const run = (server: Run["server"], lost: number, duplicated: number): Run => ({
    scenario: "latency",
    variant: String(server),
    ...(server ? { server } : {}),
    rep: 1,
    figures: {},
    send: {
      sent: 10,
      acked: 0,
      expected: 10,
      failed: {},
      delivered: 10 - lost,
      lost,
      duplicated,
      unexpected: 0,
      latency: {},
      ackLatency: {},
      deliveredPerSecond: 1,
      ms: 1,
    },
  });
  const clean = lostDuplicatedTarget([
    run(undefined, 0, 0),
    run("ours", 0, 0),
    run("peer", 2, 1),
    { scenario: "history", variant: "stored", rep: 1, figures: {} },
  ]);
  assert.deepEqual(
    [clean?.value, clean?.peer, clean?.pass, clean?.label],
    [0, { value: 3 }, true, "lost + duplicated, every run (2 runs, the peer's 1)"],
  );
  const lossy = lostDuplicatedTarget([run("ours", 1, 0), run("floor", 0, 2)]);
  assert.deepEqual([lossy?.value, lossy?.pass, "peer" in lossy!], [3, false, false]);
  assert.equal(lostDuplicatedTarget([]), null);
});

Deno.test("addResult() files a scenario's figures under its name, in the order measured", () => {
  const samples = new Samples();
  for (const rep of [1, 2, 3]) {
    samples.push("file delivered/s", 1000 * rep);
    samples.push("file lost", 0);
  }
  samples.push("file / memory", 0.5);
  const results: BenchResults = {
    meta: { quick: true },
    runs: [],
    figures: {},
    targets: [],
    notes: [],
    skipped: {},
  };
  addResult(results, "bundle", {
    runs: [],
    figures: {},
    targets: [target(TARGETS.bundleGzipped, { value: NaN }, { note: "not built" })],
    skipped: { bundle: "not built" },
  });
  addResult(results, "throughput", {
    runs: [{ scenario: "throughput", variant: "file", rep: 1, figures: {} }],
    figures: samples.spreads(),
    targets: [target(TARGETS.storageAloneFile, measured(samples.spreads()["file delivered/s"]))],
    skipped: {},
    meta: { prefill: { users: 1000 } },
  });
  assert.deepEqual(Object.keys(results.figures), ["throughput"]);
  assert.deepEqual(Object.keys(results.figures.throughput), [
    "file delivered/s",
    "file lost",
    "file / memory",
  ]);
  assert.deepEqual(results.figures.throughput["file delivered/s"].runs, [1000, 2000, 3000]);
  assert.deepEqual(results.targets.map((t) => t.scenario), ["bundle", "throughput"]);
  assert.equal(results.runs.length, 1);
  assert.deepEqual(results.skipped, { bundle: "not built" });
  assert.deepEqual(results.meta, { quick: true, prefill: { users: 1000 } });
});

Deno.test("targetRows() shows each result kind, the peer and the ratio, a range only where runs differ", () => {
  const rows = targetRows([
    target(TARGETS.latencyP99, measured(spread([12.1, 10, 14])), {
      peer: measured(spread([1.5, 1.5, 1.5])),
      ratio: measured(ratios([12.1, 10, 14], [1.5, 1.5, 1.5])),
    }),
    target(TARGETS.throughputVsPeer, measured(spread([5000])), {
      peer: { value: 20_000 },
      ratio: { value: 0.25 },
    }),
    target(TARGETS.lostDuplicated, { value: 0 }),
    target(TARGETS.storageAloneFile, measured(spread([5965]))),
    target(TARGETS.bundleGzipped, { value: NaN }, { note: "not built" }),
  ]);
  assert.deepEqual(rows, [
    [
      "latency",
      TARGETS.latencyP99.label,
      "12.1 (10.0-14.0) ms",
      "1.50 ms",
      "8.07 (6.67-9.33) x",
      "<= 5.00 ms",
      "MISS",
    ],
    [
      "throughput",
      TARGETS.throughputVsPeer.label,
      "5,000 msg/s",
      "20,000 msg/s",
      "0.250 x",
      ">= 0.700 x",
      "MISS",
    ],
    ["all", "lost + duplicated, every run", "0.000 msgs", "-", "-", "== 0.000 msgs", "PASS"],
    ["throughput", TARGETS.storageAloneFile.label, "5,965 msg/s", "-", "-", "-", "info"],
    ["bundle", "widget bundle gzipped", "not built", "-", "-", "<= 25.0 KB", "n/a"],
  ]);
});

Deno.test("summary() lays out figures and targets in columns; resultsJson() writes NaN as null", () => {
  const results: BenchResults = {
    meta: { seconds: 87.3 },
    runs: [],
    figures: { bundle: { "raw KB": spread([89.2]), "gzip -9 KB": spread([NaN]) } },
    targets: [target(TARGETS.bundleGzipped, { value: NaN }, { note: "not built" })],
    notes: [],
    skipped: { "connect 5,000": "quick mode" },
  };
  assert.equal(
    summary(results, { quick: true, runs: 1 }),
    [
      "",
      "Figures: median (min-max) over runs",
      "scenario  figure      value  runs",
      "--------  ----------  -----  ----",
      "bundle    raw KB      89.2   1",
      "bundle    gzip -9 KB  -      0",
      "",
      "Targets (quick mode, 1 run(s) each, suite 87.3 s)",
      "scenario  target                 ours       peer  ours / peer  limit       result",
      "--------  ---------------------  ---------  ----  -----------  ----------  ------",
      "bundle    widget bundle gzipped  not built  -     -            <= 25.0 KB  n/a",
      "  skipped: connect 5,000: quick mode",
    ].join("\n"),
  );
  const json = JSON.parse(resultsJson(results));
  assert.deepEqual(json.figures.bundle["gzip -9 KB"], {
    median: null,
    min: null,
    max: null,
    runs: [null],
  });
  assert.equal(json.targets[0].value, null);
  assert.deepEqual(Object.keys(json), ["meta", "runs", "figures", "targets", "notes", "skipped"]);
});

Deno.test("parseOptions() fills in defaults and takes every option of deno.json's tasks", () => {
  assert.deepEqual(parseOptions([]), {
    quick: false,
    runs: 3,
    workers: 2,
    only: null,
    json: null,
    report: null,
    cpuProf: null,
    serverDir: ROOT,
    peerDir: GUIDE_SERVER_DIR,
    help: false,
  });
  assert.equal(parseOptions(["--quick"]).runs, 1);
  const full = parseOptions([
    "--json",
    "data/bench/results.json",
    "--report=data/bench/report.html",
    "--only",
    "throughput,latency",
    "--runs",
    "5",
    "--workers",
    "1",
    "--cpu-prof",
    "/tmp/prof",
    "--server-dir",
    "/tmp/copy",
    "--peer-dir",
    "/tmp/guide",
  ]);
  assert.deepEqual(full.only, new Set(["throughput", "latency"]));
  assert.deepEqual(
    [full.json, full.report, full.runs, full.workers, full.cpuProf, full.serverDir, full.peerDir],
    [
      "data/bench/results.json",
      "data/bench/report.html",
      5,
      1,
      "/tmp/prof",
      "/tmp/copy",
      "/tmp/guide",
    ],
  );
  assert.equal(parseOptions(["-h"]).help, true);
});

Deno.test("parseOptions() refuses unknown options and bad values, quoting them", () => {
  for (
    const [args, message] of [
      [["--fast"], /^Cannot parse option "--fast": not an option/],
      [["-x"], /^Cannot parse option "-x"/],
      [["--runs"], /^Cannot use option "--runs": it needs a value$/],
      [["--json", "--quick"], /^Cannot use option "--json": it needs a value$/],
      [["--runs", "x"], /^Cannot parse --runs "x": not a whole number$/],
      [["--runs", "1.5"], /^Cannot parse --runs "1.5": not a whole number$/],
      [["--runs=-1"], /^Cannot use --runs "-1": must be 0 or more$/],
      [["--workers", "9"], /^Cannot use --workers "9": must be 1 to 8$/],
      [["--workers", "0"], /^Cannot use --workers "0": must be 1 to 8$/],
      [["--quick=yes"], /^Cannot use option "--quick" with "yes": it takes no value$/],
      [["quick"], /^Cannot parse argument "quick": only options are taken$/],
      [["--only", "throughput,nope"], /^Cannot run scenario "nope": not one of bundle, /],
    ] as const
  ) {
    assert.throws(() => parseOptions([...args]), { message }, args.join(" "));
  }
});

Deno.test("bench.ts prints its options for --help and exits 2 on a bad option", async () => {
  const script = join(ROOT, "tests/bench/bench.ts");
  const run = async (...args: string[]) => {
    const out = await new Deno.Command(denoPath(), {
      args: ["run", "-A", script, ...args],
      cwd: ROOT,
      stdin: "null",
    }).output();
    const decoder = new TextDecoder();
    return {
      code: out.code,
      stdout: decoder.decode(out.stdout),
      stderr: decoder.decode(out.stderr),
    };
  };
  const help = await run("--help");
  assert.equal(help.code, 0, help.stderr);
  for (
    const flag of [
      "--quick",
      "--runs N",
      "--only A,B",
      "--json FILE",
      "--server-dir DIR",
      "--peer-dir DIR",
    ]
  ) {
    assert.match(help.stdout, new RegExp(`^  ${flag} `, "m"));
  }
  const bad = await run("--quick", "--runs", "many");
  assert.equal(bad.code, 2);
  assert.equal(bad.stderr.trim(), 'Cannot parse --runs "many": not a whole number');
  assert.equal(bad.stdout, "");
});

Deno.test("bundle() measures the gzipped bundle, or reports it not built", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const lines: string[] = [];
    const progress = new Progress({ terminal: false, write: (text) => lines.push(text) });
    const file = join(dir, "chat-widget.js");
    const source = "customElements.define('chat-widget', class {});\n".repeat(500);
    await Deno.writeTextFile(file, source);
    const built = await bundle({ file }, { progress });
    assert.deepEqual(Object.keys(built.figures), ["raw KB", "gzip -9 KB"]);
    assert.equal(built.figures["raw KB"].median, source.length / 1024);
    const [gzipped] = built.targets;
    assert.ok(gzipped.value > 0 && gzipped.value < 1, `${gzipped.value} KB`);
    assert.equal(gzipped.pass, true);
    assert.deepEqual(built.skipped, {});
    const missing = await bundle({ file: join(dir, "absent.js") }, { progress });
    assert.deepEqual(missing.figures, {});
    assert.deepEqual([missing.targets[0].pass, missing.targets[0].note], [null, "not built"]);
    assert.match(missing.skipped.bundle, /not built/);
    assert.match(lines[0], /^\[ +\d+s\] bundle: 23\.4 KB raw, 0\.\d+ KB gzipped\n$/);
    assert.match(lines[1], /^\[ +\d+s\] bundle: not built\n$/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Progress writes status lines in place on a terminal and leaves them out elsewhere", () => {
  const written: Record<string, string[]> = { terminal: [], file: [] };
  for (const where of ["terminal", "file"] as const) {
    const progress = new Progress({
      started: performance.now() - 12_000,
      terminal: where === "terminal",
      write: (text) => written[where].push(text),
    });
    progress.status("throughput file 1/1: connecting 200 users");
    progress.delivered("throughput file 1/1", 10_000)(2_500);
    progress.line("throughput file 1/1: done");
  }
  assert.deepEqual(written.file, ["[  12s] throughput file 1/1: done\n"]);
  assert.deepEqual(written.terminal, [
    "\r\x1b[K[  12s] throughput file 1/1: connecting 200 users",
    "\r\x1b[K[  12s] throughput file 1/1: 2,500/10,000 delivered",
    "\r\x1b[K[  12s] throughput file 1/1: done\n",
  ]);
});

Deno.test("the load generator matches every message sent through the chat server", async () => {
  const server = await startServerProcess({ KV_PATH: ":memory:", MESSAGE_RATE: "0" });
  const gen = new LoadGenerator(server.url, 2);
  try {
    const c = await gen.connect(range(10).map((i) => ({ username: `gen${i}` })), {
      concurrency: 5,
    });
    assert.deepEqual(c.errors, []);
    assert.equal(c.users.length, 10);
    const r = await gen.send({ senders: range(10), perUser: 10 });
    assert.deepEqual(counts(r), {
      sent: 100,
      acked: 100,
      expected: 100,
      delivered: 100,
      lost: 0,
      duplicated: 0,
      unexpected: 0,
    });
    assert.equal(r.latency.count, 100);
    assert.equal(r.ackLatency.count, 100);
    assert.ok(r.latency.p50 > 0 && r.latency.p50 <= r.latency.max);
    assert.ok(r.deliveredPerSecond > 0);
    // Every message was committed before its ack: the server's writer saw all of them.
    const health = await server.health();
    assert.equal((health.writes as { writes: number }).writes >= 100, true);
  } finally {
    await gen.close();
    await server.stop();
  }
});

Deno.test("the load generator in the guide protocol counts every message through the chat server without acks", async () => {
  const server = await startServerProcess({ KV_PATH: ":memory:", MESSAGE_RATE: "0" });
  const gen = new LoadGenerator(server.url, 2, { protocol: "guide" });
  try {
    const c = await gen.connect(range(10).map((i) => ({ username: `guide${i}` })));
    assert.deepEqual(c.errors, []);
    assert.equal(c.users.length, 10);
    const r = await gen.send({ senders: range(10), perUser: 10, rate: 1000 });
    assert.deepEqual(counts(r), {
      sent: 100,
      acked: 0,
      expected: 100,
      delivered: 100,
      lost: 0,
      duplicated: 0,
      unexpected: 0,
    });
    assert.equal(r.latency.count, 100);
    assert.equal(r.ackLatency.count, 0);
    // Stored though nobody asked for an ack: each message went through the writer.
    const health = await server.health();
    assert.equal((health.writes as { writes: number }).writes >= 100, true);
    // A returning user offers only its session, as the guide's client does.
    const again = new LoadGenerator(server.url, 1, { protocol: "guide" });
    try {
      const back = await again.connect([{ sessionID: c.users[3].sessionID, username: "ignored" }]);
      assert.deepEqual(back.errors, []);
      assert.equal(back.users[0].userID, c.users[3].userID);
    } finally {
      await again.close();
    }
  } finally {
    await gen.close();
    await server.stop();
  }
});

Deno.test("the load generator in the guide protocol refuses what needs acks or the widget's events", async () => {
  const gen = new LoadGenerator("http://127.0.0.1:9", 1, { protocol: "guide" });
  try {
    await assert.rejects(gen.send({ senders: [0], perUser: 1, window: 4 }), {
      name: "TypeError",
      message: 'Cannot send with window "4" in the guide protocol: it has no acks',
    });
    await assert.rejects(gen.loadHistory(0, ["x"], { requests: 1, limit: 1 }), {
      name: "TypeError",
      message: /^Cannot load messages in the guide protocol/,
    });
  } finally {
    await gen.close();
  }
});

for (const protocol of ["widget", "guide"] as const) {
  Deno.test(`the load generator in the ${protocol} protocol reports messages that were lost or arrived twice`, async () => {
    const server = await startServerProcess(
      { FLOOR_DROP_EVERY: "10", FLOOR_DUPLICATE_EVERY: "7" },
      { script: join(ROOT, "tests/bench/floor_server.ts") },
    );
    const gen = new LoadGenerator(server.url, 2, { protocol });
    try {
      const c = await gen.connect(range(10).map((i) => ({ username: `gen${i}` })));
      assert.deepEqual(c.errors, []);
      const r = await gen.send({ senders: range(10), perUser: 10, drainMs: 1500 });
      // Of messages 1-100, the 10 multiples of 10 are dropped and the 13 other multiples of 7
      // arrive twice; the floor acks every one, but the guide's client asks for no acks.
      assert.deepEqual(counts(r), {
        sent: 100,
        acked: protocol === "widget" ? 100 : 0,
        expected: 100,
        delivered: 90,
        lost: 10,
        duplicated: 13,
        unexpected: 0,
      });
    } finally {
      await gen.close();
      await server.stop();
    }
  });
}

Deno.test("preparePeer() gives a clear reason, and caches nothing, when the peer cannot be installed", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const cacheDir = join(dir, "cache");
    const broken = join(dir, "broken");
    await Deno.mkdir(broken);
    await Deno.writeTextFile(join(broken, "index.js"), "require('socket.io');\n");
    // Not JSON: npm stops before it reaches any registry.
    await Deno.writeTextFile(join(broken, "package.json"), '{ "name": "broken",');
    const failed = await preparePeer(broken, { cacheDir });
    assert.equal(failed.ok, false);
    assert.match(
      !failed.ok ? failed.reason : "",
      /^Cannot install the peer: "npm install" failed \(exit \d+: npm error .*JSON/,
    );
    const left = [];
    for await (const entry of Deno.readDir(cacheDir)) left.push(entry.name);
    assert.deepEqual(left, []);

    const absent = await preparePeer(join(dir, "absent"), { cacheDir });
    assert.match(!absent.ok ? absent.reason : "", /^Cannot read the peer in ".*absent": /);
    await Deno.remove(join(broken, "index.js"));
    const partial = await preparePeer(broken, { cacheDir });
    assert.match(
      !partial.ok ? partial.reason : "",
      /^Cannot use ".*broken" as the peer: it has no index\.js$/,
    );
    const noNpm = await preparePeer(broken, { cacheDir, npm: join(dir, "no-npm") });
    assert.match(!noNpm.ok ? noNpm.reason : "", /^Cannot run ".*no-npm --version": /);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("peer_loopback.cjs makes a node server listen on loopback whatever host it asks for", {
  ignore: !(await hasNode()),
}, async () => {
  const dir = await Deno.makeTempDir();
  // Listens as the guide's server does (PORT, no host), and once more asking for every interface.
  await Deno.writeTextFile(
    join(dir, "server.js"),
    `const http = require("http");
const a = http.createServer((req, res) => res.end("ok"));
a.listen(process.env.PORT, () => {
  const b = http.createServer();
  b.listen({ port: 0, host: "0.0.0.0" }, () => {
    console.log(JSON.stringify([a.address().address, b.address().address]));
  });
});
`,
  );
  const preload = join(ROOT, "tests/bench/peer_loopback.cjs");
  const server = await startProcess("node", {
    args: ["-r", preload, "server.js"],
    cwd: dir,
    env: {},
    ready: "port",
    health: false,
  });
  try {
    const res = await fetch(server.url);
    assert.equal(await res.text(), "ok");
    assert.deepEqual(await server.health(), {});
    for (let i = 0; i < 50 && server.output.length === 0; i++) await wait(20);
    assert.deepEqual(JSON.parse(server.output[0]), ["127.0.0.1", "127.0.0.1"]);
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

/** What a send phase counted, without its timings. */
function counts(
  { sent, acked, expected, delivered, lost, duplicated, unexpected }: SendResult,
): Record<string, number> {
  return { sent, acked, expected, delivered, lost, duplicated, unexpected };
}

/** True when `node` runs here. */
async function hasNode(): Promise<boolean> {
  try {
    return (await new Deno.Command("node", { args: ["--version"], stdout: "null" }).output())
      .success;
  } catch {
    return false;
  }
}

Deno.test("store_ceiling.ts stores every message through the store, with or without keys, and refuses bad options", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "ceiling.kv");
    const run = await runStoreCeiling(["--kv", path, "--users", "200", "--per-user", "1"]);
    assert.equal(run.code, 0, run.stderr);
    const figures: StoreCeiling = JSON.parse(run.stdout);
    assert.equal(figures.messages, 200);
    assert.ok(figures.perSecond > 0 && figures.ms > 0);
    // 3 mutations each (the message and two counters), less a counter that two messages of one
    // sender to one recipient share when they meet in one commit: none with one per sender.
    assert.ok(
      figures.mutationsPerMessage > 2.9 && figures.mutationsPerMessage <= 3,
      `${figures.mutationsPerMessage} mutations per message`,
    );
    // Messages without an idempotency key cost the same three rows: keys live in the messages.
    const guide = await runStoreCeiling([
      "--kv",
      ":memory:",
      "--users",
      "200",
      "--per-user",
      "1",
      "--guide",
    ]);
    assert.equal(guide.code, 0, guide.stderr);
    const { mutationsPerMessage } = JSON.parse(guide.stdout) as StoreCeiling;
    assert.ok(mutationsPerMessage > 2.9 && mutationsPerMessage <= 3, `${mutationsPerMessage}`);
    const kv = await Deno.openKv(path);
    let stored = 0;
    for await (const _ of kv.list({ prefix: ["messages"] })) stored++;
    kv.close();
    assert.equal(stored, 200);
    for (
      const [args, message] of [
        [["--users", "10"], /--kv is required/],
        [["--kv", ":memory:", "--users", "1"], /Cannot use --users "1": must be 2 or more/],
        [
          ["--kv", ":memory:", "--per-user", "x"],
          /Cannot parse --per-user "x": not a whole number/,
        ],
        [["--kv"], /needs a value/],
        [["--kv", ":memory:", "--fast"], /Cannot parse option "--fast"/],
      ] as const
    ) {
      const bad = await runStoreCeiling([...args]);
      assert.equal(bad.code, 2, `exit code for ${args.join(" ")}`);
      assert.match(bad.stderr, message);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("commitLine() splits commit times into a fixed part and a part per message", () => {
  const line = commitLine([1, 4, 16].map((size) => ({ size, ms: 0.4 + 0.1 * size })));
  assert.ok(Math.abs(line.fixedMs - 0.4) < 1e-9, `${line.fixedMs}`);
  assert.ok(Math.abs(line.perMessageMs - 0.1) < 1e-9, `${line.perMessageMs}`);
  assert.throws(
    () => commitLine([{ size: 4, ms: 1 }, { size: 4, ms: 2 }]),
    RangeError,
    "Cannot fit a line through commits of a single size",
  );
});

Deno.test("rows() prices each layout's rows on a real KV file and leaves no file behind", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const lines: string[] = [];
    const progress = new Progress({ terminal: false, write: (text) => lines.push(text) });
    const result = await rows({ runs: 1, workers: 1, quick: true, dir }, { progress });
    for (const layout of LAYOUTS) {
      const perMessage = result.figures[`${layout}: µs per message`].median;
      const fixed = result.figures[`${layout}: µs per commit, fixed`].median;
      assert.ok(Number.isFinite(perMessage) && perMessage > 0, `${layout}: ${perMessage} µs`);
      assert.ok(Number.isFinite(fixed), `${layout}: ${fixed} µs`);
    }
    const busy = result.figures["writer busy % at 2,000/s: message and counters"].median;
    assert.ok(busy > 0 && busy < 1000, `${busy}%`);
    assert.deepEqual(
      result.targets.map((t) => [t.scenario, t.unit, t.pass]),
      [["rows", "µs", null], ["rows", "µs", null], ["rows", "%", null]],
    );
    assert.equal(lines.length, 1);
    assert.match(lines[0], /rows 1\/1: a commit .* µs fixed; per message .* µs \(message row\)/);
    assert.deepEqual(await Array.fromAsync(Deno.readDir(dir)), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("commitMs() times commits of every size on a fresh KV file and removes it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const size of COMMIT_SIZES) {
      const ms = await commitMs(dir, "marks-packed", size, MARKS_PER_ROW * 2);
      assert.ok(ms > 0 && Number.isFinite(ms), `${size}: ${ms} ms`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
