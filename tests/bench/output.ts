/**
 * What the suite prints and writes: the tables on stdout, the JSON file of
 * every run and figure, and the HTML report.
 */

import { dirname } from "node:path";
import { type BarChart, type BarGroup, reportHtml } from "./report.ts";
import type { BenchResults } from "./results.ts";
import { fmt, fmtSpread, type Spread, spread } from "./stats.ts";
import { type Figure, type Target, TARGETS } from "./targets.ts";

/** Where the results go besides stdout, and the run settings the report states. */
export interface OutputOptions {
  json: string | null;
  report: string | null;
  quick: boolean;
  runs: number;
  workers: number;
}

/** The figures and targets tables, with notes and what was skipped, as printed at the end. */
export function summary(
  results: BenchResults,
  { quick, runs }: Pick<OutputOptions, "quick" | "runs">,
): string {
  const lines = [
    "",
    "Figures: median (min-max) over runs",
    ...textTable(["scenario", "figure", "value", "runs"], figureRows(results.figures)),
    "",
    `Targets (${quick ? "quick mode, " : ""}${runs} run(s) each, suite ${
      fmt(results.meta.seconds as number)
    } s)`,
    ...textTable(TARGET_HEADER, targetRows(results.targets)),
  ];
  for (const t of results.targets.filter((t) => t.note && Number.isFinite(t.value))) {
    lines.push(`  note: ${t.label}: ${t.note}`);
  }
  for (const [k, v] of Object.entries(results.skipped)) lines.push(`  skipped: ${k}: ${v}`);
  return lines.join("\n");
}

/** The JSON file's text; figures that measured nothing (NaN) are null. */
export function resultsJson(results: BenchResults): string {
  return JSON.stringify(
    results,
    (_, v) => (typeof v === "number" && !Number.isFinite(v) ? null : v),
    2,
  );
}

/** The report page: targets, charts, every figure and the notes. */
export function reportPage(
  results: BenchResults,
  { runs, workers }: Pick<OutputOptions, "runs" | "workers">,
): string {
  const { meta } = results;
  const skipped = Object.entries(results.skipped).map(([k, v]) => `${k} skipped: ${v}`);
  return reportHtml({
    title: "<chat-widget> server benchmark",
    meta: [
      `Run ${meta.date} on ${meta.host} (${meta.cpus} CPUs), Deno ${meta.deno}, commit ${meta.commit}`,
      `Command: ${meta.command}`,
      `Runs per scenario: ${runs}; load generator: ${workers} worker threads in one process on the same machine; suite time ${
        fmt(Number(meta.seconds))
      } s`,
      `Load average (1 min) before ${meta.loadAverageBefore}, after ${meta.loadAverageAfter}: other work on the machine shows up as noise`,
    ],
    charts: charts(results),
    tables: [
      {
        title: "Targets",
        header: TARGET_HEADER,
        rows: targetRows(results.targets),
      },
      {
        title: "All figures: median (min-max) over runs",
        header: ["scenario", "figure", "value", "runs"],
        rows: figureRows(results.figures),
      },
    ],
    notes: [...skipped, ...results.notes],
  });
}

/** Prints the summary and writes the JSON file and the report where `options` say. */
export async function writeOutputs(results: BenchResults, options: OutputOptions): Promise<void> {
  console.log(summary(results, options));
  for (const file of [options.json, options.report]) {
    if (file) await Deno.mkdir(dirname(file), { recursive: true });
  }
  if (options.json) {
    await Deno.writeTextFile(options.json, resultsJson(results));
    console.log(`Raw figures: ${options.json}`);
  }
  if (options.report) {
    await Deno.writeTextFile(options.report, reportPage(results, options));
    console.log(`Report: ${options.report}`);
  }
}

/** Chart groups of one bar each, for the figures of `figures` named in `pairs` that exist. */
function spreadGroups(
  figures: Record<string, Spread>,
  pairs: [label: string, name: string][],
): BarGroup[] {
  return pairs.filter(([, name]) => figures[name]).map(([label, name]) => ({
    label,
    values: [figures[name].median],
    ranges: [[figures[name].min, figures[name].max]],
  }));
}

/** The targets table's columns: each figure is a median (min-max) over runs. */
const TARGET_HEADER = ["scenario", "target", "ours", "peer", "ours / peer", "limit", "result"];

/** `figure` with its range where runs differ, and `unit`; `empty` when nothing was measured. */
function figureText(figure: Figure | undefined, unit: string, empty = "-"): string {
  if (!figure || !Number.isFinite(figure.value)) return empty;
  const { value, range } = figure;
  const text = range && range[0] !== range[1]
    ? `${fmt(value)} (${fmt(range[0])}-${fmt(range[1])})`
    : fmt(value);
  return `${text} ${unit}`;
}

/**
 * The targets as table rows: scenario, target, our figure, the peer's and the
 * ratio where the scenario ran the peer, the limit (on the ratio for a target
 * judged on it), result.
 */
export function targetRows(targets: Target[]): string[][] {
  return targets.map((t) => {
    const limit = Number.isFinite(t.limit)
      ? `${t.op} ${fmt(t.limit)} ${t.judged === "ratio" ? "x" : t.unit}`
      : "-";
    const result = t.pass === null
      ? (t.note === "not built" ? "n/a" : "info")
      : t.pass
      ? "PASS"
      : "MISS";
    return [
      t.scenario,
      t.label,
      figureText(t, t.unit, t.note ?? "-"),
      figureText(t.peer, t.unit),
      figureText(t.ratio, "x"),
      limit,
      result,
    ];
  });
}

/** `header` and `rows` as lines of padded columns, a rule under the header. */
export function textTable(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)];
}

/** Every figure as a table row: scenario, figure, median (min-max), runs that measured it. */
export function figureRows(all: BenchResults["figures"]): string[][] {
  const rows: string[][] = [];
  for (const [scenario, figures] of Object.entries(all)) {
    for (const [name, s] of Object.entries(figures)) {
      rows.push([scenario, name, fmtSpread(s), String(s.runs.filter(Number.isFinite).length)]);
    }
  }
  return rows;
}

/** A chart group of the p50, p95 and p99 of the runs of `scenario`'s `variant`; null if none ran. */
function latencyGroup(
  results: BenchResults,
  [label, scenario, variant]: string[],
): BarGroup | null {
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

/** The report's charts: latency per scenario, throughput, memory and connect cost per user. */
export function charts(results: BenchResults): BarChart[] {
  const out: BarChart[] = [];
  const groups = [
    // Short labels: a dozen groups share the chart's width.
    ["unpaced, ours", "throughput", "ours"],
    ["unpaced, peer", "throughput", "peer"],
    ["paced, ours", "latency", "ours, guide"],
    ["paced, peer", "latency", "peer, guide"],
    ["paced, ours, widget", "latency", "ours, widget"],
    ["paced, floor", "latency", "floor, widget"],
    ["steady round 1", "steady", "round 1"],
    ["steady round 6", "steady", "round 6"],
    ["fairness", "fairness", "baseline"],
    ["fairness, flooder", "fairness", "flood"],
    ["one node", "cluster", "one node"],
    ["two nodes cross-node", "cluster", "two nodes"],
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
    const peer = tput["peer delivered/s"]?.median;
    const { limit } = TARGETS.throughputVsPeer;
    out.push({
      title: "Delivered messages per second, 200 users x 20 unpaced, guide protocol",
      unit: "msg/s",
      series: ["delivered/s"],
      groups: spreadGroups(tput, [
        ["ours, KV file (durable)", "ours delivered/s"],
        ["the peer (in memory)", "peer delivered/s"],
        ["storage alone, KV file", "storage alone file msg/s"],
        ["storage alone, :memory:", "storage alone memory msg/s"],
      ]),
      targets: peer === undefined
        ? []
        : [{ value: limit * peer, label: `target: ${limit} x the peer's` }],
    });
  }
  const cpu = [
    ["paced, ours, guide protocol", "latency", "ours, guide: server CPU µs/message"],
    ["paced, the peer", "latency", "peer, guide: server CPU µs/message"],
    ["paced, ours, widget protocol", "latency", "ours, widget: server CPU µs/message"],
    ["unpaced, ours", "throughput", "ours server CPU µs/message"],
    ["unpaced, the peer", "throughput", "peer server CPU µs/message"],
    ["steady, round 1", "steady", "round 1: server CPU µs/message"],
    ["steady, round 6", "steady", "round 6: server CPU µs/message"],
  ].flatMap(([label, scenario, name]) =>
    spreadGroups(results.figures[scenario] ?? {}, [[label, name]])
  );
  if (cpu.length > 0) {
    out.push({
      title: "Server CPU per delivered message (all threads, utime + stime)",
      unit: "µs",
      series: ["µs/message"],
      groups: cpu,
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
