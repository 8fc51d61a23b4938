/**
 * The held relays of typing notices and receipts: what they fold, when they
 * let go, and that receipts ride along with the packets a socket gets anyway.
 */

import assert from "node:assert/strict";
import type { ReceiptsNotice, SendMessageAck } from "../../server/protocol.ts";
import { foldReceipts, RECEIPT_HOLD_MS } from "../../server/transport/receipt_relay.ts";
import { createTypingRelay } from "../../server/transport/typing_relay.ts";
import { collect, sleep, startTestServer, TRANSPORTS, waitFor } from "./helpers.ts";

Deno.test("foldReceipts() keeps the furthest delivered and seen marks of one reader", () => {
  assert.deepEqual(foldReceipts({ by: "b", delivered: "02" }, { by: "b", delivered: "01" }), {
    by: "b",
    delivered: "02",
  });
  assert.deepEqual(foldReceipts({ by: "b", delivered: "02" }, { by: "b", seen: "01" }), {
    by: "b",
    delivered: "02",
    seen: "01",
  });
  assert.deepEqual(
    foldReceipts({ by: "b", delivered: "01", seen: "01" }, {
      by: "b",
      delivered: "03",
      seen: "02",
    }),
    { by: "b", delivered: "03", seen: "02" },
  );
});

Deno.test("createTypingRelay() sends a held notice after its hold, once, unless it is dropped first", async () => {
  const sent: string[] = [];
  const relay = createTypingRelay((from, to) => sent.push(`${from}>${to}`), { holdMs: 40 });
  relay.hold("a", "b");
  relay.hold("a", "b"); // Held already: no second notice.
  relay.hold("a", "c");
  relay.hold("d", "b");
  relay.drop("a", "c");
  relay.drop("x", "y"); // Nothing held: nothing happens.
  assert.deepEqual(sent, [], "nothing before the hold is over");
  await sleep(120);
  assert.deepEqual(sent, ["a>b", "d>b"], "in the order they came");
  // Dropped and held again: the new notice waits its own hold.
  relay.hold("a", "b");
  relay.drop("a", "b");
  relay.hold("a", "b");
  await sleep(120);
  assert.deepEqual(sent, ["a>b", "d>b", "a>b"]);
  relay.hold("e", "f");
  relay.close();
  await sleep(80);
  assert.equal(sent.length, 3, "close() drops what is held");
});

Deno.test("receipts of one reader are folded, and all of them reach every socket of the author", async () => {
  await using server = await startTestServer({ MESSAGE_RATE: "0" });
  const alice = await server.connect({ username: "alice" });
  const aliceTab = await server.connect({ sessionID: alice.session.sessionID });
  // A long-polling tab gets ordinary emits.
  const alicePolling = await server.connect(
    { sessionID: alice.session.sessionID },
    TRANSPORTS.polling,
  );
  const bob = await server.connect({ username: "bob" });
  const carol = await server.connect({ username: "carol" });
  const heard = [alice, aliceTab, alicePolling].map((c) =>
    collect<ReceiptsNotice>(c.socket, "receipts")
  );
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    const ack = await alice.socket.emitWithAck("private message", {
      to: bob.session.userID,
      content: `m${i}`,
    }) as SendMessageAck;
    assert.ok(ack.ok);
    ids.push(ack.message.id);
  }
  const toCarol = await alice.socket.emitWithAck("private message", {
    to: carol.session.userID,
    content: "hi",
  }) as SendMessageAck;
  assert.ok(toCarol.ok);
  const started = Date.now();
  for (const id of ids) {
    bob.socket.emit("messages delivered", { with: alice.session.userID, upTo: id });
  }
  carol.socket.emit("messages delivered", {
    with: alice.session.userID,
    upTo: toCarol.message.id,
  });
  await waitFor(() => heard.every((h) => h.length >= 2), "the receipts on every socket");
  assert.ok(Date.now() - started >= RECEIPT_HOLD_MS - 20, "held, with nothing else to write");
  await sleep(RECEIPT_HOLD_MS + 100);
  const expected = [
    { by: bob.session.userID, delivered: ids[2] },
    { by: carol.session.userID, delivered: toCarol.message.id },
  ];
  for (const h of heard) assert.deepEqual(h, expected, "one receipt per reader, the furthest");
});

Deno.test("held receipts go out with the next packet their socket gets, ahead of it", async () => {
  await using server = await startTestServer({ MESSAGE_RATE: "0" });
  const alice = await server.connect({ username: "alice" });
  const bob = await server.connect({ username: "bob" });
  const order: string[] = [];
  alice.socket.on("receipts", () => order.push("receipts"));
  const first = await alice.socket.emitWithAck("private message", {
    to: bob.session.userID,
    content: "one",
  }) as SendMessageAck;
  assert.ok(first.ok);
  bob.socket.emit("messages delivered", { with: alice.session.userID, upTo: first.message.id });
  // Bob's mark is in once his next event is answered.
  await bob.socket.emitWithAck("search users", { query: "zzz" });
  const started = Date.now();
  const second = await alice.socket.emitWithAck("private message", {
    to: bob.session.userID,
    content: "two",
  }) as SendMessageAck;
  order.push("ack");
  assert.ok(second.ok);
  assert.ok(Date.now() - started < RECEIPT_HOLD_MS, "the ack came before the hold was over");
  assert.deepEqual(order, ["receipts", "ack"], "the receipt rode along with the ack");
});
