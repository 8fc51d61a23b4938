/**
 * English: in the bundle, the fallback for every other table, and the one list of keys. Its
 * keys type every other table and every `t()` call, so a misspelt key is a type error.
 */
import type { ErrorCode } from "../../server/protocol.ts";

/** English, the fallback for every other table. */
export const en = {
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
} satisfies Record<string, string>;

/** A key of the English table. */
type EnglishKey = keyof typeof en;

/** The plural categories of `Intl.PluralRules`. */
type PluralCategory = Intl.LDMLPluralRule;

/** A key `t(key, { n })` picks a plural form for: `unread` looks up `unread_one`, `unread_other`, … */
export type PluralKey = EnglishKey extends infer K ? K extends `${infer Base}_other` ? Base : never
  : never;

/** A key with one text. */
export type TextKey = Exclude<EnglishKey, `${PluralKey}_${PluralCategory}`>;

/** The text for a server refusal, shown instead of the server's own words when a table has it. */
export type ErrorKey = `error_${ErrorCode}`;

/**
 * One language's strings: any of English's keys, more plural forms than English needs
 * (`_zero`, `_two`, `_few`, `_many`), and `error_<code>`. Missing keys fall back to English.
 */
export type ChatStrings = {
  [K in TextKey | `${PluralKey}_${PluralCategory}` | ErrorKey]?: string;
};
