/**
 * Faults of many clients at once: a reconnect storm of 300 sockets, and
 * sockets that vanish between a send and its ack. The server stays up, counts
 * every socket right, and stores every message once.
 */

import assert from "node:assert/strict";
import type { Message, SendMessageAck } from "../../server/protocol.ts";
import { type ClientSocket, openSocket, startTestServer, waitFor } from "./helpers.ts";

const STORM = 300;

/** Opens sockets for `auths` at once; resolves when each has its `users`. */
async function openAll(url: string, auths: Record<string, unknown>[]) {
  return await Promise.all(
    auths.map((auth) =>
      new Promise<{ socket: ClientSocket; sessionID: string; userID: string }>(
        (resolve, reject) => {
          const socket = openSocket(url, auth);
          let session: { sessionID: string; userID: string } | undefined;
          socket.once("session", (s) => (session = s));
          socket.once("users", () => resolve({ socket, ...session! }));
          socket.once("connect_error", reject);
        },
      )
    ),
  );
}

Deno.test(`a reconnect storm of ${STORM} sockets, three times over, leaves every count right`, async () => {
  await using server = await startTestServer({ MESSAGE_RATE: "0" });
  let clients = await openAll(
    server.url,
    Array.from({ length: STORM }, (_, i) => ({ username: `storm-${i}` })),
  );
  const sessions = clients.map((c) => c.sessionID);
  for (let round = 0; round < 3; round++) {
    // Every connection drops at once, without a goodbye, and comes straight back.
    for (const c of clients) c.socket.io.engine.close();
    clients = await openAll(server.url, sessions.map((sessionID) => ({ sessionID })));
  }
  await waitFor(() => server.io.engine.clientsCount === STORM, `${STORM} sockets on the server`);
  const watcher = await server.connect({ username: "watcher" });
  const online = watcher.users.filter((u) => u.connected && !u.self).length;
  assert.equal(online, Math.min(STORM, 199), "everyone is online once (the list holds 200)");
  for (const c of clients) c.socket.close();
  await waitFor(() => server.io.engine.clientsCount === 1, "only the watcher left");
  const later = await server.connect({ sessionID: watcher.session.sessionID });
  assert.equal(
    later.users.filter((u) => u.connected && !u.self).length,
    0,
    "nobody is left online",
  );
  assert.equal(server.logger.entries().filter((e) => e.level === "error").length, 0);
});

Deno.test("sockets that vanish between a send and its ack lose nothing, and their retries duplicate nothing", async () => {
  await using server = await startTestServer({ MESSAGE_RATE: "0" });
  const recipient = await server.connect({ username: "recipient" });
  const senders = await openAll(
    server.url,
    Array.from({ length: 50 }, (_, i) => ({ username: `sender-${i}` })),
  );
  // Each sends, then its connection is gone before the ack can come back.
  for (const [i, s] of senders.entries()) {
    s.socket.emit("private message", {
      content: `vanishing ${i}`,
      to: recipient.session.userID,
      clientId: `key-${i}`,
      retry: false,
    }, () => {});
    s.socket.io.engine.close();
  }
  // Back again, each retries with the same key, as the widget's outbox does.
  const back = await openAll(server.url, senders.map((s) => ({ sessionID: s.sessionID })));
  const acks = await Promise.all(back.map((s, i) =>
    s.socket.emitWithAck("private message", {
      content: `vanishing ${i}`,
      to: recipient.session.userID,
      clientId: `key-${i}`,
    }) as Promise<SendMessageAck>
  ));
  assert.ok(acks.every((a) => a.ok), "every retry is answered");
  for (const [i, s] of back.entries()) {
    const page = await server.store.listMessages([s.userID, recipient.session.userID], {
      limit: 10,
    });
    const stored = page.messages.filter((m: Message) => m.clientId === `key-${i}`);
    assert.equal(stored.length, 1, `sender ${i}: stored once`);
    assert.equal(stored[0].id, (acks[i] as { message: Message }).message.id);
  }
  for (const s of back) s.socket.close();
  assert.equal(server.logger.entries().filter((e) => e.level === "error").length, 0);
});
