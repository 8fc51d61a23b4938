/**
 * Typing, receipts, preferences, last seen, edit and delete, blocking: what
 * each event stores and who hears it, and that nobody can act on a
 * conversation that is not theirs.
 */

import assert from "node:assert/strict";
import type {
  Message,
  MessageChangeAck,
  MessageUpdate,
  PreferencesAck,
  PresenceChange,
  ReceiptsNotice,
  SendMessageAck,
  TypingNotice,
} from "../../server/protocol.ts";
import { collect, nextEvent, startTestServer, waitFor } from "./helpers.ts";

async function send(
  socket: { emitWithAck: (...a: never[]) => Promise<unknown> },
  to: string,
  content: string,
) {
  const ack = await (socket.emitWithAck as (e: string, p: unknown) => Promise<SendMessageAck>)(
    "private message",
    { to, content },
  );
  assert.ok(ack.ok, JSON.stringify(ack));
  return ack.message;
}

/** Lets queued events arrive, so a test can say something did not. */
const settle = () => new Promise((r) => setTimeout(r, 150));

Deno.test("typing reaches the recipient's sockets only, is never stored, and is dropped when it is not allowed", async () => {
  await using server = await startTestServer({ MESSAGE_RATE: "0" });
  const alice = await server.connect({ username: "alice" });
  const bob = await server.connect({ username: "bob" });
  const bobTab = await server.connect({ sessionID: bob.session.sessionID });
  const carol = await server.connect({ username: "carol" });
  const aliceTab = await server.connect({ sessionID: alice.session.sessionID });
  const heard = {
    bob: collect<TypingNotice>(bob.socket, "typing"),
    bobTab: collect<TypingNotice>(bobTab.socket, "typing"),
    carol: collect<TypingNotice>(carol.socket, "typing"),
    aliceTab: collect<TypingNotice>(aliceTab.socket, "typing"),
  };
  alice.socket.emit("typing", { to: bob.session.userID });
  await waitFor(() => heard.bob.length === 1 && heard.bobTab.length === 1, "bob's tabs hear it");
  assert.deepEqual(heard.bob[0], { from: alice.session.userID });
  // Bad ones are dropped without a word: unknown users, oneself, junk.
  for (const payload of [{ to: "f".repeat(32) }, { to: alice.session.userID }, "junk", null, {}]) {
    alice.socket.emit("typing", payload as never);
  }
  await settle();
  assert.equal(heard.carol.length, 0);
  assert.equal(heard.aliceTab.length, 0, "not echoed to one's own tabs");
  assert.equal(heard.bob.length, 1);
  assert.deepEqual(
    await server.store.listMessages([alice.session.userID, bob.session.userID], { limit: 10 }),
    {
      messages: [],
      hasMore: false,
    },
  );
  // A typing notice overtaken by the message itself is dropped: the message would clear it.
  alice.socket.emit("typing", { to: carol.session.userID });
  await send(alice.socket as never, carol.session.userID, "hi carol");
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(heard.carol.length, 0);
  // Typing counts against the rate limit, and over it is dropped without a word or a log line.
  await using limited = await startTestServer({ MESSAGE_RATE: "1", MESSAGE_BURST: "3" });
  const a = await limited.connect({ username: "a" });
  const b = await limited.connect({ username: "b" });
  const toB = collect<TypingNotice>(b.socket, "typing");
  for (let i = 0; i < 10; i++) a.socket.emit("typing", { to: b.session.userID });
  await waitFor(() => toB.length === 1, "one notice for the burst");
  const after = await a.socket.emitWithAck("private message", {
    to: b.session.userID,
    content: "x",
  });
  assert.equal(
    (after as SendMessageAck).ok ? "ok" : (after as { error: { code: string } }).error.code,
    "rate_limited",
  );
  assert.equal(limited.logger.entries().filter((e) => e.event === "typing").length, 0);
});

Deno.test("delivered and seen receipts reach the sender, survive a reload, and stop with read receipts off", async () => {
  await using server = await startTestServer({ MESSAGE_RATE: "0" });
  const alice = await server.connect({ username: "alice" });
  const bob = await server.connect({ username: "bob" });
  const receipts = collect<ReceiptsNotice>(alice.socket, "receipts");
  const m1 = await send(alice.socket as never, bob.session.userID, "one");
  const m2 = await send(alice.socket as never, bob.session.userID, "two");
  assert.deepEqual(
    await bob.socket.emitWithAck("messages delivered", { with: alice.session.userID, upTo: m2.id }),
    { ok: true },
  );
  await waitFor(() => receipts.length === 1, "the delivered receipt");
  assert.deepEqual(receipts[0], { by: bob.session.userID, delivered: m2.id });
  // A mark that moves back changes nothing stored.
  await bob.socket.emitWithAck("messages delivered", { with: alice.session.userID, upTo: m1.id });
  await bob.socket.emitWithAck("messages read", { with: alice.session.userID, upTo: m1.id });
  await waitFor(() => receipts.some((r) => r.seen === m1.id), "the seen receipt");
  const again = await server.connect({ sessionID: alice.session.sessionID });
  const entry = again.users.find((u) => u.userID === bob.session.userID)!;
  assert.equal(entry.deliveredUpTo, m2.id);
  assert.equal(entry.seenUpTo, m1.id);
  // Nobody marks another pair's conversation: the mark is always the caller's own.
  const carol = await server.connect({ username: "carol" });
  await carol.socket.emitWithAck("messages delivered", {
    with: alice.session.userID,
    upTo: "f".repeat(24),
  });
  const afterCarol = (await server.connect({ sessionID: alice.session.sessionID })).users
    .find((u) => u.userID === bob.session.userID)!;
  assert.equal(afterCarol.deliveredUpTo, m2.id, "carol's mark is about carol");

  // Bob turns read receipts off: his reads send none, and Alice sees none of his.
  const prefs = await bob.socket.emitWithAck("preferences", {
    readReceipts: false,
  }) as PreferencesAck;
  assert.deepEqual(prefs, { ok: true, preferences: { readReceipts: false } });
  const before = receipts.length;
  await bob.socket.emitWithAck("messages read", { with: alice.session.userID, upTo: m2.id });
  await settle();
  assert.equal(
    receipts.filter((r) => r.seen).length,
    receipts.slice(0, before).filter((r) => r.seen).length,
  );
  const hidden = (await server.connect({ sessionID: alice.session.sessionID })).users
    .find((u) => u.userID === bob.session.userID)!;
  assert.equal(hidden.seenUpTo, undefined, "seen is hidden while either has it off");
  assert.equal(hidden.deliveredUpTo, m2.id, "delivered stays");
  const bobAgain = await server.connect({ sessionID: bob.session.sessionID });
  assert.deepEqual(bobAgain.session.preferences, { readReceipts: false }, "kept across connects");
  assert.deepEqual(
    await bob.socket.emitWithAck("preferences", { readReceipts: "no" } as never),
    {
      ok: false,
      error: {
        code: "invalid_payload",
        message: 'Field "readReceipts" must be true or false, got a string',
      },
    },
  );
});

Deno.test("last seen: offline users carry when they left, in presence and in users; never-seen users carry none", async () => {
  await using server = await startTestServer();
  const watcher = await server.connect({ username: "watcher", batchPresence: true });
  const changes = collect<PresenceChange[]>(watcher.socket, "presence");
  const leaver = await server.connect({ username: "leaver" });
  const before = Date.now();
  leaver.socket.close();
  await waitFor(() => changes.flat().some((c) => !c.connected), "the departure");
  const gone = changes.flat().find((c) => !c.connected) as { lastSeen?: number };
  assert.ok(gone.lastSeen! >= before && gone.lastSeen! <= Date.now(), JSON.stringify(gone));
  const fresh = await server.connect({ username: "fresh" });
  const entry = fresh.users.find((u) => u.userID === leaver.session.userID)!;
  assert.equal(entry.lastSeen, gone.lastSeen);
  assert.equal(
    fresh.users.find((u) => u.userID === watcher.session.userID)?.lastSeen,
    undefined,
    "online",
  );
  // Restarted on the same store, it still knows.
  const userID = leaver.session.userID;
  assert.equal((await server.store.getLastSeen([userID])).get(userID), gone.lastSeen);
});

Deno.test("edit and delete: own messages only, within the window, relayed to both sides, stored", async () => {
  await using server = await startTestServer({ MESSAGE_RATE: "0" });
  const alice = await server.connect({ username: "alice" });
  const aliceTab = await server.connect({ sessionID: alice.session.sessionID });
  const bob = await server.connect({ username: "bob" });
  const carol = await server.connect({ username: "carol" });
  const mine = await send(alice.socket as never, bob.session.userID, "helo");
  const theirs = await send(bob.socket as never, alice.session.userID, "hi alice");
  const updates = {
    bob: collect<MessageUpdate>(bob.socket, "message updated"),
    tab: collect<MessageUpdate>(aliceTab.socket, "message updated"),
    carol: collect<MessageUpdate>(carol.socket, "message updated"),
  };

  const edited = await alice.socket.emitWithAck("edit message", {
    id: mine.id,
    content: "hello",
    with: bob.session.userID,
  }) as MessageChangeAck;
  assert.ok(edited.ok);
  assert.equal(edited.message.content, "hello");
  assert.ok(edited.message.editedAt! >= mine.timestamp);
  await waitFor(
    () => updates.bob.length === 1 && updates.tab.length === 1,
    "the edit on both sides",
  );
  assert.deepEqual(updates.bob[0].message, edited.message);
  // Without `with`, the server finds the conversation itself.
  const again = await alice.socket.emitWithAck("edit message", {
    id: mine.id,
    content: "hello!",
  }) as MessageChangeAck;
  assert.ok(again.ok);

  const refusals: [string, unknown, string][] = [
    [
      "someone else's message",
      { id: theirs.id, content: "x", with: bob.session.userID },
      "forbidden",
    ],
    ["a message of another conversation", { id: mine.id, content: "x" }, "unknown_message"],
    ["an empty edit", { id: mine.id, content: "  " }, "content_empty"],
    ["no id", { content: "x" }, "invalid_payload"],
  ];
  for (const [what, payload, code] of refusals) {
    const socket = what === "a message of another conversation" ? carol.socket : alice.socket;
    const ack = await socket.emitWithAck("edit message", payload as never) as MessageChangeAck;
    assert.equal(ack.ok ? "ok" : ack.error.code, code, what);
  }
  const notMine = await carol.socket.emitWithAck("delete message", {
    id: mine.id,
    with: alice.session.userID,
  }) as MessageChangeAck;
  assert.equal(
    notMine.ok ? "ok" : notMine.error.code,
    "unknown_message",
    "carol cannot reach alice's conversation",
  );

  const deleted = await alice.socket.emitWithAck("delete message", {
    id: mine.id,
    with: bob.session.userID,
  }) as MessageChangeAck;
  assert.ok(deleted.ok);
  assert.deepEqual(deleted.message, {
    id: mine.id,
    from: mine.from,
    to: mine.to,
    content: "",
    timestamp: mine.timestamp,
    deleted: true,
  });
  const stored = await server.store.getMessage(alice.session.userID, bob.session.userID, mine.id);
  assert.deepEqual(stored?.message, deleted.message, "the content is gone from KV");
  const noEdit = await alice.socket.emitWithAck("edit message", {
    id: mine.id,
    content: "back",
  }) as MessageChangeAck;
  assert.equal(noEdit.ok ? "ok" : noEdit.error.code, "forbidden");
  await settle();
  assert.equal(updates.carol.length, 0, "nobody else hears it");
  // History shows the result.
  const page = await bob.socket.emitWithAck("load messages", { with: alice.session.userID }) as {
    messages: Message[];
  };
  assert.deepEqual(page.messages.map((m) => [m.content, m.deleted ?? false]), [["", true], [
    "hi alice",
    false,
  ]]);
});

Deno.test("the edit window: past it, or with EDIT_WINDOW_SECONDS=0, changes are forbidden", async () => {
  await using server = await startTestServer({ EDIT_WINDOW_SECONDS: "0" });
  const alice = await server.connect({ username: "alice" });
  const bob = await server.connect({ username: "bob" });
  assert.equal(alice.session.editWindowSeconds, 0);
  const m = await send(alice.socket as never, bob.session.userID, "final");
  for (const event of ["edit message", "delete message"] as const) {
    const ack = await alice.socket.emitWithAck(
      event,
      { id: m.id, content: "x", with: bob.session.userID } as never,
    ) as MessageChangeAck;
    assert.deepEqual(ack, {
      ok: false,
      error: { code: "forbidden", message: "Messages cannot be changed on this server" },
    });
  }
  await using windowed = await startTestServer({ EDIT_WINDOW_SECONDS: "60" });
  const a = await windowed.connect({ username: "a" });
  const b = await windowed.connect({ username: "b" });
  const old = await send(a.socket as never, b.session.userID, "old");
  // A message stored two minutes ago, as the store would hold it.
  const stored = (await windowed.store.getMessage(a.session.userID, b.session.userID, old.id))!;
  await windowed.store.replaceMessage(stored, { ...old, timestamp: old.timestamp - 120_000 });
  const late = await a.socket.emitWithAck("edit message", {
    id: old.id,
    content: "new",
    with: b.session.userID,
  }) as MessageChangeAck;
  assert.deepEqual(late, {
    ok: false,
    error: {
      code: "forbidden",
      message: "Messages can be changed for 1 minute after they are sent",
    },
  });
});

Deno.test("blocking: nothing from the blocked user reaches the blocker, history stays, blocks survive and are listed", async () => {
  await using server = await startTestServer({ MESSAGE_RATE: "0" });
  const alice = await server.connect({ username: "alice" });
  const aliceTab = await server.connect({ sessionID: alice.session.sessionID });
  const mallory = await server.connect({ username: "mallory" });
  const earlier = await send(mallory.socket as never, alice.session.userID, "before the block");
  const tabHears = nextEvent(aliceTab.socket, "user blocked");
  assert.deepEqual(
    await alice.socket.emitWithAck("block user", { userID: mallory.session.userID }),
    { ok: true },
  );
  assert.deepEqual(await tabHears, { userID: mallory.session.userID, blocked: true });
  const toAlice = collect<Message>(alice.socket, "private message");
  const typing = collect(alice.socket, "typing");
  const receipts = collect(alice.socket, "receipts");
  const refused = await mallory.socket.emitWithAck("private message", {
    to: alice.session.userID,
    content: "let me in",
  }) as SendMessageAck;
  assert.deepEqual(refused, {
    ok: false,
    error: { code: "blocked", message: "Not delivered: this person does not accept your messages" },
  });
  mallory.socket.emit("typing", { to: alice.session.userID });
  await mallory.socket.emitWithAck("messages delivered", {
    with: alice.session.userID,
    upTo: earlier.id,
  });
  const mine = await alice.socket.emitWithAck("private message", {
    to: mallory.session.userID,
    content: "hi",
  }) as SendMessageAck;
  assert.equal(
    mine.ok ? "ok" : mine.error.code,
    "blocked",
    "the blocker cannot write either while it stands",
  );
  await settle();
  assert.deepEqual([toAlice.length, typing.length, receipts.length], [0, 0, 0]);
  const page = await server.store.listMessages([alice.session.userID, mallory.session.userID], {
    limit: 10,
  });
  assert.deepEqual(
    page.messages.map((m) => m.content),
    ["before the block"],
    "history stays, nothing new stored",
  );
  const listed = (await server.connect({ sessionID: alice.session.sessionID })).users
    .find((u) => u.userID === mallory.session.userID)!;
  assert.equal(listed.blocked, true);
  assert.deepEqual(await alice.socket.emitWithAck("block user", { userID: alice.session.userID }), {
    ok: false,
    error: { code: "invalid_payload", message: "You cannot block yourself" },
  });
  assert.deepEqual(
    await alice.socket.emitWithAck("unblock user", { userID: mallory.session.userID }),
    { ok: true },
  );
  const after = await mallory.socket.emitWithAck("private message", {
    to: alice.session.userID,
    content: "sorry",
  }) as SendMessageAck;
  assert.ok(after.ok);
});

Deno.test("blocks, preferences and last seen survive a restart on the same KV file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const env = { KV_PATH: `${dir}/chat.kv` };
    let ids: { alice: string; aliceSession: string; bob: string };
    {
      await using server = await startTestServer(env);
      const alice = await server.connect({ username: "alice" });
      const bob = await server.connect({ username: "bob" });
      await alice.socket.emitWithAck("block user", { userID: bob.session.userID });
      await alice.socket.emitWithAck("preferences", { readReceipts: false });
      bob.socket.close();
      await waitFor(() => server.io.engine.clientsCount === 1, "bob gone");
      await settle();
      ids = {
        alice: alice.session.userID,
        aliceSession: alice.session.sessionID,
        bob: bob.session.userID,
      };
    }
    await using server = await startTestServer(env);
    const alice = await server.connect({ sessionID: ids.aliceSession });
    assert.deepEqual(alice.session.preferences, { readReceipts: false });
    const bob = alice.users.find((u) => u.userID === ids.bob)!;
    assert.equal(bob.blocked, true);
    assert.equal(typeof bob.lastSeen, "number");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
