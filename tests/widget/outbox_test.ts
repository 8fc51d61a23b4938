import assert from "node:assert/strict";
import { ChatOutbox, type OutboxEntry, type StoredRecord } from "../../widget/chat-outbox.ts";

// Deno's sessionStorage is a real Storage kept in memory, with a quota like a browser's.
const storage = globalThis.sessionStorage;

const session = { sessionID: "s1", userID: "u1", username: "ada" };

function entry(clientId: string): OutboxEntry {
  return { clientId, to: "u2", content: clientId, timestamp: 1, state: "pending" };
}

/** What a browser delivers to the other tabs when one of them writes `key`. */
function storageEvent(key: string | null): Event {
  return Object.assign(new Event("storage"), { key });
}

function open(key: string, onChange?: (record: StoredRecord) => void): ChatOutbox {
  const outbox = new ChatOutbox(key, { storage, onChange });
  outbox.open();
  return outbox;
}

Deno.test("ChatOutbox.open() reads the session and the outbox that are stored", () => {
  storage.clear();
  storage.setItem("k", JSON.stringify(session));
  storage.setItem("k:outbox", JSON.stringify({ userID: "u1", entries: [entry("a")] }));
  const outbox = open("k");
  try {
    assert.deepEqual(outbox.session, session);
    assert.deepEqual(outbox.entries("u1"), [entry("a")]);
    assert.deepEqual(outbox.entries("someone else"), [], "another user never sees them");
    assert.deepEqual(outbox.entries(undefined), []);
  } finally {
    outbox.close();
  }
});

Deno.test("ChatOutbox holds what it parsed until the storage event says it changed", () => {
  storage.clear();
  storage.setItem("k", JSON.stringify(session));
  const changes: StoredRecord[] = [];
  const outbox = open("k", (record) => changes.push(record));
  try {
    const other = { ...session, sessionID: "s2" };
    storage.setItem("k", JSON.stringify(other));
    assert.equal(outbox.session?.sessionID, "s1", "not parsed again on each read");
    globalThis.dispatchEvent(storageEvent("unrelated"));
    assert.deepEqual(changes, []);
    globalThis.dispatchEvent(storageEvent("k"));
    assert.equal(outbox.session?.sessionID, "s2");
    storage.setItem("k:outbox", JSON.stringify({ userID: "u1", entries: [entry("b")] }));
    globalThis.dispatchEvent(storageEvent("k:outbox"));
    assert.deepEqual(outbox.entries("u1"), [entry("b")]);
    storage.clear();
    globalThis.dispatchEvent(storageEvent(null));
    assert.equal(outbox.session, undefined);
    assert.deepEqual(outbox.entries("u1"), []);
    assert.deepEqual(changes, ["session", "outbox", "session", "outbox"]);
  } finally {
    outbox.close();
  }
});

Deno.test("ChatOutbox.close() stops following other tabs", () => {
  storage.clear();
  const changes: StoredRecord[] = [];
  const outbox = open("k", (record) => changes.push(record));
  outbox.close();
  storage.setItem("k", JSON.stringify(session));
  globalThis.dispatchEvent(storageEvent("k"));
  assert.deepEqual(changes, []);
  assert.equal(outbox.session, undefined);
});

Deno.test("ChatOutbox.update() changes what is stored, also when another widget wrote it", () => {
  storage.clear();
  const first = open("k");
  const second = open("k");
  try {
    first.update("u1", (entries) => [...entries, entry("a")]);
    // No storage event reaches the page that wrote: the second widget must not lose "a".
    second.update("u1", (entries) => [...entries, entry("b")]);
    assert.deepEqual(JSON.parse(storage.getItem("k:outbox")!), {
      userID: "u1",
      entries: [entry("a"), entry("b")],
    });
    second.update("u1", () => []);
    assert.equal(storage.getItem("k:outbox"), null, "an empty outbox is removed");
  } finally {
    first.close();
    second.close();
  }
});

Deno.test("ChatOutbox.clear() forgets the session and the outbox", () => {
  storage.clear();
  const outbox = open("k");
  try {
    outbox.saveSession(session);
    outbox.update("u1", () => [entry("a")]);
    assert.deepEqual(JSON.parse(storage.getItem("k")!), session);
    outbox.clear();
    assert.equal(storage.getItem("k"), null);
    assert.equal(storage.getItem("k:outbox"), null);
    assert.equal(outbox.session, undefined);
    assert.deepEqual(outbox.entries("u1"), []);
  } finally {
    outbox.close();
  }
});

Deno.test("ChatOutbox keeps working in memory when storage is full", () => {
  storage.clear();
  const outbox = open("k");
  try {
    // Fill the quota, so the next write throws QuotaExceededError.
    const block = "x".repeat(1024 * 1024);
    for (let i = 0; i < 64; i++) {
      try {
        storage.setItem(`fill-${i}`, block);
      } catch {
        break;
      }
    }
    assert.throws(() => storage.setItem("probe", block), { name: "QuotaExceededError" });
    outbox.saveSession(session);
    outbox.update("u1", (entries) => [...entries, entry("a")]);
    outbox.update("u1", (entries) => [...entries, entry("b")]);
    assert.deepEqual(outbox.session, session);
    assert.deepEqual(outbox.entries("u1"), [entry("a"), entry("b")]);
    assert.equal(storage.getItem("k:outbox"), null, "nothing was written");
  } finally {
    outbox.close();
    storage.clear();
  }
});

Deno.test("ChatOutbox keeps working in memory without storage", () => {
  const outbox = new ChatOutbox("k", { storage: undefined });
  outbox.open();
  try {
    assert.equal(outbox.session, undefined);
    outbox.saveSession(session);
    outbox.update("u1", () => [entry("a")]);
    assert.deepEqual(outbox.session, session);
    assert.deepEqual(outbox.entries("u1"), [entry("a")]);
  } finally {
    outbox.close();
  }
});

Deno.test("ChatOutbox ignores stored text that is not a session or an outbox", () => {
  storage.clear();
  storage.setItem("k", "{not json");
  storage.setItem("k:outbox", JSON.stringify({ entries: "nope" }));
  const outbox = open("k");
  try {
    assert.equal(outbox.session, undefined);
    assert.deepEqual(outbox.entries("u1"), []);
  } finally {
    outbox.close();
    storage.clear();
  }
});
