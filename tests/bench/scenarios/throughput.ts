/**
 * Throughput: 200 users x 50 messages unpaced, KV file vs :memory: vs Socket.IO
 * alone, alternating order; then the same messages through the storage path
 * alone, on a file and :memory:.
 */

import { LoadGenerator, range, usernames } from "../load.ts";
import type { Run, ScenarioOptions, ScenarioResult, ScenarioTools } from "../results.ts";
import { Samples, sendRecord } from "../results.ts";
import { wait } from "../runner.ts";
import { fmt } from "../stats.ts";
import { runStoreCeiling, type StoreCeiling } from "../store_ceiling.ts";
import { measured, target, TARGETS } from "../targets.ts";

/** Delivered messages per second, durable and not, against the floor and the storage path alone. */
export async function throughput(
  { runs, workers }: ScenarioOptions,
  { runner, progress }: ScenarioTools,
): Promise<ScenarioResult> {
  const users = 200;
  const perUser = 50;
  const samples = new Samples();
  const records: Run[] = [];
  for (let rep = 1; rep <= runs; rep++) {
    const order = rep % 2 === 1 ? ["file", "memory", "floor"] : ["floor", "memory", "file"];
    const dps: Record<string, number> = {};
    for (const variant of order) {
      const kvPath = variant === "file" ? await runner.tempKv("throughput") : ":memory:";
      const label = `throughput ${variant} ${rep}/${runs}`;
      progress.status(`${label}: connecting ${users} users`);
      await runner.withServer({ KV_PATH: kvPath }, async (run) => {
        const gen = new LoadGenerator(run.server.url, workers);
        try {
          const c = await gen.connect(usernames("t", users), { concurrency: 100 });
          if (c.errors.length > 0) throw new Error(`connect failed: ${c.errors[0]}`);
          await wait(200);
          run.begin();
          const r = await gen.send({
            senders: range(users),
            perUser,
            onProgress: progress.delivered(label, users * perUser),
          });
          const resources = await run.end();
          dps[variant] = r.deliveredPerSecond;
          samples.push(`${variant} delivered/s`, r.deliveredPerSecond);
          samples.push(`${variant} lost`, r.lost);
          samples.push(`${variant} duplicated`, r.duplicated);
          samples.push(`${variant} latency p50 ms`, r.latency.p50);
          samples.push(`${variant} latency p99 ms`, r.latency.p99);
          samples.push(`${variant} server CPU %`, resources.serverCpu);
          samples.push(`${variant} client CPU %`, resources.clientCpu);
          samples.push(`${variant} commits`, Number(resources.writes?.commits ?? NaN));
          records.push({
            scenario: "throughput",
            variant,
            rep,
            figures: {
              deliveredPerSecond: r.deliveredPerSecond,
              lost: r.lost,
              duplicated: r.duplicated,
            },
            resources,
            send: sendRecord(r),
          });
          progress.line(
            `${label}: ${
              fmt(r.deliveredPerSecond)
            } delivered/s, lost ${r.lost}, dup ${r.duplicated}, p99 ${
              fmt(r.latency.p99)
            } ms, server CPU ${fmt(resources.serverCpu)}%, ${
              resources.writes?.commits ?? "?"
            } commits`,
          );
        } finally {
          await gen.close();
        }
      }, { floor: variant === "floor" });
    }
    samples.push("file / memory", dps.file / dps.memory);
    samples.push("file / floor", dps.file / dps.floor);
    for (const variant of ["file", "memory"] as const) {
      const label = `throughput storage alone, ${variant} ${rep}/${runs}`;
      progress.status(`${label}: writing ${users * perUser} messages through KvChatStore`);
      const kvPath = variant === "file" ? await runner.tempKv("store") : ":memory:";
      const c = await storeCeiling(kvPath, { users, perUser, serverDir: runner.serverDir });
      samples.push(`storage alone ${variant} msg/s`, c.perSecond);
      samples.push(`storage alone ${variant} KV mutations/message`, c.mutationsPerMessage);
      records.push({
        scenario: "throughput",
        variant: `storage ${variant}`,
        rep,
        figures: { ...c },
      });
      progress.line(
        `${label}: ${fmt(c.perSecond)} msg/s, ${c.commits} commits, ${
          fmt(c.mutationsPerMessage)
        } mutations/message`,
      );
    }
  }
  const f = samples.spreads();
  const lostDup = [
    ...f["file lost"].runs,
    ...f["memory lost"].runs,
    ...f["file duplicated"].runs,
    ...f["memory duplicated"].runs,
  ]
    .reduce((a, b) => a + b, 0);
  return {
    runs: records,
    figures: f,
    targets: [
      target(TARGETS.throughputFile, measured(f["file delivered/s"])),
      target(TARGETS.throughputFileVsMemory, measured(f["file / memory"])),
      target(TARGETS.storageAloneFile, measured(f["storage alone file msg/s"])),
      target(TARGETS.throughputLostDuplicated, { value: lostDup }),
    ],
    skipped: {},
  };
}

/** The storage path alone (no Socket.IO) on `kvPath`, in its own process, for the server under test. */
async function storeCeiling(
  kvPath: string,
  { users, perUser, serverDir }: { users: number; perUser: number; serverDir: string },
): Promise<StoreCeiling> {
  const run = await runStoreCeiling([
    "--kv",
    kvPath,
    "--users",
    String(users),
    "--per-user",
    String(perUser),
    "--server-dir",
    serverDir,
  ]);
  if (run.code !== 0) {
    throw new Error(`store_ceiling.ts failed (${run.code}): ${run.stderr.trim()}`);
  }
  return JSON.parse(run.stdout.trim().split("\n").at(-1)!) as StoreCeiling;
}
