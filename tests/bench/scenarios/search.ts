/**
 * Search: 10,000 users in KV (written through the server's own KvChatStore
 * before it starts), then one client searching by name prefix, 500 queries of
 * one to three letters one after another, paging on as the widget would.
 */

import { io, type Socket } from "socket.io-client";
import { nameKeys } from "../../../server/chat/usernames.ts";
import type { SearchUsersAck } from "../../../server/protocol.ts";
import { KvChatStore } from "../../../server/store/kv_store.ts";
import { migrate } from "../../../server/store/migrations.ts";
import { createLogger } from "../../../server/log.ts";
import type { Run, ScenarioOptions, ScenarioResult, ScenarioTools } from "../results.ts";
import { Samples } from "../results.ts";
import { distribution, fmt } from "../stats.ts";
import { measured, target, TARGETS } from "../targets.ts";

const USERS = 10_000;
const QUERIES = 500;
const SYLLABLES = ["ka", "lo", "mi", "ra", "su", "te", "vo", "ni", "al", "be", "do", "el"];

/** A pseudo-random generator with a fixed seed: the same names every run. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

async function prefill(path: string): Promise<void> {
  const kv = await Deno.openKv(path);
  try {
    await migrate(kv, { logger: createLogger({ level: "silent", format: "json" }) });
    await using store = new KvChatStore(kv);
    const next = random(7);
    const pick = () => SYLLABLES[Math.floor(next() * SYLLABLES.length)];
    for (let i = 0; i < USERS; i += 1000) {
      await Promise.all(Array.from({ length: Math.min(1000, USERS - i) }, (_, j) => {
        const username = `${pick()}${pick()}${pick()} ${i + j}`;
        return store.createUser(
          { userID: (i + j).toString(16).padStart(32, "0"), username, createdAt: Date.now() },
          { nameKeys: nameKeys(username), sessionID: `search-${i + j}`, ttlMs: 3_600_000 },
        );
      }));
    }
  } finally {
    kv.close();
  }
}

/** Search latency with 10,000 users stored. */
export async function search(
  { runs }: ScenarioOptions,
  { runner, progress }: ScenarioTools,
): Promise<ScenarioResult> {
  const samples = new Samples();
  const records: Run[] = [];
  for (let rep = 1; rep <= runs; rep++) {
    const path = await runner.tempKv("search");
    const filled = performance.now();
    await prefill(path);
    progress.line(
      `search ${rep}/${runs}: ${USERS} users stored in ${fmt(performance.now() - filled)} ms`,
    );
    await runner.withServer({ KV_PATH: path, SIGNUP_LIMIT: "0" }, async (run) => {
      const socket: Socket = io(run.server.url, {
        auth: { username: "searcher" },
        transports: ["websocket"],
        reconnection: false,
        forceNew: true,
      });
      await new Promise((resolve) => socket.once("users", resolve));
      const next = random(rep);
      const latencies = new Float64Array(QUERIES);
      let found = 0;
      run.begin();
      for (let q = 0; q < QUERIES; q++) {
        const word = SYLLABLES[Math.floor(next() * SYLLABLES.length)];
        const query = word.slice(0, 1 + Math.floor(next() * 2)) + (next() < 0.3 ? "a" : "");
        const started = performance.now();
        const ack = await socket.emitWithAck("search users", { query }) as SearchUsersAck;
        latencies[q] = performance.now() - started;
        if (ack.ok) found += ack.users.length;
      }
      const resources = await run.end();
      socket.close();
      const d = distribution(latencies);
      samples.push("p50 ms", d.p50);
      samples.push("p99 ms", d.p99);
      samples.push("results a query", found / QUERIES);
      records.push({
        scenario: "search",
        variant: "prefix",
        rep,
        figures: { p50: d.p50, p99: d.p99 },
        resources,
      });
      progress.line(
        `search ${rep}/${runs}: ${QUERIES} queries, p50 ${fmt(d.p50)} ms, p99 ${fmt(d.p99)} ms, ${
          fmt(found / QUERIES)
        } results each`,
      );
    });
  }
  const f = samples.spreads();
  return {
    runs: records,
    figures: f,
    targets: [target(TARGETS.searchP99, measured(f["p99 ms"]))],
    skipped: {},
  };
}
