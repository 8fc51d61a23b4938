/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * Every string the widget shows. A table maps keys to text; `{name}` marks a
 * value filled in at render time. Keys ending in `_one`, `_two`, `_few`, `_many`,
 * `_other` (or `_zero`) are plural forms picked with `Intl.PluralRules`.
 */

import { type ChatStrings, en, type ErrorKey, type PluralKey, type TextKey } from "./locales/en.ts";

/**
 * Tables that ship as chunks of their own (`chat-widget-<lang>-<hash>.js` beside the
 * bundle), loaded the first time a widget shows that language, so English pages never
 * download them.
 */
export const SHIPPED_LOCALES: Record<string, () => Promise<ChatStrings>> = {
  de: () => import("./locales/de.ts").then((m) => m.de),
  ar: () => import("./locales/ar.ts").then((m) => m.ar),
};

/**
 * The tables at hand by language tag: English; `registerLocale()`, loaded shipped tables and
 * the English of loaded chunks add to it. A lookup tries the full tag (`pt-BR`), then its
 * language (`pt`), then English (this registry's, then the bundle's).
 */
export function createLocaleRegistry(): Map<string, ChatStrings> {
  return new Map([["en", en]]);
}

/** Values filled into `{name}` marks. */
export type TranslateValues = Record<string, string | number>;

/** Turns a key and values into text for one language. */
export interface Translate {
  /** The text of `key`, with `{name}` marks filled in from `values`. */
  (key: TextKey, values?: TranslateValues): string;
  /** The plural form of `key` for `values.n` (`unread` -> `unread_one`, `unread_other`, …). */
  (key: PluralKey, values: TranslateValues & { n: number }): string;
  /** The text of a key only some tables have, or undefined when none of them has it. */
  optional(key: ErrorKey): string | undefined;
}

/** Builds the lookup for `lang` from the registry, with `overrides` on top. */
export function createTranslator(
  registry: Map<string, ChatStrings>,
  lang: string,
  overrides?: ChatStrings,
): { t: Translate; dir: "ltr" | "rtl"; lang: string } {
  const tag = lang || "en";
  const table: ChatStrings = registry.get(tag) ?? registry.get(tag.split("-")[0].toLowerCase()) ??
    {};
  // Keys are checked where `t()` is called; inside, a table is looked up by any key.
  const own = (key: string): string | undefined =>
    (overrides as Record<string, string> | undefined)?.[key] ??
      (table as Record<string, string>)[key];
  // English as the registry holds it: the bundle's, with what loaded chunks brought.
  const registered = registry.get("en") as Record<string, string> | undefined;
  const bundled = en as Record<string, string>;
  const english = (key: string): string | undefined => registered?.[key] ?? bundled[key];
  const lookup = (key: string) => own(key) ?? english(key);
  let plurals: Intl.PluralRules;
  try {
    plurals = new Intl.PluralRules(tag);
  } catch {
    plurals = new Intl.PluralRules("en");
  }
  const translate = (key: string, values?: TranslateValues): string => {
    let text: string | undefined;
    const n = values?.n;
    if (typeof n === "number") {
      // Plural forms come from one table only, so a partial table never mixes languages.
      text = (n === 0 ? own(`${key}_zero`) : undefined) ?? own(`${key}_${plurals.select(n)}`) ??
        own(`${key}_other`) ?? english(`${key}_${n === 1 ? "one" : "other"}`);
    }
    text ??= lookup(key) ?? key;
    return values
      ? text.replace(/\{(\w+)\}/g, (m, name) => name in values ? String(values[name]) : m)
      : text;
  };
  const t = Object.assign(translate, { optional: (key: ErrorKey) => lookup(key) }) as Translate;
  return { t, dir: lookup("dir") === "rtl" ? "rtl" : "ltr", lang: tag };
}
