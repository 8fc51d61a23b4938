/**
 * What a name's uniqueness keys cost: `deno bench tests/bench/name_keys_bench.ts`.
 * Every sign-up computes them once, and the format 4 migration once per user.
 */

import { nameKeys, normalizeUsername } from "../../server/chat/usernames.ts";

const NAMES = [
  "alice",
  "Ana Maria",
  "ADMIN",
  "Émile Zola",
  "\u0430dmin",
  "ａｄｍｉｎ",
  "👩‍💻 dev",
  "Νίκος Παπαδόπουλος",
  "東京タワー",
  "x".repeat(32),
];
// The longest key a name of 32 characters can have.
const WORST = "\uFDFA".repeat(32);

let i = 0;
Deno.bench("nameKeys(), ten everyday names in turn", () => {
  nameKeys(NAMES[i++ % NAMES.length]);
});

Deno.bench("nameKeys(), 32 times U+FDFA (the longest expansion)", () => {
  nameKeys(WORST);
});

let j = 0;
Deno.bench("normalizeUsername(), ten everyday names in turn", () => {
  normalizeUsername(NAMES[j++ % NAMES.length]);
});
