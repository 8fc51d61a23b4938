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

/** German. */
export const de: ChatStrings = {
  title: "Chat",
  loginTitle: "Chat starten",
  loginHint: "Wähle einen Benutzernamen. Andere sehen ihn neben deinen Nachrichten.",
  usernameLabel: "Benutzername",
  loginButton: "Beitreten",
  loginBusy: "Verbinde…",
  usernameRequired: "Bitte gib einen Benutzernamen ein",
  error_username_taken: "Dieser Benutzername ist bereits vergeben",
  error_invalid_username: "Dieser Benutzername ist ungültig",
  sessionExpired: "Deine Sitzung ist abgelaufen. Bitte wähle erneut einen Benutzernamen.",
  logout: "Abmelden",
  users: "Personen",
  you: "(du)",
  online: "online",
  offline: "offline",
  unread_one: "{n} ungelesene Nachricht",
  unread_other: "{n} ungelesene Nachrichten",
  totalUnread_one: "{n} ungelesen",
  totalUnread_other: "{n} ungelesen",
  noUsers:
    "Noch niemand sonst ist hier. Öffne den Chat in einem anderen Fenster, um ihn auszuprobieren.",
  pickUser: "Wähle eine Person, um ein Gespräch zu beginnen",
  back: "Zurück zu den Personen",
  conversationWith: "Gespräch mit {name}",
  messages: "Nachrichten",
  noMessages: "Noch keine Nachrichten. Sag hallo!",
  loadingOlder: "Ältere Nachrichten werden geladen…",
  loadOlder: "Ältere Nachrichten laden",
  beginning: "Hier beginnt euer Gespräch",
  newMessages: "Neue Nachrichten",
  today: "Heute",
  yesterday: "Gestern",
  composerLabel: "Nachricht an {name}",
  composerPlaceholder: "Nachricht schreiben",
  send: "Senden",
  charsLeft_one: "Noch {n} Zeichen",
  charsLeft_other: "Noch {n} Zeichen",
  tooLong_one: "{n} Zeichen zu viel",
  tooLong_other: "{n} Zeichen zu viel",
  pending: "Wird gesendet…",
  queued: "Wartet auf Verbindung",
  sent: "Gesendet",
  failed: "Nicht gesendet",
  retry: "Erneut senden",
  discard: "Verwerfen",
  connecting: "Verbinde…",
  reconnecting: "Verbindung verloren. Verbinde erneut…",
  offlineBanner: "Du bist offline. Nachrichten werden gesendet, sobald die Verbindung zurück ist.",
  unreachable: "Der Chat-Server {server} ist nicht erreichbar. Neuer Versuch läuft…",
  reconnected: "Verbunden",
};

/** Arabic (right to left). */
export const ar: ChatStrings = {
  dir: "rtl",
  title: "الدردشة",
  loginTitle: "ابدأ الدردشة",
  loginHint: "اختر اسم مستخدم. سيراه الآخرون بجانب رسائلك.",
  usernameLabel: "اسم المستخدم",
  loginButton: "انضمام",
  loginBusy: "جارٍ الانضمام…",
  usernameRequired: "يرجى إدخال اسم مستخدم",
  error_username_taken: "اسم المستخدم هذا مستخدم بالفعل",
  error_invalid_username: "اسم المستخدم هذا غير صالح",
  sessionExpired: "انتهت جلستك. يرجى اختيار اسم مستخدم مرة أخرى.",
  logout: "تسجيل الخروج",
  users: "الأشخاص",
  you: "(أنت)",
  online: "متصل",
  offline: "غير متصل",
  unread_zero: "لا رسائل غير مقروءة",
  unread_one: "رسالة واحدة غير مقروءة",
  unread_two: "رسالتان غير مقروءتين",
  unread_few: "{n} رسائل غير مقروءة",
  unread_many: "{n} رسالة غير مقروءة",
  unread_other: "{n} رسالة غير مقروءة",
  totalUnread_other: "{n} غير مقروءة",
  noUsers: "لا يوجد أحد آخر هنا بعد. افتح الدردشة في نافذة أخرى لتجربتها.",
  pickUser: "اختر شخصًا لبدء محادثة",
  back: "العودة إلى الأشخاص",
  conversationWith: "محادثة مع {name}",
  messages: "الرسائل",
  noMessages: "لا توجد رسائل بعد. قل مرحبًا!",
  loadingOlder: "جارٍ تحميل الرسائل الأقدم…",
  loadOlder: "تحميل الرسائل الأقدم",
  beginning: "هذه بداية محادثتكما",
  newMessages: "رسائل جديدة",
  today: "اليوم",
  yesterday: "أمس",
  composerLabel: "رسالة إلى {name}",
  composerPlaceholder: "اكتب رسالة",
  send: "إرسال",
  charsLeft_other: "متبقٍ {n} حرف",
  tooLong_other: "{n} حرف زائد",
  pending: "جارٍ الإرسال…",
  queued: "في انتظار الاتصال",
  sent: "أُرسلت",
  failed: "لم تُرسل",
  retry: "إعادة المحاولة",
  discard: "تجاهل",
  connecting: "جارٍ الاتصال…",
  reconnecting: "انقطع الاتصال. جارٍ إعادة الاتصال…",
  offlineBanner: "أنت غير متصل. ستُرسل الرسائل عند عودة الاتصال.",
  unreachable: "تعذّر الوصول إلى خادم الدردشة {server}. جارٍ إعادة المحاولة…",
  reconnected: "متصل",
};

/**
 * The shipped tables by language tag. `registerLocale()` adds to it; a
 * lookup tries the full tag (`pt-BR`), then its language (`pt`), then English.
 */
export function createLocaleRegistry(): Map<string, ChatStrings> {
  return new Map([["en", en], ["de", de], ["ar", ar]]);
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
