/**
 * What the scenarios return and the suite collects: runs, figures, targets.
 * The shape of `BenchResults` is the JSON file's (`data/bench/results.json`),
 * which other tools read.
 */

import type { SendResult } from "./load.ts";
import type { Progress } from "./progress.ts";
import type { Resources, ServerRunner } from "./runner.ts";
import { type Spread, spread } from "./stats.ts";
import { type Target, target, TARGETS } from "./targets.ts";

/** One measured run. */
export interface Run {
  scenario: string;
  variant: string;
  /** Which server ran: ours (when absent), the floor (Socket.IO storing nothing) or the peer. */
  server?: "ours" | "floor" | "peer";
  rep: number;
  figures: Record<string, number>;
  resources?: Resources;
  send?: Omit<SendResult, "latency" | "ackLatency"> & {
    latency: Record<string, number>;
    ackLatency: Record<string, number>;
  };
  notes?: string[];
}

/** What one scenario measured. */
export interface ScenarioResult {
  runs: Run[];
  /** Median (min-max) of each figure over the runs, by figure name. */
  figures: Record<string, Spread>;
  targets: Target[];
  /** What was left out, and why. */
  skipped: Record<string, string>;
  /** Facts about the set-up worth keeping with the figures (e.g. how a store was filled). */
  meta?: Record<string, unknown>;
}

/** The whole suite's results, as written to the JSON file. */
export interface BenchResults {
  meta: Record<string, unknown>;
  runs: Run[];
  /** Figures by scenario, then by name. */
  figures: Record<string, Record<string, Spread>>;
  targets: Target[];
  notes: string[];
  skipped: Record<string, string>;
}

/** The options every scenario takes from the command line. */
export interface ScenarioOptions {
  /** Repetitions of each measured phase. */
  runs: number;
  /** Load generator worker threads. */
  workers: number;
  /** Shorter phases and no 5,000-user run. */
  quick: boolean;
}

/** What a scenario needs to run: servers to measure and a place to say how far it is. */
export interface ScenarioTools {
  runner: ServerRunner;
  progress: Progress;
}

/** A scenario: runs its phases and returns what it measured. */
export type Scenario = (options: ScenarioOptions, tools: ScenarioTools) => Promise<ScenarioResult>;

/** Repeated measurements of named figures, in the order each was first measured. */
export class Samples {
  #values: Record<string, number[]> = {};

  /** Adds one run's `value` of figure `name`. */
  push(name: string, value: number): void {
    (this.#values[name] ??= []).push(value);
  }

  /** The spread of every figure pushed so far. */
  spreads(): Record<string, Spread> {
    return Object.fromEntries(
      Object.entries(this.#values).map(([name, values]) => [name, spread(values)]),
    );
  }
}

/** A send phase's outcome as a run records it (the distributions as plain objects). */
export function sendRecord(r: SendResult): Run["send"] {
  return { ...r, latency: { ...r.latency }, ackLatency: { ...r.ackLatency } };
}

/** Adds scenario `name`'s `result` to `results` (figures under the scenario's name). */
export function addResult(results: BenchResults, name: string, result: ScenarioResult): void {
  results.runs.push(...result.runs);
  if (Object.keys(result.figures).length > 0) results.figures[name] = result.figures;
  results.targets.push(...result.targets);
  Object.assign(results.skipped, result.skipped);
  Object.assign(results.meta, result.meta);
}

/**
 * Lost + duplicated messages over every run that sent any, ours (the floor's
 * included) against the limit and the peer's beside them; null when no run sent.
 */
export function lostDuplicatedTarget(runs: Run[]): Target | null {
  const sent = runs.filter((r) => r.send);
  if (sent.length === 0) return null;
  const count = (rs: Run[]) => rs.reduce((n, r) => n + r.send!.lost + r.send!.duplicated, 0);
  const peer = sent.filter((r) => r.server === "peer");
  const ours = sent.filter((r) => r.server !== "peer");
  return target(TARGETS.lostDuplicated, { value: count(ours) }, {
    detail: `${plural(ours.length, "run")}${peer.length > 0 ? `, the peer's ${peer.length}` : ""}`,
    ...(peer.length > 0 ? { peer: { value: count(peer) } } : {}),
  });
}

/** `n` and `noun`, plural unless `n` is 1. */
function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}
