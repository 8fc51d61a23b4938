/**
 * `deno task export` and `deno task import`: JSON Lines that carry a KV whole,
 * round trips that give the same bytes and the same chat to a real client,
 * exports of a KV a running server writes, and imports that refuse bad input
 * having written nothing.
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import type { Message, SendMessageAck, UserEntry } from "../../server/protocol.ts";
import { exportKv } from "../../server/store/export.ts";
import { importKv, type ImportOptions, type LineSource } from "../../server/store/import.ts";
import {
  formatKey,
  importKey,
  messageKey,
  receivedKey,
  sentKey,
  userKey,
} from "../../server/store/keys.ts";
import { KvChatStore } from "../../server/store/kv_store.ts";
import { migrate } from "../../server/store/migrations.ts";
import { dataArgs } from "../../tools/data_task.ts";
import {
  type ClientSocket,
  connect,
  connectError,
  memoryLogger,
  nextEvent,
  startTestServer,
  tempDir,
  type TestServer,
} from "./helpers.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const DAY = 24 * 60 * 60 * 1000;
const TTL = { sessionTtlMs: 30 * DAY };

/** The export of `kv` as text. */
async function exported(kv: Deno.Kv, now?: number): Promise<string> {
  let text = "";
  await exportKv(kv, (line) => {
    text += line;
    return Promise.resolve();
  }, { ...TTL, now });
  return text;
}

/** The lines of `text`, as the file reader gives them. */
function lines(text: string): LineSource {
  return async function* () {
    const all = text.split("\n");
    if (all.at(-1) === "") all.pop();
    yield* all;
  };
}

function importText(kv: Deno.Kv, text: string, options: Partial<ImportOptions> = {}) {
  return importKv(kv, lines(text), { ...TTL, ...options });
}

/** Every row of `kv`, keys and values, for comparing a KV before and after. */
async function rows(kv: Deno.Kv): Promise<string> {
  const all = await Array.fromAsync(kv.list({ prefix: [] }));
  return JSON.stringify(
    all.map((e) => [e.key, e.value]),
    (_k, v) => v instanceof Deno.KvU64 ? `u64:${v.value}` : v,
  );
}

/** `deno task NAME ARGS` in the project folder, as someone at a terminal runs it. */
async function task(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "-q", ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

/** Each user's conversations as `listConversations()` orders them, with unread counts. */
async function conversationsOf(store: KvChatStore, users: string[]) {
  const all: Record<string, [string, number][]> = {};
  for (const user of users) {
    all[user] = (await store.listConversations(user, 100)).map((c) => [c.peerID, c.unread]);
  }
  return all;
}

Deno.test("export, import into a fresh KV, export again: the same bytes, and each user's conversations in the same order with the same unread counts", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/format1.kv`;
  await Deno.copyFile(new URL("./fixtures/format1.kv", import.meta.url), path);
  using kv = await Deno.openKv(path);
  await migrate(kv, { logger: memoryLogger() });
  // The fixture's sessions are judged at the time it was written.
  const fixtureTime = 1796125552500;
  const first = await exported(kv, fixtureTime);
  assert.match(
    first,
    /^\{"type":"header","format":"chat-widget-export","version":1,"storage":5\}\n/,
  );
  assert.match(first, /\n\{"type":"end","counts":\{"message":8,.*"user":4\}\}\n$/);

  using copy = await Deno.openKv(":memory:");
  const result = await importText(copy, first, { now: fixtureTime });
  assert.equal(result.counts.get("message"), 8);
  assert.equal(await exported(copy, fixtureTime), first, "byte for byte");

  await using before = new KvChatStore(kv);
  await using after = new KvChatStore(copy);
  const users = (await before.listUsers(10)).map((u) => u.userID);
  const conversations = await conversationsOf(before, users);
  assert.deepEqual(await conversationsOf(after, users), conversations);
  // ann: a note to herself last, then dee, cid and bob, as the migration test has it.
  const ann = users.find((id) => conversations[id].length === 4)!;
  assert.deepEqual(conversations[ann].map(([, unread]) => unread), [0, 0, 2, 2]);
  // Search entries and the session index are rebuilt.
  assert.deepEqual((await after.searchUsers("d", { limit: 5 })).found.map(([name]) => name), [
    "dee",
  ]);
  assert.equal((await copy.get(formatKey())).value, 5);
  assert.equal((await copy.get(importKey())).value, null, "the import finished");
});

Deno.test("export keeps ties in the order of conversations: counters one commit wrote stay together", async () => {
  using kv = await Deno.openKv(":memory:");
  await migrate(kv, { logger: memoryLogger() });
  await using store = new KvChatStore(kv);
  const [me, p1, p2, p3] = ["1", "2", "3", "4"].map((c) => c.repeat(32));
  for (const id of [me, p1, p2, p3]) {
    await kv.set(userKey(id), { userID: id, username: `u${id[0]}`, createdAt: 1 });
  }
  const message = (n: number, from: string, to: string): Message => ({
    id: `0000000000${String(n).padStart(2, "0")}0000aaaaaaaa`,
    from,
    to,
    content: `m${n}`,
    timestamp: 0,
  });
  // Two messages in one commit, as the group writer batches them: p3 and p1 tie,
  // then p2 is newer still.
  const [m1, m2] = [message(1, me, p3), message(2, p1, me)];
  await kv.atomic()
    .set(messageKey(me, p3, m1.id), m1).sum(sentKey(me, p3), 1n).sum(receivedKey(p3, me), 1n)
    .set(messageKey(p1, me, m2.id), m2).sum(sentKey(p1, me), 1n).sum(receivedKey(me, p1), 1n)
    .commit();
  await store.saveMessage(message(3, p2, me));
  const order = (await store.listConversations(me, 10)).map((c) => c.peerID);
  assert.deepEqual(order, [p2, p1, p3]);
  const text = await exported(kv);
  assert.match(text, /"type":"received","userID":"1{32}","peerID":"2{32}","count":"1","rank":0/);
  assert.match(text, /"type":"sent","userID":"1{32}","peerID":"4{32}","count":"1","rank":0/);
  assert.match(text, /"type":"received","userID":"1{32}","peerID":"3{32}","count":"1","rank":1/);

  using copy = await Deno.openKv(":memory:");
  await importText(copy, text);
  await using imported = new KvChatStore(copy);
  assert.deepEqual((await imported.listConversations(me, 10)).map((c) => c.peerID), order);
  assert.equal(await exported(copy), text);
});

async function send(socket: ClientSocket, to: string, content: string): Promise<Message> {
  const ack = await socket.emitWithAck("private message", { to, content }) as SendMessageAck;
  assert.ok(ack.ok, JSON.stringify(ack));
  return ack.message;
}

/** A chat with a bit of everything, written through a real server by real clients. */
async function chatWithEverything(server: TestServer) {
  const alice = await server.connect({ username: "alice" });
  const bob = await server.connect({ username: "Bob" });
  const carol = await server.connect({ username: "carol" });
  const dave = await server.connect({ username: "dave" });
  const [a, b, c, d] = [alice, bob, carol, dave].map((x) => x.session.userID);
  const toBob = [await send(alice.socket, b, "hi Bob"), await send(alice.socket, b, "typo")];
  const fromBob = [await send(bob.socket, a, "hello"), await send(bob.socket, a, "how are you?")];
  await send(alice.socket, a, "note to self");
  await send(carol.socket, a, "carol here");
  await send(bob.socket, c, "bob to carol");
  await send(dave.socket, a, "from dave");
  assert.ok(
    (await alice.socket.emitWithAck("edit message", { id: toBob[1].id, content: "fixed" })).ok,
  );
  assert.ok((await bob.socket.emitWithAck("delete message", { id: fromBob[0].id })).ok);
  assert.ok((await alice.socket.emitWithAck("messages read", { with: b, upTo: fromBob[0].id })).ok);
  bob.socket.emit("messages delivered", { with: a, upTo: toBob[1].id });
  assert.ok((await bob.socket.emitWithAck("messages read", { with: a, upTo: toBob[0].id })).ok);
  assert.deepEqual(await carol.socket.emitWithAck("preferences", { readReceipts: false }), {
    ok: true,
    preferences: { readReceipts: false },
  });
  assert.deepEqual(await alice.socket.emitWithAck("block user", { userID: c }), { ok: true });
  const gone = nextEvent(dave.socket, "disconnect");
  assert.deepEqual(await dave.socket.emitWithAck("delete account", {}), { ok: true });
  await gone;
  for (const x of [alice, bob, carol]) x.socket.close();
  return { sessions: [alice, bob, carol].map((x) => x.session.sessionID), users: [a, b, c, d] };
}

/** Each session's `users` payload, connected one after another, and a page of history. */
async function servedTo(url: string, sessions: string[], users: string[]) {
  const served: { users: UserEntry[]; history: unknown }[] = [];
  const open: ClientSocket[] = [];
  try {
    for (const sessionID of sessions) {
      const client = await connect(url, { sessionID });
      open.push(client.socket);
      const history = await client.socket.emitWithAck("load messages", {
        with: users.find((u) => u !== client.session.userID)!,
        limit: 1,
      });
      served.push({ users: client.users, history });
    }
  } finally {
    for (const socket of open) socket.close();
  }
  return served;
}

Deno.test("deno task export while the server runs, deno task import into a new KV: a server on it serves the same users and history to a real client", async () => {
  await using dir = await tempDir();
  const original = `${dir.path}/live/chat.kv`;
  const restored = `${dir.path}/restored/chat.kv`;
  const backup = `${dir.path}/backup.jsonl`;
  await Deno.mkdir(`${dir.path}/live`);
  using kv = await Deno.openKv(original);
  let expected;
  let built;
  {
    await using server = await startTestServer({}, { kv });
    built = await chatWithEverything(server);
    // Delivered marks are gathered for 250 ms before they are written.
    await new Promise((r) => setTimeout(r, 400));
    const out = await task(["export", backup], { KV_PATH: original });
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stderr, /^Exported \d+ lines to .*backup\.jsonl: \d+ message, /);
    assert.equal((await Deno.stat(backup)).mode! & 0o777, 0o600, "readable by its owner only");
    expected = await servedTo(server.url, built.sessions, built.users);
  }
  const text = await Deno.readTextFile(backup);
  for (const kind of ["receipt", "block", "preferences", "last_seen", "activity", "name"]) {
    assert.match(text, new RegExp(`"type":"${kind}"`), `${kind} lines`);
  }

  const imported = await task(["import", "--kv", restored, backup], {});
  assert.equal(imported.code, 0, imported.stderr);
  assert.match(imported.stderr, /^Imported \d+ rows into .*restored\/chat\.kv in \d+ commits/);
  using copy = await Deno.openKv(restored);
  assert.equal(await exported(copy), text, "the imported KV exports to the same bytes");
  {
    await using server = await startTestServer({}, { kv: copy });
    const served = await servedTo(server.url, built.sessions, built.users);
    assert.deepEqual(served, expected);
    // Something to compare: histories, receipts, blocks, tombstones, last seen.
    const alice = served[0].users;
    const bob = alice.find((u) => u.userID === built.users[1])!;
    assert.deepEqual(bob.messages.map((m) => m.content), [
      "hi Bob",
      "fixed",
      "",
      "how are you?",
    ]);
    assert.equal(bob.unread, 1);
    assert.equal(bob.seenUpTo, bob.messages[0].id);
    assert.equal(bob.deliveredUpTo, bob.messages[1].id);
    assert.equal(alice.find((u) => u.userID === built.users[2])!.blocked, true);
    assert.equal(alice.find((u) => u.userID === built.users[3])!.deleted, true);
    assert.equal(
      typeof served[0].users.find((u) => u.userID === built.users[2])!.lastSeen,
      "number",
    );
    // Names stay reserved: a look-alike of "Bob" is taken.
    const refused = await connectError(server.url, { username: "BOB" });
    assert.equal(refused.data?.code, "username_taken");
  }
});

Deno.test("deno task export while clients send: each conversation's counters count exactly the messages exported with them", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/chat.kv`;
  using kv = await Deno.openKv(path);
  await using server = await startTestServer({}, { kv });
  const people = await Promise.all(
    ["ann", "ben", "cat", "dan", "eve", "fay"].map((name) => server.connect({ username: name })),
  );
  const pairs = [[0, 1], [2, 3], [4, 5]].map(([i, j]) => [people[i], people[j]]);
  // Long conversations of the past hour, so that reading one takes a while.
  let ms = Date.now() - 60 * 60 * 1000;
  const saves: Promise<void>[] = [];
  for (const [x, y] of pairs) {
    for (let i = 0; i < 1500; i++) {
      const [from, to] = i % 2 ? [x, y] : [y, x];
      saves.push(server.store.saveMessage({
        id: (ms++).toString(16).padStart(12, "0") + "0000cccccccc",
        from: from.session.userID,
        to: to.session.userID,
        content: `before ${i}`,
        timestamp: ms,
      }));
    }
  }
  await Promise.all(saves);
  // Then everybody writes, as fast as MESSAGE_RATE lets a user (20 a second).
  let sending = true;
  let sent = 0;
  const traffic = pairs.flatMap(([x, y]) =>
    [[x, y], [y, x]].map(async ([from, to]) => {
      while (sending) {
        await send(from.socket, to.session.userID, "during");
        sent++;
        await new Promise((r) => setTimeout(r, 50));
      }
    })
  );
  const backups = [1, 2, 3].map((n) => `${dir.path}/backup-${n}.jsonl`);
  try {
    for (const backup of backups) {
      const out = await task(["export", backup], { KV_PATH: path });
      assert.equal(out.code, 0, out.stderr);
    }
  } finally {
    sending = false;
    await Promise.all(traffic);
  }
  assert.ok(sent > 30, `messages sent during the exports: ${sent}`);

  const sizes = new Set<number>();
  for (const backup of backups) {
    const records = (await Deno.readTextFile(backup)).trim().split("\n").map((l) => JSON.parse(l));
    const messages = new Map<string, number>();
    for (const r of records.filter((r) => r.type === "message")) {
      messages.set(`${r.from}>${r.to}`, (messages.get(`${r.from}>${r.to}`) ?? 0) + 1);
    }
    const counters = records.filter((r) => r.type === "sent" || r.type === "received");
    assert.equal(counters.length, 12);
    for (const r of counters) {
      const direction = r.type === "sent" ? `${r.userID}>${r.peerID}` : `${r.peerID}>${r.userID}`;
      assert.equal(Number(r.count), messages.get(direction), `${r.type} of ${direction}`);
    }
    sizes.add(records.length);
    // And the file imports.
    using copy = await Deno.openKv(":memory:");
    await importKv(copy, lines(await Deno.readTextFile(backup)), TTL);
  }
  assert.ok(sizes.size > 1, "the exports saw the conversations grow");
});

Deno.test("import refuses a bad line by its number, an unknown version and a cut-short file, and writes nothing", async () => {
  using source = await Deno.openKv(":memory:");
  await migrate(source, { logger: memoryLogger() });
  await using store = new KvChatStore(source);
  const [a, b] = ["a".repeat(32), "b".repeat(32)];
  for (const id of [a, b]) await store.putUser({ userID: id, username: `u${id[0]}`, createdAt: 5 });
  await store.saveMessage({ id: "0".repeat(23) + "1", from: a, to: b, content: "x", timestamp: 0 });
  const good = await exported(source);
  const numbered = good.trimEnd().split("\n");
  const broken = (n: number, line: string) =>
    [...numbered.slice(0, n - 1), line, ...numbered.slice(n)].join("\n") + "\n";
  const message = JSON.parse(numbered[1]);
  const cases: [string, string | RegExp][] = [
    [broken(2, "{not json"), /^Cannot import line 2: not JSON \(/],
    [
      broken(2, JSON.stringify({ ...message, content: 7 })),
      'Cannot import line 2: field "content" must be text of at most 20000 characters, got 7',
    ],
    [
      broken(2, JSON.stringify({ ...message, extra: true })),
      'Cannot import line 2: a message line has no field "extra"',
    ],
    [
      broken(2, JSON.stringify({ ...message, from: "someone" })),
      'Cannot import line 2: field "from" must be a user ID, got "someone"',
    ],
    [
      broken(2, JSON.stringify({ type: "gossip" })),
      'Cannot import line 2: unknown "type" "gossip"',
    ],
    [broken(2, ""), /^Cannot import line 2: not JSON/],
    [
      good.replace('"version":1', '"version":2'),
      "Cannot import line 1: export format version 2 is not one this server reads (1)",
    ],
    [
      good.replace('"format":"chat-widget-export"', '"format":"other"'),
      /^Cannot import line 1: the first line must be the header/,
    ],
    [
      numbered.slice(0, 3).join("\n") + "\n",
      "Cannot import: the file ends at line 3 without its end line; it is cut short (an export that did not finish?)",
    ],
    [
      good + numbered[1] + "\n",
      `Cannot import line ${numbered.length + 1}: it comes after the end line`,
    ],
    [
      broken(
        numbered.length,
        '{"type":"end","counts":{"message":2,"sent":1,"received":1,"user":2}}',
      ),
      `Cannot import line ${numbered.length}: the end line counts 2 message lines, the file has 1`,
    ],
    [
      broken(3, numbered[4]),
      /^Cannot import line 3: it is the row of line \d+ again|^Cannot import line 5: it is the row of line 3 again/,
    ],
    ["", "Cannot import: the file is empty"],
  ];
  // A message naming a user the file lacks: its line is named.
  const stranger = { ...message, id: "0".repeat(23) + "2", to: "c".repeat(32) };
  cases.push([
    [numbered[0], numbered[1], JSON.stringify(stranger), ...numbered.slice(2)].join("\n")
      .replace('"message":1', '"message":2') + "\n",
    `Cannot import line 3: user ${"c".repeat(32)} has no user line in the file`,
  ]);
  // Messages out of key order.
  cases.push([
    [numbered[0], JSON.stringify(stranger), numbered[1], ...numbered.slice(2)].join("\n")
      .replace('"message":1', '"message":2') + "\n",
    "Cannot import line 3: messages must come in key order (conversation, then ID), each once",
  ]);
  for (const [text, error] of cases) {
    using target = await Deno.openKv(":memory:");
    await assert.rejects(importText(target, text), (e: Error) => {
      if (typeof error === "string") assert.equal(e.message, error);
      else assert.match(e.message, error);
      return true;
    }, text.slice(0, 200));
    assert.equal(await rows(target), "[]", "nothing written");
  }
  // The good file imports; into a KV that holds data only with --merge.
  using target = await Deno.openKv(":memory:");
  await importText(target, good);
  const before = await rows(target);
  await assert.rejects(importText(target, good), {
    message:
      "Cannot import: the KV holds data (messages, received, sent, user_search, users); import into an empty KV, or pass --merge to write the file's rows over it",
  });
  assert.equal(await rows(target), before);
  await importText(target, good, { merge: true });
  assert.equal(await exported(target), good);
});

Deno.test("deno task import names the bad line and exits 1; a KV a server ran on but holds no chat data counts as empty", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/bad.jsonl`;
  await Deno.writeTextFile(
    file,
    '{"type":"header","format":"chat-widget-export","version":1,"storage":5}\n{"type":"user"}\n',
  );
  const kvPath = `${dir.path}/kv/chat.kv`;
  const out = await task(["import", file], { KV_PATH: kvPath });
  assert.equal(out.code, 1);
  assert.equal(out.stderr.trim(), 'Cannot import line 2: a user line needs "userID"');
  const help = await task(["import", "--help"], {});
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: deno task import \[--kv PATH\] \[--merge\] FILE/);
  const none = await task(["export", "--kv", `${dir.path}/none.kv`, "-"], {});
  assert.equal(none.code, 1);
  assert.match(none.stderr, /^Cannot export: there is no KV at ".*none\.kv"/);

  // A server started on the KV and stopped: only its format and probes are there.
  using kv = await Deno.openKv(kvPath);
  {
    await using server = await startTestServer({}, { kv });
    assert.equal((await fetch(`${server.url}/readyz`)).status, 200);
  }
  const empty = await exported(kv);
  await Deno.writeTextFile(file, empty);
  const again = await task(["import", file], { KV_PATH: kvPath });
  assert.equal(again.code, 0, again.stderr);
  const stdout = await task(["export", "-"], { KV_PATH: kvPath });
  assert.equal(stdout.stdout, empty, "- writes to standard output");
});

Deno.test("import writes a large file in commits within KV's limits (1,000 mutations, 800 KB)", async () => {
  using source = await Deno.openKv(":memory:");
  await migrate(source, { logger: memoryLogger() });
  await using store = new KvChatStore(source);
  const [a, b] = ["a".repeat(32), "b".repeat(32)];
  for (const id of [a, b]) await store.putUser({ userID: id, username: `u${id[0]}`, createdAt: 5 });
  let ms = 1_000_000;
  const id = () => (ms++).toString(16).padStart(12, "0") + "0000ffffffff";
  const saves: Promise<void>[] = [];
  for (let i = 0; i < 2500; i++) {
    saves.push(store.saveMessage({ id: id(), from: a, to: b, content: `m${i}`, timestamp: 0 }));
  }
  // Forty of the longest messages there can be: 1.6 MB of two-byte text.
  for (let i = 0; i < 40; i++) {
    saves.push(
      store.saveMessage({ id: id(), from: b, to: a, content: "ü".repeat(20_000), timestamp: 0 }),
    );
  }
  await Promise.all(saves);
  const text = await exported(source);
  using target = await Deno.openKv(":memory:");
  const result = await importText(target, text);
  assert.ok(result.commits >= 12, `${result.commits} commits`);
  assert.equal(await exported(target), text);
});

Deno.test("an import that did not finish leaves its marker: servers and export refuse the KV, and import --merge finishes it", async () => {
  using source = await Deno.openKv(":memory:");
  await migrate(source, { logger: memoryLogger() });
  await new KvChatStore(source).putUser({ userID: "a".repeat(32), username: "ann", createdAt: 1 });
  const text = await exported(source);
  using kv = await Deno.openKv(":memory:");
  await importText(kv, text);
  // As a crash between the first commit and the last leaves it.
  await kv.set(importKey(), { startedAt: 1 });
  await assert.rejects(startTestServer({}, { kv }), {
    message:
      "Cannot use this KV: an import into it did not finish; run deno task import again with --merge",
  });
  await assert.rejects(
    exported(kv),
    /^Error: Cannot export: an import into this KV did not finish/,
  );
  await assert.rejects(importText(kv, text), /did not finish; run it again with --merge$/);
  await importText(kv, text, { merge: true });
  await using server = await startTestServer({}, { kv });
  assert.equal((await fetch(`${server.url}/readyz`)).status, 200);
});

Deno.test("export refuses rows it cannot carry whole, naming the key", async () => {
  using kv = await Deno.openKv(":memory:");
  await migrate(kv, { logger: memoryLogger() });
  const user = "a".repeat(32);
  await kv.set(userKey(user), { userID: user, username: "ann", createdAt: 1, colour: "red" });
  await assert.rejects(exported(kv), {
    message: `Cannot export ["users","${user}"]: a user line has no field "colour"`,
  });
  await kv.set(userKey(user), { userID: user, username: "ann", createdAt: 1 });
  await kv.set(["gossip", 1], "?");
  await assert.rejects(exported(kv), {
    message: 'Cannot export ["gossip"]: storage format 5 has no such rows',
  });
  await kv.delete(["gossip", 1]);
  await kv.set(formatKey(), 4);
  await assert.rejects(exported(kv), {
    message:
      "Cannot export storage format 4: export writes format 5; start this server on it once to migrate it",
  });
});

Deno.test("dataArgs() scopes the tools' permissions to the KV folder and the one file", () => {
  const exporting = dataArgs("export", ["--kv", "/var/lib/chat/chat.kv", "/backups/b.jsonl"], {});
  assert.deepEqual(exporting.slice(0, 4), [
    "run",
    "--no-prompt",
    "--allow-read=/var/lib/chat,/backups/b.jsonl,/backups/b.jsonl.partial",
    "--allow-write=/var/lib/chat,/backups/b.jsonl,/backups/b.jsonl.partial",
  ]);
  assert.deepEqual(exporting.slice(-4), [
    "tools/export.ts",
    "--kv",
    "/var/lib/chat/chat.kv",
    "/backups/b.jsonl",
  ]);
  const importing = dataArgs("import", ["/backups/b.jsonl"], { KV_PATH: "/srv/kv/chat.kv" });
  assert.ok(importing.includes("--allow-read=/srv/kv,/backups/b.jsonl"), importing.join(" "));
  assert.ok(importing.includes("--allow-write=/srv/kv"), importing.join(" "));
  const remote = dataArgs("export", ["-"], { KV_PATH: "https://kv.example/db/connect" });
  assert.ok(remote.includes("--allow-net=kv.example"), remote.join(" "));
  assert.equal(remote.some((a) => a.startsWith("--allow-write")), false);
});
