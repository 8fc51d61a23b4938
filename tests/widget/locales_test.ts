import assert from "node:assert/strict";
import { createLocaleRegistry, createTranslator } from "../../widget/chat-locales.ts";
import { DateTimeFormats, lastSeenLabel, listTime } from "../../widget/format.ts";
import { ar } from "../../widget/locales/ar.ts";
import type { ChatStrings } from "../../widget/locales/en.ts";
import { de } from "../../widget/locales/de.ts";
import { en } from "../../widget/locales/en.ts";
import { enConversation } from "../../widget/locales/en-conversation.ts";
import { enDialogs } from "../../widget/locales/en-dialogs.ts";
import { enLauncher } from "../../widget/locales/en-launcher.ts";

/** Every English key: the bundle's and the chunks'. */
const ENGLISH = { ...en, ...enConversation, ...enDialogs, ...enLauncher };

Deno.test("the shipped tables translate every English key, the chunks' too", () => {
  for (const [lang, table] of Object.entries({ de, ar })) {
    const missing = Object.keys(ENGLISH).filter((key) =>
      key !== "dir" && !(key in table) && !(`${key.replace(/_(one|other)$/, "")}_other` in table)
    );
    assert.deepEqual(missing, [], `keys missing from ${lang}`);
  }
  const chunks = [enConversation, enDialogs, enLauncher];
  const overlap = Object.keys(en).filter((key) => chunks.some((table) => key in table));
  assert.deepEqual(overlap, [], "each English key lives in one table");
});

Deno.test("createTranslator() falls back to English as the registry holds it, with what chunks added", () => {
  const registry = createLocaleRegistry();
  registry.set("fr", { title: "Discussion" });
  const before = createTranslator(registry, "fr").t;
  assert.equal(before("title"), "Discussion");
  assert.equal(before("send"), "send", "not loaded yet: the key");
  registry.set("en", { ...enConversation, ...registry.get("en") });
  const after = createTranslator(registry, "fr").t;
  assert.equal(after("send"), "Send");
  assert.equal(after("charsLeft", { n: 2 }), "2 characters left");
  assert.equal(createTranslator(registry, "en").t("send"), "Send");
});

Deno.test("lastSeenLabel() says how long ago in the largest unit that fits, in the language", () => {
  const now = Date.UTC(2026, 0, 15, 12);
  const formats = new DateTimeFormats();
  const label = (lang: string, table: ChatStrings, ago: number) =>
    lastSeenLabel(now - ago, {
      t: createTranslator(new Map<string, ChatStrings>([["en", en], [lang, table]]), lang).t,
      lang,
      formats,
      now,
    });
  const minute = 60_000;
  assert.equal(label("en", en, 20_000), "last seen just now");
  assert.equal(label("en", en, -5_000), "last seen just now", "a clock a little ahead");
  assert.equal(label("en", en, 5 * minute), "last seen 5 minutes ago");
  assert.equal(label("en", en, 61 * minute), "last seen 1 hour ago");
  assert.equal(label("en", en, 26 * 60 * minute), "last seen yesterday");
  assert.equal(label("en", en, 3 * 24 * 60 * minute), "last seen 3 days ago");
  assert.equal(label("en", en, 8 * 24 * 60 * minute), "last seen last week");
  assert.equal(label("en", en, 400 * 24 * 60 * minute), "last seen last year");
  assert.equal(label("de", de, 5 * minute), "zuletzt online vor 5 Minuten");
  assert.equal(label("de", de, 0), "gerade noch online");
  assert.match(label("ar", ar, 5 * minute), /^آخر ظهور /);
});

Deno.test("listTime() says the time today, the weekday within a week, else the date, in the language", () => {
  // Local times: the list shows the reader's own clock.
  const now = new Date(2026, 0, 15, 12, 0).getTime();
  const formats = new DateTimeFormats();
  const at = (...parts: number[]) => new Date(2026, ...(parts as [number])).getTime();
  assert.equal(listTime(at(0, 15, 9, 5), { lang: "en-US", formats, now }), "9:05 AM");
  assert.equal(listTime(at(0, 15, 9, 5), { lang: "de", formats, now }), "9:05");
  assert.equal(listTime(at(0, 14, 9, 5), { lang: "de", formats, now }), "Mi");
  assert.equal(listTime(at(0, 14, 23, 59), { lang: "en-US", formats, now }), "Wed");
  assert.equal(listTime(at(0, 9, 8), { lang: "en-US", formats, now }), "Fri");
  assert.equal(listTime(at(0, 8, 8), { lang: "en-US", formats, now }), "Jan 8");
  assert.equal(
    listTime(new Date(2025, 11, 24).getTime(), { lang: "en-US", formats, now }),
    "Dec 24, 2025",
  );
  assert.equal(listTime(now + 60_000, { lang: "en-US", formats, now }), "12:01 PM");
});
