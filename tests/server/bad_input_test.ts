import assert from "node:assert/strict";
import { collect, nextEvent, startTestServer, waitFor } from "./helpers.ts";
import type { ErrorCode, LoadMessagesAck, Message, SendMessageAck } from "../../server/protocol.ts";

const UNKNOWN = "f".repeat(32);

function nested(depth: number): unknown {
  let value: unknown = "leaf";
  for (let i = 0; i < depth; i++) value = { child: value };
  return value;
}

Deno.test("bad payloads get a clear error, are never stored or relayed, and the server stays up", async () => {
  await using server = await startTestServer({ MESSAGE_RATE: "0", MAX_CONTENT_LENGTH: "10000" });
  const a = await server.connect({ username: "alice" });
  const b = await server.connect({ username: "bob" });
  const to = b.session.userID;
  const relayed = collect<Message>(b.socket, "private message");

  const sends: [string, unknown, ErrorCode][] = [
    ["undefined payload", undefined, "invalid_payload"],
    ["null", null, "invalid_payload"],
    ["a string", "hello", "invalid_payload"],
    ["a number", 42, "invalid_payload"],
    ["a boolean", true, "invalid_payload"],
    ["an array", [{ content: "x", to }], "invalid_payload"],
    ["binary", new Uint8Array([1, 2, 3]), "invalid_payload"],
    ["missing content", { to }, "invalid_payload"],
    ["content a number", { content: 5, to }, "invalid_payload"],
    ["content an object", { content: { toString: "x" }, to }, "invalid_payload"],
    ["content an array", { content: ["x"], to }, "invalid_payload"],
    ["content binary", { content: new Uint8Array(10), to }, "invalid_payload"],
    ["content null", { content: null, to }, "invalid_payload"],
    ["content empty", { content: "", to }, "content_empty"],
    ["content whitespace", { content: " \n\t \u00a0", to }, "content_empty"],
    ["content too long", { content: "x".repeat(10_001), to }, "content_too_long"],
    ["content lone surrogate", { content: "a\uD800b", to }, "invalid_payload"],
    ["missing to", { content: "x" }, "invalid_payload"],
    ["to a number", { content: "x", to: 7 }, "invalid_payload"],
    ["to an object", { content: "x", to: { $ne: null } }, "invalid_payload"],
    ["to unknown user", { content: "x", to: UNKNOWN }, "unknown_recipient"],
    ["secret to unknown", { content: "secret-words-1", to: UNKNOWN }, "unknown_recipient"],
    ["secret too long", { content: `secret-words-2${"y".repeat(10_000)}`, to }, "content_too_long"],
    ["to malformed id", { content: "x", to: "../../etc/passwd" }, "unknown_recipient"],
    ["to empty", { content: "x", to: "" }, "unknown_recipient"],
    ["clientId a number", { content: "x", to, clientId: 1 }, "invalid_payload"],
    ["clientId empty", { content: "x", to, clientId: "" }, "invalid_payload"],
    ["clientId too long", { content: "x", to, clientId: "k".repeat(65) }, "invalid_payload"],
    ["clientId with spaces", { content: "x", to, clientId: "a b" }, "invalid_payload"],
    ["retry a string", { content: "x", to, clientId: "k", retry: "yes" }, "invalid_payload"],
    ["retry null", { content: "x", to, clientId: "k", retry: null }, "invalid_payload"],
  ];
  for (const [what, payload, code] of sends) {
    const ack = await a.socket.timeout(5000).emitWithAck(
      "private message",
      payload as never,
    ) as SendMessageAck;
    assert.equal(ack.ok, false, what);
    if (!ack.ok) {
      assert.equal(ack.error.code, code, what);
      assert.ok(ack.error.message.length > 0 && ack.error.message.length < 200, what);
    }
  }

  const loads: [string, unknown][] = [
    ["load: not an object", "x"],
    ["load: missing with", {}],
    ["load: with a number", { with: 1 }],
    ["load: before not an id", { with: to, before: "yesterday" }],
    ["load: limit zero", { with: to, limit: 0 }],
    ["load: limit too large", { with: to, limit: 100_000 }],
    ["load: limit fractional", { with: to, limit: 1.5 }],
    ["load: limit a string", { with: to, limit: "10" }],
  ];
  for (const [what, payload] of loads) {
    const ack = await a.socket.timeout(5000).emitWithAck(
      "load messages",
      payload as never,
    ) as LoadMessagesAck;
    assert.equal(ack.ok, false, what);
    if (!ack.ok) assert.equal(ack.error.code, "invalid_payload", what);
  }
  const reads: [string, unknown][] = [
    ["read: null", null],
    ["read: upTo missing", { with: to }],
    ["read: upTo not an id", { with: to, upTo: 5 }],
  ];
  for (const [what, payload] of reads) {
    const ack = await a.socket.timeout(5000).emitWithAck("messages read", payload as never);
    assert.equal((ack as { ok: boolean }).ok, false, what);
  }

  // Unknown events and odd argument lists are ignored, not fatal.
  // deno-lint-ignore no-explicit-any
  const untyped = a.socket as any;
  untyped.emit("no such event", { x: 1 });
  untyped.emit("private message");
  untyped.emit("private message", { content: "", to }, "extra", 5);

  // Liveness: the same socket and a new one still work.
  const ok = await a.socket.emitWithAck("private message", {
    content: "still alive",
    to,
  }) as SendMessageAck;
  assert.ok(ok.ok);
  await server.connect({ username: "carol" });
  await waitFor(() => relayed.length === 1, "the good message");
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(relayed.map((m) => m.content), ["still alive"], "nothing bad was relayed");
  const stored = await server.store.listMessages([a.session.userID, to], { limit: 100 });
  assert.deepEqual(
    stored.messages.map((m) => m.content),
    ["still alive"],
    "nothing bad was stored",
  );
  assert.equal(
    server.logger.entries().filter((l) => l.level === "error").length,
    0,
    server.logger.lines.join("\n"),
  );
  // Whatever was logged about all this, no line carries message text or a session ID.
  const logged = server.logger.lines.join("\n");
  assert.ok(logged.includes('"code":"content_too_long"'), "refusals are logged at debug level");
  for (const secret of ["secret-words-1", "secret-words-2", "still alive"]) {
    assert.ok(!logged.includes(secret), `"${secret}" in the log`);
  }
  for (const session of [a.session.sessionID, b.session.sessionID]) {
    assert.ok(!logged.includes(session), "a session ID in the log");
  }
});

Deno.test("bad payloads without an ack are dropped and logged once per kind", async () => {
  await using server = await startTestServer({ MESSAGE_RATE: "0" });
  const a = await server.connect({ username: "alice" });
  const b = await server.connect({ username: "bob" });
  const relayed = collect<Message>(b.socket, "private message");
  for (let i = 0; i < 20; i++) {
    a.socket.emit("private message", { content: "", to: b.session.userID });
    a.socket.emit("private message", "garbage" as never);
  }
  a.socket.emit("private message", { content: "fine", to: b.session.userID });
  await waitFor(() => relayed.length === 1, "the good message");
  const drops = server.logger.lines.filter((l) => l.includes("Dropped"));
  assert.equal(drops.length, 2, drops.join("\n"));
  assert.ok(drops.some((l) => l.includes("content_empty")));
  assert.ok(drops.some((l) => l.includes("invalid_payload")));
});

Deno.test("a packet over MAX_PACKET_BYTES closes only that connection", async () => {
  await using server = await startTestServer({ MAX_PACKET_BYTES: "20000" });
  const a = await server.connect({ username: "alice" });
  const b = await server.connect({ username: "bob" });
  const bobGot = collect<Message>(b.socket, "private message");
  const closed = nextEvent(a.socket, "disconnect");
  a.socket.emit("private message", { content: "x".repeat(50_000), to: b.session.userID });
  await closed;
  const c = await server.connect({ username: "carol" });
  const ack = await c.socket.emitWithAck("private message", {
    content: "ok",
    to: b.session.userID,
  }) as SendMessageAck;
  assert.ok(ack.ok);
  await waitFor(() => bobGot.length === 1, "carol's message to bob");
  assert.equal(b.socket.connected, true, "the other client stayed connected");
  assert.deepEqual(bobGot.map((m) => m.content), ["ok"], "bob heard only carol");
  const stored = await server.store.listMessages([a.session.userID, b.session.userID], {
    limit: 10,
  });
  assert.deepEqual(stored.messages, [], "nothing of the oversized packet was stored");
});

Deno.test("garbage on a raw WebSocket does not disturb the server", async () => {
  await using server = await startTestServer();
  const frames: (string | Uint8Array)[] = [
    "garbage",
    "42[",
    '42["private message",{"content":"x","to":',
    "4" + "9".repeat(1000),
    '40{"sessionID":{"$gt":""}}',
    new Uint8Array([0xff, 0x00, 0x13, 0x37]),
    "0",
    "",
  ];
  for (const frame of frames) {
    const ws = new WebSocket(
      `${server.url.replace("http", "ws")}/socket.io/?EIO=4&transport=websocket`,
    );
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = reject;
    });
    const closed = new Promise((resolve) => (ws.onclose = resolve));
    ws.send(frame);
    ws.send("40");
    setTimeout(() => ws.close(), 100);
    await closed;
  }
  const polling = await fetch(`${server.url}/socket.io/?EIO=4&transport=polling&sid=nonsense`, {
    method: "POST",
    body: "garbage",
  });
  assert.equal(polling.status, 400);
  await polling.text();
  const a = await server.connect({ username: "alive" });
  assert.equal(a.session.username, "alive");
});

Deno.test("extra fields are ignored, never stored and never relayed, and cannot impersonate anyone", async () => {
  await using server = await startTestServer({ MESSAGE_RATE: "0" });
  const a = await server.connect({ username: "alice" });
  const b = await server.connect({ username: "bob" });
  const carol = await server.connect({ username: "carol" });
  const to = b.session.userID;
  const relayed = collect<Message>(b.socket, "private message");
  const payloads: [string, Record<string, unknown>][] = [
    ["a forged sender", {
      content: "1",
      to,
      from: carol.session.userID,
      userID: carol.session.userID,
    }],
    ["forged stored fields", {
      content: "2",
      to,
      id: "ffffffffffff0000aaaaaaaa",
      timestamp: 0,
      deleted: true,
    }],
    ["a huge extra field", { content: "3", to, junk: "j".repeat(100_000) }],
    ["a deeply nested extra field", { content: "4", to, junk: nested(500) }],
    [
      "many extra fields",
      {
        content: "5",
        to,
        ...Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`f${i}`, i])),
      },
    ],
    [
      "prototype keys",
      JSON.parse(
        `{"content":"6","to":"${to}","__proto__":{"admin":true},"constructor":{"prototype":{"x":1}}}`,
      ),
    ],
  ];
  for (const [what, payload] of payloads) {
    const ack = await a.socket.emitWithAck("private message", payload as never) as SendMessageAck;
    assert.ok(ack.ok, what);
    assert.deepEqual(
      Object.keys(ack.message).sort(),
      ["content", "from", "id", "timestamp", "to"],
      what,
    );
    assert.equal(ack.message.from, a.session.userID, what);
  }
  await waitFor(() => relayed.length === payloads.length, "every message relayed");
  for (const m of relayed) {
    assert.deepEqual(Object.keys(m).sort(), ["content", "from", "id", "timestamp", "to"]);
    assert.equal(m.from, a.session.userID);
    assert.notEqual(m.id, "ffffffffffff0000aaaaaaaa");
  }
  const stored = await server.store.listMessages([a.session.userID, to], { limit: 100 });
  assert.deepEqual(stored.messages.map((m) => m.content), ["1", "2", "3", "4", "5", "6"]);
  assert.deepEqual(stored.messages, relayed, "stored exactly as relayed");
  const load = await a.socket.emitWithAck(
    "load messages",
    { with: to, all: true, limit: 2 } as never,
  );
  assert.equal(
    (load as { messages: Message[] }).messages.length,
    2,
    "extra fields in a request too",
  );
  assert.equal(({} as Record<string, unknown>).admin, undefined, "no prototype was polluted");
});
