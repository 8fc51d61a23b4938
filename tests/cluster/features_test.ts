import assert from "node:assert/strict";
import type { ReceiptsNotice, SendMessageAck, TypingNotice } from "../../server/protocol.ts";
import { collect, connect, sleep } from "../server/helpers.ts";
import { clients, startCluster, until } from "./helpers.ts";

Deno.test("cluster: typing and receipts cross nodes, and a block on one node holds on the other", async () => {
  await using cluster = await startCluster(2);
  await using open = clients();
  const [a, b] = cluster.nodes;
  const alice = await connect(a.url, { username: "alice" });
  open.add(alice.socket);
  const bob = await connect(b.url, { username: "bob" });
  open.add(bob.socket);
  const typing = collect<TypingNotice>(bob.socket, "typing");
  const receipts = collect<ReceiptsNotice>(alice.socket, "receipts");

  alice.socket.emit("typing", { to: bob.session.userID });
  await until(() => typing.length === 1, "bob on node B hears alice typing on node A");
  assert.deepEqual(typing[0], { from: alice.session.userID });

  const sent = await alice.socket.emitWithAck("private message", {
    to: bob.session.userID,
    content: "across",
  }) as SendMessageAck;
  assert.ok(sent.ok);
  await bob.socket.emitWithAck("messages delivered", {
    with: alice.session.userID,
    upTo: sent.message.id,
  });
  await bob.socket.emitWithAck("messages read", {
    with: alice.session.userID,
    upTo: sent.message.id,
  });
  await until(() => receipts.length === 2, "both receipts on node A");
  assert.deepEqual(receipts, [
    { by: bob.session.userID, delivered: sent.message.id },
    { by: bob.session.userID, seen: sent.message.id },
  ]);

  // Bob blocks alice on node B; node A, which serves alice, refuses her next message.
  assert.deepEqual(await bob.socket.emitWithAck("block user", { userID: alice.session.userID }), {
    ok: true,
  });
  await until(async () => {
    const ack = await alice.socket.emitWithAck("private message", {
      to: bob.session.userID,
      content: "still there?",
    }) as SendMessageAck;
    return !ack.ok && ack.error.code === "blocked";
  }, "node A to know of the block");
});

Deno.test("cluster: a receipt reaches the author's sockets on both nodes once each", async () => {
  await using cluster = await startCluster(2);
  await using open = clients();
  const [a, b] = cluster.nodes;
  const alice = await connect(a.url, { username: "alice" });
  open.add(alice.socket);
  // Alice's second tab is on the node that serves Bob: held there, relayed to node A.
  const aliceOnB = await connect(b.url, { sessionID: alice.session.sessionID });
  open.add(aliceOnB.socket);
  const bob = await connect(b.url, { username: "bob" });
  open.add(bob.socket);
  const heard = [alice, aliceOnB].map((c) => collect<ReceiptsNotice>(c.socket, "receipts"));
  const sent = await alice.socket.emitWithAck("private message", {
    to: bob.session.userID,
    content: "both tabs",
  }) as SendMessageAck;
  assert.ok(sent.ok);
  await bob.socket.emitWithAck("messages delivered", {
    with: alice.session.userID,
    upTo: sent.message.id,
  });
  await until(() => heard.every((h) => h.length >= 1), "the receipt on both of alice's tabs");
  // Past the hold: nothing more comes, on either node.
  await sleep(400);
  for (const h of heard) {
    assert.deepEqual(h, [{ by: bob.session.userID, delivered: sent.message.id }]);
  }
});
