import assert from "node:assert/strict";
import { KvPresence } from "../../server/store/kv_presence.ts";
import { memoryLogger } from "../server/helpers.ts";
import { tempKv, until } from "./helpers.ts";

// Short, so sweeps come quickly; tests where no node should die use NO_DEATH_MS,
// since on a loaded machine a heartbeat can be late by more than a short TTL.
const TTL_MS = 1500;
const NO_DEATH_MS = 60_000;

interface TestNode {
  kv: Deno.Kv;
  presence: KvPresence;
  gone: string[];
  back: string[];
  logger: ReturnType<typeof memoryLogger>;
}

/** Nodes on one KV file, each with its own handle as separate processes would have. */
async function nodes(path: string, count: number, ttlMs = TTL_MS) {
  const made: TestNode[] = [];
  for (let i = 0; i < count; i++) {
    const kv = await Deno.openKv(path);
    const gone: string[] = [];
    const back: string[] = [];
    const logger = memoryLogger();
    const presence = new KvPresence(kv, {
      nodeID: `node${i}`,
      ttlMs,
      logger,
    });
    await presence.start({
      onUsersGone: (ids) => gone.push(...ids),
      onUsersBack: (ids) => back.push(...ids),
    });
    made.push({ kv, presence, gone, back, logger });
  }
  return {
    nodes: made,
    async [Symbol.asyncDispose]() {
      for (const n of made) {
        await n.presence.close().catch(() => {});
        try {
          n.kv.close();
        } catch {
          // Closed by the test.
        }
      }
    },
  };
}

Deno.test("KvPresence.add() and remove() count sockets across nodes: first and last anywhere", async () => {
  await using file = await tempKv();
  await using cluster = await nodes(file.path, 2, NO_DEATH_MS);
  const [a, b] = cluster.nodes.map((n) => n.presence);

  assert.equal(await a.add("u"), true);
  assert.equal(await a.add("u"), false);
  assert.equal(await b.add("u"), false);
  assert.deepEqual([...await b.onlineAmong(["u", "v"])], ["u"]);
  assert.deepEqual(await a.list(10), ["u"]);
  assert.equal(await a.remove("u"), false);
  assert.equal(await a.remove("u"), false);
  assert.equal(await b.remove("u"), true);
  assert.equal((await a.onlineAmong(["u"])).size, 0);
  assert.equal(await b.remove("u"), false);
});

Deno.test("KvPresence decides first and last exactly once when nodes race", async () => {
  await using file = await tempKv();
  await using cluster = await nodes(file.path, 3, NO_DEATH_MS);
  const all = cluster.nodes.map((n) => n.presence);
  const users = Array.from({ length: 40 }, (_, i) => `user${i}`);

  const added = await Promise.all(users.map((u) => Promise.all(all.map((p) => p.add(u)))));
  for (const firsts of added) assert.equal(firsts.filter(Boolean).length, 1);
  assert.equal((await all[0].onlineAmong(users)).size, users.length);

  const removed = await Promise.all(users.map((u) => Promise.all(all.map((p) => p.remove(u)))));
  for (const lasts of removed) assert.equal(lasts.filter(Boolean).length, 1);
  assert.equal((await all[1].onlineAmong(users)).size, 0);
});

Deno.test("KvPresence sweeps a dead node's users once, keeping users other nodes hold", async () => {
  await using file = await tempKv();
  await using cluster = await nodes(file.path, 3);
  const [dead, b, c] = cluster.nodes;
  await dead.presence.add("alone");
  await dead.presence.add("shared");
  await b.presence.add("shared");
  // The node stops heartbeating, as after SIGKILL.
  dead.kv.close();

  await until(() => b.gone.length + c.gone.length > 0, "a survivor to sweep", 10_000);
  // Another couple of sweep rounds: no second report.
  await new Promise((r) => setTimeout(r, TTL_MS));
  assert.deepEqual([...b.gone, ...c.gone], ["alone"]);
  assert.deepEqual([...await c.presence.onlineAmong(["alone", "shared"])], ["shared"]);
  assert.deepEqual(await b.presence.list(10), ["shared"]);
});

Deno.test("KvPresence rejoins with its users after others declared it dead", async () => {
  await using file = await tempKv();
  await using cluster = await nodes(file.path, 1);
  const [b] = cluster.nodes;
  const kv = await Deno.openKv(file.path);
  const logger = memoryLogger();
  const back: string[] = [];
  // Its heartbeats stop (a stalled event loop) but the process lives on.
  const stalled = new KvPresence(kv, { ttlMs: TTL_MS, logger });
  try {
    await stalled.start({ timers: false, onUsersBack: (ids) => back.push(...ids) });
    await stalled.add("u");
    await until(() => b.gone.includes("u"), "a survivor to sweep the stalled node", 10_000);
    assert.equal((await b.presence.onlineAmong(["u"])).size, 0);

    await stalled.heartbeat();
    assert.deepEqual(back, ["u"]);
    assert.deepEqual([...await b.presence.onlineAmong(["u"])], ["u"]);
    assert.ok(logger.lines.some((l) => l.includes("declared dead")));
    assert.equal(await stalled.remove("u"), true);
  } finally {
    await stalled.close();
    kv.close();
  }
});
