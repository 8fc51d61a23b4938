/**
 * Latency: 200 users paced at 2,000 msg/s in total, after a warm-up second. Each
 * rep runs ours on a fresh KV file with the guide protocol, the peer with the
 * same load, and ours with the widget protocol, without and with typing and
 * delivered marks, at 2,000/s and at half that rate, in alternating order; the
 * floor (Socket.IO storing nothing) runs once after the reps.
 */

import { LoadGenerator } from "../load.ts";
import type { LoadProtocol } from "../load_worker.ts";
import { connectUsers, pacedPhase, peerSkipped, phaseRecord } from "../phases.ts";
import type { Run, ScenarioOptions, ScenarioResult, ScenarioTools } from "../results.ts";
import { Samples } from "../results.ts";
import type { Side } from "../runner.ts";
import { fmt } from "../stats.ts";
import { measured, ratios, target, TARGETS } from "../targets.ts";

/** One measured run of the plan: which server, speaking which protocol. */
interface Leg {
  rep: number;
  side: Side;
  protocol: LoadProtocol;
  /** Clients also send `typing` and `messages delivered` (widget protocol only). */
  chatter?: boolean;
  /** Messages a second in total, when not the scenario's `RATE`. */
  rate?: number;
}

/** The paced rate, and the lower one the typing and delivered legs also run at. */
const RATE = 2000;
const HALF_RATE = 1000;

/** The figure-name prefix of a leg, e.g. "ours, guide". */
function legName(
  { side, protocol, chatter, rate }: Pick<Leg, "side" | "protocol" | "chatter" | "rate">,
): string {
  return `${side}, ${protocol}${chatter ? "+typing+delivered" : ""}${
    rate === undefined ? "" : ` at ${rate.toLocaleString("en-US")}/s`
  }`;
}

/** Delivery latency and server CPU per message at a steady rate, ours beside the peer's. */
export async function latency(
  { runs, workers, quick }: ScenarioOptions,
  { runner, progress }: ScenarioTools,
): Promise<ScenarioResult> {
  const users = 200;
  const seconds = quick ? 3 : 5;
  const samples = new Samples();
  const records: Run[] = [];
  const skipped: Record<string, string> = {};
  const peerReason = await peerSkipped("latency", { runner, progress });
  if (peerReason) skipped["latency peer"] = peerReason;
  const plan: Leg[] = [];
  for (let rep = 1; rep <= runs; rep++) {
    const legs: Leg[] = [
      { rep, side: "ours", protocol: "guide" },
      ...(peerReason ? [] : [{ rep, side: "peer", protocol: "guide" } as const]),
      { rep, side: "ours", protocol: "widget" },
      { rep, side: "ours", protocol: "widget", chatter: true },
      { rep, side: "ours", protocol: "widget", rate: HALF_RATE },
      { rep, side: "ours", protocol: "widget", chatter: true, rate: HALF_RATE },
    ];
    plan.push(...(rep % 2 === 1 ? legs : legs.reverse()));
  }
  plan.push({ rep: 1, side: "floor", protocol: "widget" });
  for (const leg of plan) {
    const name = legName(leg);
    const label = `latency ${name} ${leg.side === "floor" ? "" : `${leg.rep}/${runs}`}`.trim();
    const push = (k: string, v: number) => samples.push(`${name}: ${k}`, v);
    progress.status(`${label}: connecting ${users} users`);
    const env = { KV_PATH: await runner.tempKv("latency") };
    await runner.withSide(leg.side, env, async (run) => {
      const gen = new LoadGenerator(run.server.url, workers, {
        protocol: leg.protocol,
        chatter: leg.chatter,
      });
      try {
        await connectUsers(gen, { users, prefix: "l" });
        const rate = leg.rate ?? RATE;
        const phase = await pacedPhase(run, gen, {
          users,
          rate,
          messages: rate * seconds,
          label,
          progress,
        });
        const { send: r, resources, cpuPerMessageUs } = phase;
        push("p50 ms", r.latency.p50);
        push("p95 ms", r.latency.p95);
        push("p99 ms", r.latency.p99);
        push("max ms", r.latency.max);
        if (leg.protocol === "widget") push("ack p99 ms", r.ackLatency.p99);
        push("delivered/s", r.delivered / seconds);
        push("lost", r.lost);
        push("duplicated", r.duplicated);
        push("server CPU %", resources.serverCpu);
        push("server CPU µs/message", cpuPerMessageUs);
        // Where the CPU went: the JavaScript thread, Deno KV's SQLite thread (sw), and the rest.
        for (const [kind, cpuSeconds] of Object.entries(resources.serverThreadSeconds)) {
          push(`server CPU µs/message, ${kind} thread`, (cpuSeconds / r.delivered) * 1e6);
        }
        push("client CPU %", resources.clientCpu);
        push("RSS peak MB", resources.rssPeakKB / 1024);
        if (leg.side === "ours") {
          // The writer's commits count the warm-up second too.
          push("commits/s", Number(resources.writes?.commits ?? NaN) / (seconds + 1));
          // The latest 1,024 commits: how much of a message's time is the commit's.
          push("commit p50 ms", Number(resources.writes?.commitP50Ms ?? NaN));
          push("commit p99 ms", Number(resources.writes?.commitP99Ms ?? NaN));
        }
        records.push(
          phaseRecord(
            { scenario: "latency", variant: name, server: leg.side, rep: leg.rep },
            phase,
          ),
        );
        progress.line(
          `${label}: ${r.delivered} delivered, p50 ${fmt(r.latency.p50)} ms, p99 ${
            fmt(r.latency.p99)
          } ms, max ${fmt(r.latency.max)} ms, lost ${r.lost}, server CPU ${
            fmt(resources.serverCpu)
          }% (${fmt(cpuPerMessageUs)} µs/message), client CPU ${fmt(resources.clientCpu)}%`,
        );
      } finally {
        await gen.close();
      }
    });
  }
  const f = samples.spreads();
  const ours = (k: string) => f[`ours, guide: ${k}`];
  const theirs = (k: string) => f[`peer, guide: ${k}`];
  const beside = (k: string) => {
    if (!theirs(k)) return { note: "peer skipped" };
    const r = f[`ours / peer, guide: ${k}`] = ratios(ours(k).runs, theirs(k).runs);
    return { peer: measured(theirs(k)), ratio: measured(r) };
  };
  const widget = (k: string) => f[`ours, widget: ${k}`];
  const chatty = (k: string) => f[`ours, widget+typing+delivered: ${k}`];
  const chatterRatio = f["typing+delivered / widget: p99 ms"] = ratios(
    chatty("p99 ms").runs,
    widget("p99 ms").runs,
  );
  const half = ` at ${HALF_RATE.toLocaleString("en-US")}/s`;
  const widgetHalf = (k: string) => f[`ours, widget${half}: ${k}`];
  const chattyHalf = (k: string) => f[`ours, widget+typing+delivered${half}: ${k}`];
  const halfRatio = f[`typing+delivered / widget${half}: p99 ms`] = ratios(
    chattyHalf("p99 ms").runs,
    widgetHalf("p99 ms").runs,
  );
  return {
    runs: records,
    figures: f,
    targets: [
      target(TARGETS.latencyP50, measured(ours("p50 ms")), beside("p50 ms")),
      target(TARGETS.latencyP99, measured(ours("p99 ms")), beside("p99 ms")),
      target(TARGETS.cpuPerMessage, measured(ours("server CPU µs/message")), {
        ...beside("server CPU µs/message"),
        detail: "all threads, utime + stime",
      }),
      target(TARGETS.latencyWidgetP50, measured(widget("p50 ms"))),
      target(TARGETS.latencyWidgetP99, measured(widget("p99 ms"))),
      target(TARGETS.chatterP99Ratio, measured(chatterRatio), {
        detail: `${fmt(chatty("p99 ms").median)} / ${fmt(widget("p99 ms").median)} ms`,
      }),
      target(TARGETS.chatterP99RatioHalfRate, measured(halfRatio), {
        detail: `${fmt(chattyHalf("p99 ms").median)} / ${fmt(widgetHalf("p99 ms").median)} ms`,
      }),
    ],
    skipped,
  };
}
