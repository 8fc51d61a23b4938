/**
 * History: 500 of 1,000 users reconnect (by session) to a store with 100,000
 * messages vs one with none; the hub's `users` payload and paging back with
 * `load messages`.
 */

import { benchCacheDir } from "../cache.ts";
import { LoadGenerator } from "../load.ts";
import { cachedPrefill, type Prefilled } from "../prefill.ts";
import type { Run, ScenarioOptions, ScenarioResult, ScenarioTools } from "../results.ts";
import { Samples } from "../results.ts";
import { wait } from "../runner.ts";
import { fmt, spread } from "../stats.ts";
import { measured, target, TARGETS } from "../targets.ts";

/** What stored history costs a reconnect, the hub's `users` payload and `load messages`. */
export async function history(
  { runs, workers }: ScenarioOptions,
  { runner, progress }: ScenarioTools,
): Promise<ScenarioResult> {
  const users = 1000;
  // Fewer than all, to keep the O(users^2) presence fan-out from hiding the cost of history.
  const reconnecting = 500;
  const messages = 100_000;
  progress.status(
    `history: prefilling ${users} users + ${messages.toLocaleString("en-US")} messages`,
  );
  const storedPath = await runner.tempKv("history-stored");
  const emptyPath = await runner.tempKv("history-empty");
  const cacheDir = benchCacheDir();
  const stored = await cachedPrefill(storedPath, {
    users,
    messages,
    hubPeers: 300,
    hubShare: 0.3,
    cacheDir,
  });
  const empty = await cachedPrefill(emptyPath, { users, messages: 0, cacheDir });
  progress.line(
    `history: prefilled ${messages.toLocaleString("en-US")} messages in ${fmt(stored.ms)} ms (${
      fmt(messages / (stored.ms / 1000))
    } msg/s through KvChatStore)${stored.cached ? ", reused from " + cacheDir : ""}`,
  );
  const prefill = {
    users,
    messages,
    ms: stored.ms,
    hubPeers: stored.hubPeers.length,
    cached: stored.cached,
  };
  const samples = new Samples();
  const records: Run[] = [];
  const stores: Record<"stored" | "empty", { data: Prefilled; path: string }> = {
    stored: { data: stored, path: storedPath },
    empty: { data: empty, path: emptyPath },
  };
  const once = async (variant: "stored" | "empty", rep: number) => {
    const { data, path } = stores[variant];
    const label = `history ${variant} ${rep}/${runs}`;
    progress.status(`${label}: reconnecting ${reconnecting} users`);
    await runner.withServer({ KV_PATH: path }, async (run) => {
      const gen = new LoadGenerator(run.server.url, workers);
      try {
        await wait(300);
        run.begin();
        const c = await gen.connect(
          data.users.slice(0, reconnecting).map((u) => ({ sessionID: u.sessionID })),
          {
            concurrency: 100,
            measurePayload: true,
          },
        );
        if (c.errors.length > 0) throw new Error(`reconnect failed: ${c.errors[0]}`);
        const figures: Record<string, number> = {
          ms: c.ms,
          msPerUser: c.ms / reconnecting,
          hubUsersBytes: c.users[0].usersBytes,
          hubUsersEntries: c.users[0].usersEntries,
          hubUsersMessages: c.users[0].usersMessages,
          maxUsersBytes: Math.max(...c.users.map((u) => u.usersBytes)),
        };
        samples.push(`${variant}: 500 returning users, total ms`, c.ms);
        if (variant === "stored") {
          samples.push("hub users payload KB", figures.hubUsersBytes / 1024);
          samples.push("largest users payload KB", figures.maxUsersBytes / 1024);
          samples.push("hub users entries", figures.hubUsersEntries);
          samples.push("hub users messages", figures.hubUsersMessages);
          progress.status(`${label}: paging history (load messages x 300)`);
          const h = await gen.loadHistory(0, data.hubPeers, { requests: 300, limit: 50 });
          figures.loadP50 = h.latency.p50;
          figures.loadP99 = h.latency.p99;
          figures.loadErrors = h.errors;
          samples.push("load messages p50 ms", h.latency.p50);
          samples.push("load messages p99 ms", h.latency.p99);
          samples.push("load messages max ms", h.latency.max);
        }
        const resources = await run.end();
        records.push({ scenario: "history", variant, rep, figures, resources });
        progress.line(
          `${label}: reconnect ${fmt(c.ms)} ms, hub users payload ${
            fmt(figures.hubUsersBytes / 1024)
          } KB (${figures.hubUsersEntries} users, ${figures.hubUsersMessages} messages)${
            variant === "stored"
              ? `, load messages p50 ${fmt(figures.loadP50)} ms p99 ${fmt(figures.loadP99)} ms`
              : ""
          }`,
        );
      } finally {
        await gen.close();
      }
    });
  };
  for (let rep = 1; rep <= runs; rep++) {
    const order = rep % 2 === 1 ? ["stored", "empty"] as const : ["empty", "stored"] as const;
    for (const variant of order) await once(variant, rep);
  }
  const f = samples.spreads();
  const s = f["stored: 500 returning users, total ms"];
  const e = f["empty: 500 returning users, total ms"];
  const r = f["stored / empty reconnect time"] = spread(s.runs.map((v, i) => v / e.runs[i]));
  return {
    runs: records,
    figures: f,
    targets: [
      target(TARGETS.reconnectStoredVsEmpty, measured(r)),
      target(TARGETS.hubUsersPayload, { value: f["hub users payload KB"].median }),
      target(TARGETS.loadMessagesP99, measured(f["load messages p99 ms"])),
    ],
    skipped: {},
    meta: { prefill },
  };
}
