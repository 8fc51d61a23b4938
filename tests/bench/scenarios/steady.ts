/**
 * Steady as data grows: one server process on one KV file for six rounds; each
 * round connects 200 new users (guide protocol), warms up for a second, sends
 * 8,000 messages paced at 2,000/s, then disconnects them. What the sixth round
 * costs against the first tells whether the stored data slows the server down.
 */

import { LoadGenerator } from "../load.ts";
import { connectUsers, pacedPhase, phaseRecord } from "../phases.ts";
import type { Run, ScenarioOptions, ScenarioResult, ScenarioTools } from "../results.ts";
import { Samples } from "../results.ts";
import { fmt, fmtSpread, spread } from "../stats.ts";
import { measured, ratios, target, TARGETS } from "../targets.ts";

/** How many rounds each rep runs: the targets compare the last with the first. */
const ROUNDS = 6;

/** Latency and CPU per message of the last round against the first, on one growing KV file. */
export async function steady(
  { runs, workers, quick }: ScenarioOptions,
  { runner, progress }: ScenarioTools,
): Promise<ScenarioResult> {
  const users = 200;
  const rate = 2000;
  const messages = quick ? 4000 : 8000;
  const samples = new Samples();
  const records: Run[] = [];
  for (let rep = 1; rep <= runs; rep++) {
    await runner.withServer({ KV_PATH: await runner.tempKv("steady") }, async (run) => {
      for (let round = 1; round <= ROUNDS; round++) {
        const label = `steady ${rep}/${runs} round ${round}/${ROUNDS}`;
        progress.status(`${label}: connecting ${users} new users`);
        // A generator per round: closing it disconnects the round's users.
        const gen = new LoadGenerator(run.server.url, workers, { protocol: "guide" });
        try {
          await connectUsers(gen, { users, prefix: `s${round}-` });
          const phase = await pacedPhase(run, gen, {
            users,
            rate,
            messages,
            label,
            progress,
          });
          const { send: r, resources, cpuPerMessageUs } = phase;
          samples.push(`round ${round}: p50 ms`, r.latency.p50);
          samples.push(`round ${round}: p99 ms`, r.latency.p99);
          samples.push(`round ${round}: server CPU µs/message`, cpuPerMessageUs);
          samples.push(`round ${round}: RSS after MB`, resources.rssAfterKB / 1024);
          records.push(phaseRecord({ scenario: "steady", variant: `round ${round}`, rep }, phase));
          progress.line(
            `${label}: ${r.delivered} delivered, p50 ${fmt(r.latency.p50)} ms, p99 ${
              fmt(r.latency.p99)
            } ms, lost ${r.lost}, server CPU ${fmt(resources.serverCpu)}% (${
              fmt(cpuPerMessageUs)
            } µs/message), RSS ${fmt(resources.rssAfterKB / 1024)} MB`,
          );
        } finally {
          await gen.close();
        }
      }
    });
  }
  const f = samples.spreads();
  const first = (k: string) => f[`round 1: ${k}`];
  const last = (k: string) => f[`round ${ROUNDS}: ${k}`];
  const growth = (k: string) =>
    f[`round ${ROUNDS} / round 1: ${k}`] = ratios(last(k).runs, first(k).runs);
  const p99 = growth("p99 ms");
  const cpu = growth("server CPU µs/message");
  // Messages stored before the last round: every earlier round's warm-up and measured ones.
  const stored = (ROUNDS - 1) * (messages + rate);
  return {
    runs: records,
    figures: { ...f, "messages stored before the last round": spread([stored]) },
    targets: [
      target(TARGETS.steadyP99Growth, measured(p99), {
        detail: `${fmtSpread(last("p99 ms"))} ms / ${fmtSpread(first("p99 ms"))} ms`,
      }),
      target(TARGETS.steadyCpuGrowth, measured(cpu), {
        detail: `${fmtSpread(last("server CPU µs/message"))} µs / ${
          fmtSpread(first("server CPU µs/message"))
        } µs`,
      }),
    ],
    skipped: {},
  };
}
