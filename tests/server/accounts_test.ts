/**
 * Anonymous accounts: deleting one (the name comes free, the messages become
 * tombstones, every session and socket ends) and the sweep of abandoned ones.
 */

import assert from "node:assert/strict";
import { LocalPresence } from "../../server/chat/presence.ts";
import { ChatService } from "../../server/chat/service.ts";
import type { Message, SendMessageAck } from "../../server/protocol.ts";
import { DELETED_USERNAME } from "../../server/protocol.ts";
import { KvChatStore } from "../../server/store/kv_store.ts";
import { connectError, nextEvent, startTestServer } from "./helpers.ts";

const DAY = 24 * 60 * 60 * 1000;
const OPTIONS = {
  maxContentLength: 1000,
  userListLimit: 100,
  historyPageSize: 30,
  historyBudget: 300,
  sessionTtlMs: 30 * DAY,
  accountTtlMs: 90 * DAY,
  editWindowSeconds: 900,
};

Deno.test("delete account frees the name, tombstones what the user wrote and ends every socket", async () => {
  await using server = await startTestServer();
  const alice = await server.connect({ username: "Alice" });
  const aliceTab = await server.connect({ sessionID: alice.session.sessionID });
  const bob = await server.connect({ username: "Bob" });
  const to = (id: string, content: string) => ({ to: id, content });
  const fromAlice: Message[] = [];
  for (const text of ["hi Bob", "how are you?"]) {
    const ack = await alice.socket.emitWithAck(
      "private message",
      to(bob.session.userID, text),
    ) as SendMessageAck;
    assert.ok(ack.ok);
    fromAlice.push(ack.message);
  }
  const note = await alice.socket.emitWithAck("private message", to(alice.session.userID, "memo"));
  assert.ok(note.ok);
  const reply = await bob.socket.emitWithAck("private message", to(alice.session.userID, "fine!"));
  assert.ok(reply.ok);

  assert.equal(
    alice.session.accountTtlDays,
    90,
    "anonymous users are told how long an unused account lives",
  );
  const gone = nextEvent<string>(bob.socket, "user deleted");
  const closedTab = nextEvent<string>(aliceTab.socket, "disconnect");
  const closed = nextEvent<string>(alice.socket, "disconnect");
  assert.deepEqual(await alice.socket.emitWithAck("delete account", {}), { ok: true });
  assert.equal(await gone, alice.session.userID);
  assert.equal(await closed, "io server disconnect");
  assert.equal(await closedTab, "io server disconnect");

  // The session is dead, the name is free and belongs to somebody new.
  assert.equal(
    (await connectError(server.url, { sessionID: alice.session.sessionID })).data?.code,
    "invalid_session",
  );
  const newAlice = await server.connect({ username: "alice" });
  assert.notEqual(newAlice.session.userID, alice.session.userID);
  assert.equal(
    newAlice.users.some((u) => u.userID === alice.session.userID),
    false,
    "a deleted account is not offered to people who never talked to it",
  );

  // Bob sees a deleted user, Alice's words as tombstones, his own reply intact.
  const bobAgain = await server.connect({ sessionID: bob.session.sessionID });
  const entry = bobAgain.users.find((u) => u.userID === alice.session.userID)!;
  assert.equal(entry.username, DELETED_USERNAME);
  assert.equal(entry.deleted, true);
  assert.equal(entry.connected, false);
  assert.deepEqual(
    entry.messages.map((
      m,
    ) => [m.from === bob.session.userID ? "bob" : "alice", m.content, m.deleted]),
    [["alice", "", true], ["alice", "", true], ["bob", "fine!", undefined]],
  );
  assert.deepEqual(
    entry.messages.slice(0, 2).map((m) => [m.id, m.timestamp]),
    fromAlice.map((m) => [m.id, m.timestamp]),
  );
  assert.equal(entry.messages[0].clientId, undefined);

  // Nothing more reaches the deleted user.
  assert.deepEqual(
    await bobAgain.socket.emitWithAck("private message", to(alice.session.userID, "hello?")),
    {
      ok: false,
      error: { code: "recipient_deleted", message: "This person deleted their account" },
    },
  );
  // Only its ID is left of the account.
  const store = server.store;
  assert.deepEqual(await store.getUser(alice.session.userID), {
    userID: alice.session.userID,
    username: "",
    createdAt: (await store.getUser(alice.session.userID))!.createdAt,
    deleted: true,
    deletedAt: (await store.getUser(alice.session.userID))!.deletedAt,
  });
  assert.deepEqual(await store.listConversations(alice.session.userID, 10), []);
  assert.equal(await store.finishDeletions(), 0, "nothing is left half done");
});

Deno.test("delete account refuses a payload that is not an object, and a second delete finds nothing", async () => {
  await using server = await startTestServer();
  const alice = await server.connect({ username: "Alice" });
  assert.deepEqual(await alice.socket.emitWithAck("delete account", "everything" as never), {
    ok: false,
    error: { code: "invalid_payload", message: "Payload must be an object, got a string" },
  });
  assert.equal((await server.store.getUser(alice.session.userID))?.username, "Alice");
  assert.equal(await server.store.deleteAccount(alice.session.userID), true);
  assert.equal(await server.store.deleteAccount(alice.session.userID), false);
});

Deno.test("an interrupted deletion is finished: every message of the user becomes a tombstone", async () => {
  using kv = await Deno.openKv(":memory:");
  await using store = new KvChatStore(kv);
  const chat = new ChatService({ store, presence: new LocalPresence() }, OPTIONS);
  const a = await chat.authenticate({ username: "Ann", batchPresence: false });
  const b = await chat.authenticate({ username: "Ben", batchPresence: false });
  for (let i = 0; i < 1203; i++) {
    await chat.send(a.userID, { to: b.userID, content: `m${i}`, clientId: `k${i}` });
  }
  await chat.send(b.userID, { to: a.userID, content: "reply" });
  // The first commit of a deletion, then a crash: only the record and the marker are written.
  const record = await kv.get(["users", a.userID]);
  await kv.atomic().set(["users", a.userID], {
    ...record.value as object,
    username: "",
    deleted: true,
  })
    .set(["deletions", a.userID], { since: Date.now() }).commit();
  assert.equal(await store.finishDeletions(), 1);
  const all = await Array.fromAsync(kv.list<Message>({ prefix: ["messages"] }), (e) => e.value);
  assert.equal(all.length, 1204);
  assert.equal(
    all.filter((m) => m.from === a.userID && m.deleted && m.content === "").length,
    1203,
  );
  assert.equal(all.filter((m) => m.from === b.userID && m.content === "reply").length, 1);
  assert.equal(await store.finishDeletions(), 0);
  assert.deepEqual(await Array.fromAsync(kv.list({ prefix: ["sent", a.userID] })), []);
});

Deno.test("the sweep deletes exactly the anonymous accounts with no live session for ACCOUNT_TTL_DAYS", async () => {
  using kv = await Deno.openKv(":memory:");
  await using store = new KvChatStore(kv);
  const options = OPTIONS;
  const chat = new ChatService({ store, presence: new LocalPresence() }, options);
  const signUp = (username: string) => chat.authenticate({ username, batchPresence: false });
  const gone = await signUp("gone"); // logged out: no session left
  const live = await signUp("live"); // its session is still there
  const twoDevices = await signUp("two"); // one session ended, the other lives
  const keptForever = new ChatService({ store, presence: new LocalPresence() }, {
    ...options,
    accountTtlMs: 0,
  });
  await chat.logout(gone.sessionID, gone.userID);
  // A second session of the same user, as a second device would have.
  await kv.set(["sessions", "second-device"], {
    userID: twoDevices.userID,
    refreshedAt: Date.now(),
  });
  await kv.set(["user_sessions", twoDevices.userID, "second-device"], true);
  await chat.logout(twoDevices.sessionID, twoDevices.userID);
  const now = Date.now();

  assert.deepEqual(await chat.sweepAccounts(now + 89 * DAY), [], "not yet 90 days");
  assert.deepEqual(await keptForever.sweepAccounts(now + 1000 * DAY), [], "0 keeps accounts");
  // 121 days on, every activity record is old enough; the live sessions still count.
  assert.deepEqual(await chat.sweepAccounts(now + 121 * DAY), [gone.userID]);
  assert.equal((await store.getUser(gone.userID))?.deleted, true);
  assert.equal((await store.getUser(live.userID))?.username, "live");
  assert.equal((await store.getUser(twoDevices.userID))?.username, "two");
  // The freed name can be taken.
  assert.notEqual((await signUp("Gone")).userID, gone.userID);
  assert.deepEqual(
    await chat.sweepAccounts(now + 121 * DAY),
    [],
    "a deleted account is not found again",
  );
});

Deno.test("logout reports whether another session of the user lives", async () => {
  using kv = await Deno.openKv(":memory:");
  await using store = new KvChatStore(kv);
  const userID = "a".repeat(32);
  await store.createUser({ userID, username: "Ann", createdAt: Date.now() }, {
    nameKeys: ["ann"],
    sessionID: "s1",
    ttlMs: 30 * DAY,
  });
  await kv.set(["sessions", "s2"], { userID, refreshedAt: Date.now() });
  await kv.set(["user_sessions", userID, "s2"], true);
  await kv.set(["user_sessions", userID, "s3-expired"], true);
  assert.deepEqual(await store.endSession("s1", userID), { othersLive: true });
  assert.deepEqual(
    await Array.fromAsync(kv.list({ prefix: ["user_sessions", userID] }), (e) => e.key[2]),
    ["s2"],
    "the index entry of an expired session is removed on the way",
  );
  const before = Date.now();
  assert.deepEqual(await store.endSession("s2", userID), { othersLive: false });
  const activity = await kv.get<{ sessionsUntil: number }>(["activity", userID]);
  assert.ok(activity.value!.sessionsUntil >= before, "the last session ended now");
  assert.equal((await kv.get(["usernames", "ann"])).value, userID, "the name stays reserved");
});
