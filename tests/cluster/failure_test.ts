import assert from "node:assert/strict";
import type { LoadMessagesAck, Message, SendMessageAck, UserEntry } from "../../server/protocol.ts";
import { collect, connect, nextEvent, TRANSPORTS } from "../server/helpers.ts";
import { clients, Cluster, RedisServer, startCluster, tempKv, until } from "./helpers.ts";

Deno.test("cluster takes the users of a node killed with SIGKILL offline on the survivors, once", async () => {
  // Short for the test (15 s by default), yet longer than a loaded machine's timer delays.
  await using cluster = await startCluster(3, {
    PRESENCE_TTL_SECONDS: "4",
  });
  await using open = clients();
  const [a, b, victim] = cluster.nodes;

  const carol = await connect(a.url, { username: "carol" });
  open.add(carol.socket);
  const dave = await connect(b.url, { username: "dave" });
  open.add(dave.socket);
  const alice = await connect(victim.url, { username: "alice" });
  open.add(alice.socket);
  // Bob has tabs on the victim and on a survivor: he stays online.
  const bob = await connect(victim.url, { username: "bob" });
  open.add(bob.socket);
  const bob2 = await connect(b.url, { sessionID: bob.session.sessionID });
  open.add(bob2.socket);
  const goneOnA = collect<string>(carol.socket, "user disconnected");
  const goneOnB = collect<string>(dave.socket, "user disconnected");

  const killedAt = Date.now();
  await victim.crash();
  await until(
    () => goneOnA.includes(alice.session.userID) && goneOnB.includes(alice.session.userID),
    "alice offline on both survivors",
    30_000,
  );
  const convergedMs = Date.now() - killedAt;
  console.log(`presence converged ${convergedMs} ms after SIGKILL (PRESENCE_TTL_SECONDS=4)`);

  for (const node of [a, b]) {
    const eve = await connect(node.url, { username: `eve-${node.port}` });
    open.add(eve.socket);
    const listed = new Map(eve.users.map((u: UserEntry) => [u.userID, u.connected]));
    assert.equal(listed.get(alice.session.userID), false);
    assert.equal(listed.get(bob.session.userID), true);
  }
  // A sentinel after a further sweep period: no duplicate and no false "bob gone".
  const sentinel = collect<Message>(carol.socket, "private message");
  await until(async () => {
    await dave.socket.emitWithAck("private message", { content: "ping", to: carol.session.userID });
    return sentinel.length > 0 && Date.now() - killedAt > convergedMs + 2000;
  }, "a sentinel after one more sweep");
  assert.equal(goneOnA.filter((id) => id === alice.session.userID).length, 1);
  assert.equal(goneOnB.filter((id) => id === alice.session.userID).length, 1);
  assert.equal(goneOnA.includes(bob.session.userID), false);
  assert.equal(a.exited, null);
  assert.equal(b.exited, null);
  for (const node of [a, b]) assert.doesNotMatch(node.output, /Uncaught|database is locked/);
});

Deno.test("cluster survives Redis stopping and restarting mid-conversation without losing a message", async () => {
  await using cluster = await startCluster(2);
  await using open = clients();
  const [a, b] = cluster.nodes;

  const alice = await connect(a.url, { username: "alice" }, TRANSPORTS.polling);
  open.add(alice.socket);
  const alice2 = await connect(a.url, { sessionID: alice.session.sessionID });
  open.add(alice2.socket);
  const bob = await connect(b.url, { username: "bob" });
  open.add(bob.socket);
  const toBob = collect<Message>(bob.socket, "private message");
  const toAlice2 = collect<Message>(alice2.socket, "private message");
  const sent: Message[] = [];
  const send = async (content: string) => {
    const ack = await alice.socket.emitWithAck("private message", {
      content,
      to: bob.session.userID,
    }) as SendMessageAck;
    assert.ok(ack.ok, `send "${content}": ${JSON.stringify(ack)}`);
    sent.push(ack.message);
    return ack.message;
  };

  await send("before");
  await until(() => toBob.length === 1, "delivery before the outage");

  await cluster.redis.stop();
  await until(
    async () => (await a.health()).redis === "down" && (await b.health()).redis === "down",
    "both nodes to notice the outage",
  );
  // Not ready while Redis is away, and ready again once it is back (below).
  const readyz = async () => {
    const res = await fetch(`${a.url}/readyz`);
    return { status: res.status, body: await res.json() };
  };
  assert.deepEqual(await readyz(), {
    status: 503,
    body: { status: "not ready", checks: { kv: "ok", redis: "not connected" } },
  });
  // Long enough for several reconnection attempts (they back off to 2 s).
  await new Promise((r) => setTimeout(r, 3000));
  for (let i = 0; i < 5; i++) await send(`during ${i}`);
  // Storage and local delivery go on: alice's other tab on the same node has them.
  await until(() => toAlice2.length === 6, "local delivery during the outage");
  // Asking other nodes (logout finds the session's sockets cluster-wide) fails
  // without Redis: logout still ends the session and this node's sockets of it.
  const carol = await connect(a.url, { username: "carol" });
  open.add(carol.socket);
  const carolClosed = nextEvent(carol.socket, "disconnect", 20_000);
  const logoutAck = await carol.socket.timeout(15_000).emitWithAck("logout");
  assert.deepEqual(logoutAck, { ok: true }, a.output);
  await carolClosed;

  await cluster.redis.restart();
  await until(
    async () => (await a.health()).redis === "up" && (await b.health()).redis === "up",
    "both nodes back on Redis",
    30_000,
  );
  assert.deepEqual(await readyz(), {
    status: 200,
    body: { status: "ready", checks: { kv: "ok", redis: "ok" } },
  });
  // Cross-node delivery resumes (the reader reconnects on its own schedule).
  await until(
    async () => {
      const probe = await send(`after ${sent.length}`);
      await new Promise((r) => setTimeout(r, 200));
      return toBob.some((m) => m.id === probe.id);
    },
    "cross-node delivery after the restart",
    30_000,
  );

  const history = await bob.socket.emitWithAck("load messages", {
    with: alice.session.userID,
    limit: 200,
  }) as LoadMessagesAck;
  assert.ok(history.ok);
  assert.deepEqual(history.messages.map((m) => m.id), sent.map((m) => m.id));
  assert.equal(a.exited, null);
  assert.equal(b.exited, null);
  assert.equal(bob.socket.connected && alice.socket.connected, true);
  for (const node of [a, b]) assert.doesNotMatch(node.output, /Uncaught|database is locked/);
});

Deno.test("cluster takes the users of a node stopped with SIGTERM offline at once", async () => {
  // A TTL far beyond the deadline below: only the graceful path can be in time.
  await using cluster = await startCluster(2, {
    PRESENCE_TTL_SECONDS: "300",
  });
  await using open = clients();
  const [a, b] = cluster.nodes;
  const carol = await connect(a.url, { username: "carol" });
  open.add(carol.socket);
  const alice = await connect(b.url, { username: "alice" });
  open.add(alice.socket);
  const gone = collect<string>(carol.socket, "user disconnected");

  const status = await b.stop();
  assert.equal(status.code, 0);
  await until(
    () => gone.includes(alice.session.userID),
    "alice offline after the graceful stop",
    20_000,
  );
  const eve = await connect(a.url, { username: "eve" });
  open.add(eve.socket);
  assert.equal(eve.users.find((u) => u.userID === alice.session.userID)?.connected, false);
});

Deno.test("cluster node started while Redis is down serves its sockets and joins when Redis comes", async () => {
  await using redis = await RedisServer.start();
  await using kv = await tempKv();
  await using first = await Cluster.start(1, { KV_PATH: kv.path, REDIS_URL: redis.url });
  await redis.stop();
  await using late = await Cluster.start(1, { KV_PATH: kv.path, REDIS_URL: redis.url });
  await using open = clients();
  const [a] = first.nodes;
  const [b] = late.nodes;
  assert.equal((await b.health()).redis, "down");

  const alice = await connect(a.url, { username: "alice" });
  open.add(alice.socket);
  const bob = await connect(b.url, { username: "bob" });
  open.add(bob.socket);
  const bob2 = await connect(b.url, { sessionID: bob.session.sessionID });
  open.add(bob2.socket);
  const toBob2 = collect<Message>(bob2.socket, "private message");
  const local = await bob.socket.emitWithAck("private message", {
    content: "local while Redis is down",
    to: alice.session.userID,
  }) as SendMessageAck;
  assert.ok(local.ok);
  await until(() => toBob2.length === 1, "local delivery without Redis");

  await redis.restart();
  const toBob = collect<Message>(bob.socket, "private message");
  await until(
    async () => {
      const ack = await alice.socket.emitWithAck("private message", {
        content: "probe",
        to: bob.session.userID,
      }) as SendMessageAck;
      await new Promise((r) => setTimeout(r, 200));
      return ack.ok && toBob.some((m) => m.id === ack.message.id);
    },
    "cross-node delivery once Redis is up",
    30_000,
  );
  assert.equal((await b.health()).redis, "up");
  for (const node of [a, b]) assert.doesNotMatch(node.output, /Uncaught/);
});

Deno.test("cluster keeps storing and delivering on each node while Redis hangs", async () => {
  await using cluster = await startCluster(2);
  await using open = clients();
  const [a, b] = cluster.nodes;
  const alice = await connect(a.url, { username: "alice" });
  open.add(alice.socket);
  const alice2 = await connect(a.url, { sessionID: alice.session.sessionID });
  open.add(alice2.socket);
  const bob = await connect(b.url, { username: "bob" });
  open.add(bob.socket);
  const toAlice2 = collect<Message>(alice2.socket, "private message");
  const toBob = collect<Message>(bob.socket, "private message");

  cluster.redis.pause();
  try {
    const ack = await alice.socket.timeout(15_000).emitWithAck("private message", {
      content: "while Redis hangs",
      to: bob.session.userID,
    }) as SendMessageAck;
    assert.ok(ack.ok);
    await until(() => toAlice2.length === 1, "local delivery while Redis hangs");
  } finally {
    cluster.redis.resume();
  }
  await until(
    async () => {
      const probe = await alice.socket.emitWithAck("private message", {
        content: "probe",
        to: bob.session.userID,
      }) as SendMessageAck;
      await new Promise((r) => setTimeout(r, 200));
      return probe.ok && toBob.some((m) => m.id === probe.message.id);
    },
    "cross-node delivery once Redis answers again",
    30_000,
  );
  assert.equal(a.exited, null);
  assert.equal(b.exited, null);
});
