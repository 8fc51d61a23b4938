/**
 * The benchmark's targets in one table: what each measures, its
 * unit, its limit and how a measured value is judged against it. The scenarios
 * only say which figure stands for which target.
 */

import type { Spread } from "./stats.ts";

/** How a measured value is compared with a target's limit. */
export type Comparison = "<=" | ">=" | "<" | "==";

/** One target: `limit` NaN means there is none and the figure is reported only. */
export interface TargetSpec {
  scenario: string;
  label: string;
  unit: string;
  op: Comparison;
  limit: number;
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
  throughputFile: {
    scenario: "throughput",
    label: "durable 200x50 unpaced, delivered/s (KV file)",
    unit: "msg/s",
    op: ">=",
    limit: 15_000,
  },
  throughputFileVsMemory: {
    scenario: "throughput",
    label: "KV file / :memory: delivered/s (same rep)",
    unit: "x",
    op: ">=",
    limit: 0.8,
  },
  storageAloneFile: {
    scenario: "throughput",
    label: "storage alone (KvChatStore, no Socket.IO), KV file",
    unit: "msg/s",
    op: ">=",
    limit: Number.NaN,
  },
  throughputLostDuplicated: {
    scenario: "throughput",
    label: "lost + duplicated, all throughput runs",
    unit: "msgs",
    op: "==",
    limit: 0,
  },
  latencyP50: {
    scenario: "latency",
    label: "paced 2,000/s, 200 users: p50",
    unit: "ms",
    op: "<=",
    limit: 1,
  },
  latencyP99: {
    scenario: "latency",
    label: "paced 2,000/s, 200 users: p99",
    unit: "ms",
    op: "<=",
    limit: 5,
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
    limit: 50,
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
    limit: 50,
  },
  clusterCrossNodeP99: {
    scenario: "cluster",
    label: "2 nodes + Redis, cross-node p99 at 1,000/s",
    unit: "ms",
    op: "<=",
    limit: Number.NaN,
  },
} as const satisfies Record<string, TargetSpec>;

/** A target as measured and judged, as the JSON file and the tables have it. */
export interface Target extends TargetSpec {
  /** The measured figure (a median unless said otherwise). */
  value: number;
  range?: [number, number];
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
 * `spec` judged on the measured `value` (and its `range` over runs); `detail` goes in parentheses after the label (how or at what the
 * figure was taken), `note` beside the result.
 */
export function target(
  spec: TargetSpec,
  { value, range }: { value: number; range?: [number, number] },
  { detail, note }: { detail?: string; note?: string } = {},
): Target {
  const { scenario, unit, op, limit } = spec;
  return {
    scenario,
    label: detail === undefined ? spec.label : `${spec.label} (${detail})`,
    value,
    ...(range ? { range } : {}),
    unit,
    op,
    limit,
    pass: judge(value, spec),
    ...(note === undefined ? {} : { note }),
  };
}

/** A target's measured value and range from a figure's spread. */
export function measured(s: Spread): { value: number; range: [number, number] } {
  return { value: s.median, range: [s.min, s.max] };
}
