import assert from "node:assert/strict";
import type { Message } from "../../server/protocol.ts";
import type { SessionRecord, UserRecord } from "../../server/chat/ports.ts";
import { nameKeys } from "../../server/chat/usernames.ts";
import { formatKey, sessionKey, userKey } from "../../server/store/keys.ts";
import { KvChatStore } from "../../server/store/kv_store.ts";
import { FORMAT_VERSION, migrate, type Migration } from "../../server/store/migrations.ts";
import { connectError, memoryLogger, startTestServer, tempDir } from "./helpers.ts";

Deno.test("migrate() stamps an empty KV with the current format", async () => {
  using kv = await Deno.openKv(":memory:");
  assert.deepEqual(await migrate(kv, { logger: memoryLogger() }), {
    from: null,
    to: FORMAT_VERSION,
  });
  assert.equal((await kv.get(formatKey())).value, FORMAT_VERSION);
  assert.deepEqual(await migrate(kv, { logger: memoryLogger() }), {
    from: FORMAT_VERSION,
    to: FORMAT_VERSION,
  });
});

Deno.test("migrate() takes a KV written before formats were versioned as format 1", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/old.kv`;
  {
    using old = await Deno.openKv(path);
    await old.set(userKey("u1"), { userID: "u1", username: "Ann", createdAt: 1 });
  }
  using kv = await Deno.openKv(path);
  const steps: number[] = [];
  const migrations: Migration[] = [{
    from: 1,
    description: "test step",
    run: async (db) => {
      steps.push(1);
      await db.set(["migrated"], true);
    },
  }];
  const logger = memoryLogger();
  assert.deepEqual(await migrate(kv, { logger, version: 2, migrations }), { from: 1, to: 2 });
  assert.deepEqual(steps, [1]);
  assert.equal((await kv.get(formatKey())).value, 2);
  assert.equal((await kv.get(["migrated"])).value, true);
  assert.ok(logger.entries().some((e) => e.event === "migration" && e.from === 1 && e.to === 2));
  await migrate(kv, { logger, version: 2, migrations });
  assert.deepEqual(steps, [1], "a migrated KV is not migrated again");
});

Deno.test("migrate() refuses a newer format, an unknown one and a missing step, writing nothing", async () => {
  using kv = await Deno.openKv(":memory:");
  await kv.set(formatKey(), FORMAT_VERSION + 1);
  await assert.rejects(
    migrate(kv, { logger: memoryLogger() }),
    (e: unknown) =>
      e instanceof RangeError &&
      e.message === `Cannot use storage format ${FORMAT_VERSION + 1}: this server knows formats ` +
          `up to ${FORMAT_VERSION}; run a newer server`,
  );
  assert.equal((await kv.get(formatKey())).value, FORMAT_VERSION + 1);
  await kv.set(formatKey(), "one");
  await assert.rejects(migrate(kv, { logger: memoryLogger() }), {
    name: "TypeError",
    message: 'Cannot read storage format "one": not a format version',
  });
  await kv.set(formatKey(), 1);
  await assert.rejects(migrate(kv, { logger: memoryLogger(), version: 3, migrations: [] }), {
    name: "RangeError",
    message: "Cannot migrate storage format 1: no migration to 2",
  });
  assert.equal((await kv.get(formatKey())).value, 1);
});

/** A copy of the format-1 KV file the format-1 server wrote (`fixtures/format1.kv`). */
async function formatOneCopy(dir: string): Promise<{ path: string; fixture: FormatOneFixture }> {
  const path = `${dir}/format1.kv`;
  await Deno.copyFile(new URL("./fixtures/format1.kv", import.meta.url), path);
  const fixture = JSON.parse(
    await Deno.readTextFile(new URL("./fixtures/format1.json", import.meta.url)),
  ) as FormatOneFixture;
  return { path, fixture };
}

interface FormatOneFixture {
  sessions: Record<"ann" | "bob" | "cid" | "dee", { userID: string }>;
  messages: Record<"bob3" | "d1", Message>;
}

Deno.test("migrate() moves a KV written by the format-1 server to the current format, keeping order and unread counts", async () => {
  await using dir = await tempDir();
  const { path, fixture } = await formatOneCopy(dir.path);
  const { ann, bob, cid, dee } = fixture.sessions;
  using kv = await Deno.openKv(path);
  const logger = memoryLogger();
  assert.deepEqual(await migrate(kv, { logger }), { from: 1, to: FORMAT_VERSION });
  await using store = new KvChatStore(kv);
  // ann: a note to herself last, then dee, cid and bob; bob's first message was read.
  const annList = await store.listConversations(ann.userID, 10);
  assert.deepEqual(annList.map((c) => c.peerID), [ann.userID, dee.userID, cid.userID, bob.userID]);
  assert.deepEqual(annList.map((c) => c.unread), [0, 0, 2, 2]);
  assert.deepEqual(
    (await store.listConversations(dee.userID, 10)).map((c) => [c.peerID, c.unread]),
    [[ann.userID, 0]],
  );
  // Idempotency keys are found in the messages themselves.
  assert.deepEqual(
    await store.findByClientId(bob.userID, { peerID: ann.userID, clientId: "bob-key-3" }),
    fixture.messages.bob3,
  );
  assert.deepEqual(
    await store.findByClientId(ann.userID, { peerID: dee.userID, clientId: "ann-key-1" }),
    fixture.messages.d1,
  );
  // Counting goes on from the carried-over counts.
  const next = { ...fixture.messages.bob3, id: "ffffffffffff0000aaaaaaaa", clientId: undefined };
  delete next.clientId;
  await store.saveMessage(next);
  assert.equal((await store.listConversations(ann.userID, 10))[0].unread, 3);
  assert.equal((await store.listConversations(ann.userID, 10))[0].peerID, bob.userID);
  assert.equal(
    await store.markRead(ann.userID, { peerID: bob.userID, upTo: fixture.messages.bob3.id }),
    1,
  );
  assert.equal((await store.listConversations(ann.userID, 10))[0].unread, 1);
  // Nothing of format 1 is left; messages, users and sessions are untouched.
  for (const prefix of ["conversations", "unread", "read_marks", "client_ids"]) {
    assert.deepEqual(await Array.fromAsync(kv.list({ prefix: [prefix] })), [], prefix);
  }
  assert.equal(
    (await Array.fromAsync(kv.list({ prefix: ["messages"] }))).length,
    9,
    "8 carried over and 1 new",
  );
  assert.equal((await Array.fromAsync(kv.list({ prefix: ["users"] }))).length, 4);
  assert.equal((await kv.get(formatKey())).value, FORMAT_VERSION);
  assert.ok(logger.entries().some((e) => e.event === "migration" && e.moved === 7));
  // Format 3: every session indexed by its user, every user with an activity record.
  const sessions = await Array.fromAsync(kv.list<SessionRecord>({ prefix: ["sessions"] }));
  const index = await Array.fromAsync(kv.list({ prefix: ["user_sessions"] }), (e) => e.key);
  assert.deepEqual(
    index.map((k) => `${String(k[1])}/${String(k[2])}`).sort(),
    sessions.map((e) => `${e.value.userID}/${String(e.key[1])}`).sort(),
  );
  assert.equal((await Array.fromAsync(kv.list({ prefix: ["activity"] }))).length, 4);
  // Format 4: each name reserved under its keys, which for these small names are the names.
  assert.deepEqual(
    await Array.fromAsync(kv.list<string>({ prefix: ["usernames"] }), (e) => [e.key[1], e.value]),
    [["ann", ann.userID], ["bob", bob.userID], ["cid", cid.userID], ["dee", dee.userID]],
  );
});

Deno.test("migrate() run by two nodes at once moves each conversation once", async () => {
  await using dir = await tempDir();
  const { path, fixture } = await formatOneCopy(dir.path);
  using one = await Deno.openKv(path);
  using two = await Deno.openKv(path);
  await Promise.all([
    migrate(one, { logger: memoryLogger() }),
    migrate(two, { logger: memoryLogger() }),
  ]);
  await using store = new KvChatStore(one);
  const list = await store.listConversations(fixture.sessions.ann.userID, 10);
  assert.deepEqual(list.map((c) => c.unread), [0, 0, 2, 2]);
  assert.equal((await one.get(formatKey())).value, FORMAT_VERSION);
});

Deno.test("migrate() from format 2 indexes sessions and dates activity no earlier than now", async () => {
  using kv = await Deno.openKv(":memory:");
  const day = 24 * 60 * 60 * 1000;
  const now = Date.now();
  await kv.set(formatKey(), 2);
  const users: UserRecord[] = [
    { userID: "a".repeat(32), username: "recent", createdAt: now - 100 * day },
    { userID: "b".repeat(32), username: "old", createdAt: now - 400 * day },
    { userID: "c".repeat(32), username: "none", createdAt: now - 10 * day },
  ];
  for (const user of users) await kv.set(["users", user.userID], user);
  await kv.set(sessionKey("s-recent-1"), { userID: users[0].userID, refreshedAt: now - 2 * day });
  await kv.set(sessionKey("s-recent-2"), { userID: users[0].userID, refreshedAt: now - 9 * day });
  await kv.set(sessionKey("s-old"), { userID: users[1].userID, refreshedAt: now - 300 * day });
  const before = Date.now();
  assert.deepEqual(await migrate(kv, { logger: memoryLogger(), sessionTtlMs: 30 * day }), {
    from: 2,
    to: FORMAT_VERSION,
  });
  const until = async (userID: string) =>
    (await kv.get<{ sessionsUntil: number }>(["activity", userID])).value!.sessionsUntil;
  assert.equal(await until(users[0].userID), now - 2 * day + 30 * day, "latest session + TTL");
  assert.ok(await until(users[1].userID) >= before, "an old session counts from the migration");
  assert.ok(await until(users[2].userID) >= before, "so does a user with no session");
  assert.deepEqual(
    await Array.fromAsync(kv.list({ prefix: ["user_sessions"] }), (e) => e.key.slice(1)),
    [[users[0].userID, "s-recent-1"], [users[0].userID, "s-recent-2"], [
      users[1].userID,
      "s-old",
    ]],
  );
});

Deno.test("a server started on a format-1 KV file serves its users after the migration", async () => {
  await using dir = await tempDir();
  const { path, fixture } = await formatOneCopy(dir.path);
  const { ann, bob } = fixture.sessions;
  {
    // ann signs in again (the fixture's sessions expire in time).
    using kv = await Deno.openKv(path);
    await kv.set(sessionKey("fresh-ann-session"), { userID: ann.userID, refreshedAt: Date.now() });
  }
  await using server = await startTestServer({ KV_PATH: path });
  const again = await server.connect({ sessionID: "fresh-ann-session" });
  assert.equal(again.session.userID, ann.userID);
  const fromBob = again.users.find((u) => u.userID === bob.userID)!;
  assert.equal(fromBob.unread, 2);
  assert.deepEqual(fromBob.messages.map((m) => m.content), ["bob 1", "bob 2", "bob 3"]);
  assert.equal(again.users[0].userID, ann.userID, "self first");
});

// A format-3 KV whose names collide on the format 4 keys.
const ADMIN = "1".repeat(32); // "admin", the oldest
const CYRILLIC = "2".repeat(32); // "аdmin" with a Cyrillic а
const GREEK = "3".repeat(32); // "ΑDMIN" with a Greek Α: "adrnin" is taken, "admln" is not
const ALICE = "4".repeat(32); // "Alice": her format 3 row is her format 4 key
const HIDDEN = "5".repeat(32); // "adm\u200Bin", from before invisible characters were refused
const GONE = "6".repeat(32); // a deleted account
const HOST = "7".repeat(32); // a host user named "admin": host users reserve nothing
const NEWCOMER = "8".repeat(32); // a row whose user the migration did not read

async function writeFormatThree(kv: Deno.Kv): Promise<void> {
  await kv.set(formatKey(), 3);
  const users: UserRecord[] = [
    { userID: CYRILLIC, username: "\u0430dmin", createdAt: 2000 },
    { userID: ADMIN, username: "admin", createdAt: 1000 },
    { userID: GREEK, username: "\u0391DMIN", createdAt: 3000 },
    { userID: ALICE, username: "Alice", createdAt: 4000 },
    { userID: HIDDEN, username: "adm\u200Bin", createdAt: 5000 },
    { userID: GONE, username: "", createdAt: 500, deleted: true, deletedAt: 600 },
    { userID: HOST, username: "admin", createdAt: 100, host: true },
  ];
  for (const user of users) await kv.set(userKey(user.userID), user);
  // Format 3 reserved each anonymous name under its case-folded form.
  for (
    const [folded, userID] of [
      ["admin", ADMIN],
      ["\u0430dmin", CYRILLIC],
      ["\u03B1dmin", GREEK],
      ["alice", ALICE],
      ["adm\u200Bin", HIDDEN],
      ["gone", GONE],
      ["newcomer", NEWCOMER],
    ]
  ) {
    await kv.set(["usernames", folded], userID);
  }
}

async function reservations(kv: Deno.Kv): Promise<[string, string][]> {
  return await Array.fromAsync(
    kv.list<string>({ prefix: ["usernames"] }),
    (e) => [e.key[1] as string, e.value],
  );
}

// Format 4: the older of two look-alikes holds a key they share.
const FORMAT_4_RESERVATIONS: [string, string][] = [
  ["admln", GREEK],
  ["adrnin", ADMIN],
  ["alice", ALICE],
  ["newcomer", NEWCOMER],
];

Deno.test("migrate() from format 3 reserves names under their keys; the older of two look-alikes holds a shared key", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/format3.kv`;
  {
    using kv = await Deno.openKv(path);
    await writeFormatThree(kv);
    const logger = memoryLogger();
    assert.deepEqual(await migrate(kv, { logger }), { from: 3, to: FORMAT_VERSION });
    assert.equal((await kv.get(formatKey())).value, FORMAT_VERSION);
    assert.deepEqual(await reservations(kv), FORMAT_4_RESERVATIONS);
    // The younger look-alikes keep their accounts and names.
    assert.equal((await kv.get<UserRecord>(userKey(CYRILLIC))).value?.username, "\u0430dmin");
    assert.equal((await kv.get<UserRecord>(userKey(HIDDEN))).value?.username, "adm\u200Bin");
    const collisions = logger.entries().filter((e) => Array.isArray(e.heldBy));
    assert.deepEqual(
      collisions.map((e) => [e.userID, e.heldBy]).sort(),
      [[CYRILLIC, [ADMIN]], [GREEK, [ADMIN]], [HIDDEN, [ADMIN]]],
    );
    assert.ok(
      logger.entries().some((e) =>
        e.event === "migration" && e.users === 5 && e.collisions === 3 && e.removed === 5
      ),
    );
    // A younger look-alike's deletion leaves the older account's reservation.
    await using store = new KvChatStore(kv);
    assert.equal(await store.deleteAccount(CYRILLIC), true);
    assert.deepEqual(await reservations(kv), FORMAT_4_RESERVATIONS);
  }
  // Over the server, every look-alike of the names is taken.
  await using server = await startTestServer({ KV_PATH: path });
  for (const name of ["ADMIN", "\u0430dmin", "ａｄｍｉｎ", "ADMlN", "ALICE", "\u0391lice"]) {
    const taken = await connectError(server.url, { username: name });
    assert.equal(taken.data?.code, "username_taken", name);
  }
});

Deno.test("migrate() from format 3 run by two nodes at once leaves the same reservations", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/format3.kv`;
  using one = await Deno.openKv(path);
  using two = await Deno.openKv(path);
  await writeFormatThree(one);
  await Promise.all([
    migrate(one, { logger: memoryLogger() }),
    migrate(two, { logger: memoryLogger() }),
  ]);
  assert.equal((await two.get(formatKey())).value, FORMAT_VERSION);
  assert.deepEqual(await reservations(two), FORMAT_4_RESERVATIONS);
});

Deno.test("migrate() from format 3 re-keys many users with the longest names, commit by commit", async () => {
  using kv = await Deno.openKv(":memory:");
  await kv.set(formatKey(), 3);
  const letters = "abcdefghijklmnopqrstuvwxyz";
  const users: UserRecord[] = Array.from({ length: 75 }, (_, i) => ({
    userID: i.toString(16).padStart(32, "0"),
    // U+FDFA's compatibility form is 18 Arabic letters: these keys are about 1 KB.
    username: "\uFDFA".repeat(30) + letters[i % 26] + letters[Math.floor(i / 26)].toUpperCase(),
    createdAt: 1000 + i,
  }));
  for (const user of users) {
    await kv.set(userKey(user.userID), user);
    const folded = user.username.normalize("NFKC").toLowerCase().normalize("NFKC");
    await kv.set(["usernames", folded], user.userID);
  }
  assert.deepEqual(await migrate(kv, { logger: memoryLogger() }), { from: 3, to: FORMAT_VERSION });
  const expected = users.flatMap((u) => nameKeys(u.username).map((key) => [key, u.userID]));
  assert.deepEqual(
    (await reservations(kv)).sort(),
    expected.sort(),
  );
});
