/**
 * Limits against abuse, each against the real server: sign-ups and sockets per
 * address, sockets per user, the event rate over all of a user's sockets, the
 * origin check with PUBLIC_URL, readers that stop reading, concurrent read
 * marks, and what reaches the log.
 */

import assert from "node:assert/strict";
import { io } from "socket.io-client";
import type { MessagesReadAck, SendMessageAck } from "../../server/protocol.ts";
import { addressGroup, clientAddress, SignupLimits } from "../../server/transport/admission.ts";
import {
  type ClientSocket,
  collect,
  connect,
  connectError,
  nextEvent,
  startTestServer,
  waitFor,
} from "./helpers.ts";
import { stalledReader } from "./stalled_reader.ts";

Deno.test("clientAddress() trusts X-Forwarded-For only as far as TRUST_PROXY hops", () => {
  const headers = { "x-forwarded-for": "6.6.6.6, 203.0.113.7, 10.0.0.2" };
  const peer = "::ffff:10.0.0.1";
  assert.equal(clientAddress({ address: peer, headers }, 0), "10.0.0.1");
  assert.equal(clientAddress({ address: peer, headers }, 1), "10.0.0.2");
  assert.equal(clientAddress({ address: peer, headers }, 2), "203.0.113.7");
  // More hops trusted than there are: the leftmost claim is all there is.
  assert.equal(clientAddress({ address: peer, headers }, 9), "6.6.6.6");
  assert.equal(clientAddress({ address: "10.0.0.1", headers: {} }, 1), "10.0.0.1");
  assert.equal(addressGroup("203.0.113.7"), "203.0.113.7");
  assert.equal(addressGroup("2001:db8:0:12:aa:bb:cc:dd"), "2001:db8:0:12::/64");
  assert.equal(addressGroup("2001:db8::1"), "2001:db8:0:0::/64");
  assert.equal(addressGroup("2001:DB8:0:12::7".toLowerCase()), "2001:db8:0:12::/64");
});

Deno.test("SignupLimits counts a sliding hour and says when to try again", () => {
  let now = 1_000_000;
  const limits = new SignupLimits({ limit: 2, now: () => now });
  assert.equal(limits.take("a"), null);
  now += 20 * 60_000;
  assert.equal(limits.take("a"), null);
  assert.equal(
    limits.take("a"),
    "Too many sign-ups from your address: at most 2 an hour; try again in 40 minutes",
  );
  assert.equal(limits.take("b"), null, "another address has its own hour");
  now += 40 * 60_000 + 1;
  assert.equal(limits.take("a"), null, "the first sign-up has left the hour");
});

Deno.test("sign-ups per address are limited; sessions still restore, and a trusted proxy's clients count apart", async () => {
  await using server = await startTestServer({ SIGNUP_LIMIT: "3" });
  const sessions: string[] = [];
  for (let i = 0; i < 3; i++) {
    sessions.push((await server.connect({ username: `u${i}` })).session.sessionID);
  }
  const refused = await connectError(server.url, { username: "u3" });
  assert.equal(refused.data?.code, "rate_limited");
  assert.equal(
    refused.message,
    "Too many sign-ups from your address: at most 3 an hour; try again in 60 minutes",
  );
  assert.equal((await server.connect({ sessionID: sessions[0] })).session.username, "u0");
  assert.equal(await server.store.getUser("u3"), null);

  await using proxied = await startTestServer({ SIGNUP_LIMIT: "1", TRUST_PROXY: "1" });
  const viaProxy = (address: string, username: string) =>
    new Promise<string>((resolve) => {
      const socket = io(proxied.url, {
        auth: { username },
        transports: ["polling"],
        extraHeaders: { "X-Forwarded-For": address },
        reconnection: false,
        forceNew: true,
      });
      socket.on("session", () => {
        socket.close();
        resolve("ok");
      });
      socket.on("connect_error", (error: Error & { data?: { code: string } }) => {
        socket.close();
        resolve(error.data?.code ?? error.message);
      });
    });
  assert.equal(await viaProxy("203.0.113.7", "a1"), "ok");
  assert.equal(await viaProxy("203.0.113.8", "b1"), "ok");
  assert.equal(await viaProxy("203.0.113.7", "a2"), "rate_limited");
});

Deno.test("open sockets are limited per address and per user, and freed when they close", async () => {
  await using server = await startTestServer({ CONNECTIONS_PER_IP: "3" });
  const open = [];
  for (let i = 0; i < 3; i++) open.push(await server.connect({ username: `p${i}` }));
  const crowded = await connectError(server.url, { username: "p3" });
  assert.equal(crowded.data?.code, "rate_limited");
  assert.match(crowded.message, /^Too many connections from your address: at most 3 at once/);
  open[0].socket.close();
  await waitFor(() => server.io.engine.clientsCount === 2, "the closed socket to be gone");
  assert.equal((await server.connect({ username: "p3" })).session.username, "p3");

  await using perUser = await startTestServer({ CONNECTIONS_PER_USER: "2" });
  const first = await perUser.connect({ username: "tabs" });
  await perUser.connect({ sessionID: first.session.sessionID });
  const third = await connectError(perUser.url, { sessionID: first.session.sessionID });
  assert.equal(third.data?.code, "rate_limited");
  assert.match(third.message, /^Too many open chats for this account: at most 2 at once/);
  assert.equal((await perUser.connect({ username: "other" })).session.username, "other");
});

Deno.test("the event rate is counted per user over all of the user's sockets", async () => {
  await using server = await startTestServer({ MESSAGE_RATE: "20", MESSAGE_BURST: "100" });
  const bob = await server.connect({ username: "bob" });
  const first = await server.connect({ username: "many" });
  const sockets: ClientSocket[] = [first.socket];
  for (let i = 1; i < 25; i++) {
    sockets.push((await server.connect({ sessionID: first.session.sessionID })).socket);
  }
  const started = performance.now();
  const acks = await Promise.all(
    Array.from(
      { length: 3000 },
      (_, i) =>
        sockets[i % sockets.length].emitWithAck("private message", {
          content: `m${i}`,
          to: bob.session.userID,
        }) as Promise<SendMessageAck>,
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  const accepted = acks.filter((a) => a.ok).length;
  const limited = acks.filter((a) => !a.ok && a.error.code === "rate_limited").length;
  assert.equal(accepted + limited, 3000);
  // The burst, plus the rate over the time it took, plus one token of rounding.
  assert.ok(
    accepted <= 100 + Math.ceil(20 * seconds) + 1,
    `${accepted} of 3000 accepted in ${seconds.toFixed(2)} s from 25 sockets`,
  );
  assert.ok(accepted >= 100, "the burst is there");
});

Deno.test("with PUBLIC_URL only its origin and CORS_ORIGINS may connect, whatever the Host header says", async () => {
  const handshake = (url: string, origin: string, host?: string) =>
    fetch(`${url}/socket.io/?EIO=4&transport=polling`, {
      headers: { Origin: origin, ...(host ? { Host: host } : {}) },
    }).then(async (res) => {
      await res.body?.cancel();
      return res.status;
    });
  await using open = await startTestServer();
  const self = new URL(open.url).origin;
  assert.equal(await handshake(open.url, self), 200, "without PUBLIC_URL, the Host's own origin");
  assert.equal(await handshake(open.url, "http://evil.example"), 403);

  await using server = await startTestServer({
    PUBLIC_URL: "https://chat.example",
    CORS_ORIGINS: "https://shop.example",
  });
  const rebound = new URL(server.url).origin;
  assert.equal(await handshake(server.url, rebound), 403, "a page naming the Host is not enough");
  assert.equal(await handshake(server.url, "https://chat.example"), 200);
  assert.equal(await handshake(server.url, "https://shop.example"), 200);
  assert.equal(await handshake(server.url, "https://chat.example.evil.example"), 403);
});

Deno.test("concurrent read marks of one conversation all succeed with the right count", async () => {
  await using server = await startTestServer({ MESSAGE_RATE: "0" });
  const reader = await server.connect({ username: "reader" });
  const writer = await server.connect({ username: "writer" });
  const ids: string[] = [];
  for (let i = 0; i < 60; i++) {
    const ack = await writer.socket.emitWithAck("private message", {
      content: `m${i}`,
      to: reader.session.userID,
    }) as SendMessageAck;
    assert.ok(ack.ok);
    ids.push(ack.message.id);
  }
  const acks = await Promise.all(ids.map((upTo) =>
    reader.socket.emitWithAck("messages read", {
      with: writer.session.userID,
      upTo,
    }) as Promise<MessagesReadAck>
  ));
  assert.deepEqual(acks.filter((a) => !a.ok), [], "every mark succeeds");
  // A mark never moves back: whatever order they landed in, all is read in the end.
  const again = await server.connect({ sessionID: reader.session.sessionID });
  assert.equal(again.users.find((u) => u.userID === writer.session.userID)?.unread, 0);
  const lower = await reader.socket.emitWithAck("messages read", {
    with: writer.session.userID,
    upTo: ids[10],
  }) as MessagesReadAck;
  assert.deepEqual(lower, { ok: true, unread: 0 }, "a lower mark is a no-op");
  assert.equal(server.logger.entries().filter((e) => e.level === "error").length, 0);
});

Deno.test("nothing a client sends reaches the log raw: no forged lines, NUL or bidirectional overrides", async () => {
  await using server = await startTestServer({ MESSAGE_RATE: "0" });
  const mallory = await server.connect({ username: "mallory" });
  const forged = 'x"\n{"level":"error","msg":"forged"}\u0000\u202E';
  mallory.socket.emit("private message", { content: "hi", to: forged });
  mallory.socket.emit("load messages", { with: forged } as never, () => {});
  await waitFor(
    () => server.logger.entries().some((e) => e.code === "unknown_recipient"),
    "the dropped message to be logged",
  );
  for (const line of server.logger.lines) {
    assert.ok(!line.includes("\u0000") && !line.includes("\u202E"), line);
    assert.equal(line.trimEnd().split("\n").length, 1, "one line per entry");
    JSON.parse(line);
  }
});

Deno.test("a socket that stops reading is dropped once its unsent data passes MAX_BUFFERED_BYTES", async () => {
  await using server = await startTestServer({
    MESSAGE_RATE: "0",
    MAX_BUFFERED_BYTES: String(256 * 1024),
  });
  const watcher = await server.connect({ username: "watcher" });
  const joined = nextEvent<{ userID: string }>(watcher.socket, "user connected");
  const stalled = await stalledReader(server.url, "stalled");
  try {
    const { userID } = await joined;
    const sender = await connect(server.url, { username: "sender" });
    const left = nextEvent<string>(watcher.socket, "user disconnected", 30_000);
    const content = "x".repeat(10_000);
    // Up to 40 MB, stopping as soon as the server has dropped the stalled reader.
    for (
      let i = 0;
      i < 4000 && !server.logger.entries().some((e) => e.event === "slow consumer");
      i++
    ) {
      const ack = await sender.socket.emitWithAck("private message", { content, to: userID });
      assert.ok((ack as SendMessageAck).ok);
    }
    assert.equal(await left, userID, "the stalled reader was disconnected");
    const entry = server.logger.entries().find((e) => e.event === "slow consumer")!;
    assert.ok((entry.bytes as number) > 256 * 1024, JSON.stringify(entry));
    // Everyone else is served as before.
    const after = collect(watcher.socket, "private message");
    await sender.socket.emitWithAck("private message", {
      content: "still here",
      to: watcher.session.userID,
    });
    await waitFor(() => after.length === 1, "a message after the drop");
    sender.socket.close();
  } finally {
    stalled.close();
  }
});
