/**
 * Times in the page's language: one cache of `Intl` formats, and "last seen 5 minutes ago".
 * Pure functions and one cache; no element state.
 */
import type { Translate } from "./chat-locales.ts";

/** One day, in milliseconds. */
const DAY_MS = 86_400_000;

/**
 * `Intl.DateTimeFormat`s (and `Intl.RelativeTimeFormat`s) made once per language and options:
 * building one is far slower than formatting with it, and a conversation formats every
 * message's time on each render.
 */
export class DateTimeFormats {
  #cache = new Map<string, Intl.DateTimeFormat>();
  #relative = new Map<string, Intl.RelativeTimeFormat>();

  /** "5 minutes ago", "yesterday" in `lang` (the runtime's default when `lang` is not a valid tag). */
  relative(lang: string): Intl.RelativeTimeFormat {
    let format = this.#relative.get(lang);
    if (!format) {
      try {
        format = new Intl.RelativeTimeFormat(lang || undefined, { numeric: "auto" });
      } catch {
        format = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
      }
      this.#relative.set(lang, format);
    }
    return format;
  }

  /** The format for `lang` (the runtime's default when `lang` is not a valid tag). */
  get(lang: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
    const key = `${lang}|${JSON.stringify(options)}`;
    let format = this.#cache.get(key);
    if (!format) {
      try {
        format = new Intl.DateTimeFormat(lang || undefined, options);
      } catch {
        format = new Intl.DateTimeFormat(undefined, options);
      }
      this.#cache.set(key, format);
    }
    return format;
  }
}

/** The largest unit that fits, from minutes up: "last seen" says no more than people need. */
const RELATIVE_UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ["year", 365 * DAY_MS],
  ["month", 30 * DAY_MS],
  ["week", 7 * DAY_MS],
  ["day", DAY_MS],
  ["hour", 3_600_000],
  ["minute", 60_000],
];

/** "last seen 5 minutes ago" (in the table's words and the language's numbers), or "just now". */
export function lastSeenLabel(
  lastSeen: number,
  options: { t: Translate; lang: string; formats: DateTimeFormats; now?: number },
): string {
  const { t, lang, formats } = options;
  const ago = Math.max(0, (options.now ?? Date.now()) - lastSeen);
  for (const [unit, ms] of RELATIVE_UNITS) {
    if (ago >= ms) {
      return t("lastSeen", { time: formats.relative(lang).format(-Math.floor(ago / ms), unit) });
    }
  }
  return t("lastSeenNow");
}

/** Midnight before `time`, local time. */
function startOfDay(time: number): number {
  const date = new Date(time);
  date.setHours(0, 0, 0, 0);
  return date.getTime();
}

/**
 * When a conversation's last message was sent, as short as the list needs: the time today,
 * the weekday within the last week, else the date (with the year when it is not this one).
 */
export function listTime(
  timestamp: number,
  options: { lang: string; formats: DateTimeFormats; now?: number },
): string {
  const { lang, formats } = options;
  const now = options.now ?? Date.now();
  const days = Math.round((startOfDay(now) - startOfDay(timestamp)) / DAY_MS);
  const date = new Date(timestamp);
  if (days <= 0) return formats.get(lang, { hour: "numeric", minute: "2-digit" }).format(date);
  if (days < 7) return formats.get(lang, { weekday: "short" }).format(date);
  const sameYear = date.getFullYear() === new Date(now).getFullYear();
  return formats.get(
    lang,
    sameYear
      ? { month: "short", day: "numeric" }
      : { year: "numeric", month: "short", day: "numeric" },
  ).format(date);
}
