import assert from "node:assert/strict";
import {
  collect,
  connect,
  connectError,
  nextEvent,
  startTestServer,
  TRANSPORTS,
  waitFor,
} from "./helpers.ts";
import type {
  LoadMessagesAck,
  Message,
  MessagesReadAck,
  MessagesReadNotice,
  PresenceChange,
  SendMessageAck,
  UserEntry,
} from "../../server/protocol.ts";
import { pairID } from "../../server/store/keys.ts";

for (const [name, transports] of Object.entries(TRANSPORTS)) {
  Deno.test(`connect sends session before users, with self first and connected (${name})`, async () => {
    await using server = await startTestServer();
    const events: string[] = [];
    const a = await server.connect({ username: "alice" }, transports);
    a.socket.onAny((event) => events.push(event));
    assert.match(a.session.sessionID, /^[A-Za-z0-9_-]{43}$/);
    assert.match(a.session.userID, /^[0-9a-f]{32}$/);
    assert.equal(a.session.username, "alice");
    assert.equal(a.session.maxContentLength, 10_000);
    assert.equal(a.users[0].userID, a.session.userID);
    assert.equal(a.users[0].self, true);
    assert.equal(a.users[0].connected, true);
    assert.deepEqual(a.users[0].messages, []);
  });

  Deno.test(`private message reaches every tab of both users but never echoes to the sender (${name})`, async () => {
    await using server = await startTestServer();
    const a1 = await server.connect({ username: "alice" }, transports);
    const a2 = await server.connect({ sessionID: a1.session.sessionID }, transports);
    const b1 = await server.connect({ username: "bob" }, transports);
    const b2 = await server.connect({ sessionID: b1.session.sessionID }, transports);
    const got = {
      a1: collect<Message>(a1.socket, "private message"),
      a2: collect<Message>(a2.socket, "private message"),
      b1: collect<Message>(b1.socket, "private message"),
      b2: collect<Message>(b2.socket, "private message"),
    };
    const ack = await a1.socket.emitWithAck("private message", {
      content: "hello bob",
      to: b1.session.userID,
    }) as SendMessageAck;
    assert.ok(ack.ok);
    const { message } = ack;
    assert.match(message.id, /^[0-9a-f]{24}$/);
    assert.equal(message.from, a1.session.userID);
    assert.equal(message.to, b1.session.userID);
    assert.equal(message.content, "hello bob");
    assert.ok(Math.abs(message.timestamp - Date.now()) < 60_000);
    // Durable before the ack: it is in KV already.
    const stored = await server.store.listMessages([a1.session.userID, b1.session.userID], {
      limit: 5,
    });
    assert.deepEqual(stored.messages, [message]);
    await waitFor(
      () => got.a2.length === 1 && got.b1.length === 1 && got.b2.length === 1,
      "relays",
    );
    for (const m of [got.a2[0], got.b1[0], got.b2[0]]) assert.deepEqual(m, message);
    // A marker sent after the ack reaches the sending socket after any echo would have.
    const marker = await b1.socket.emitWithAck("private message", {
      content: "marker",
      to: a1.session.userID,
    }) as SendMessageAck;
    assert.ok(marker.ok);
    await waitFor(() => got.a1.length > 0, "the marker");
    assert.deepEqual(got.a1.map((m) => m.content), ["marker"], "no echo to the sending socket");
  });
}

Deno.test("a second tab restores the session: same user, no new user connected", async () => {
  await using server = await startTestServer();
  const a = await server.connect({ username: "alice" });
  const b = await server.connect({ username: "bob" });
  // Announcements go out in bursts within 25 ms: alice's may still reach bob.
  await new Promise((r) => setTimeout(r, 100));
  const seenByB = collect<UserEntry>(b.socket, "user connected");
  const a2 = await server.connect({ sessionID: a.session.sessionID });
  assert.deepEqual(a2.session, a.session);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(seenByB.length, 0, "user connected only for a user's first socket");
  const c = await server.connect({ username: "carol" });
  await waitFor(() => seenByB.length === 1, "user connected for carol");
  assert.deepEqual(seenByB[0], {
    userID: c.session.userID,
    username: "carol",
    connected: true,
    messages: [],
  });
});

Deno.test("user disconnected is sent only when the user's last socket leaves", async () => {
  await using server = await startTestServer();
  const a1 = await server.connect({ username: "alice" });
  const a2 = await server.connect({ sessionID: a1.session.sessionID });
  const b = await server.connect({ username: "bob" });
  const gone = collect<string>(b.socket, "user disconnected");
  a1.socket.close();
  await new Promise((r) => setTimeout(r, 150));
  assert.deepEqual(gone, []);
  const again = await server.connect({ username: "bob-two" });
  const entry = again.users.find((u) => u.userID === a1.session.userID);
  assert.equal(entry?.connected, true, "still online through the second tab");
  a2.socket.close();
  await waitFor(() => gone.length === 1, "user disconnected");
  assert.equal(gone[0], a1.session.userID);
  const later = await server.connect({ sessionID: b.session.sessionID });
  assert.equal(later.users.find((u) => u.userID === a1.session.userID)?.connected, false);
});

Deno.test("messages to an offline user arrive in users on reconnect, with unread counts", async () => {
  await using server = await startTestServer();
  const a = await server.connect({ username: "alice" });
  const b = await server.connect({ username: "bob" });
  b.socket.close();
  for (const content of ["one", "two", "three"]) {
    const ack = await a.socket.emitWithAck("private message", {
      content,
      to: b.session.userID,
    }) as SendMessageAck;
    assert.ok(ack.ok);
  }
  const back = await server.connect({ sessionID: b.session.sessionID });
  const alice = back.users.find((u) => u.userID === a.session.userID)!;
  assert.deepEqual(alice.messages.map((m) => m.content), ["one", "two", "three"]);
  assert.equal(alice.unread, 3);
  assert.equal(alice.hasMore, false);
  assert.equal(alice.connected, true);
  assert.equal(back.users[0].userID, b.session.userID, "self first");
});

Deno.test("private message without an ack (the guide's client) is stored and relayed", async () => {
  await using server = await startTestServer();
  const a = await server.connect({ username: "alice" });
  const b = await server.connect({ username: "bob" });
  const got = nextEvent<Message>(b.socket, "private message");
  a.socket.emit("private message", { content: "no ack", to: b.session.userID });
  const m = await got;
  assert.equal(m.content, "no ack");
  assert.equal(m.from, a.session.userID);
});

Deno.test("private message with a repeated clientId returns the stored message, never a duplicate", async () => {
  await using server = await startTestServer();
  const a = await server.connect({ username: "alice" });
  const b = await server.connect({ username: "bob" });
  const relayed = collect<Message>(b.socket, "private message");
  const payload = { content: "exactly once", to: b.session.userID, clientId: "c-1" };
  const first = await a.socket.emitWithAck("private message", payload) as SendMessageAck;
  const retry = await a.socket.emitWithAck("private message", payload) as SendMessageAck;
  // Concurrent retries, as after a reconnect with a buffered send.
  const burst = await Promise.all(
    Array.from(
      { length: 5 },
      () =>
        a.socket.emitWithAck("private message", { ...payload, clientId: "c-2" }) as Promise<
          SendMessageAck
        >,
    ),
  );
  assert.ok(first.ok && retry.ok);
  assert.deepEqual(retry.message, first.message);
  const ids = new Set(burst.map((r) => (r.ok ? r.message.id : "failed")));
  assert.equal(ids.size, 1);
  // From another tab of the same user too.
  const a2 = await server.connect({ sessionID: a.session.sessionID });
  const fromTab = await a2.socket.emitWithAck("private message", payload) as SendMessageAck;
  assert.ok(fromTab.ok);
  assert.equal(fromTab.message.id, first.message.id);
  const stored = await server.store.listMessages([a.session.userID, b.session.userID], {
    limit: 50,
  });
  assert.equal(stored.messages.length, 2);
  await waitFor(() => relayed.length >= 2, "relays");
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(relayed.length, 2, "each message relayed once");
});

Deno.test("private message with retry: false is stored without a lookup; its retries still find it", async () => {
  await using server = await startTestServer();
  const a = await server.connect({ username: "alice" });
  const b = await server.connect({ username: "bob" });
  const relayed = collect<Message>(b.socket, "private message");
  const payload = { content: "first send", to: b.session.userID, clientId: "f-1" };
  const first = await a.socket.emitWithAck("private message", {
    ...payload,
    retry: false,
  }) as SendMessageAck;
  const again = await a.socket.emitWithAck("private message", {
    ...payload,
    retry: true,
  }) as SendMessageAck;
  const plain = await a.socket.emitWithAck("private message", payload) as SendMessageAck;
  assert.ok(first.ok && again.ok && plain.ok);
  assert.equal(again.message.id, first.message.id);
  assert.equal(plain.message.id, first.message.id);
  // Two first sends at once on one node: the second finds the first in flight.
  const pair = await Promise.all([
    a.socket.emitWithAck("private message", { ...payload, clientId: "f-2", retry: false }),
    a.socket.emitWithAck("private message", { ...payload, clientId: "f-2", retry: false }),
  ]) as SendMessageAck[];
  assert.ok(pair[0].ok && pair[1].ok);
  assert.equal(pair[0].message.id, pair[1].message.id);
  const stored = await server.store.listMessages([a.session.userID, b.session.userID], {
    limit: 50,
  });
  assert.deepEqual(stored.messages.map((m) => m.clientId), ["f-1", "f-2"]);
  await waitFor(() => relayed.length >= 2, "relays");
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(relayed.length, 2, "each message relayed once");
});

Deno.test("load messages pages back through history oldest first, each page in order", async () => {
  await using server = await startTestServer({ MESSAGE_RATE: "0", HISTORY_PAGE_SIZE: "20" });
  const a = await server.connect({ username: "alice" });
  const b = await server.connect({ username: "bob" });
  const sent: string[] = [];
  for (let i = 0; i < 130; i++) {
    const [from, to] = i % 3 ? [a, b] : [b, a];
    const ack = await from.socket.emitWithAck("private message", {
      content: `m${i}`,
      to: to.session.userID,
    }) as SendMessageAck;
    assert.ok(ack.ok);
    sent.push(ack.message.id);
  }
  const re = await server.connect({ sessionID: b.session.sessionID });
  const entry = re.users.find((u) => u.userID === a.session.userID)!;
  assert.equal(entry.messages.length, 20);
  assert.equal(entry.hasMore, true);
  assert.deepEqual(entry.messages.map((m) => m.id), sent.slice(-20));
  const seen: string[] = [...entry.messages.map((m) => m.id)];
  let before = entry.messages[0].id;
  let hasMore = true;
  let pages = 0;
  while (hasMore) {
    const page = await re.socket.emitWithAck("load messages", {
      with: a.session.userID,
      before,
      limit: 50,
    }) as LoadMessagesAck;
    assert.ok(page.ok);
    assert.ok(page.messages.length <= 50);
    seen.unshift(...page.messages.map((m) => m.id));
    hasMore = page.hasMore;
    if (page.messages.length > 0) before = page.messages[0].id;
    pages++;
  }
  assert.equal(pages, 3);
  assert.deepEqual(seen, sent);
  const latest = await a.socket.emitWithAck("load messages", {
    with: b.session.userID,
  }) as LoadMessagesAck;
  assert.ok(latest.ok);
  assert.equal(latest.messages.length, 50, "default page size");
  assert.deepEqual(latest.messages.map((m) => m.id), sent.slice(-50));
});

Deno.test("load messages only ever returns the caller's own conversations", async () => {
  await using server = await startTestServer();
  const a = await server.connect({ username: "alice" });
  const b = await server.connect({ username: "bob" });
  const c = await server.connect({ username: "mallory" });
  await a.socket.emitWithAck("private message", { content: "secret", to: b.session.userID });
  for (const peer of [a.session.userID, b.session.userID]) {
    const page = await c.socket.emitWithAck("load messages", { with: peer }) as LoadMessagesAck;
    assert.ok(page.ok);
    assert.deepEqual(page.messages, []);
  }
  // Guessing the conversation key as a user ID gets nothing either.
  const guess = await c.socket.emitWithAck("load messages", {
    with: pairID(a.session.userID, b.session.userID),
  }) as LoadMessagesAck;
  assert.equal(guess.ok, false);
});

Deno.test("users is bounded: self, partners and online users first", async () => {
  await using server = await startTestServer({ USER_LIST_LIMIT: "4" });
  const offline = [];
  for (let i = 0; i < 6; i++) {
    const u = await server.connect({ username: `offline-${i}` });
    offline.push(u.session);
    u.socket.close();
  }
  const partner = await server.connect({ username: "partner" });
  await server.connect({ username: "online" });
  const me = await server.connect({ username: "me" });
  await me.socket.emitWithAck("private message", { content: "hi", to: partner.session.userID });
  partner.socket.close();
  await new Promise((r) => setTimeout(r, 50));
  const again = await server.connect({ sessionID: me.session.sessionID });
  const names = again.users.map((u) => u.username);
  assert.equal(names.length, 4);
  assert.deepEqual(names.slice(0, 2), ["me", "partner"]);
  assert.ok(names.includes("online"));
});

Deno.test("users carries at most HISTORY_BUDGET messages, most recent conversations first", async () => {
  await using server = await startTestServer({
    HISTORY_PAGE_SIZE: "5",
    HISTORY_BUDGET: "8",
    MESSAGE_RATE: "0",
  });
  const me = await server.connect({ username: "me" });
  const peers = [];
  for (let i = 0; i < 3; i++) peers.push(await server.connect({ username: `peer-${i}` }));
  for (const peer of peers) {
    for (let i = 0; i < 6; i++) {
      await peer.socket.emitWithAck("private message", { content: `${i}`, to: me.session.userID });
    }
  }
  const again = await server.connect({ sessionID: me.session.sessionID });
  const byName = new Map(again.users.map((u) => [u.username, u]));
  assert.equal(byName.get("peer-2")!.messages.length, 5, "newest conversation: a full page");
  assert.equal(byName.get("peer-1")!.messages.length, 3, "then what the budget leaves");
  assert.equal(byName.get("peer-0")!.messages.length, 0);
  for (const n of ["peer-0", "peer-1", "peer-2"]) {
    assert.equal(byName.get(n)!.hasMore, true);
    assert.equal(byName.get(n)!.unread, 6);
  }
});

Deno.test("messages read updates unread counts and tells the user's other tabs", async () => {
  await using server = await startTestServer();
  const a = await server.connect({ username: "alice" });
  const b1 = await server.connect({ username: "bob" });
  const b2 = await server.connect({ sessionID: b1.session.sessionID });
  const ids: string[] = [];
  for (let i = 0; i < 4; i++) {
    const ack = await a.socket.emitWithAck("private message", {
      content: `${i}`,
      to: b1.session.userID,
    }) as SendMessageAck;
    assert.ok(ack.ok);
    ids.push(ack.message.id);
  }
  const notice = nextEvent<MessagesReadNotice>(b2.socket, "messages read");
  const read = await b1.socket.emitWithAck("messages read", {
    with: a.session.userID,
    upTo: ids[1],
  }) as MessagesReadAck;
  assert.deepEqual(read, { ok: true, unread: 2 });
  assert.deepEqual(await notice, { with: a.session.userID, upTo: ids[1], unread: 2 });
  const again = await server.connect({ sessionID: b1.session.sessionID });
  assert.equal(again.users.find((u) => u.userID === a.session.userID)?.unread, 2);
  const all = await b1.socket.emitWithAck("messages read", {
    with: a.session.userID,
    upTo: ids[3],
  }) as MessagesReadAck;
  assert.deepEqual(all, { ok: true, unread: 0 });
});

Deno.test("usernames are unique case-insensitively and refused with a clear message", async () => {
  await using server = await startTestServer();
  const a = await server.connect({ username: "  Alice  " });
  assert.equal(a.session.username, "Alice");
  const taken = await connectError(server.url, { username: "ALICE" });
  assert.equal(taken.message, 'Username "ALICE" is already taken');
  assert.equal(taken.data?.code, "username_taken");
  const long = await connectError(server.url, { username: "x".repeat(33) });
  assert.match(long.message, /too long: 33 characters, at most 32/);
  assert.equal(long.data?.code, "invalid_username");
  const control = await connectError(server.url, { username: "a\u0007b" });
  assert.match(control.message, /control/);
  const notText = await connectError(server.url, { username: 42 as unknown as string });
  assert.equal(notText.message, "Username must be text");
  const none = await connectError(server.url, {});
  assert.equal(none.message, "invalid username");
  assert.equal(none.data?.code, "invalid_username");
  const stale = await connectError(server.url, { sessionID: "no-such-session" });
  assert.equal(
    stale.message,
    "invalid username",
    "the guide's client then shows its username form",
  );
  assert.equal(stale.data?.code, "invalid_session");
  const fresh = await server.connect({ sessionID: "no-such-session", username: "bob" });
  assert.equal(fresh.session.username, "bob");
  assert.notEqual(fresh.session.sessionID, "no-such-session");
});

Deno.test("concurrent sign-ups with one name create exactly one user", async () => {
  await using server = await startTestServer();
  const results = await Promise.allSettled(
    Array.from({ length: 8 }, (_, i) => server.connect({ username: i % 2 ? "Same" : "same" })),
  );
  const ok = results.filter((r) => r.status === "fulfilled");
  assert.equal(ok.length, 1);
  for (const r of results) {
    if (r.status === "rejected") assert.equal(r.reason?.data?.code, "username_taken", r.reason);
  }
});

Deno.test("logout ends the session on every tab of that session", async () => {
  await using server = await startTestServer();
  const a1 = await server.connect({ username: "alice" });
  const a2 = await server.connect({ sessionID: a1.session.sessionID });
  const b = await server.connect({ username: "bob" });
  const gone = collect<string>(b.socket, "user disconnected");
  const closed = nextEvent(a2.socket, "disconnect");
  const ack = await a1.socket.emitWithAck("logout");
  assert.deepEqual(ack, { ok: true });
  await closed;
  await waitFor(() => a1.socket.disconnected, "the logging-out socket to close");
  await waitFor(() => gone.length === 1, "user disconnected");
  const after = await connectError(server.url, { sessionID: a1.session.sessionID });
  assert.equal(after.data?.code, "invalid_session");
});

Deno.test("a socket over its rate gets rate_limited and recovers", async () => {
  await using server = await startTestServer({ MESSAGE_RATE: "5", MESSAGE_BURST: "3" });
  const a = await server.connect({ username: "alice" });
  const b = await server.connect({ username: "bob" });
  const acks = await Promise.all(
    Array.from(
      { length: 6 },
      (_, i) =>
        a.socket.emitWithAck("private message", {
          content: `${i}`,
          to: b.session.userID,
        }) as Promise<
          SendMessageAck
        >,
    ),
  );
  const limited = acks.filter((r) => !r.ok);
  assert.ok(limited.length >= 2, `${limited.length} refused`);
  for (const r of limited) assert.ok(!r.ok && r.error.code === "rate_limited");
  await new Promise((r) => setTimeout(r, 500));
  const later = await a.socket.emitWithAck("private message", {
    content: "later",
    to: b.session.userID,
  }) as SendMessageAck;
  assert.ok(later.ok);
  const stored = await server.store.listMessages([a.session.userID, b.session.userID], {
    limit: 50,
  });
  assert.equal(
    stored.messages.length,
    acks.length - limited.length + 1,
    "refused sends are not stored",
  );
});

Deno.test("a message to oneself is stored once and reaches one's other tabs", async () => {
  await using server = await startTestServer();
  const a1 = await server.connect({ username: "alice" });
  const a2 = await server.connect({ sessionID: a1.session.sessionID });
  const got = nextEvent<Message>(a2.socket, "private message");
  const ack = await a1.socket.emitWithAck("private message", {
    content: "note",
    to: a1.session.userID,
  }) as SendMessageAck;
  assert.ok(ack.ok);
  assert.deepEqual(await got, ack.message);
  const again = await server.connect({ sessionID: a1.session.sessionID });
  assert.deepEqual(again.users[0].messages.map((m) => m.content), ["note"]);
  assert.equal(again.users[0].unread, 0);
});

Deno.test("restart on the same KV file keeps users, sessions and messages", async () => {
  const dir = await Deno.makeTempDir();
  const env = { KV_PATH: `${dir}/chat.kv` };
  try {
    let ack: SendMessageAck;
    let a, b;
    {
      await using first = await startTestServer(env);
      a = await first.connect({ username: "alice" });
      b = await first.connect({ username: "bob" });
      ack = await a.socket.emitWithAck("private message", {
        content: "persisted",
        to: b.session.userID,
      }) as SendMessageAck;
      assert.ok(ack.ok);
    }
    await using second = await startTestServer(env);
    const b2 = await second.connect({ sessionID: b.session.sessionID });
    assert.equal(b2.session.userID, b.session.userID);
    assert.deepEqual(b2.users.find((u) => u.userID === a.session.userID)?.messages, [ack.message]);
    const taken = await connectError(second.url, { username: "alice" });
    assert.equal(taken.data?.code, "username_taken");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("messages sent concurrently from one socket keep their order in storage, acks and relays", async () => {
  await using server = await startTestServer({ MESSAGE_RATE: "0" });
  const a = await server.connect({ username: "alice" });
  const b = await server.connect({ username: "bob" });
  const relayed = collect<Message>(b.socket, "private message");
  const acks = await Promise.all(
    Array.from({ length: 60 }, (_, i) =>
      a.socket.emitWithAck("private message", {
        content: `${i}`,
        to: b.session.userID,
        // Half carry idempotency keys, whose lookups take variable time.
        ...(i % 2 ? { clientId: `k-${i}` } : {}),
      }) as Promise<SendMessageAck>),
  );
  const ids = acks.map((r) => (r.ok ? r.message.id : "failed"));
  assert.deepEqual(ids, [...ids].sort(), "ids grow in send order");
  const stored = await server.store.listMessages([a.session.userID, b.session.userID], {
    limit: 100,
  });
  assert.deepEqual(stored.messages.map((m) => m.content), acks.map((_, i) => `${i}`));
  await waitFor(() => relayed.length === 60, "relays");
  assert.deepEqual(relayed.map((m) => m.content), acks.map((_, i) => `${i}`));
});

Deno.test("a burst of connects announces each user once to everyone, never after that user's first message", async () => {
  await using server = await startTestServer({ MESSAGE_RATE: "0" });
  const watcher = await server.connect({ username: "watcher" });
  const seen: string[] = [];
  watcher.socket.onAny((event, arg) => {
    if (event === "user connected") seen.push(`connected ${(arg as UserEntry).username}`);
    if (event === "private message") seen.push(`message ${(arg as Message).content}`);
  });
  await Promise.all(Array.from({ length: 30 }, (_, i) => server.connect({ username: `u${i}` })));
  // The newest user writes at once: its announcement must not trail its message.
  const last = await server.connect({ username: "late" });
  await last.socket.emitWithAck("private message", {
    content: "from late",
    to: watcher.session.userID,
  });
  await waitFor(() => seen.includes("message from late") && seen.length >= 32, "announcements");
  const announced = seen.filter((s) => s.startsWith("connected"));
  assert.equal(announced.length, 31);
  assert.equal(new Set(announced).size, 31, "each user announced once");
  assert.ok(seen.indexOf("connected late") < seen.indexOf("message from late"));
});

Deno.test("batchPresence: a burst arrives as one ordered presence event, on both transports", async () => {
  await using server = await startTestServer({ MESSAGE_RATE: "0" });
  const legacy = await server.connect({ username: "legacy" });
  const batchedWs = await server.connect({ username: "ws", batchPresence: true });
  const batchedPolling = await connect(
    server.url,
    { username: "polling", batchPresence: true },
    ["polling"], // never upgraded: gets ordinary emits, not shared frames
  );
  const perUser: Record<string, string[]> = { legacy: [], ws: [], polling: [] };
  const presenceEvents: Record<string, number> = { legacy: 0, ws: 0, polling: 0 };
  const guideEvents: Record<string, number> = { legacy: 0, ws: 0, polling: 0 };
  for (
    const [name, c] of [["legacy", legacy], ["ws", batchedWs], ["polling", batchedPolling]] as const
  ) {
    c.socket.onAny((event, arg) => {
      if (event === "user connected" || event === "user disconnected") guideEvents[name]++;
      if (event === "user connected") perUser[name].push(`+${(arg as UserEntry).username}`);
      if (event === "user disconnected") perUser[name].push(`-${arg}`);
      if (event === "presence") {
        presenceEvents[name]++;
        for (const change of arg as PresenceChange[]) {
          perUser[name].push(
            change.connected ? `+${change.username}` : `-${change.userID}`,
          );
        }
      }
    });
  }
  // Half the burst asks for batches too: none of them may hear its own arrival.
  const heardBy = new Map<number, PresenceChange[]>();
  const burst = await Promise.all(
    Array.from({ length: 20 }, async (_, i) => {
      const c = await server.connect({ username: `b${i}`, batchPresence: i % 2 === 0 });
      heardBy.set(i, []);
      c.socket.on("presence", (batch: PresenceChange[]) => heardBy.get(i)!.push(...batch));
      return c;
    }),
  );
  const leaving = burst.slice(0, 5);
  for (const c of leaving) c.socket.close();
  const expected = [
    ...burst.map((c) => `+${c.session.username}`),
    ...leaving.map((c) => `-${c.session.userID}`),
  ].sort();
  // Only the burst's changes: the watchers may also hear each other arrive.
  const ofBurst = (name: string) => perUser[name].filter((c) => expected.includes(c));
  for (const name of ["legacy", "ws", "polling"]) {
    await waitFor(() => ofBurst(name).length === 25, `${name}: 25 changes`);
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(ofBurst(name).sort(), expected, `${name}: each change once`);
    for (const c of leaving) {
      const seen = perUser[name];
      assert.ok(
        seen.indexOf(`+${c.session.username}`) < seen.indexOf(`-${c.session.userID}`),
        `${name}: connected before disconnected`,
      );
    }
  }
  assert.equal(presenceEvents.legacy, 0, "a client that did not ask gets the guide's events");
  burst.forEach((c, i) => {
    const own = heardBy.get(i)!.filter((h) => h.connected && h.userID === c.session.userID);
    assert.equal(own.length, 0, `b${i} does not hear its own arrival`);
  });
  assert.ok(
    [...heardBy.values()].some((h) => h.length > 0),
    "batched burst users hear the others",
  );
  for (const name of ["ws", "polling"]) {
    assert.equal(guideEvents[name], 0, `${name}: no per-user events`);
    assert.ok(
      presenceEvents[name] >= 1 && presenceEvents[name] < 20,
      `${name}: ${presenceEvents[name]} presence events for 25 changes`,
    );
  }
});
