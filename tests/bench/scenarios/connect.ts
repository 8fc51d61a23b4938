/** Connect: 1,000 and 5,000 new users, total time, per-user cost ratio and RSS per idle user. */

import { LoadGenerator, usernames } from "../load.ts";
import type { Progress } from "../progress.ts";
import type { Run, ScenarioOptions, ScenarioResult, ScenarioTools } from "../results.ts";
import { heapUsedKB, type ServerRunner, wait } from "../runner.ts";
import { readProc } from "../server_process.ts";
import { fmt, type Spread, spread } from "../stats.ts";
import { measured, type Target, target, TARGETS } from "../targets.ts";

// V8 keeps the heap a burst grew to until its memory reducer finds the process
// idle, some 30 s later; idle memory is measured after that.
const SETTLE_CAP_MS = 60_000;

// Connecting 5,000 users costs 12.5 million presence announcements (O(users^2)); a run that
// takes longer than this stops and reports the users it reached, keeping the suite near 4 minutes.
const BIG_CAP_MS = 40_000;

/** How long new users take to connect, and what each costs the server in memory once idle. */
export async function connect(
  { runs, workers, quick }: ScenarioOptions,
  tools: ScenarioTools,
): Promise<ScenarioResult> {
  const records: Run[] = [];
  const once = async (n: number, options: { label: string; capMs: number; settle: boolean }) => {
    const { figures, run } = await connectRun(n, { ...options, ...tools, workers });
    records.push(run);
    return figures;
  };
  const small: Record<string, number>[] = [];
  const large: Record<string, number>[] = [];
  const bigN = 5000;
  const bigRuns = quick ? 0 : 1;
  for (let rep = 1; rep <= runs; rep++) {
    small.push(
      await once(1000, {
        label: `connect 1000 ${rep}/${runs}`,
        capMs: 30_000,
        // Settling takes about 30 s: once per size, and not in quick mode.
        settle: !quick && rep === runs,
      }),
    );
  }
  for (let rep = 1; rep <= bigRuns; rep++) {
    large.push(
      await once(bigN, {
        label: `connect ${bigN} ${rep}/${bigRuns}`,
        capMs: BIG_CAP_MS,
        settle: true,
      }),
    );
  }
  const figures: Record<string, Spread> = {};
  const targets: Target[] = [];
  const skipped: Record<string, string> = {};
  const figure = (name: string, values: number[]) => (figures[name] = spread(values));
  // Idle memory: settled when measured, else right after the burst (quick mode).
  const idleMemory = (sized: Record<string, number>[], n: string, burst: Spread) => {
    const settled = sized.filter((r) => Number.isFinite(r.settledKbPerUser));
    if (settled.length === 0) return { figure: burst, how: "right after the burst" };
    figure(`${n} users: s to settle`, settled.map((r) => r.settleMs / 1000));
    const values = settled.map((r) => r.settledKbPerUser);
    return { figure: figure(`${n} users: KB RSS/user settled`, values), how: "settled" };
  };
  const s1 = figure("1,000 users: total ms", small.map((r) => r.ms));
  const u1 = figure("1,000 users: ms/user", small.map((r) => r.msPerUser));
  const m1 = figure("1,000 users: KB RSS/user", small.map((r) => r.kbPerUser));
  if (small.some((r) => Number.isFinite(r.heapKbPerUser))) {
    figure("1,000 users: KB V8 heap/user", small.map((r) => r.heapKbPerUser));
  }
  targets.push(target(TARGETS.connect1000, measured(s1)));
  const idle1 = idleMemory(small, "1,000", m1);
  targets.push(target(TARGETS.idleMemory1000, measured(idle1.figure), { detail: idle1.how }));
  if (large.length > 0) {
    const u5 = figure("5,000 users: ms/user", large.map((r) => r.msPerUser));
    figure("5,000 users: total ms", large.map((r) => r.ms));
    figure("5,000 users: connected", large.map((r) => r.connected));
    const m5 = figure("5,000 users: KB RSS/user", large.map((r) => r.kbPerUser));
    const capped = large.some((r) => r.capped === 1);
    targets.push(
      target(TARGETS.connectCostRatio, { value: u5.median / u1.median }, {
        note: capped
          ? `the 5,000 run stopped at its ${BIG_CAP_MS / 1000} s cap after ${
            large[0].connected
          } users: the ratio uses the users it reached`
          : undefined,
      }),
    );
    const idle5 = idleMemory(large, "5,000", m5);
    targets.push(
      target(TARGETS.idleMemory5000, { value: idle5.figure.median }, {
        detail: `${idle5.how}${capped ? `, ${large[0].connected} reached` : ""}`,
      }),
    );
  } else {
    skipped["connect 5,000"] = "quick mode";
  }
  return { runs: records, figures, targets, skipped };
}

/** Connects `n` new users to a fresh server; returns time, per-user cost and RSS per idle user. */
async function connectRun(
  n: number,
  { label, capMs, settle, workers, runner, progress }: {
    label: string;
    capMs: number;
    settle: boolean;
    workers: number;
    runner: ServerRunner;
    progress: Progress;
  },
): Promise<{ figures: Record<string, number>; run: Run }> {
  return await runner.withServer({ KV_PATH: await runner.tempKv("connect") }, async (run) => {
    const gen = new LoadGenerator(run.server.url, workers);
    try {
      await wait(300);
      const before = readProc(run.server.pid);
      const heapBefore = await heapUsedKB(run.server);
      run.begin();
      progress.status(`${label}: connecting ${n} users`);
      const ticker = setInterval(() => progress.status(`${label}: connecting ${n} users…`), 1000);
      // Users connect in slices so a run that would exceed the cap stops early and reports a rate.
      const slice = Math.min(n, 250);
      const started = performance.now();
      let connected = 0;
      let errors = 0;
      const perUser: number[] = [];
      for (let first = 0; first < n && performance.now() - started < capMs; first += slice) {
        const c = await gen.connect(usernames(`c${first}-`, Math.min(slice, n - first)), {
          first,
          concurrency: 100,
        });
        connected += c.users.length;
        errors += c.errors.length;
        perUser.push(c.perUser.p99);
      }
      const ms = performance.now() - started;
      clearInterval(ticker);
      await wait(1000);
      const resources = await run.end();
      const after = readProc(run.server.pid);
      const kbPerUser = after && before
        ? (after.rssKB - before.rssKB) / Math.max(1, connected)
        : NaN;
      const heapKbPerUser = (resources.heapUsedKB - heapBefore) / Math.max(1, connected);
      let settledKbPerUser = NaN;
      let settleMs = NaN;
      if (settle && before) {
        progress.status(`${label}: waiting for the idle server's heap to settle`);
        const settled = await settledRss(run.server.pid);
        settledKbPerUser = (settled.rssKB - before.rssKB) / Math.max(1, connected);
        settleMs = settled.ms;
      }
      const figures = {
        users: n,
        connected,
        errors,
        ms,
        msPerUser: ms / Math.max(1, connected),
        kbPerUser,
        heapKbPerUser,
        settledKbPerUser,
        settleMs,
        capped: connected < n ? 1 : 0,
      };
      progress.line(
        `${label}: ${connected}/${n} users in ${fmt(ms)} ms (${
          fmt(ms / Math.max(1, connected))
        } ms/user), ${fmt(kbPerUser)} KB RSS/user${
          Number.isFinite(heapKbPerUser) ? ` (${fmt(heapKbPerUser)} KB V8 heap)` : ""
        }${
          Number.isFinite(settledKbPerUser)
            ? `, ${fmt(settledKbPerUser)} KB/user settled after ${fmt(settleMs / 1000)} s idle`
            : ""
        }, server CPU ${fmt(resources.serverCpu)}%, client CPU ${fmt(resources.clientCpu)}%${
          connected < n ? `, stopped at the ${capMs / 1000} s cap` : ""
        }`,
      );
      return {
        figures,
        run: { scenario: "connect", variant: String(n), rep: 0, figures, resources },
      };
    } finally {
      await gen.close();
    }
  });
}

/**
 * Samples the RSS of `pid`, left idle, once a second until it has fallen by a
 * tenth and then holds within 1% for 3 s, or for `SETTLE_CAP_MS` at most.
 */
async function settledRss(pid: number): Promise<{ rssKB: number; ms: number }> {
  const started = performance.now();
  const samples: number[] = [];
  while (performance.now() - started < SETTLE_CAP_MS) {
    await wait(1000);
    const rss = readProc(pid)?.rssKB;
    if (rss === undefined) break;
    samples.push(rss);
    const last = samples.slice(-4);
    const fell = Math.min(...samples) <= 0.9 * samples[0];
    if (fell && last.length === 4 && Math.max(...last) <= 1.01 * Math.min(...last)) break;
  }
  return { rssKB: samples.at(-1) ?? NaN, ms: performance.now() - started };
}
