import assert from "node:assert/strict";
import {
  createMessageIdGenerator,
  isMessageId,
  newSessionId,
  newUserId,
} from "../../server/chat/ids.ts";
import { normalizeUsername } from "../../server/chat/usernames.ts";
import { TokenBucket } from "../../server/transport/rate_limit.ts";
import { ChatError, toWireError } from "../../server/chat/errors.ts";
import { parseHandshake } from "../../server/chat/validation.ts";

Deno.test("createMessageIdGenerator() makes strictly increasing ids even when the clock stands still or steps back", () => {
  const clock = [1000, 1000, 1000, 999, 1001, 1001];
  let i = 0;
  const next = createMessageIdGenerator(() => clock[i++]);
  const ids = clock.map(() => next());
  for (let k = 1; k < ids.length; k++) {
    assert.ok(ids[k - 1].id < ids[k].id, `${ids[k - 1].id} < ${ids[k].id}`);
  }
  assert.ok(ids.every(({ id }) => isMessageId(id)));
  assert.equal(ids[3].timestamp, 1000);
  assert.equal(ids[4].timestamp, 1001);
});

Deno.test("createMessageIdGenerator() sorts by time across generators", () => {
  const a = createMessageIdGenerator(() => 5000)();
  const b = createMessageIdGenerator(() => 5001)();
  assert.ok(a.id < b.id);
});

Deno.test("newSessionId() carries at least 128 random bits and never repeats", () => {
  const ids = new Set(Array.from({ length: 1000 }, () => newSessionId()));
  assert.equal(ids.size, 1000);
  for (const id of ids) {
    assert.match(id, /^[A-Za-z0-9_-]{43}$/); // 43 base64url chars = 256 bits
  }
  assert.match(newUserId(), /^[0-9a-f]{32}$/);
});

Deno.test("normalizeUsername() trims, normalises and folds inner whitespace", () => {
  assert.equal(normalizeUsername("  alice  "), "alice");
  assert.equal(normalizeUsername("Ana   Maria"), "Ana Maria");
  assert.equal(normalizeUsername("e\u0301mile"), "\u00e9mile");
  assert.equal(normalizeUsername("😀".repeat(32)), "😀".repeat(32));
  assert.equal(normalizeUsername("👩‍💻 dev"), "👩‍💻 dev");
});

Deno.test("normalizeUsername() refuses what is not a name, saying why", () => {
  const cases: [unknown, RegExp][] = [
    [42, /must be text/],
    [null, /must be text/],
    [{ toString: () => "x" }, /must be text/],
    ["", /cannot be empty/],
    ["   ", /cannot be empty/],
    ["a".repeat(33), /too long: 33 characters, at most 32/],
    ["😀".repeat(33), /too long/],
    ["bad\u0000name", /^Username cannot contain control characters \(U\+0000\)$/],
    ["tab\there", /control characters \(U\+0009\)/],
    ["line\nbreak", /control characters \(U\+000A\)/],
    [
      "evil\u202Eesrever",
      /^Username cannot contain invisible or formatting characters \(U\+202E\)$/,
    ],
    ["b\uFEFFom", /invisible or formatting characters \(U\+FEFF\)/],
    ["lone\uD800", /invalid Unicode/],
  ];
  for (const [input, message] of cases) {
    assert.throws(() => normalizeUsername(input), (e: unknown) => {
      assert.ok(e instanceof ChatError);
      assert.equal(e.code, "invalid_username");
      assert.match(e.message, message);
      return true;
    }, `input ${JSON.stringify(input)}`);
  }
});

Deno.test("TokenBucket.take() allows the burst, then the rate", () => {
  let now = 0;
  const bucket = new TokenBucket({ rate: 10, burst: 3, now: () => now });
  assert.deepEqual([bucket.take(), bucket.take(), bucket.take(), bucket.take()], [
    true,
    true,
    true,
    false,
  ]);
  now += 100; // 0.1 s at 10/s = one token
  assert.equal(bucket.take(), true);
  assert.equal(bucket.take(), false);
  now += 10_000;
  assert.deepEqual([bucket.take(), bucket.take(), bucket.take(), bucket.take()], [
    true,
    true,
    true,
    false,
  ]);
});

Deno.test("TokenBucket.take() never refuses when the rate is 0", () => {
  const bucket = new TokenBucket({ rate: 0, burst: 1 });
  for (let i = 0; i < 100; i++) assert.equal(bucket.take(), true);
});

Deno.test("toWireError() passes ChatError codes and hides other errors", () => {
  assert.deepEqual(toWireError(new ChatError("content_empty", "Message is empty")), {
    code: "content_empty",
    message: "Message is empty",
  });
  assert.deepEqual(toWireError(new Error("secret stack detail")), {
    code: "internal",
    message: "Internal server error",
  });
});

Deno.test("parseHandshake() keeps what it can use and drops the rest", () => {
  assert.deepEqual(parseHandshake({ sessionID: "s".repeat(43), batchPresence: true }), {
    sessionID: "s".repeat(43),
    batchPresence: true,
  });
  assert.deepEqual(parseHandshake({ username: "Ann", batchPresence: "yes" }), {
    username: "Ann",
    batchPresence: false,
  });
  for (const auth of [undefined, null, "token", 42, [], { sessionID: "" }, { username: "" }]) {
    assert.deepEqual(parseHandshake(auth), { batchPresence: false }, JSON.stringify(auth));
  }
  assert.deepEqual(parseHandshake({ sessionID: "s".repeat(129), username: null }), {
    batchPresence: false,
  });
  // A malformed name is passed on: the username rules judge it only when it is used.
  assert.deepEqual(parseHandshake({ username: 42 }), { username: 42, batchPresence: false });
});
