/** Cluster: 2 nodes + Redis, cross-node latency at 1,000 msg/s vs the same traffic on one node. */

import { join } from "node:path";
import { RedisServer } from "../../cluster/helpers.ts";
import { LoadGenerator, range, usernames } from "../load.ts";
import type { Run, ScenarioOptions, ScenarioResult, ScenarioTools } from "../results.ts";
import { Samples, sendRecord } from "../results.ts";
import { measure } from "../runner.ts";
import { fmt, fmtSpread } from "../stats.ts";
import { measured, target, TARGETS } from "../targets.ts";

/** What a second node and Redis cost a message that crosses between nodes. */
export async function cluster(
  { runs, workers, quick }: ScenarioOptions,
  { runner, progress }: ScenarioTools,
): Promise<ScenarioResult> {
  const skipped: Record<string, string> = {};
  if (!(await clusterSupported(runner.serverDir))) {
    skipped.cluster = "server/app.ts does not use REDIS_URL yet";
    progress.line("cluster: skipped (no REDIS_URL support in server/app.ts)");
    return { runs: [], figures: {}, targets: [], skipped };
  }
  const users = 200;
  const rate = 1000;
  const seconds = quick ? 3 : 4;
  const samples = new Samples();
  const records: Run[] = [];
  const redis = await RedisServer.start();
  try {
    const phase = async (variant: "one node" | "two nodes", rep: number) => {
      const label = `cluster ${variant} ${rep}/${runs}`;
      const kvPath = await runner.tempKv("cluster");
      const env: Record<string, string> = { KV_PATH: kvPath };
      if (variant === "two nodes") env.REDIS_URL = redis.url;
      env.REDIS_STREAM_NAME = `bench-${rep}-${variant === "one node" ? 1 : 2}`;
      progress.status(`${label}: starting`);
      const a = await runner.start(env);
      const b = variant === "two nodes" ? await runner.start(env) : null;
      const gen = new LoadGenerator(a.url, workers);
      try {
        const c = await gen.connect(usernames("k", users), {
          concurrency: 100,
          urlOf: (i) => (b && i % 2 === 1 ? b.url : a.url),
        });
        if (c.errors.length > 0) throw new Error(`connect failed: ${c.errors[0]}`);
        await gen.send({
          senders: range(users),
          perUser: 5,
          rate,
          durationMs: 1000,
          crossParity: true,
        });
        const ra = measure(a);
        const rb = b ? measure(b) : null;
        ra.begin();
        rb?.begin();
        const perUser = Math.ceil((rate * seconds) / users) + 1;
        const r = await gen.send({
          senders: range(users),
          perUser,
          rate,
          durationMs: seconds * 1000,
          crossParity: true,
          onProgress: progress.delivered(label, perUser * users),
        });
        const resA = await ra.end();
        const resB = rb ? await rb.end() : null;
        samples.push(`${variant} p50 ms`, r.latency.p50);
        samples.push(`${variant} p99 ms`, r.latency.p99);
        samples.push(`${variant} lost`, r.lost);
        // Where a cross-node message's time goes: each node's commits, its appends to the
        // stream, and the time from another node's append to its read.
        for (const [node, server, res] of [["A", a, resA], ["B", b, resB]] as const) {
          if (!server || !res) continue;
          samples.push(
            `${variant} node ${node} commit p99 ms`,
            Number(res.writes?.commitP99Ms ?? NaN),
          );
          const health: Record<string, unknown> = await server.health().catch(() => ({}));
          const relay = health.relay as Record<string, number> | undefined;
          if (!relay) continue;
          for (const k of ["publishP50Ms", "publishP99Ms", "readLagP50Ms", "readLagP99Ms"]) {
            samples.push(`${variant} node ${node} ${k}`, relay[k]);
          }
        }
        samples.push(`${variant} duplicated`, r.duplicated);
        records.push({
          scenario: "cluster",
          variant,
          rep,
          figures: { p50: r.latency.p50, p99: r.latency.p99 },
          resources: resA,
          send: sendRecord(r),
          notes: resB ? [`node B: ${JSON.stringify(resB)}`] : undefined,
        });
        progress.line(
          `${label}: p50 ${fmt(r.latency.p50)} ms p99 ${
            fmt(r.latency.p99)
          } ms, delivered ${r.delivered}, lost ${r.lost}, dup ${r.duplicated}`,
        );
        return r.latency.p99;
      } finally {
        await gen.close();
        await b?.stop();
        await a.stop();
      }
    };
    for (let rep = 1; rep <= runs; rep++) {
      const one = await phase("one node", rep);
      const two = await phase("two nodes", rep);
      samples.push("two nodes p99 / one node p99", two / one);
    }
  } catch (error) {
    // Redis or a node failing is reported with what was measured so far, not as a lost scenario.
    skipped.cluster = `failed: ${error instanceof Error ? error.message : error}`;
    progress.line(`cluster: failed: ${error instanceof Error ? error.message : error}`);
  } finally {
    await redis.stop();
  }
  const f = samples.spreads();
  const ratio = f["two nodes p99 / one node p99"];
  const targets = ratio
    ? [target(TARGETS.clusterCrossNodeRatio, measured(ratio), {
      detail: `${fmtSpread(f["two nodes p99 ms"])} ms / ${fmtSpread(f["one node p99 ms"])} ms`,
    })]
    : [];
  return { runs: records, figures: f, targets, skipped };
}

/** True when the server in `serverDir` wires REDIS_URL to an adapter. */
async function clusterSupported(serverDir: string): Promise<boolean> {
  try {
    const app = await Deno.readTextFile(join(serverDir, "server/app.ts"));
    return /config\.redisUrl/.test(app) && /adapter/i.test(app);
  } catch {
    return false;
  }
}
