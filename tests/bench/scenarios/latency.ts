/** Latency: 200 users paced at 2,000 msg/s in total on a KV file, after a warm-up phase. */

import { LoadGenerator, range, usernames } from "../load.ts";
import type { Run, ScenarioOptions, ScenarioResult, ScenarioTools } from "../results.ts";
import { Samples, sendRecord } from "../results.ts";
import { fmt } from "../stats.ts";
import { measured, target, TARGETS } from "../targets.ts";

/** Delivery latency at a steady rate, each rep on the chat server and once on the floor. */
export async function latency(
  { runs, workers, quick }: ScenarioOptions,
  { runner, progress }: ScenarioTools,
): Promise<ScenarioResult> {
  const users = 200;
  const rate = 2000;
  const seconds = quick ? 3 : 5;
  const samples = new Samples();
  const records: Run[] = [];
  // The floor (Socket.IO storing nothing) once, after the chat server's reps.
  const plan = [
    ...range(runs).map((i) => ({ rep: i + 1, floor: false })),
    { rep: 1, floor: true },
  ];
  for (const { rep, floor } of plan) {
    const label = floor ? "latency floor" : `latency ${rep}/${runs}`;
    const push = (k: string, v: number) => samples.push(floor ? `floor ${k}` : k, v);
    progress.status(`${label}: connecting ${users} users`);
    await runner.withServer({ KV_PATH: await runner.tempKv("latency") }, async (run) => {
      const gen = new LoadGenerator(run.server.url, workers);
      try {
        const c = await gen.connect(usernames("l", users), { concurrency: 100 });
        if (c.errors.length > 0) throw new Error(`connect failed: ${c.errors[0]}`);
        progress.status(`${label}: warming up 1 s`);
        await gen.send({
          senders: range(users),
          perUser: Math.ceil(rate / users),
          rate,
          durationMs: 1000,
        });
        run.begin();
        const perUser = Math.ceil((rate * seconds) / users);
        const r = await gen.send({
          senders: range(users),
          perUser,
          rate,
          durationMs: seconds * 1000,
          onProgress: progress.delivered(label, perUser * users),
        });
        const resources = await run.end();
        push("p50 ms", r.latency.p50);
        push("p95 ms", r.latency.p95);
        push("p99 ms", r.latency.p99);
        push("max ms", r.latency.max);
        push("ack p99 ms", r.ackLatency.p99);
        push("delivered/s", r.delivered / seconds);
        push("lost", r.lost);
        push("duplicated", r.duplicated);
        push("server CPU %", resources.serverCpu);
        push("client CPU %", resources.clientCpu);
        // The writer's commits count the warm-up second too.
        push("commits/s", Number(resources.writes?.commits ?? NaN) / (seconds + 1));
        records.push({
          scenario: "latency",
          variant: floor ? "floor" : "file",
          rep,
          figures: { p50: r.latency.p50, p99: r.latency.p99 },
          resources,
          send: sendRecord(r),
        });
        progress.line(
          `${label}: ${r.delivered} delivered, p50 ${fmt(r.latency.p50)} ms, p99 ${
            fmt(r.latency.p99)
          } ms, max ${fmt(r.latency.max)} ms, lost ${r.lost}, server CPU ${
            fmt(resources.serverCpu)
          }%, client CPU ${fmt(resources.clientCpu)}%`,
        );
      } finally {
        await gen.close();
      }
    }, { floor });
  }
  const f = samples.spreads();
  return {
    runs: records,
    figures: f,
    targets: [
      target(TARGETS.latencyP50, measured(f["p50 ms"])),
      target(TARGETS.latencyP99, measured(f["p99 ms"])),
    ],
    skipped: {},
  };
}
