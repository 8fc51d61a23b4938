/**
 * Names that cannot impersonate: the characters a name may hold, and when two
 * names are the same.
 */

import assert from "node:assert/strict";
import { ChatError } from "../../server/chat/errors.ts";
import { nameKeys, normalizeUsername } from "../../server/chat/usernames.ts";
import { connectError, startTestServer } from "./helpers.ts";

/** The `invalid_username` message `normalizeUsername(input)` throws. */
function refusal(input: string): string {
  try {
    normalizeUsername(input);
  } catch (error) {
    assert.ok(error instanceof ChatError, `input ${JSON.stringify(input)}`);
    assert.equal(error.code, "invalid_username");
    return error.message;
  }
  assert.fail(`${JSON.stringify(input)} was accepted`);
}

// Every character of the security review, and its kin: each draws nothing.
const INVISIBLE: [string, string][] = [
  ["\u200B", "ZERO WIDTH SPACE"],
  ["\u200C", "ZERO WIDTH NON-JOINER"],
  ["\u200D", "ZERO WIDTH JOINER (outside an emoji)"],
  ["\u2060", "WORD JOINER"],
  ["\u00AD", "SOFT HYPHEN"],
  ["\u200E", "LEFT-TO-RIGHT MARK"],
  ["\u200F", "RIGHT-TO-LEFT MARK"],
  ["\u061C", "ARABIC LETTER MARK"],
  ["\u3164", "HANGUL FILLER"],
  ["\uFFA0", "HALFWIDTH HANGUL FILLER"],
  ["\u115F", "HANGUL CHOSEONG FILLER"],
  ["\u2800", "BRAILLE PATTERN BLANK"],
  ["\u{E0041}", "TAG LATIN CAPITAL LETTER A"],
  ["\u{E0001}", "LANGUAGE TAG"],
  ["\uFE0F", "VARIATION SELECTOR-16 (outside an emoji)"],
  ["\uFE00", "VARIATION SELECTOR-1"],
  ["\u{E0100}", "VARIATION SELECTOR-17"],
  ["\u034F", "COMBINING GRAPHEME JOINER"],
  ["\u180E", "MONGOLIAN VOWEL SEPARATOR"],
  ["\u2062", "INVISIBLE TIMES"],
  ["\uFEFF", "ZERO WIDTH NO-BREAK SPACE"],
  ["\u202E", "RIGHT-TO-LEFT OVERRIDE"],
  ["\u2066", "LEFT-TO-RIGHT ISOLATE"],
];

const hex = (c: string) => c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0");

Deno.test("normalizeUsername() refuses every invisible character inside a name, naming its code point", () => {
  for (const [c, name] of INVISIBLE) {
    const message = refusal(`adm${c}in`);
    assert.equal(
      message,
      `Username cannot contain invisible or formatting characters (U+${hex(c)})`,
      name,
    );
    assert.match(message, /^[\x20-\x7E]+$/, `${name}: the message is plain text`);
  }
  assert.equal(
    refusal("x\u200By\u200Cz\u2060w\u00ADq\u200B"),
    "Username cannot contain invisible or formatting characters (U+200B, U+200C, U+2060 and 1 more)",
  );
});

Deno.test("normalizeUsername() refuses a name that is blank once invisible characters are removed", () => {
  for (const [c, name] of INVISIBLE) {
    if (c === "\uFEFF") continue; // Whitespace to String.prototype.trim(): "cannot be empty".
    assert.equal(
      refusal(c),
      `Username cannot be blank: it has only invisible characters (U+${hex(c)})`,
      name,
    );
  }
  assert.equal(
    refusal(" \u200B \u3164\u2800 "),
    "Username cannot be blank: it has only invisible characters (U+200B, U+3164, U+2800)",
  );
  assert.equal(refusal("\uFEFF"), "Username cannot be empty");
});

Deno.test("normalizeUsername() keeps emoji joined by U+200D or styled by U+FE0F, and only those", () => {
  for (
    const emoji of [
      "👩‍💻 dev", // woman, ZWJ, laptop
      "👩🏽‍💻", // with a skin tone before the joiner
      "🏳️‍🌈", // U+FE0F, then the joiner
      "🧑‍🤝‍🧑",
      "❤️",
      "#️⃣", // keycap: #, U+FE0F, U+20E3
    ]
  ) {
    assert.equal(normalizeUsername(emoji), emoji);
  }
  const cases: [string, string][] = [
    ["a\u200Db", "200D"], // between letters
    ["\u200D👩", "200D"], // nothing before
    ["👩\u200D", "200D"], // nothing after
    ["x\u200D💻", "200D"], // a letter before
    ["a\uFE0F", "FE0F"], // a letter is no emoji
    [
      "🏴\u{E0067}\u{E0062}\u{E0065}\u{E006E}\u{E0067}\u{E007F}",
      "E0067, U+E0062, U+E0065 and 2 more",
    ],
  ];
  for (const [input, points] of cases) {
    assert.equal(
      refusal(input),
      `Username cannot contain invisible or formatting characters (U+${points})`,
      JSON.stringify(input),
    );
  }
});

/** True when `a` and `b` are the same name: they share a key. */
function same(a: string, b: string): boolean {
  const keys = new Set(nameKeys(normalizeUsername(a)));
  return nameKeys(normalizeUsername(b)).some((key) => keys.has(key));
}

Deno.test("nameKeys() makes look-alikes, case and width variants of a name the same name", () => {
  const alike: [string, string, string][] = [
    ["admin", "ADMIN", "case"],
    ["admin", "Admin", "case"],
    ["admin", "ａｄｍｉｎ", "fullwidth"],
    ["admin", "𝐚𝐝𝐦𝐢𝐧", "mathematical bold"],
    ["admin", "\u0430dmin", "Cyrillic а"],
    ["admin", "\u03B1dmin", "Greek α"],
    ["admin", "\u0430\u0501m\u0456n", "Cyrillic а, ԁ and і"],
    ["admin", "adrnin", "rn for m"],
    ["admin", "\u0410DMIN", "Cyrillic А, in capitals"],
    ["ADMIN", "ADMlN", "small l for capital I"],
    ["PayPal", "PayPaI", "capital I for small l"],
    ["Kate", "\u039Aate", "Greek Κ"],
    ["BOB", "\u0412\u041E\u0412", "Cyrillic ВОВ"],
    ["bob", "b0b", "zero for o"],
    ["Émile", "émile", "case, with an accent"],
    ["Émile", "E\u0301mile", "composed or not"],
    ["👨‍👩‍👧", "👨👩👧", "the same emoji with or without joiners"],
    ["❤️", "❤", "the same emoji with or without U+FE0F"],
  ];
  for (const [a, b, why] of alike) assert.ok(same(a, b), `${a} / ${b}: ${why}`);
  const unlike: [string, string][] = [
    ["alice", "alicia"],
    ["emile", "émile"],
    ["Ilan", "Lian"],
    ["ana", "anna"],
    ["ad min", "admin"],
    ["东京", "京东"],
  ];
  for (const [a, b] of unlike) assert.ok(!same(a, b), `${a} / ${b}`);
});

Deno.test("nameKeys() gives one key to a name written in small letters, two at most", () => {
  assert.deepEqual(nameKeys("admin"), ["adrnin"]);
  assert.deepEqual(nameKeys("ADMIN"), ["adrnin", "admln"]);
  for (const name of ["Ünïcode", "ΝΙΚΟΣ", "東京", "👩‍💻 dev", "a".repeat(32)]) {
    const keys = nameKeys(name);
    assert.ok(keys.length >= 1 && keys.length <= 2, name);
    assert.deepEqual(nameKeys(name), keys, "the same every time");
  }
});

Deno.test("a look-alike of a taken name is taken, over the server, and so are its case and width variants", async () => {
  await using server = await startTestServer();
  await server.connect({ username: "admin" });
  await server.connect({ username: "PayPal" });
  for (
    const name of [
      "ADMIN",
      "ａｄｍｉｎ",
      "\u0430dmin", // Cyrillic а
      "\u03B1dmin", // Greek α
      "\u0410DMIN", // Cyrillic А
      "adrnin",
      "PayPaI", // capital I for small l
      "PAYPAL",
    ]
  ) {
    const taken = await connectError(server.url, { username: name });
    assert.equal(taken.data?.code, "username_taken", name);
    assert.equal(taken.message, `Username "${name}" is already taken`);
  }
  const hidden = await connectError(server.url, { username: "adm\u200Bin" });
  assert.equal(hidden.data?.code, "invalid_username");
  assert.equal(
    hidden.message,
    "Username cannot contain invisible or formatting characters (U+200B)",
  );
  const blank = await connectError(server.url, { username: "\u3164" });
  assert.equal(
    blank.message,
    "Username cannot be blank: it has only invisible characters (U+3164)",
  );
  // Names that only share letters are free.
  assert.equal(
    (await server.connect({ username: "administrator" })).session.username,
    "administrator",
  );
  assert.equal((await server.connect({ username: "Pay Pal" })).session.username, "Pay Pal");
});

Deno.test("deleting an account frees every key of its name", async () => {
  await using server = await startTestServer();
  const admin = await server.connect({ username: "ADMIN" });
  assert.equal(nameKeys("ADMIN").length, 2);
  assert.equal(
    (await connectError(server.url, { username: "ADMlN" })).data?.code,
    "username_taken",
  );
  assert.deepEqual(await admin.socket.emitWithAck("delete account", {}), { ok: true });
  const again = await server.connect({ username: "ADMlN" });
  assert.equal(again.session.username, "ADMlN");
  assert.notEqual(again.session.userID, admin.session.userID);
  assert.equal((await server.connect({ username: "admin" })).session.username, "admin");
});
