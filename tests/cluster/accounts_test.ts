import assert from "node:assert/strict";
import type { SendMessageAck, UserUpdate } from "../../server/protocol.ts";
import { signToken } from "../../server/auth/tokens.ts";
import { connect, connectError, nextEvent, TRANSPORTS } from "../server/helpers.ts";
import { clients, startCluster } from "./helpers.ts";

Deno.test("cluster: delete account on one node ends the user on every node, and the other nodes forget it", async () => {
  await using cluster = await startCluster(2);
  await using open = clients();
  const [a, b] = cluster.nodes;

  const alice = await connect(a.url, { username: "alice" });
  open.add(alice.socket);
  const aliceOnB = await connect(b.url, { sessionID: alice.session.sessionID }, TRANSPORTS.polling);
  open.add(aliceOnB.socket);
  const bob = await connect(b.url, { username: "bob" });
  open.add(bob.socket);
  // Node B has alice's record cached from this send.
  const first = await bob.socket.emitWithAck("private message", {
    content: "hi alice",
    to: alice.session.userID,
  }) as SendMessageAck;
  assert.ok(first.ok);

  const gone = nextEvent<string>(bob.socket, "user deleted");
  const closedOnB = nextEvent<string>(aliceOnB.socket, "disconnect");
  assert.deepEqual(await alice.socket.emitWithAck("delete account", {}), { ok: true });
  assert.equal(await gone, alice.session.userID);
  assert.equal(await closedOnB, "io server disconnect", "the socket on the other node is closed");

  // Node B knows: no more messages to her, her session is dead there too.
  assert.deepEqual(
    await bob.socket.emitWithAck("private message", { content: "?", to: alice.session.userID }),
    {
      ok: false,
      error: { code: "recipient_deleted", message: "This person deleted their account" },
    },
  );
  assert.equal(
    (await connectError(b.url, { sessionID: alice.session.sessionID })).data?.code,
    "invalid_session",
  );
  // The name is free on either node.
  const again = await connect(b.url, { username: "Alice" });
  open.add(again.socket);
  assert.notEqual(again.session.userID, alice.session.userID);
});

Deno.test("cluster: a rename by token on one node reaches users on the other, and its cache", async () => {
  const secret = "a cluster test secret, longer than thirty-two characters";
  await using cluster = await startCluster(2, {
    AUTH_SECRET: secret,
    // Self and the one other user online: no list of all users refreshes the cache.
    USER_LIST_LIMIT: "2",
  });
  await using open = clients();
  const [a, b] = cluster.nodes;
  const tokenFor = (sub: string, name: string) =>
    signToken({ secret, sub, name, expiresInSeconds: 600 });
  const grace = await connect(a.url, { token: await tokenFor("grace", "Grace") });
  open.add(grace.socket);
  const ada = await connect(b.url, { token: await tokenFor("ada", "Ada") });
  open.add(ada.socket);
  assert.equal(ada.users.find((u) => u.userID === grace.session.userID)?.username, "Grace");
  const update = nextEvent<UserUpdate>(ada.socket, "user updated");
  const renamed = await connect(a.url, { token: await tokenFor("grace", "Grace Hopper") });
  open.add(renamed.socket);
  assert.deepEqual(await update, { userID: grace.session.userID, username: "Grace Hopper" });
  const adaAgain = await connect(b.url, { token: await tokenFor("ada", "Ada") });
  open.add(adaAgain.socket);
  assert.equal(
    adaAgain.users.find((u) => u.userID === grace.session.userID)?.username,
    "Grace Hopper",
    "node B's cache forgot the old name",
  );
});
