import assert from "node:assert/strict";
import {
  CheckFailedError,
  GroupWriter,
  keyBytes,
  LATER_BATCH,
  LATER_MS,
} from "../../server/store/group_writer.ts";
import { KvChatStore } from "../../server/store/kv_store.ts";
import {
  messagesPrefix,
  pairID,
  readKey,
  receiptKey,
  receivedKey,
  sentKey,
} from "../../server/store/keys.ts";
import type { ReadMark } from "../../server/store/kv_store.ts";
import { CLIENT_ID_WINDOW } from "../../server/chat/ports.ts";
import { isLockedError, retryLocked } from "../../server/store/retry.ts";
import { sleep, tempDir } from "./helpers.ts";
import { createMessageIdGenerator } from "../../server/chat/ids.ts";
import type { Message } from "../../server/protocol.ts";

const A = "a".repeat(32);
const B = "b".repeat(32);
const C = "c".repeat(32);

/** The unread counts of `userID`'s conversations that have any, by peer. */
async function unreadOf(store: KvChatStore, userID: string): Promise<Record<string, number>> {
  const conversations = await store.listConversations(userID, 100);
  return Object.fromEntries(
    conversations.filter((c) => c.unread > 0).map((c) => [c.peerID, c.unread]),
  );
}

function messageFactory() {
  const next = createMessageIdGenerator();
  return (from: string, to: string, content = "hi", clientId?: string): Message => {
    const { id, timestamp } = next();
    return { id, from, to, content, timestamp, ...(clientId ? { clientId } : {}) };
  };
}

Deno.test("GroupWriter.write() merges concurrent writes into few commits", async () => {
  using kv = await Deno.openKv(":memory:");
  await using writer = new GroupWriter(kv);
  const writes = Array.from(
    { length: 500 },
    (_, i) =>
      writer.write({
        sets: [{ key: ["k", i], value: i }],
        sums: [{ key: ["total"], by: 1n }],
        bytes: 16,
      }),
  );
  await Promise.all(writes);
  const stats = writer.stats;
  assert.equal(stats.writes, 500);
  assert.ok(stats.commits <= 3, `${stats.commits} commits for 500 writes`);
  // 500 sets, and one merged sum per commit.
  assert.equal(stats.mutations, 500 + stats.commits);
  assert.equal((await kv.get<Deno.KvU64>(["total"])).value?.value, 500n);
  assert.ok(stats.commitP50Ms > 0 && stats.commitP50Ms <= stats.commitP99Ms, JSON.stringify(stats));
  for (const i of [0, 250, 499]) assert.equal((await kv.get(["k", i])).value, i);
});

Deno.test("GroupWriter.write() keeps keys apart that KV keeps apart, in one commit", async () => {
  using kv = await Deno.openKv(":memory:");
  await using writer = new GroupWriter(kv);
  const first = writer.write({ sets: [{ key: ["first"], value: 1 }], bytes: 8 });
  // Queued behind `first`, so these share one commit.
  await Promise.all([
    writer.write({ sets: [{ key: ["k", 0], value: "zero" }], bytes: 8 }),
    writer.write({ sets: [{ key: ["k", -0], value: "minus zero" }], bytes: 8 }),
    writer.write({ sets: [{ key: ["k", "0"], value: "text" }], bytes: 8 }),
    writer.write({ sets: [{ key: ["k", 0n], value: "bigint" }], bytes: 8 }),
    writer.write({ sets: [{ key: ["k", "a", "b"], value: "two parts" }], bytes: 8 }),
    writer.write({ sets: [{ key: ["k", "a\u0000b"], value: "one part" }], bytes: 8 }),
  ]);
  await first;
  const stored = await Array.fromAsync(kv.list<string>({ prefix: ["k"] }));
  assert.deepEqual(
    stored.map((e) => e.value).sort(),
    ["bigint", "minus zero", "one part", "text", "two parts", "zero"],
  );
});

Deno.test("GroupWriter.write() splits batches at KV's per-commit limits", async () => {
  using kv = await Deno.openKv(":memory:");
  await using writer = new GroupWriter(kv);
  const big = "x".repeat(30_000);
  await Promise.all(
    Array.from(
      { length: 60 },
      (_, i) => writer.write({ sets: [{ key: ["big", i], value: big }], bytes: big.length }),
    ),
  );
  await Promise.all(
    Array.from(
      { length: 2000 },
      (_, i) => writer.write({ sets: [{ key: ["many", i], value: i }], bytes: 8 }),
    ),
  );
  assert.ok(writer.stats.commits >= 5, "60 x 30 KB and 2,000 mutations need several commits");
  let n = 0;
  for await (const _ of kv.list({ prefix: ["many"] })) n++;
  assert.equal(n, 2000);
});

Deno.test("GroupWriter.write() keeps each commit within KV's 80 KiB of keys", async () => {
  using kv = await Deno.openKv(":memory:");
  await using writer = new GroupWriter(kv);
  // 400 writes of 2 keys of about 400 bytes: 320 KB of keys, few mutations and values.
  const long = "k".repeat(400);
  await Promise.all(
    Array.from({ length: 400 }, (_, i) =>
      writer.write({
        sets: [{ key: ["a", long, i], value: i }, { key: ["b", long, i], value: i }],
        bytes: 16,
      })),
  );
  // One batch over the limit would fail in KV and fall back to a commit per write.
  const { commits } = writer.stats;
  assert.ok(commits >= 4 && commits <= 8, `${commits} commits for 320 KB of keys`);
  let n = 0;
  for await (const _ of kv.list({ prefix: ["b"] })) n++;
  assert.equal(n, 400);
  await assert.rejects(
    writer.write({
      sets: Array.from({ length: 50 }, (_, i) => ({ key: ["c", "x".repeat(2000), i], value: i })),
      bytes: 400,
    }),
    (error: Error) => error instanceof RangeError && /bytes of keys/.test(error.message),
  );
});

Deno.test("keyBytes() never counts a key smaller than KV does", async () => {
  using kv = await Deno.openKv(":memory:");
  const parts: (() => Deno.KvKeyPart)[] = [
    () => "ascii-" + Math.random().toString(36).repeat(8),
    () => "é€😀\u0000\ud800x".repeat(1 + Math.floor(Math.random() * 16)),
    () => Math.random() * 1e6,
    () => BigInt(Math.floor(Math.random() * 1e9)) ** 3n,
    () => Math.random() < 0.5,
    () => new Uint8Array([0, 255, 0, 1, 0]),
  ];
  for (let round = 0; round < 20; round++) {
    // Keys until the estimate reaches KV's limit: KV must accept them all in one commit.
    const op = kv.atomic();
    let total = 0;
    for (let count = 0; count < 1000; count++) {
      const key = Array.from(
        { length: 1 + Math.floor(Math.random() * 4) },
        () => parts[Math.floor(Math.random() * parts.length)](),
      );
      const n = keyBytes(key);
      if (total + n > 81_920) break;
      total += n;
      op.set(key, 1);
    }
    assert.ok(total > 80_000, `only ${total} bytes of keys`);
    await op.commit();
  }
  assert.equal(keyBytes(["s", "x".repeat(400)]), 3 + 402);
});

Deno.test("GroupWriter.write() fails only the bad write of a batch", async () => {
  using kv = await Deno.openKv(":memory:");
  await using writer = new GroupWriter(kv);
  const first = writer.write({ sets: [{ key: ["first"], value: 1 }], bytes: 8 });
  // Queued behind `first`, so these share one batch; the oversized value fails in KV.
  const good = writer.write({ sets: [{ key: ["good"], value: 1 }], bytes: 8 });
  const bad = writer.write({ sets: [{ key: ["bad"], value: "x".repeat(70_000) }], bytes: 100 });
  const good2 = writer.write({ sets: [{ key: ["good2"], value: 2 }], bytes: 8 });
  await first;
  await good;
  await assert.rejects(bad);
  await good2;
  assert.equal((await kv.get(["good2"])).value, 2);
  assert.equal((await kv.get(["bad"])).value, null);
  await writer.close();
  await assert.rejects(writer.write({ sets: [], bytes: 0 }), /closed/);
});

Deno.test("GroupWriter.write() applies checks per write, never letting two claims of one key both hold", async () => {
  using kv = await Deno.openKv(":memory:");
  await using writer = new GroupWriter(kv);
  await kv.set(["names", "taken"], "old");
  const claim = (name: string, owner: string) =>
    writer.write({
      checks: [{ key: ["names", name], versionstamp: null }],
      sets: [{ key: ["names", name], value: owner }],
      bytes: 16,
    });
  const results = await Promise.allSettled([
    claim("free-1", "a"),
    claim("same", "b"),
    claim("same", "c"),
    claim("taken", "d"),
    claim("free-2", "e"),
    writer.write({ sets: [{ key: ["plain"], value: 1 }], bytes: 8 }),
  ]);
  assert.deepEqual(results.map((r) => r.status), [
    "fulfilled",
    "fulfilled",
    "rejected",
    "rejected",
    "fulfilled",
    "fulfilled",
  ]);
  for (const r of results) {
    if (r.status === "rejected") assert.ok(r.reason instanceof CheckFailedError);
  }
  assert.equal((await kv.get(["names", "same"])).value, "b");
  assert.equal((await kv.get(["names", "taken"])).value, "old");
  assert.equal((await kv.get(["names", "free-2"])).value, "e");
  assert.equal((await kv.get(["plain"])).value, 1);
});

Deno.test("retryLocked() retries only 'database is locked'", async () => {
  let calls = 0;
  const value = await retryLocked(() => {
    calls++;
    if (calls < 3) return Promise.reject(new Error("database is locked"));
    return Promise.resolve("done");
  });
  assert.equal(value, "done");
  assert.equal(calls, 3);
  calls = 0;
  await assert.rejects(
    retryLocked(() => {
      calls++;
      return Promise.reject(new Error("disk full"));
    }),
    /disk full/,
  );
  assert.equal(calls, 1);
  assert.ok(isLockedError(new Error("SQLITE_BUSY: database is locked")));
  assert.ok(!isLockedError("database is locked"));
});

Deno.test("KvChatStore.createUser() keeps name keys unique and atomic", async () => {
  using kv = await Deno.openKv(":memory:");
  await using store = new KvChatStore(kv);
  const user = { userID: A, username: "Alice", createdAt: 1 };
  assert.equal(
    await store.createUser(user, { nameKeys: ["alice"], sessionID: "s1", ttlMs: 60_000 }),
    true,
  );
  assert.equal(
    await store.createUser({ ...user, userID: B }, {
      nameKeys: ["allce", "alice"],
      sessionID: "s2",
      ttlMs: 60_000,
    }),
    false,
  );
  assert.equal(await store.getUser(B), null, "nothing of the refused user is written");
  assert.equal((await kv.get(["usernames", "allce"])).value, null, "nor its other key");
  assert.equal(await store.getSession("s2"), null);
  assert.equal((await store.getSession("s1"))?.userID, A);
  assert.deepEqual(await store.endSession("s1", A), { othersLive: false });
  assert.equal(await store.getSession("s1"), null);
});

Deno.test("KvChatStore.listMessages() pages newest-first pages, each oldest first", async () => {
  using kv = await Deno.openKv(":memory:");
  await using store = new KvChatStore(kv);
  const make = messageFactory();
  const sent: Message[] = [];
  for (let i = 0; i < 25; i++) {
    const m = make(i % 2 ? A : B, i % 2 ? B : A, `m${i}`);
    sent.push(m);
  }
  await Promise.all(sent.map((m) => store.saveMessage(m)));
  await store.saveMessage(make(A, C, "other conversation"));
  const page1 = await store.listMessages([A, B], { limit: 10 });
  assert.deepEqual(page1.messages.map((m) => m.content), sent.slice(15).map((m) => m.content));
  assert.equal(page1.hasMore, true);
  const page2 = await store.listMessages([B, A], { limit: 10, before: page1.messages[0].id });
  assert.deepEqual(page2.messages.map((m) => m.content), sent.slice(5, 15).map((m) => m.content));
  const page3 = await store.listMessages([A, B], { limit: 10, before: page2.messages[0].id });
  assert.deepEqual(page3.messages.map((m) => m.content), sent.slice(0, 5).map((m) => m.content));
  assert.equal(page3.hasMore, false);
  assert.equal(pairID(A, B), pairID(B, A));
});

Deno.test("KvChatStore keeps conversations, unread counts and read marks", async () => {
  using kv = await Deno.openKv(":memory:");
  await using store = new KvChatStore(kv);
  const make = messageFactory();
  const fromB = [make(B, A), make(B, A), make(B, A)];
  for (const m of fromB) await store.saveMessage(m);
  await store.saveMessage(make(A, B, "reply"));
  await store.saveMessage(make(C, A, "hello from c"));
  await store.saveMessage(make(A, A, "note to self"));
  const conversations = await store.listConversations(A, 10);
  assert.deepEqual(conversations.map((c) => c.peerID), [A, C, B], "most recent first");
  assert.deepEqual(await unreadOf(store, A), { [B]: 3, [C]: 1 });
  assert.equal(await store.markRead(A, { peerID: B, upTo: fromB[0].id }), 2);
  assert.equal(await store.markRead(A, { peerID: B, upTo: fromB[2].id }), 0);
  assert.equal(
    await store.markRead(A, { peerID: B, upTo: fromB[1].id }),
    0,
    "a read mark never moves back",
  );
  assert.deepEqual(await unreadOf(store, A), { [C]: 1 });
  await store.saveMessage(make(B, A, "after reading"));
  assert.equal((await unreadOf(store, A))[B], 1);
});

Deno.test("GroupWriter.write() fails a failed check's write alone, committing the rest together", async () => {
  using kv = await Deno.openKv(":memory:");
  await using writer = new GroupWriter(kv);
  await kv.set(["ids", "17"], "earlier");
  const first = writer.write({ sets: [{ key: ["first"], value: 1 }], bytes: 8 });
  // Queued behind `first`: 40 claims in one batch, one of them on a taken key.
  const claims = Array.from({ length: 40 }, (_, i) =>
    writer.write({
      checks: [{ key: ["ids", String(i)], versionstamp: null }],
      sets: [{ key: ["ids", String(i)], value: i }, { key: ["other", String(i)], value: i }],
      bytes: 16,
    }));
  await first;
  const results = await Promise.allSettled(claims);
  results.forEach((r, i) => {
    if (i === 17) {
      assert.equal(r.status, "rejected");
      assert.ok((r as PromiseRejectedResult).reason instanceof CheckFailedError);
    } else assert.equal(r.status, "fulfilled", `claim ${i}`);
  });
  assert.equal((await kv.get(["ids", "17"])).value, "earlier");
  assert.equal((await kv.get(["other", "17"])).value, null, "nothing of the failed write");
  assert.equal((await kv.get(["other", "39"])).value, 39);
  // The first commit, the failed batch, then the 39 others together.
  assert.equal(writer.stats.commits, 3);
});

/** `kv` running `after()` once each count of markRead (a list from a start key) has been read. */
function afterEachCount(kv: Deno.Kv, after: () => Promise<void>): Deno.Kv {
  return new Proxy(kv, {
    get(target, name) {
      const value = Reflect.get(target, name, target);
      if (name !== "list") return typeof value === "function" ? value.bind(target) : value;
      return (selector: Deno.KvListSelector, options?: Deno.KvListOptions) =>
        (async function* () {
          yield* target.list(selector, options);
          if ("start" in selector) await after();
        })();
    },
  });
}

Deno.test("KvChatStore.markRead() counts again when a message arrives during its count", async () => {
  using kv = await Deno.openKv(":memory:");
  const make = messageFactory();
  await using writer = new KvChatStore(kv);
  const first = make(B, A, "one");
  await writer.saveMessage(first);
  await writer.saveMessage(make(B, A, "two"));
  // Another message from B is stored after A's first count and before it is written.
  let counts = 0;
  await using store = new KvChatStore(afterEachCount(kv, async () => {
    if (counts++ === 0) await writer.saveMessage(make(B, A, "three"));
  }));
  assert.equal(await store.markRead(A, { peerID: B, upTo: first.id }), 2);
  assert.equal(counts, 2, "counted once more");
  assert.equal((await unreadOf(store, A))[B], 2);
  assert.equal((await kv.get<ReadMark>(readKey(A, B))).value?.upTo, first.id);
  // A conversation that changes during every count: markRead gives up, writing nothing.
  counts = 0;
  await using busy = new KvChatStore(afterEachCount(kv, async () => {
    counts++;
    await writer.saveMessage(make(B, A, "more"));
  }));
  const later = make(B, A, "never stored").id;
  await assert.rejects(busy.markRead(A, { peerID: B, upTo: later }), /changed during 8 counts/);
  assert.equal(counts, 8);
  assert.equal((await kv.get<ReadMark>(readKey(A, B))).value?.upTo, first.id);
  assert.equal((await unreadOf(store, A))[B], 2 + 8, "every message since the mark is unread");
  // A mark at or below the one stored changes nothing and counts nothing.
  counts = 0;
  assert.equal(await busy.markRead(A, { peerID: B, upTo: first.id }), 2 + 8);
  assert.equal(counts, 0);
});

Deno.test("KvChatStore.findByClientId() finds the message of an idempotency key among the conversation's latest", async () => {
  using kv = await Deno.openKv(":memory:");
  await using store = new KvChatStore(kv);
  const make = messageFactory();
  const m = make(A, B, "once", "key-1");
  await store.saveMessage(m);
  await store.saveMessage(make(B, A, "answer", "key-1"));
  assert.deepEqual(await store.findByClientId(A, { peerID: B, clientId: "key-1" }), m);
  assert.deepEqual(
    (await store.findByClientId(B, { peerID: A, clientId: "key-1" }))?.content,
    "answer",
    "keys are per sender",
  );
  assert.equal(await store.findByClientId(A, { peerID: B, clientId: "key-2" }), null);
  assert.equal(await store.findByClientId(A, { peerID: C, clientId: "key-1" }), null);
  // Once the conversation has moved on by CLIENT_ID_WINDOW messages, the key is forgotten.
  for (let i = 0; i < CLIENT_ID_WINDOW - 2; i++) await store.saveMessage(make(B, A, `m${i}`));
  assert.deepEqual(await store.findByClientId(A, { peerID: B, clientId: "key-1" }), m);
  await store.saveMessage(make(B, A, "one more"));
  assert.equal(await store.findByClientId(A, { peerID: B, clientId: "key-1" }), null);
});

Deno.test("KvChatStore.saveMessage() writes the message and two counters, in one commit", async () => {
  using kv = await Deno.openKv(":memory:");
  await using store = new KvChatStore(kv);
  const make = messageFactory();
  await store.saveMessage(make(A, B, "one"));
  assert.equal(store.writerStats.mutations, 3);
  assert.equal(store.writerStats.commits, 1);
  await store.saveMessage(make(A, A, "to self"));
  assert.equal(store.writerStats.mutations, 5, "a note to oneself counts as sent only");
  assert.equal((await kv.get<Deno.KvU64>(receivedKey(B, A))).value?.value, 1n);
  assert.equal((await kv.get<Deno.KvU64>(sentKey(A, B))).value?.value, 1n);
});

Deno.test("GroupWriter.setLater() writes the latest value of each key within LATER_MS, with nothing else to write", async () => {
  using kv = await Deno.openKv(":memory:");
  await using writer = new GroupWriter(kv);
  writer.setLater(["r", 1], "a");
  writer.setLater(["r", 1], "b");
  writer.setLater(["r", 2], "c");
  assert.deepEqual([...writer.laterSets()], [
    { key: ["r", 1], value: "b" },
    { key: ["r", 2], value: "c" },
  ]);
  assert.equal((await kv.get(["r", 1])).value, null, "not written at once");
  await sleep(LATER_MS + 150);
  assert.equal((await kv.get(["r", 1])).value, "b");
  assert.equal((await kv.get(["r", 2])).value, "c");
  const stats = writer.stats;
  assert.deepEqual(
    [stats.commits, stats.writes, stats.laterWritten, stats.laterPending, stats.laterLost],
    [1, 0, 2, 0, 0],
  );
});

Deno.test("GroupWriter.setLater() stays out of the commits of writes, and takes a commit of its own once LATER_BATCH wait", async () => {
  using kv = await Deno.openKv(":memory:");
  await using writer = new GroupWriter(kv);
  for (let i = 0; i < 10; i++) writer.setLater(["later", i], i);
  await writer.write({ sets: [{ key: ["now"], value: 1 }], bytes: 8 });
  assert.equal(writer.stats.mutations, 1, "the write's commit carried only the write");
  assert.equal(writer.stats.laterPending, 10);
  for (let i = 10; i < LATER_BATCH; i++) writer.setLater(["later", i], i);
  // Well before LATER_MS: the batch went because it was full and the writer idle.
  await sleep(50);
  assert.equal(writer.stats.laterWritten, LATER_BATCH);
  assert.equal(writer.stats.commits, 2);
  assert.equal((await kv.get(["later", LATER_BATCH - 1])).value, LATER_BATCH - 1);
});

Deno.test("GroupWriter.flush() and close() write deferred sets at once; a bad one is lost alone", async () => {
  using kv = await Deno.openKv(":memory:");
  const writer = new GroupWriter(kv);
  writer.setLater(["ok", 1], 1);
  // Past KV's 64 KiB a value: its commit fails.
  writer.setLater(["big"], "x".repeat(70_000));
  writer.setLater(["ok", 2], 2);
  await writer.flush();
  assert.equal((await kv.get(["ok", 1])).value, 1);
  assert.equal((await kv.get(["ok", 2])).value, 2);
  assert.equal((await kv.get(["big"])).value, null);
  assert.deepEqual([writer.stats.laterWritten, writer.stats.laterLost], [2, 1]);
  writer.setLater(["last"], 3);
  await writer.close();
  assert.equal((await kv.get(["last"])).value, 3);
  assert.throws(() => writer.setLater(["late"], 4), /writer is closed/);
});

Deno.test("KvChatStore.saveReceipt() never moves a delivered mark back, before or after its write", async () => {
  using kv = await Deno.openKv(":memory:");
  const next = messageFactory();
  const [m1, m2] = [next(A, B), next(A, B)];
  const store = new KvChatStore(kv);
  await store.saveReceipt(A, B, "delivered", m2.id);
  await store.saveReceipt(A, B, "delivered", m1.id);
  assert.equal((await store.listReceipts(A)).get(B)?.delivered, m2.id, "while it waits");
  await sleep(LATER_MS + 150);
  assert.equal((await kv.get(receiptKey(A, B, "delivered"))).value, m2.id);
  await store.saveReceipt(A, B, "delivered", m1.id);
  await store.saveReceipt(A, C, "delivered", m1.id);
  await store.close();
  assert.equal((await kv.get(receiptKey(A, B, "delivered"))).value, m2.id, "after its write");
  assert.equal((await kv.get(receiptKey(A, C, "delivered"))).value, m1.id, "close() wrote it");
  const reopened = new KvChatStore(kv);
  assert.deepEqual(
    Object.fromEntries(await reopened.listReceipts(A)),
    { [B]: { delivered: m2.id }, [C]: { delivered: m1.id } },
  );
  await reopened.close();
});

Deno.test("two KvChatStores on one KV file never surface 'database is locked'", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/shared.kv`;
  using kv1 = await Deno.openKv(path);
  using kv2 = await Deno.openKv(path);
  await using s1 = new KvChatStore(kv1);
  await using s2 = new KvChatStore(kv2);
  const make = messageFactory();
  const all: Message[] = [];
  const writes: Promise<void>[] = [];
  for (let i = 0; i < 1000; i++) {
    const m = make(i % 2 ? A : B, i % 2 ? B : A, `m${i}`);
    all.push(m);
    writes.push((i % 2 ? s1 : s2).saveMessage(m));
  }
  await Promise.all(writes);
  const page = await s1.listMessages([A, B], { limit: 200 });
  let count = 0;
  for await (const _ of kv1.list({ prefix: messagesPrefix(A, B) })) count++;
  assert.equal(count, 1000);
  assert.equal(page.messages.length, 200);
});
