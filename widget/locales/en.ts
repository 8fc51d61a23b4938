/**
 * English: the fallback for every other table, and, with the English of the chunks loaded on
 * demand (`en-conversation.ts`, `en-dialogs.ts`, `en-launcher.ts`, `en-search.ts`), the one
 * list of keys. Their keys type every other table and every `t()` call, so a misspelt key is a
 * type error.
 */
import type { ChatErrorCode } from "../chat-state.ts";
import type { enConversation } from "./en-conversation.ts";
import type { enDialogs } from "./en-dialogs.ts";
import type { enSearch } from "./en-search.ts";
import type { enLauncher } from "./en-launcher.ts";

/** English for the first view (the bundle's); the rest comes with the chunks that show it. */
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
  conversationWith: "Conversation with {name}",
  messages: "Messages",
  connecting: "Connecting…",
  reconnecting: "Connection lost. Reconnecting…",
  offlineBanner: "You are offline. Messages will be sent when the connection returns.",
  unreachable: "Cannot reach the chat server at {server}. Retrying…",
  reconnected: "Connected",
  cancel: "Cancel",
  accountDeleted: "Your account was deleted. Its name is free again.",
  deletedUser: "Deleted user",
  error_auth_required: "Sign in on the site to chat",
  error_invalid_token: "Your sign-in could not be verified",
  error_token_expired: "Your sign-in has expired",
  error_token_unavailable: "Your sign-in could not be fetched from the site",
  tryAgain: "Try again",
  loading: "Loading…",
  conversations: "Conversations",
  previewMine: "You: {text}",
  previewDeleted: "Message deleted",
  searchLabel: "Search people",
  error_origin_not_allowed: "This site is not allowed to use the chat server",
  typingShort: "typing…",
  lastSeen: "last seen {time}",
  lastSeenNow: "last seen just now",
  blocked: "blocked",
  settings: "Settings",
} satisfies Record<string, string>;

/** A key of the English tables. */
type EnglishKey =
  | keyof typeof en
  | keyof typeof enConversation
  | keyof typeof enDialogs
  | keyof typeof enLauncher
  | keyof typeof enSearch;

/** The plural categories of `Intl.PluralRules`. */
type PluralCategory = Intl.LDMLPluralRule;

/** A key `t(key, { n })` picks a plural form for: `unread` looks up `unread_one`, `unread_other`, … */
export type PluralKey = EnglishKey extends infer K ? K extends `${infer Base}_other` ? Base : never
  : never;

/** A key with one text. */
export type TextKey = Exclude<EnglishKey, `${PluralKey}_${PluralCategory}`>;

/** The text for a server refusal, shown instead of the server's own words when a table has it. */
export type ErrorKey = `error_${ChatErrorCode}`;

/**
 * One language's strings: any of English's keys, more plural forms than English needs
 * (`_zero`, `_two`, `_few`, `_many`), and `error_<code>`. Missing keys fall back to English.
 */
export type ChatStrings = {
  [K in TextKey | `${PluralKey}_${PluralCategory}` | ErrorKey]?: string;
};
