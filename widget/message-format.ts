/**
 * How messages read: web addresses as links, day separators in the page's language. Pure
 * functions; the conversation's chunk carries them.
 */
import { html, type TemplateResult } from "lit";
import type { Translate } from "./chat-locales.ts";
import type { DateTimeFormats } from "./format.ts";

/** Web addresses in message text; only http(s), so no other scheme can become a link. */
const URL_PATTERN = /\bhttps?:\/\/[^\s<>"']+/g;

/** One day, in milliseconds: "yesterday" is the day that contains this long ago. */
const DAY_MS = 86_400_000;

/** Message text with web addresses as links; everything else stays text. */
export function linkify(text: string): (string | TemplateResult)[] {
  const out: (string | TemplateResult)[] = [];
  let last = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    // Punctuation that ends a sentence is not part of the address.
    const url = match[0].replace(/[.,;:!?)\]}]+$/, "");
    out.push(
      text.slice(last, match.index),
      html`<a href=${url} target="_blank" rel="noopener noreferrer nofollow" part="link">${url}</a>`,
    );
    last = match.index + url.length;
  }
  out.push(text.slice(last));
  return out;
}

/** The local calendar day of `timestamp`, as a key that is equal for equal days. */
export function dayKey(timestamp: number): string {
  const d = new Date(timestamp);
  return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
}

/**
 * The label of a day separator: "Today", "Yesterday", else the date (with the weekday in the
 * current year, with the year before it).
 */
export function dayLabel(
  timestamp: number,
  options: { t: Translate; lang: string; formats: DateTimeFormats; now?: number },
): string {
  const { t, lang, formats } = options;
  const now = options.now ?? Date.now();
  const key = dayKey(timestamp);
  if (key === dayKey(now)) return t("today");
  if (key === dayKey(now - DAY_MS)) return t("yesterday");
  const thisYear = new Date(timestamp).getFullYear() === new Date(now).getFullYear();
  return formats.get(
    lang,
    thisYear
      ? { weekday: "long", day: "numeric", month: "long" }
      : { day: "numeric", month: "long", year: "numeric" },
  ).format(timestamp);
}
