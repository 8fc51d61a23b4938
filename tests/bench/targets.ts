/**
 * The benchmark's targets in one table: what each measures, its
 * unit, its limit and how a measured value is judged against it. The scenarios
 * only say which figure stands for which target.
 */

import { type Spread, spread } from "./stats.ts";

/** How a measured value is compared with a target's limit. */
export type Comparison = "<=" | ">=" | "<" | "==";

/**
 * One target: `limit` NaN means there is none and the figure is reported only.
 * `judged: "ratio"` puts the limit on our figure / the peer's from the same runs
 * (unit "x") instead of on our figure.
 */
export interface TargetSpec {
  scenario: string;
  label: string;
  unit: string;
  op: Comparison;
  limit: number;
  judged?: "ratio";
}

/** Every target, in no particular order (each scenario adds its own in the order it measures). */
export const TARGETS = {
  bundleGzipped: {
    scenario: "bundle",
    label: "widget bundle gzipped",
    unit: "KB",
    op: "<=",
    limit: 25,
  },
  throughputVsPeer: {
    scenario: "throughput",
    label: "durable delivered/s, 200x20 unpaced, guide protocol",
    unit: "msg/s",
    op: ">=",
    limit: 0.7,
    judged: "ratio",
  },
  storageAloneFile: {
    scenario: "throughput",
    label: "storage alone (KvChatStore, no Socket.IO), KV file",
    unit: "msg/s",
    op: ">=",
    limit: Number.NaN,
  },
  lostDuplicated: {
    scenario: "all",
    label: "lost + duplicated, every run",
    unit: "msgs",
    op: "==",
    limit: 0,
  },
  latencyP50: {
    scenario: "latency",
    label: "paced 2,000/s, 200 users, guide protocol: p50",
    unit: "ms",
    op: "<=",
    limit: 1.5,
  },
  latencyP99: {
    scenario: "latency",
    label: "paced 2,000/s, 200 users, guide protocol: p99",
    unit: "ms",
    op: "<=",
    limit: 5,
  },
  latencyWidgetP50: {
    scenario: "latency",
    label: "paced 2,000/s, 200 users, widget protocol: p50",
    unit: "ms",
    op: "<=",
    limit: Number.NaN,
  },
  latencyWidgetP99: {
    scenario: "latency",
    label: "paced 2,000/s, 200 users, widget protocol: p99",
    unit: "ms",
    op: "<=",
    limit: Number.NaN,
  },
  cpuPerMessage: {
    scenario: "latency",
    label: "server CPU per delivered message, paced 2,000/s, guide protocol",
    unit: "µs",
    op: "<=",
    limit: 2,
    judged: "ratio",
  },
  steadyP99Growth: {
    scenario: "steady",
    label: "one KV file, 6 rounds of 200 new users at 2,000/s: round 6 p99 / round 1",
    unit: "x",
    op: "<=",
    limit: 1.5,
  },
  steadyCpuGrowth: {
    scenario: "steady",
    label: "one KV file, 6 rounds: round 6 CPU per message / round 1",
    unit: "x",
    op: "<=",
    limit: 1.2,
  },
  chatterP99Ratio: {
    scenario: "latency",
    label:
      "paced 2,000/s, widget protocol, with typing before each message and delivered after each arrival: p99 / without",
    unit: "x",
    op: "<=",
    limit: 1.3,
  },
  chatterP99RatioHalfRate: {
    scenario: "latency",
    label:
      "paced 1,000/s, widget protocol, with typing before each message and delivered after each arrival: p99 / without",
    unit: "x",
    op: "<=",
    limit: Number.NaN,
  },
  rowsPerMessage: {
    scenario: "rows",
    label: "KV writer time a message costs, its three rows (message, two counters), fresh file",
    unit: "µs",
    op: "<=",
    limit: Number.NaN,
  },
  rowsMarkRow: {
    scenario: "rows",
    label: "KV writer time a delivered mark adds, a row each",
    unit: "µs",
    op: "<=",
    limit: Number.NaN,
  },
  rowsWriterBusy: {
    scenario: "rows",
    label: "KV writer's busy time at 2,000 messages/s in commits of 2.5, of each second",
    unit: "%",
    op: "<=",
    limit: Number.NaN,
  },
  metricsP99Ratio: {
    scenario: "metrics",
    label:
      "paced 2,000/s, 200 users, widget protocol, METRICS=on scraped every second: p99 / METRICS=off",
    unit: "x",
    op: "<=",
    limit: 1.1,
  },
  metricsCpuRatio: {
    scenario: "metrics",
    label: "the same: server CPU per message, METRICS=on / off",
    unit: "x",
    op: "<=",
    limit: Number.NaN,
  },
  searchP99: {
    scenario: "search",
    label: "search users with 10,000 users stored: p99",
    unit: "ms",
    op: "<",
    limit: 20,
  },
  signupFlood: {
    scenario: "abuse",
    label: "sign-ups accepted of 5,000 from one address in an hour (SIGNUP_LIMIT 20)",
    unit: "users",
    op: "<=",
    limit: 20,
  },
  oneUserManySockets: {
    scenario: "abuse",
    label: "one user on 20 sockets: messages accepted / (burst + rate x seconds)",
    unit: "x",
    op: "<=",
    limit: 1.05,
  },
  stormMemory: {
    scenario: "abuse",
    label: "a reconnect storm of 300 sockets, 4 times: V8 heap after they have gone / before",
    unit: "x",
    op: "<=",
    limit: 1.25,
  },
  slowConsumerMemory: {
    scenario: "abuse",
    label: "25 readers that stopped reading, flooded: V8 heap after they are dropped / before",
    unit: "x",
    op: "<=",
    limit: 1.25,
  },
  fairnessFloodRatio: {
    scenario: "fairness",
    label: "others' p99 with one flooder / without (same run)",
    unit: "x",
    op: "<=",
    limit: 2,
  },
  reconnectStoredVsEmpty: {
    scenario: "connect",
    label: "reconnect 500 users: 100,000 stored / empty store",
    unit: "x",
    op: "<=",
    limit: 1.5,
  },
  hubUsersPayload: {
    scenario: "history",
    label: "hub's users payload with 100,000 stored",
    unit: "KB",
    op: "<",
    limit: 100,
  },
  loadMessagesP99: {
    scenario: "history",
    label: "load messages p99 with 100,000 stored",
    unit: "ms",
    op: "<",
    limit: 20,
  },
  connect1000: {
    scenario: "connect",
    label: "1,000 new users connect (session + users), total",
    unit: "ms",
    op: "<=",
    limit: 1500,
  },
  idleMemory1000: {
    scenario: "memory",
    label: "RSS per idle user at 1,000",
    unit: "KB",
    op: "<=",
    limit: 40,
  },
  connectCostRatio: {
    scenario: "connect",
    label: "ms/user at 5,000 / ms/user at 1,000",
    unit: "x",
    op: "<=",
    limit: 1.5,
  },
  idleMemory5000: {
    scenario: "memory",
    label: "RSS per idle user at 5,000",
    unit: "KB",
    op: "<=",
    limit: 40,
  },
  clusterCrossNodeRatio: {
    scenario: "cluster",
    label: "2 nodes + Redis at 1,000/s: cross-node p99 / one node's, same run",
    unit: "x",
    op: "<=",
    limit: 2,
  },
} as const satisfies Record<string, TargetSpec>;

/** A measured figure: a median over runs and its range, or a single value. */
export interface Figure {
  value: number;
  range?: [number, number];
}

/** A target as measured and judged, as the JSON file and the tables have it. */
export interface Target extends TargetSpec {
  /** Our figure (a median unless said otherwise). */
  value: number;
  range?: [number, number];
  /** The peer's figure from the same runs, where the scenario ran the peer. */
  peer?: Figure;
  /** Our figure / the peer's, each repetition's ratio, then their median. */
  ratio?: Figure;
  /** null: not judged (nothing measured, or no limit). */
  pass: boolean | null;
  note?: string;
}

/** Whether `value` meets the target; null when nothing was measured or there is no limit. */
export function judge(
  value: number,
  { op, limit }: Pick<TargetSpec, "op" | "limit">,
): boolean | null {
  if (!Number.isFinite(value) || !Number.isFinite(limit)) return null;
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

/**
 * `spec` judged on our measured figure, or on `ratio` (ours / the peer's) when the
 * spec says so; `detail` goes in parentheses after the label (how or at what the
 * figure was taken), `note` beside the result, `peer` and `ratio` beside ours.
 */
export function target(
  spec: TargetSpec,
  ours: Figure,
  { detail, note, peer, ratio }: {
    detail?: string;
    note?: string;
    peer?: Figure;
    ratio?: Figure;
  } = {},
): Target {
  const { scenario, unit, op, limit } = spec;
  const judged = spec.judged === "ratio" ? ratio?.value ?? NaN : ours.value;
  return {
    scenario,
    label: detail === undefined ? spec.label : `${spec.label} (${detail})`,
    value: ours.value,
    ...(ours.range ? { range: ours.range } : {}),
    ...(peer ? { peer } : {}),
    ...(ratio ? { ratio } : {}),
    unit,
    op,
    limit,
    ...(spec.judged ? { judged: spec.judged } : {}),
    pass: judge(judged, spec),
    ...(note === undefined ? {} : { note }),
  };
}

/** A figure's median and range from its spread. */
export function measured(s: Spread): { value: number; range: [number, number] } {
  return { value: s.median, range: [s.min, s.max] };
}

/** The spread of `ours[i] / theirs[i]`: each repetition's ratio, so slow phases hit both sides. */
export function ratios(ours: number[], theirs: number[]): Spread {
  return spread(ours.map((v, i) => v / theirs[i]));
}
