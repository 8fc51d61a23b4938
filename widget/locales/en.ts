/**
 * English: in the bundle, the fallback for every other table, and the one list of keys. Its
 * keys type every other table and every `t()` call, so a misspelt key is a type error.
 */
import type { ChatErrorCode } from "../chat-state.ts";

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
  logoutTitle: "Log out of the chat?",
  logoutDevice: "Log out on this device",
  logoutDeviceHint:
    "Your session here ends; your messages stay. While another device is still signed in as {name}, the name stays yours. With no device signed in, nobody can sign in as {name} again, you included, until the account is deleted after {days} days unused.",
  logoutDeviceHintKept:
    "Your session here ends; your messages stay. While another device is still signed in as {name}, the name stays yours. With no device signed in, nobody can sign in as {name} again, you included.",
  deleteAccount: "Delete my account",
  deleteAccountHint:
    "The name {name} is free again at once. Messages you wrote are replaced by “Message deleted” for everyone.",
  cancel: "Cancel",
  deleting: "Deleting…",
  deleteFailed: "The account was not deleted: {reason}",
  accountDeleted: "Your account was deleted. Its name is free again.",
  deletedUser: "Deleted user",
  messageDeleted: "Message deleted",
  peerDeleted: "This account was deleted. Messages can no longer be sent to it.",
  error_recipient_deleted: "This person deleted their account",
  error_auth_required: "Sign in on the site to chat",
  error_invalid_token: "Your sign-in could not be verified",
  error_token_expired: "Your sign-in has expired",
  error_token_unavailable: "Your sign-in could not be fetched from the site",
  tryAgain: "Try again",
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
export type ErrorKey = `error_${ChatErrorCode}`;

/**
 * One language's strings: any of English's keys, more plural forms than English needs
 * (`_zero`, `_two`, `_few`, `_many`), and `error_<code>`. Missing keys fall back to English.
 */
export type ChatStrings = {
  [K in TextKey | `${PluralKey}_${PluralCategory}` | ErrorKey]?: string;
};
