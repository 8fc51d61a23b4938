/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * Every string the widget shows. A table maps keys to text; `{name}` marks a
 * value filled in at render time. Keys ending in `_one`, `_two`, `_few`, `_many`,
 * `_other` (or `_zero`) are plural forms picked with `Intl.PluralRules`.
 */

/** One locale's strings. Missing keys fall back to English. */
export type ChatStrings = Record<string, string>;

/** English, the fallback for every other table. */
export const en: ChatStrings = {
  dir: "ltr",
  title: "Chat",
  loginTitle: "Start chatting",
  loginHint: "Pick a username. Others will see it next to your messages.",
  usernameLabel: "Username",
  loginButton: "Join",
  loginBusy: "Joining…",
  usernameRequired: "Please enter a username",
  sessionExpired: "Your session has ended. Please pick a username again.",
  logout: "Log out",
  users: "People",
  you: "(you)",
  online: "online",
  offline: "offline",
  unread_one: "{n} unread message",
  unread_other: "{n} unread messages",
  totalUnread_one: "{n} unread",
  totalUnread_other: "{n} unread",
  noUsers: "Nobody else is here yet. Open the chat in another window to try it.",
  pickUser: "Select a person to start a conversation",
  back: "Back to people",
  conversationWith: "Conversation with {name}",
  messages: "Messages",
  noMessages: "No messages yet. Say hello!",
  loadingOlder: "Loading older messages…",
  loadOlder: "Load older messages",
  beginning: "This is the beginning of your conversation",
  newMessages: "New messages",
  today: "Today",
  yesterday: "Yesterday",
  composerLabel: "Message to {name}",
  composerPlaceholder: "Write a message",
  send: "Send",
  charsLeft_one: "{n} character left",
  charsLeft_other: "{n} characters left",
  tooLong_one: "{n} character too many",
  tooLong_other: "{n} characters too many",
  pending: "Sending…",
  queued: "Waiting for connection",
  sent: "Sent",
  failed: "Not sent",
  retry: "Retry",
  discard: "Discard",
  connecting: "Connecting…",
  reconnecting: "Connection lost. Reconnecting…",
  offlineBanner: "You are offline. Messages will be sent when the connection returns.",
  unreachable: "Cannot reach the chat server at {server}. Retrying…",
  reconnected: "Connected",
};

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
 * The tables at hand by language tag: English; `registerLocale()` and loaded shipped
 * tables add to it. A lookup tries the full tag (`pt-BR`), then its language (`pt`), then English.
 */
export function createLocaleRegistry(): Map<string, ChatStrings> {
  return new Map([["en", en]]);
}

/** Turns a key and values into text for one language. */
export type Translate = (key: string, values?: Record<string, string | number>) => string;

/** Builds the lookup for `lang` from the registry, with `overrides` on top. */
export function createTranslator(
  registry: Map<string, ChatStrings>,
  lang: string,
  overrides?: ChatStrings,
): { t: Translate; dir: "ltr" | "rtl"; lang: string } {
  const tag = lang || "en";
  const table = registry.get(tag) ?? registry.get(tag.split("-")[0].toLowerCase()) ?? {};
  const own = (key: string) => overrides?.[key] ?? table[key];
  const lookup = (key: string) => own(key) ?? en[key];
  let plurals: Intl.PluralRules;
  try {
    plurals = new Intl.PluralRules(tag);
  } catch {
    plurals = new Intl.PluralRules("en");
  }
  const t: Translate = (key, values) => {
    let text: string | undefined;
    const n = values?.n;
    if (typeof n === "number") {
      // Plural forms come from one table only, so a partial table never mixes languages.
      text = (n === 0 ? own(`${key}_zero`) : undefined) ?? own(`${key}_${plurals.select(n)}`) ??
        own(`${key}_other`) ?? en[`${key}_${n === 1 ? "one" : "other"}`];
    }
    text ??= lookup(key) ?? key;
    return values
      ? text.replace(/\{(\w+)\}/g, (m, name) => name in values ? String(values[name]) : m)
      : text;
  };
  return { t, dir: lookup("dir") === "rtl" ? "rtl" : "ltr", lang: tag };
}
