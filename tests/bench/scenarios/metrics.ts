/**
 * Metrics: what counting costs. The latency scenario's paced load (200 users,
 * 2,000 msg/s, widget protocol, so that every message is acked and lands in the
 * ack histogram) runs against ours with `METRICS=on`, scraped every second as a
 * busy Prometheus would, and with `METRICS=off`, each on a fresh KV file, the
 * order alternating from one repetition to the next. The target is the p99
 * with metrics / without, taken within each repetition.
 */

import { BENCH_METRICS_TOKEN } from "../server_process.ts";
import { LoadGenerator } from "../load.ts";
import { connectUsers, pacedPhase, phaseRecord } from "../phases.ts";
import type { Run, ScenarioOptions, ScenarioResult, ScenarioTools } from "../results.ts";
import { Samples } from "../results.ts";
import type { ServerRun } from "../runner.ts";
import { fmt } from "../stats.ts";
import { measured, ratios, target, TARGETS } from "../targets.ts";

/** How often the server is scraped while metrics are on. */
const SCRAPE_EVERY_MS = 1000;

/** Scrapes `/metrics` every second until stopped; returns each scrape's time (ms) and size. */
function scrapeEverySecond(run: ServerRun): () => Promise<{ ms: number[]; bytes: number }> {
  const ms: number[] = [];
  let bytes = 0;
  let scraping: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    scraping = scraping.then(async () => {
      const started = performance.now();
      const response = await fetch(`${run.server.url}/metrics`, {
        headers: { Authorization: `Bearer ${BENCH_METRICS_TOKEN}` },
      });
      const text = await response.text();
      if (response.status !== 200) {
        throw new Error(`Cannot scrape /metrics: ${response.status} ${text.slice(0, 200)}`);
      }
      ms.push(performance.now() - started);
      bytes = text.length;
    });
  }, SCRAPE_EVERY_MS);
  return async () => {
    clearInterval(timer);
    await scraping;
    return { ms, bytes };
  };
}

/** p99 and CPU per message at a steady rate, with metrics and without. */
export async function metrics(
  { runs, workers, quick }: ScenarioOptions,
  { runner, progress }: ScenarioTools,
): Promise<ScenarioResult> {
  const users = 200;
  const rate = 2000;
  const seconds = quick ? 3 : 5;
  const samples = new Samples();
  const records: Run[] = [];
  for (let rep = 1; rep <= runs; rep++) {
    const legs = rep % 2 === 1 ? ["on", "off"] as const : ["off", "on"] as const;
    for (const setting of legs) {
      const label = `metrics ${setting} ${rep}/${runs}`;
      const push = (k: string, v: number) => samples.push(`metrics ${setting}: ${k}`, v);
      progress.status(`${label}: connecting ${users} users`);
      const env = { KV_PATH: await runner.tempKv("metrics"), METRICS: setting };
      await runner.withServer(env, async (run) => {
        const gen = new LoadGenerator(run.server.url, workers, { protocol: "widget" });
        try {
          await connectUsers(gen, { users, prefix: "m" });
          const stop = setting === "on" ? scrapeEverySecond(run) : null;
          let scrapes: { ms: number[]; bytes: number } | null = null;
          let phase;
          try {
            phase = await pacedPhase(run, gen, {
              users,
              rate,
              messages: rate * seconds,
              label,
              progress,
            });
          } finally {
            scrapes = await stop?.() ?? null;
          }
          const { send: r, resources, cpuPerMessageUs } = phase;
          push("p50 ms", r.latency.p50);
          push("p99 ms", r.latency.p99);
          push("ack p99 ms", r.ackLatency.p99);
          push("lost", r.lost);
          push("duplicated", r.duplicated);
          push("server CPU µs/message", cpuPerMessageUs);
          push("RSS peak MB", resources.rssPeakKB / 1024);
          if (scrapes && scrapes.ms.length > 0) {
            const sorted = [...scrapes.ms].sort((a, b) => a - b);
            push("scrape median ms", sorted[Math.floor(sorted.length / 2)]);
            push("scrape KB", scrapes.bytes / 1024);
          }
          records.push(
            phaseRecord({ scenario: "metrics", variant: `metrics ${setting}`, rep }, phase),
          );
          progress.line(
            `${label}: ${r.delivered} delivered, p50 ${fmt(r.latency.p50)} ms, p99 ${
              fmt(r.latency.p99)
            } ms, ack p99 ${fmt(r.ackLatency.p99)} ms, lost ${r.lost}, ${
              fmt(cpuPerMessageUs)
            } µs CPU/message${
              scrapes ? `, ${scrapes.ms.length} scrapes of ${fmt(scrapes.bytes / 1024)} KB` : ""
            }`,
          );
        } finally {
          await gen.close();
        }
      });
    }
  }
  const f = samples.spreads();
  const on = (k: string) => f[`metrics on: ${k}`];
  const off = (k: string) => f[`metrics off: ${k}`];
  const p99Ratio = f["metrics on / off: p99 ms"] = ratios(on("p99 ms").runs, off("p99 ms").runs);
  f["metrics on / off: server CPU µs/message"] = ratios(
    on("server CPU µs/message").runs,
    off("server CPU µs/message").runs,
  );
  return {
    runs: records,
    figures: f,
    targets: [
      target(TARGETS.metricsP99Ratio, measured(p99Ratio), {
        detail: `${fmt(on("p99 ms").median)} / ${fmt(off("p99 ms").median)} ms`,
      }),
      target(TARGETS.metricsCpuRatio, measured(f["metrics on / off: server CPU µs/message"]), {
        detail: `${fmt(on("server CPU µs/message").median)} / ${
          fmt(off("server CPU µs/message").median)
        } µs`,
      }),
    ],
    skipped: {},
  };
}
