/**
 * Throughput: 200 users x 20 messages unpaced, guide protocol, ours on a fresh
 * KV file and the peer, in alternating order; then the same messages through
 * the storage path alone, on a file and :memory:.
 */

import { LoadGenerator } from "../load.ts";
import { connectUsers, peerSkipped, unpacedPhase } from "../phases.ts";
import type { Run, ScenarioOptions, ScenarioResult, ScenarioTools } from "../results.ts";
import { Samples, sendRecord } from "../results.ts";
import { type Side, wait } from "../runner.ts";
import { fmt } from "../stats.ts";
import { runStoreCeiling, type StoreCeiling } from "../store_ceiling.ts";
import { measured, ratios, target, TARGETS } from "../targets.ts";

/** Durable delivered messages per second, ours beside the peer's and the storage path alone. */
export async function throughput(
  { runs, workers }: ScenarioOptions,
  { runner, progress }: ScenarioTools,
): Promise<ScenarioResult> {
  const users = 200;
  const perUser = 20;
  const samples = new Samples();
  const records: Run[] = [];
  const skipped: Record<string, string> = {};
  const peerReason = await peerSkipped("throughput", { runner, progress });
  if (peerReason) skipped["throughput peer"] = peerReason;
  for (let rep = 1; rep <= runs; rep++) {
    const sides: Side[] = peerReason ? ["ours"] : ["ours", "peer"];
    for (const side of rep % 2 === 1 ? sides : sides.reverse()) {
      const label = `throughput ${side} ${rep}/${runs}`;
      progress.status(`${label}: connecting ${users} users`);
      const env = { KV_PATH: await runner.tempKv("throughput") };
      await runner.withSide(side, env, async (run) => {
        const gen = new LoadGenerator(run.server.url, workers, { protocol: "guide" });
        try {
          await connectUsers(gen, { users, prefix: "t" });
          await wait(200);
          const { send: r, resources, cpuPerMessageUs } = await unpacedPhase(run, gen, {
            users,
            perUser,
            label,
            progress,
          });
          samples.push(`${side} delivered/s`, r.deliveredPerSecond);
          samples.push(`${side} lost`, r.lost);
          samples.push(`${side} duplicated`, r.duplicated);
          samples.push(`${side} latency p50 ms`, r.latency.p50);
          samples.push(`${side} latency p99 ms`, r.latency.p99);
          samples.push(`${side} server CPU %`, resources.serverCpu);
          samples.push(`${side} server CPU µs/message`, cpuPerMessageUs);
          samples.push(`${side} client CPU %`, resources.clientCpu);
          if (side === "ours") {
            samples.push(`${side} commits`, Number(resources.writes?.commits ?? NaN));
          }
          records.push({
            scenario: "throughput",
            variant: side,
            server: side,
            rep,
            figures: {
              deliveredPerSecond: r.deliveredPerSecond,
              lost: r.lost,
              duplicated: r.duplicated,
              cpuPerMessageUs,
            },
            resources,
            send: sendRecord(r),
          });
          progress.line(
            `${label}: ${
              fmt(r.deliveredPerSecond)
            } delivered/s, lost ${r.lost}, dup ${r.duplicated}, p99 ${
              fmt(r.latency.p99)
            } ms, server CPU ${fmt(resources.serverCpu)}% (${fmt(cpuPerMessageUs)} µs/message)${
              side === "ours" ? `, ${resources.writes?.commits ?? "?"} commits` : ""
            }`,
          );
        } finally {
          await gen.close();
        }
      });
    }
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
  const ours = f["ours delivered/s"];
  const theirs = f["peer delivered/s"];
  const beside = theirs
    ? {
      peer: measured(theirs),
      ratio: measured(f["ours / peer delivered/s"] = ratios(ours.runs, theirs.runs)),
    }
    : { note: "peer skipped" };
  return {
    runs: records,
    figures: f,
    targets: [
      target(TARGETS.throughputVsPeer, measured(ours), beside),
      target(TARGETS.storageAloneFile, measured(f["storage alone file msg/s"])),
    ],
    skipped,
  };
}

/**
 * The storage path alone (no Socket.IO) on `kvPath`, in its own process, for the
 * server under test: the scenario's messages, without a clientId as in the guide protocol.
 */
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
    "--guide",
    "--server-dir",
    serverDir,
  ]);
  if (run.code !== 0) {
    throw new Error(`store_ceiling.ts failed (${run.code}): ${run.stderr.trim()}`);
  }
  return JSON.parse(run.stdout.trim().split("\n").at(-1)!) as StoreCeiling;
}
