import assert from "node:assert/strict";
import type { Message } from "../../server/protocol.ts";
import { collect, connect } from "../server/helpers.ts";
import { scrape } from "../server/prometheus.ts";
import { clients, METRICS_TOKEN, startCluster, until } from "./helpers.ts";

Deno.test("cluster node's chat_redis_connected follows Redis going away and coming back", async () => {
  await using cluster = await startCluster(2);
  await using open = clients();
  const [a, b] = cluster.nodes;
  const connected = async (url: string) =>
    (await scrape(url, METRICS_TOKEN)).value("chat_redis_connected");
  assert.equal(await connected(a.url), 1);
  assert.equal(await connected(b.url), 1);

  // A message across nodes: stored on a's node, relayed there, heard on b's.
  const alice = open.add((await connect(a.url, { username: "alice" })).socket);
  const bob = await connect(b.url, { username: "bob" });
  open.add(bob.socket);
  const toBob = collect<Message>(bob.socket, "private message");
  const ack = await alice.emitWithAck("private message", { content: "hi", to: bob.session.userID });
  assert.equal(ack.ok, true);
  await until(() => toBob.length === 1, "bob to get the message from the other node");
  const [onA, onB] = [await scrape(a.url, METRICS_TOKEN), await scrape(b.url, METRICS_TOKEN)];
  assert.deepEqual(
    [onA.value("chat_messages_stored_total"), onA.value("chat_messages_relayed_total")],
    [1, 1],
  );
  assert.equal(onB.value("chat_messages_received_total"), 0, "each node counts its own senders");
  assert.deepEqual([onA.value("chat_connected_users"), onB.value("chat_connected_users")], [1, 1]);

  await cluster.redis.stop();
  await until(async () => await connected(a.url) === 0, "node a to see Redis gone");
  await until(async () => await connected(b.url) === 0, "node b to see Redis gone");
  await cluster.redis.restart();
  await until(async () => await connected(a.url) === 1, "node a to reconnect");
  await until(async () => await connected(b.url) === 1, "node b to reconnect");
  assert.equal(a.exited, null);
  assert.equal(b.exited, null);
});
