/**
 * Retention (`RETENTION_DAYS`): old messages are deleted by the sweep, on real
 * KV, with a clock the test controls, and unread counts stay right, also while
 * messages are sent and read during the sweep and with two nodes sweeping.
 */

import assert from "node:assert/strict";
import { createMessageIdGenerator } from "../../server/chat/ids.ts";
import type { LoadMessagesAck, Message, SendMessageAck } from "../../server/protocol.ts";
import { messagesPrefix, readKey, retentionLeaseKey } from "../../server/store/keys.ts";
import type { ReadMark } from "../../server/store/kv_store.ts";
import { KvChatStore } from "../../server/store/kv_store.ts";
import { type ClientSocket, startTestServer, tempDir } from "./helpers.ts";

const DAY = 24 * 60 * 60 * 1000;

async function send(socket: ClientSocket, to: string, content: string): Promise<Message> {
  const ack = await socket.emitWithAck("private message", { to, content }) as SendMessageAck;
  assert.ok(ack.ok, JSON.stringify(ack));
  return ack.message;
}

Deno.test("the sweep deletes messages older than RETENTION_DAYS; unread counts and history stay right", async () => {
  let clock = Date.now();
  await using server = await startTestServer({ RETENTION_DAYS: "30" }, { now: () => clock });
  const alice = await server.connect({ username: "alice" });
  const bob = await server.connect({ username: "bob" });
  const [a, b] = [alice.session.userID, bob.session.userID];
  const oldFromBob: Message[] = [];
  for (let i = 0; i < 5; i++) oldFromBob.push(await send(bob.socket, a, `old ${i}`));
  for (let i = 0; i < 3; i++) await send(alice.socket, b, `old reply ${i}`);
  // Alice read two of Bob's five; Bob read none of Alice's three.
  assert.deepEqual(
    await alice.socket.emitWithAck("messages read", { with: b, upTo: oldFromBob[1].id }),
    { ok: true, unread: 3 },
  );
  await new Promise((r) => setTimeout(r, 5));
  const fresh = [await send(bob.socket, a, "new 0"), await send(bob.socket, a, "new 1")];
  const unread = async (userID: string) =>
    Object.fromEntries(
      (await server.store.listConversations(userID, 10)).map((c) => [c.peerID, c.unread]),
    );
  assert.deepEqual(await unread(a), { [b]: 5 });
  assert.deepEqual(await unread(b), { [a]: 3 });

  // 30 days after the first new message: everything before it is older than 30 days.
  clock = fresh[0].timestamp + 30 * DAY;
  await server.sweep();
  assert.deepEqual(await unread(a), { [b]: 2 }, "Bob's unread old messages no longer count");
  assert.deepEqual(await unread(b), { [a]: 0 }, "nor Alice's");
  const logged = server.logger.entries().find((e) => e.event === "retention");
  assert.deepEqual([logged?.deleted, logged?.skipped], [8, 0]);

  // History served afterwards: only the new messages, to a new connection and by paging.
  const again = await server.connect({ sessionID: alice.session.sessionID });
  const entry = again.users.find((u) => u.userID === b)!;
  assert.deepEqual(entry.messages.map((m) => m.content), ["new 0", "new 1"]);
  assert.equal(entry.unread, 2);
  assert.equal(entry.hasMore, false);
  const page = await bob.socket.emitWithAck("load messages", { with: a }) as LoadMessagesAck;
  assert.ok(page.ok);
  assert.deepEqual(page.messages.map((m) => m.id), fresh.map((m) => m.id));

  // Reading and counting go on from there.
  assert.deepEqual(
    await alice.socket.emitWithAck("messages read", { with: b, upTo: fresh[0].id }),
    { ok: true, unread: 1 },
  );
  await send(bob.socket, a, "newer");
  assert.deepEqual(await unread(a), { [b]: 2 });

  // A second sweep at the same time finds nothing more to do.
  await server.sweep();
  assert.equal(server.logger.entries().filter((e) => e.event === "retention").length, 1);
  assert.deepEqual(await unread(a), { [b]: 2 });
});

Deno.test("RETENTION_DAYS=0 keeps every message, however old", async () => {
  let clock = Date.now();
  await using server = await startTestServer({}, { now: () => clock });
  const alice = await server.connect({ username: "alice" });
  const bob = await server.connect({ username: "bob" });
  await send(alice.socket, bob.session.userID, "kept");
  clock += 36500 * DAY;
  await server.sweep();
  const page = await bob.socket.emitWithAck("load messages", {
    with: alice.session.userID,
  }) as LoadMessagesAck;
  assert.ok(page.ok);
  assert.deepEqual(page.messages.map((m) => m.content), ["kept"]);
  assert.equal(server.logger.entries().some((e) => e.event === "retention"), false);
});

const ALICE = "a".repeat(32);
const BOB = "b".repeat(32);

/** Messages from `from` to `to` stamped at `at` onwards, one ms apart. */
function messages(from: string, to: string, at: number, count: number): Message[] {
  let ms = at;
  const next = createMessageIdGenerator(() => ms++);
  return Array.from({ length: count }, (_, i) => {
    const { id, timestamp } = next();
    return { id, from, to, content: `m${i}`, timestamp };
  });
}

/** What unread should be: the messages from `peer` after the user's read mark, counted. */
async function trueUnread(kv: Deno.Kv, user: string, peer: string): Promise<number> {
  const mark = (await kv.get<ReadMark>(readKey(user, peer))).value;
  let n = 0;
  for await (const entry of kv.list<Message>({ prefix: messagesPrefix(user, peer) })) {
    if (entry.value.from === peer && (mark === null || entry.value.id > mark.upTo)) n++;
  }
  return n;
}

Deno.test("deleteMessagesBefore() racing new messages and reads leaves unread counts exact", async () => {
  await using dir = await tempDir();
  using kv = await Deno.openKv(`${dir.path}/chat.kv`);
  await using store = new KvChatStore(kv);
  const start = Date.now() - 40 * DAY;
  const peers = Array.from(
    { length: 12 },
    (_, i) => (i + 1).toString(16).padStart(2, "0").repeat(16),
  );
  const old = new Map(peers.map((p, i) => [p, messages(p, ALICE, start + i, 900)]));
  const replies = peers.map((p) => messages(ALICE, p, start + 9000, 20)).flat();
  await Promise.all([...[...old.values()].flat(), ...replies].map((m) => store.saveMessage(m)));
  for (const [peer, list] of old) await store.markRead(ALICE, { peerID: peer, upTo: list[9].id });
  const cutoff = Date.now() - 30 * DAY;

  // During the sweep, each peer sends on, and Alice reads each conversation twice:
  // a step into its old messages and, once the sweep has begun on it (its oldest
  // message is gone), all of it, as opening the conversation does.
  const fresh = new Map<string, Message[]>(peers.map((p) => [p, []]));
  const furthest = new Map<string, string>();
  let sweeping = true;
  const traffic = peers.map(async (peer, n) => {
    let ms = Date.now() + n;
    const next = createMessageIdGenerator(() => ms++);
    const sent = fresh.get(peer)!;
    const sendOne = async () => {
      const { id, timestamp } = next();
      const message = { id, from: peer, to: ALICE, content: `new ${sent.length}`, timestamp };
      await store.saveMessage(message);
      sent.push(message);
    };
    await sendOne();
    const read = async (upTo: string) => {
      await store.markRead(ALICE, { peerID: peer, upTo });
      if (upTo > (furthest.get(peer) ?? "")) furthest.set(peer, upTo);
    };
    await read(old.get(peer)![300].id);
    const oldest = messagesPrefix(ALICE, peer).concat(old.get(peer)![0].id);
    while (sweeping && (await kv.get(oldest)).versionstamp !== null) await sendOne();
    await read(sent.at(-1)!.id);
    while (sweeping) await sendOne();
  });
  const result = await store.deleteMessagesBefore(cutoff);
  sweeping = false;
  await Promise.all(traffic);
  assert.deepEqual(result, { deleted: peers.length * 920, skipped: 0 });

  const unread = new Map(
    (await store.listConversations(ALICE, 100)).map((c) => [c.peerID, c.unread]),
  );
  for (const peer of peers) {
    const left = await Array.fromAsync(
      kv.list<Message>({ prefix: messagesPrefix(ALICE, peer) }),
      (e) => e.value.id,
    );
    assert.deepEqual(left, fresh.get(peer)!.map((m) => m.id), "only the new are left");
    const mark = (await kv.get<ReadMark>(readKey(ALICE, peer))).value!;
    assert.ok(mark.upTo >= furthest.get(peer)!, `the read mark of ${peer} never moved back`);
    assert.equal(unread.get(peer), await trueUnread(kv, ALICE, peer), `unread from ${peer}`);
    const [back] = await store.listConversations(peer, 10);
    assert.equal(back.unread, 0, "Alice's old replies, never read, are gone and not counted");
  }
});

Deno.test("deleteMessagesBefore() on two nodes sharing a KV file: one sweeps at a time, and a second pass changes nothing", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/chat.kv`;
  using one = await Deno.openKv(path);
  using two = await Deno.openKv(path);
  await using nodeA = new KvChatStore(one);
  await using nodeB = new KvChatStore(two);
  const start = Date.now() - 40 * DAY;
  const carol = "c".repeat(32);
  const rows = [
    ...messages(BOB, ALICE, start, 900),
    ...messages(carol, ALICE, start, 300),
    ...messages(ALICE, carol, start + 1000, 50),
  ];
  await Promise.all(rows.map((m) => nodeA.saveMessage(m)));
  const keep = messages(BOB, ALICE, Date.now(), 3);
  for (const m of keep) await nodeA.saveMessage(m);
  const cutoff = Date.now() - 30 * DAY;

  const [first, second] = await Promise.all([
    nodeA.deleteMessagesBefore(cutoff),
    nodeB.deleteMessagesBefore(cutoff),
  ]);
  assert.ok(
    (first === null) !== (second === null),
    `one of them sweeps: ${JSON.stringify([first, second])}`,
  );
  assert.deepEqual(first ?? second, { deleted: 1250, skipped: 0 });
  assert.equal((await one.get(retentionLeaseKey())).value, null, "the lease is given back");
  assert.deepEqual(await nodeB.deleteMessagesBefore(cutoff), { deleted: 0, skipped: 0 });

  // Two sweeping at once (a lease taken away mid-sweep) count nothing twice.
  const more = messages(BOB, ALICE, start + 100_000, 900);
  await Promise.all(more.map((m) => nodeA.saveMessage(m)));
  const a = nodeA.deleteMessagesBefore(cutoff);
  await new Promise((r) => setTimeout(r, 1));
  await two.delete(retentionLeaseKey());
  const b = nodeB.deleteMessagesBefore(cutoff);
  await Promise.all([a, b]);
  const conversations = await nodeB.listConversations(ALICE, 10);
  const unread = Object.fromEntries(conversations.map((c) => [c.peerID, c.unread]));
  assert.deepEqual(unread, { [BOB]: 3, [carol]: 0 });
  assert.equal(unread[BOB], await trueUnread(two, ALICE, BOB));
  assert.equal(
    (await Array.fromAsync(two.list({ prefix: messagesPrefix(ALICE, BOB) }))).length,
    3,
  );
});
