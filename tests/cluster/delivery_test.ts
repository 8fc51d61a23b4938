import assert from "node:assert/strict";
import type { Message, PresenceChange, SendMessageAck, UserEntry } from "../../server/protocol.ts";
import { collect, connect, nextEvent, TRANSPORTS } from "../server/helpers.ts";
import { clients, startCluster, until } from "./helpers.ts";

Deno.test("cluster delivers a message to the recipient and the sender's other tabs on every node, over both transports", async () => {
  await using cluster = await startCluster(2);
  await using open = clients();
  const [a, b] = cluster.nodes;

  const alice = await connect(a.url, { username: "alice" }, TRANSPORTS.polling);
  open.add(alice.socket);
  const bob = await connect(b.url, { username: "bob" }, TRANSPORTS.websocket);
  open.add(bob.socket);
  // Second tabs, on the other node and the other transport.
  const alice2 = await connect(b.url, { sessionID: alice.session.sessionID }, TRANSPORTS.websocket);
  open.add(alice2.socket);
  const bob2 = await connect(a.url, { sessionID: bob.session.sessionID }, TRANSPORTS.polling);
  open.add(bob2.socket);
  await until(() => alice.socket.io.engine.transport.name === "websocket", "alice's upgrade");

  const toAlice = collect<Message>(alice.socket, "private message");
  const toAlice2 = collect<Message>(alice2.socket, "private message");
  const toBob = collect<Message>(bob.socket, "private message");
  const toBob2 = collect<Message>(bob2.socket, "private message");

  const ack = await alice.socket.emitWithAck("private message", {
    content: "hello across nodes",
    to: bob.session.userID,
    clientId: "m1",
  }) as SendMessageAck;
  assert.ok(ack.ok);
  await until(
    () => toBob.length === 1 && toBob2.length === 1 && toAlice2.length === 1,
    "the message on bob's tabs and alice's other tab",
  );
  for (const m of [toBob[0], toBob2[0], toAlice2[0]]) {
    assert.deepEqual(m, ack.message);
  }

  const reply = await bob2.socket.emitWithAck("private message", {
    content: "hello back",
    to: alice.session.userID,
  }) as SendMessageAck;
  assert.ok(reply.ok);
  await until(
    () => toAlice.length === 1 && toAlice2.length === 1 + 1 && toBob.length === 2,
    "the reply on alice's tabs and bob's other tab",
  );
  assert.equal(toAlice[0].content, "hello back");
  assert.equal(toBob[1].content, "hello back");
  // Never echoed to the sending socket.
  assert.equal(toAlice.filter((m) => m.id === ack.message.id).length, 0);
  assert.equal(toBob2.filter((m) => m.id === reply.message.id).length, 0);
  // Each node timed its appends to the stream and its reads of the other's.
  for (const node of [a, b]) {
    const health = await node.health() as unknown as {
      relay: { publishP50Ms: number; readLagP50Ms: number; readLagP99Ms: number };
    };
    assert.ok(health.relay.publishP50Ms > 0, JSON.stringify(health.relay));
    assert.ok(health.relay.readLagP99Ms >= health.relay.readLagP50Ms, JSON.stringify(health.relay));
    assert.ok(health.relay.readLagP99Ms < 10_000, "the lag is measured from the append, in ms");
  }
});

Deno.test("cluster announces a user once on the first socket anywhere and gone once after the last", async () => {
  await using cluster = await startCluster(2);
  await using open = clients();
  const [a, b] = cluster.nodes;

  const carol = await connect(a.url, { username: "carol" });
  open.add(carol.socket);
  const dave = await connect(b.url, { username: "dave" });
  open.add(dave.socket);
  const connected = collect<UserEntry>(carol.socket, "user connected");
  const disconnected = collect<string>(carol.socket, "user disconnected");
  const connectedOnB = collect<UserEntry>(dave.socket, "user connected");
  const disconnectedOnB = collect<string>(dave.socket, "user disconnected");
  // A widget-like client on node A hears the same changes as `presence` events.
  const grace = await connect(a.url, { username: "grace", batchPresence: true });
  open.add(grace.socket);
  const changes: string[] = [];
  grace.socket.on("presence", (batch: PresenceChange[]) => {
    for (const c of batch) {
      changes.push(`${c.connected ? "+" : "-"}${c.userID}`);
    }
  });

  const alice = await connect(b.url, { username: "alice" });
  open.add(alice.socket);
  const id = alice.session.userID;
  await until(() => connected.some((u) => u.userID === id), "user connected on the other node");

  // A second tab on the other node: the user is already online.
  const alice2 = await connect(a.url, { sessionID: alice.session.sessionID });
  open.add(alice2.socket);
  // Both nodes list alice as connected, whichever node is asked.
  for (const node of [a, b]) {
    const eve = await connect(node.url, { username: `eve-${node.port}` });
    open.add(eve.socket);
    assert.equal(eve.users.find((u) => u.userID === id)?.connected, true);
  }

  // Closing one tab keeps her online; closing the last one takes her offline.
  alice.socket.close();
  // A sentinel event after the close: a message from the remaining tab.
  const sentinel = nextEvent<Message>(carol.socket, "private message", 10_000);
  await alice2.socket.emitWithAck("private message", {
    content: "still here",
    to: carol.session.userID,
  });
  await sentinel;
  await until(async () => (await b.health()).sockets === 2, "node B to see the closed tab");
  assert.equal(disconnected.length, 0);

  alice2.socket.close();
  await until(
    () => disconnected.includes(id) && disconnectedOnB.includes(id),
    "user disconnected on both nodes",
  );

  const frank = await connect(b.url, { username: "frank" });
  open.add(frank.socket);
  assert.equal(frank.users.find((u) => u.userID === id)?.connected, false);
  // One sentinel more, so late duplicates would have arrived.
  const late = nextEvent<Message>(carol.socket, "private message", 10_000);
  await frank.socket.emitWithAck("private message", {
    content: "sentinel",
    to: carol.session.userID,
  });
  await late;
  assert.equal(connected.filter((u) => u.userID === id).length, 1);
  assert.equal(connectedOnB.filter((u) => u.userID === id).length, 1);
  assert.equal(disconnected.filter((u) => u === id).length, 1);
  assert.equal(disconnectedOnB.filter((u) => u === id).length, 1);
  assert.deepEqual(
    changes.filter((c) => c.endsWith(id)),
    [`+${id}`, `-${id}`],
    "batched: once each",
  );
});

Deno.test("cluster announces a new user on the other node before its first message", async () => {
  await using cluster = await startCluster(2);
  await using open = clients();
  const [a, b] = cluster.nodes;
  const legacy = await connect(a.url, { username: "legacy" });
  open.add(legacy.socket);
  const batched = await connect(a.url, { username: "batched", batchPresence: true });
  open.add(batched.socket);
  const seen: Record<string, string[]> = { legacy: [], batched: [] };
  legacy.socket.onAny((event, arg) => {
    if (event === "user connected") seen.legacy.push(`connected ${(arg as UserEntry).username}`);
    if (event === "private message") seen.legacy.push(`message ${(arg as Message).content}`);
  });
  batched.socket.onAny((event, arg) => {
    if (event === "presence") {
      for (const c of arg as PresenceChange[]) {
        if (c.connected) seen.batched.push(`connected ${c.username}`);
      }
    }
    if (event === "private message") seen.batched.push(`message ${(arg as Message).content}`);
  });
  // New users on node B write at once, each to both watchers on node A.
  for (let i = 0; i < 5; i++) {
    const newcomer = await connect(b.url, { username: `new${i}` });
    open.add(newcomer.socket);
    for (const to of [legacy, batched]) {
      const ack = await newcomer.socket.emitWithAck("private message", {
        content: `hi from new${i}`,
        to: to.session.userID,
      }) as SendMessageAck;
      assert.ok(ack.ok);
    }
  }
  for (const name of ["legacy", "batched"]) {
    await until(
      () => seen[name].filter((s) => s.startsWith("message")).length === 5,
      `${name}: 5 messages`,
    );
    for (let i = 0; i < 5; i++) {
      const announced = seen[name].indexOf(`connected new${i}`);
      assert.ok(announced !== -1, `${name}: new${i} announced`);
      assert.ok(
        announced < seen[name].indexOf(`message hi from new${i}`),
        `${name}: new${i} first`,
      );
    }
  }
});
