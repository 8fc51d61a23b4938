/** Fairness: others paced at 1,000/s with default rate limits, with and without one flooding client. */

import { LoadGenerator, range, usernames } from "../load.ts";
import type { Run, ScenarioOptions, ScenarioResult, ScenarioTools } from "../results.ts";
import { Samples, sendRecord } from "../results.ts";
import { fmt } from "../stats.ts";
import { measured, target, TARGETS } from "../targets.ts";

// The flooder's rate: 250x the default allowance of 20/s. Paced rather than
// as-fast-as-possible so that the flooding client's own CPU use (on the same 2
// cores) stays the same from run to run.
const FLOOD_RATE = 5000;

/** How much one client sending far past its rate limit slows everyone else's messages. */
export async function fairness(
  { runs, workers, quick }: ScenarioOptions,
  { runner, progress }: ScenarioTools,
): Promise<ScenarioResult> {
  const users = 200;
  const rate = 1000;
  const seconds = quick ? 3 : 4;
  const samples = new Samples();
  const records: Run[] = [];
  // Default limits from config.ts, set explicitly so the scenario does not drift with them.
  const env = {
    KV_PATH: await runner.tempKv("fairness"),
    MESSAGE_RATE: "20",
    MESSAGE_BURST: "100",
  };
  await runner.withServer(env, async (run) => {
    const gen = new LoadGenerator(run.server.url, workers);
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
        const label = `fairness ${variant} ${rep}/${runs}`;
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
          onProgress: progress.delivered(label, perUser * users),
        });
        const f = flooding ? await flooding : null;
        const resources = await run.end();
        samples.push(`${variant} p50 ms`, r.latency.p50);
        samples.push(`${variant} p99 ms`, r.latency.p99);
        samples.push(`${variant} lost`, r.lost);
        samples.push(
          `${variant} rejected (others)`,
          Object.values(r.failed).reduce((a, b) => a + b, 0),
        );
        if (f) {
          samples.push("flooder sent", f.sent);
          samples.push("flooder accepted", f.acked);
          samples.push("flooder rejected", f.failed.rate_limited ?? 0);
        }
        samples.push(`${variant} server CPU %`, resources.serverCpu);
        records.push({
          scenario: "fairness",
          variant,
          rep,
          figures: { p50: r.latency.p50, p99: r.latency.p99, flooderSent: f?.sent ?? 0 },
          resources,
          send: sendRecord(r),
        });
        progress.line(
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
      for (let rep = 1; rep <= runs; rep++) {
        const base = await phase("baseline", rep);
        const flood = await phase("flood", rep);
        samples.push("flood p99 / baseline p99", flood / base);
      }
    } finally {
      await flooder.close();
      await gen.close();
    }
  });
  const f = samples.spreads();
  return {
    runs: records,
    figures: f,
    targets: [target(TARGETS.fairnessFloodRatio, measured(f["flood p99 / baseline p99"]))],
    skipped: {},
  };
}
