import assert from "node:assert/strict";
import type { Message, UserEntry } from "../../server/protocol.ts";
import type { ChatMessage, ChatUser } from "../../widget/chat-state.ts";
import * as state from "../../widget/chat-state.ts";

/** A stored message with a server-shaped ID (24 hex digits, ordered by `n`). */
function stored(n: number, fields: Partial<Message> = {}): Message {
  return {
    id: n.toString(16).padStart(24, "0"),
    from: "a",
    to: "b",
    content: `message ${n}`,
    timestamp: 1_700_000_000_000 + n,
    ...fields,
  };
}

function sent(n: number, fields: Partial<Message> = {}): ChatMessage {
  return { ...stored(n, fields), state: "sent" };
}

function user(userID: string, fields: Partial<ChatUser> = {}): ChatUser {
  return { ...state.unknownUser(userID), username: userID, ...fields };
}

function entry(userID: string, fields: Partial<UserEntry> = {}): UserEntry {
  return { userID, username: userID, connected: true, messages: [], ...fields };
}

Deno.test("mergeMessages() orders stored messages by ID and drops duplicates", () => {
  const merged = state.mergeMessages([sent(3), sent(1)], [
    stored(2),
    stored(3, { content: "again" }),
  ]);
  assert.deepEqual(merged.map((m) => m.id), [stored(1).id, stored(2).id, stored(3).id]);
  assert.equal(merged[2].content, "again", "the incoming copy wins");
  assert.ok(merged.every((m) => m.state === "sent"));
});

Deno.test("mergeMessages() keeps unsent messages after the stored ones, in the order written", () => {
  const first = state.pendingMessage(
    { clientId: "c1", to: "b", content: "one", timestamp: 5, state: "pending" },
    "a",
  );
  const second = state.pendingMessage(
    { clientId: "c2", to: "b", content: "two", timestamp: 6, state: "failed" },
    "a",
  );
  const merged = state.mergeMessages([second, sent(1), first], [stored(2)]);
  assert.deepEqual(merged.map((m) => m.clientId ?? m.id), [
    stored(1).id,
    stored(2).id,
    "c2",
    "c1",
  ]);
});

Deno.test("mergeMessages() replaces an unsent message by the stored one with its clientId", () => {
  const local = state.pendingMessage(
    { clientId: "c1", to: "b", content: "hi", timestamp: 5, state: "pending" },
    "a",
  );
  const merged = state.mergeMessages([local], [stored(7, { clientId: "c1", content: "hi" })]);
  assert.deepEqual(merged, [{ ...stored(7, { clientId: "c1", content: "hi" }), state: "sent" }]);
});

Deno.test("pendingMessage() gives an ID that sorts after every stored ID", () => {
  const message = state.pendingMessage(
    { clientId: "c1", to: "b", content: "hi", timestamp: 1_700_000_000_000, state: "pending" },
    "a",
  );
  assert.ok(message.id > "f".repeat(24));
  assert.equal(message.from, "a");
  assert.equal(message.state, "pending");
});

Deno.test("sectionUsers() puts conversations first, the newest on top, then you, online people and names, deleted accounts last", () => {
  const users = [
    user("4", { username: "bob" }),
    user("1", { username: "user10", connected: true }),
    user("2", { username: "Zoe", self: true, connected: true }),
    user("3", { username: "user9", connected: true }),
    user("6", { username: "Bob" }),
    user("5", { username: "alice" }),
    user("7", { username: "Deleted user", deleted: true }),
    user("8", { username: "Aaron", deleted: true, messages: [sent(1)] }),
    user("9", { username: "old", messages: [sent(2), sent(3)] }),
    user("10", { username: "new", messages: [sent(9)] }),
    user("11", { username: "unread only", unread: 2 }),
    user("12", { username: "partner", partner: true }),
  ];
  const collator = new Intl.Collator("en", { sensitivity: "base", numeric: true });
  const { conversations, people } = state.sectionUsers(users, collator);
  // Conversations whose messages are not held here (time 0) follow, by name.
  assert.deepEqual(conversations.map((u) => u.userID), ["10", "9", "8", "12", "11"]);
  assert.deepEqual(people.map((u) => u.userID), ["2", "3", "1", "5", "4", "6", "7"]);
});

Deno.test("previewOf() gives the newest message on one line, whose it is, and a deleted one without text", () => {
  assert.equal(state.previewOf(user("a")), undefined);
  const theirs = state.previewOf(
    user("a", { messages: [sent(1), sent(2, { content: "hi\n\n  there " })] }),
  );
  assert.deepEqual(theirs, {
    text: "hi there",
    mine: false,
    deleted: false,
    timestamp: sent(2).timestamp,
  });
  const mine = state.previewOf(user("b", { messages: [sent(1, { content: "x".repeat(500) })] }));
  assert.equal(mine?.mine, true);
  assert.equal(mine?.text.length, state.PREVIEW_LENGTH);
  const gone = state.previewOf(user("a", { messages: [sent(1, { content: "", deleted: true })] }));
  assert.equal(gone?.deleted, true);
  assert.equal(gone?.text, "");
});

Deno.test("nameMatches() matches a prefix folded for case and width, as the server searches", () => {
  assert.ok(state.nameMatches("Alice", "ali"));
  assert.ok(state.nameMatches("Alice", "ALI"));
  assert.ok(state.nameMatches("Alice", "ａｌｉ"));
  assert.ok(state.nameMatches("Ölaf", "öl"));
  assert.ok(!state.nameMatches("Alice", "lice"));
  assert.ok(!state.nameMatches("Bob", "bobby"));
});

Deno.test("unreadTotal() adds up every conversation's unread count", () => {
  assert.equal(state.unreadTotal([]), 0);
  assert.equal(
    state.unreadTotal([user("a", { unread: 2 }), user("b"), user("c", { unread: 5 })]),
    7,
  );
});

Deno.test("userFromEntry() marks self, sorts the page and fills in what older servers omit", () => {
  const built = state.userFromEntry(
    entry("me", { messages: [stored(2), stored(1)], connected: false }),
    "me",
  );
  assert.equal(built.self, true);
  assert.equal(built.hasMore, false);
  assert.equal(built.unread, 0);
  assert.equal(built.loadingOlder, false);
  assert.deepEqual(built.messages.map((m) => m.id), [stored(1).id, stored(2).id]);
  assert.equal(
    state.userFromEntry(entry("me", { self: false }), "me").self,
    false,
    "the server decides",
  );
  assert.equal(state.userFromEntry(entry("x", { hasMore: true, unread: 3 })).unread, 3);
});

Deno.test("mergeUsers() keeps older pages already loaded when the fresh page continues them", () => {
  const held = new Map([["b", user("b", { messages: [sent(1), sent(2)], hasMore: true })]]);
  const next = state.mergeUsers(held, [
    entry("b", { messages: [stored(2), stored(3)], hasMore: true }),
  ]);
  assert.deepEqual(next.get("b")!.messages.map((m) => m.id), [1, 2, 3].map((n) => stored(n).id));
  assert.equal(next.get("b")!.hasMore, true, "older pages may still be on the server");
});

Deno.test("mergeUsers() takes the fresh page alone when it leaves a gap after what was held", () => {
  const held = new Map([["b", user("b", { messages: [sent(1)] })]]);
  const next = state.mergeUsers(held, [
    entry("b", { messages: [stored(5), stored(6)], hasMore: true }),
  ]);
  assert.deepEqual(next.get("b")!.messages.map((m) => m.id), [stored(5).id, stored(6).id]);
  assert.equal(next.get("b")!.hasMore, true);
});

Deno.test("mergeUsers() keeps people we talked to, offline, when the list leaves them out", () => {
  const held = new Map([
    ["talked", user("talked", { connected: true, messages: [sent(1)] })],
    ["silent", user("silent", { connected: true })],
  ]);
  const next = state.mergeUsers(held, [entry("new")]);
  assert.deepEqual([...next.keys()], ["new", "talked"]);
  assert.equal(next.get("talked")!.connected, false);
  assert.equal(held.get("talked")!.connected, true, "what was held is not changed");
});

Deno.test("mergeUsers() drops unsent messages: the outbox adds them again", () => {
  const local = state.pendingMessage(
    { clientId: "c1", to: "b", content: "hi", timestamp: 5, state: "pending" },
    "a",
  );
  const held = new Map([["b", user("b", { messages: [sent(1), local] })]]);
  const next = state.mergeUsers(held, [entry("b", { messages: [stored(1)] })]);
  assert.deepEqual(next.get("b")!.messages.map((m) => m.id), [stored(1).id]);
});

Deno.test("contentLimit() takes the server's announced limit, else the protocol's default", () => {
  assert.equal(state.contentLimit({ maxContentLength: 40 }), 40);
  assert.equal(state.contentLimit({ maxContentLength: 40.7 }), 40);
  assert.equal(state.contentLimit({}), 10_000);
  assert.equal(state.contentLimit(undefined), 10_000);
  assert.equal(state.contentLimit({ maxContentLength: 0 }), 10_000);
});

Deno.test("userFromEntry() turns a deleted user's entry into tombstones with nothing unread", () => {
  const tomb = stored(1, { from: "gone", to: "me", content: "", deleted: true });
  const built = state.userFromEntry(
    entry("gone", {
      username: "Deleted user",
      deleted: true,
      connected: false,
      unread: 2,
      messages: [tomb, stored(2, { from: "me", to: "gone" })],
    }),
    "me",
  );
  assert.equal(built.deleted, true);
  assert.equal(built.unread, 0);
  assert.deepEqual(built.messages.map((m) => [m.from, m.deleted ?? false, m.content]), [
    ["gone", true, ""],
    ["me", false, "message 2"],
  ]);
  assert.equal(state.userFromEntry(entry("x")).deleted, false);
});

Deno.test("applyUserChange() renames a user everywhere it is held", () => {
  const held = new Map([
    ["a", user("a", { username: "Ann", messages: [sent(1)] })],
    ["b", user("b")],
  ]);
  const next = state.applyUserChange(held, { userID: "a", username: "Annie" });
  assert.equal(next.get("a")!.username, "Annie");
  assert.deepEqual(next.get("a")!.messages, [sent(1)]);
  assert.equal(held.get("a")!.username, "Ann", "what was held is not changed");
  assert.deepEqual(state.applyUserChange(held, { userID: "nobody", username: "x" }), held);
});

Deno.test("applyUserChange() with an ID marks that user deleted and tombstones only their messages", () => {
  const held = new Map([
    [
      "a",
      user("a", {
        connected: true,
        unread: 1,
        messages: [sent(1, { from: "a", to: "me" }), sent(2, { from: "me", to: "a" })],
      }),
    ],
  ]);
  const next = state.applyUserChange(held, "a");
  const a = next.get("a")!;
  assert.equal(a.deleted, true);
  assert.equal(a.connected, false);
  assert.equal(a.unread, 0);
  assert.deepEqual(a.messages.map((m) => [m.id, m.content, m.deleted ?? false]), [
    [stored(1).id, "", true],
    [stored(2).id, "message 2", false],
  ]);
  assert.equal(a.messages[0].timestamp, stored(1).timestamp, "a tombstone keeps its time");
  assert.equal(held.get("a")!.deleted, false, "what was held is not changed");
  // A later rename does not bring the name back.
  assert.equal(
    state.applyUserChange(next, { userID: "a", username: "Back" }).get("a")!.username,
    "a",
  );
});

Deno.test("mergeUsers() tombstones older pages held from a user the fresh list says is deleted", () => {
  const held = new Map([
    ["b", user("b", { messages: [sent(1, { from: "b" }), sent(2, { from: "b" })], hasMore: true })],
  ]);
  const next = state.mergeUsers(held, [
    entry("b", {
      deleted: true,
      username: "Deleted user",
      messages: [stored(2, { from: "b", content: "", deleted: true })],
      hasMore: true,
    }),
  ]);
  assert.deepEqual(next.get("b")!.messages.map((m) => [m.content, m.deleted]), [
    ["", true],
    ["", true],
  ]);
  assert.equal(next.get("b")!.deleted, true);
});

Deno.test("userFromEntry() takes receipts, last seen and blocking from the entry", () => {
  const built = state.userFromEntry(
    entry("b", {
      connected: false,
      lastSeen: 1_700_000_000_000,
      deliveredUpTo: stored(3).id,
      seenUpTo: stored(2).id,
      blocked: true,
    }),
  );
  assert.equal(built.lastSeen, 1_700_000_000_000);
  assert.equal(built.deliveredUpTo, stored(3).id);
  assert.equal(built.seenUpTo, stored(2).id);
  assert.equal(built.blocked, true);
  assert.equal(built.typing, false);
  const plain = state.userFromEntry(entry("c", { lastSeen: 5 }));
  assert.equal(plain.lastSeen, undefined, "someone online now has no last seen");
  assert.equal(plain.blocked, false);
  assert.equal(plain.deliveredUpTo, undefined);
});

Deno.test("laterId() picks the later of two message IDs", () => {
  assert.equal(state.laterId(undefined, undefined), undefined);
  assert.equal(state.laterId(stored(1).id, undefined), stored(1).id);
  assert.equal(state.laterId(undefined, stored(1).id), stored(1).id);
  assert.equal(state.laterId(stored(2).id, stored(10).id), stored(10).id);
  assert.equal(state.laterId(stored(10).id, stored(2).id), stored(10).id);
});

Deno.test("applyReceipts() only moves receipts forward, and seen counts as delivered", () => {
  const b = user("b", { deliveredUpTo: stored(5).id, seenUpTo: stored(3).id });
  const back = state.applyReceipts(b, { by: "b", delivered: stored(4).id, seen: stored(2).id });
  assert.equal(back.deliveredUpTo, stored(5).id);
  assert.equal(back.seenUpTo, stored(3).id);
  const seen = state.applyReceipts(b, { by: "b", seen: stored(7).id });
  assert.equal(seen.seenUpTo, stored(7).id);
  assert.equal(seen.deliveredUpTo, stored(7).id);
  assert.equal(b.seenUpTo, stored(3).id, "what was held is not changed");
  const junk = state.applyReceipts(b, { by: "b", delivered: 42 as unknown as string });
  assert.equal(junk.deliveredUpTo, stored(5).id);
});

Deno.test("receiptOf() says sent, delivered or seen from the peer's receipts", () => {
  const peer = user("b", { deliveredUpTo: stored(4).id, seenUpTo: stored(2).id });
  const mine = (n: number) => sent(n, { from: "a", to: "b" });
  assert.equal(state.receiptOf(mine(1), peer, true), "seen");
  assert.equal(state.receiptOf(mine(2), peer, true), "seen");
  assert.equal(state.receiptOf(mine(3), peer, true), "delivered");
  assert.equal(state.receiptOf(mine(4), peer, true), "delivered");
  assert.equal(state.receiptOf(mine(5), peer, true), "sent");
  assert.equal(state.receiptOf(mine(2), peer, false), "delivered", "no seen with receipts off");
  assert.equal(state.receiptOf(mine(1), user("b"), true), "sent");
  const local = state.pendingMessage(
    { clientId: "c1", to: "b", content: "hi", timestamp: 5, state: "failed" },
    "a",
  );
  assert.equal(state.receiptOf(local, peer, true), "failed");
  assert.equal(state.receiptOf({ ...local, state: "pending" }, peer, true), "pending");
  // Seen further than delivered (a receipt lost on the way) still counts as delivered.
  assert.equal(
    state.receiptOf(
      mine(6),
      user("b", { deliveredUpTo: stored(1).id, seenUpTo: stored(6).id }),
      true,
    ),
    "seen",
  );
});

Deno.test("newestFrom() finds the newest stored message the peer wrote", () => {
  const local = state.pendingMessage(
    { clientId: "c1", to: "b", content: "hi", timestamp: 5, state: "pending" },
    "a",
  );
  const b = user("b", {
    messages: [sent(1, { from: "b", to: "a" }), sent(2, { from: "b", to: "a" }), sent(3), local],
  });
  assert.equal(state.newestFrom(b)?.id, stored(2).id);
  assert.equal(state.newestFrom(user("b", { messages: [sent(1)] })), undefined);
});

Deno.test("applyMessageUpdate() replaces an edited or deleted message where it is held", () => {
  const held = new Map([
    ["b", user("b", { messages: [sent(1, { from: "a", to: "b", clientId: "c1" }), sent(2)] })],
  ]);
  const edited = stored(1, { from: "a", to: "b", content: "better", editedAt: 9 });
  const next = state.applyMessageUpdate(held, edited, "a");
  const first = next.get("b")!.messages[0];
  assert.equal(first.content, "better");
  assert.equal(first.editedAt, 9);
  assert.equal(first.clientId, "c1", "the held clientId stays, so the view keeps its node");
  assert.equal(first.state, "sent");
  assert.equal(held.get("b")!.messages[0].content, "message 1", "what was held is not changed");
  // The peer's message, deleted: seen from my side, its conversation is the sender's.
  const theirs = new Map([["b", user("b", { messages: [sent(3, { from: "b", to: "a" })] })]]);
  const gone = state.applyMessageUpdate(
    theirs,
    stored(3, { from: "b", to: "a", content: "", deleted: true }),
    "a",
  );
  assert.deepEqual(
    gone.get("b")!.messages.map((m) => [m.content, m.deleted]),
    [["", true]],
  );
  // Not held (an older page not loaded yet): nothing changes.
  const same = state.applyMessageUpdate(held, stored(8, { from: "a", to: "b" }), "a");
  assert.deepEqual(same, held);
  assert.deepEqual(state.applyMessageUpdate(held, stored(1, { from: "a", to: "z" }), "a"), held);
});

Deno.test("editable() and lastEditable() allow your own stored messages inside the window", () => {
  const now = stored(10).timestamp + 60_000;
  const options = { selfID: "a", windowSeconds: 900, now };
  assert.equal(state.editable(sent(10), options), true);
  assert.equal(state.editable(sent(10, { from: "b" }), options), false, "not yours");
  assert.equal(state.editable(sent(10, { deleted: true, content: "" }), options), false);
  assert.equal(state.editable(sent(10), { ...options, windowSeconds: 60 }), false, "too late");
  assert.equal(state.editable(sent(10), { ...options, windowSeconds: 0 }), false, "never");
  const local = state.pendingMessage(
    { clientId: "c1", to: "b", content: "hi", timestamp: now, state: "pending" },
    "a",
  );
  assert.equal(state.editable(local, options), false, "not stored yet");

  const b = user("b", {
    messages: [sent(8), sent(9, { deleted: true, content: "" }), sent(10, { from: "b" }), local],
  });
  assert.equal(state.lastEditable(b, options)?.id, stored(8).id, "deleted and unsent ones skipped");
  assert.equal(state.lastEditable(b, { ...options, windowSeconds: 1 }), undefined);
  assert.equal(state.lastEditable(user("b"), options), undefined);
});

Deno.test("deletedUser() stops their typing", () => {
  const b = state.deletedUser(user("b", { typing: true, connected: true }));
  assert.equal(b.typing, false);
});
