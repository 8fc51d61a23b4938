/**
 * What the widget exports: its elements, its English strings and its types. Importing this
 * module registers nothing (`define.ts` does); the bundle, `dist/chat-widget.js`, is both.
 */
export { ChatLogin } from "./chat-login.ts";
export { ChatUserList } from "./chat-user-list.ts";
export { ChatWidget } from "./chat-widget.ts";
// The conversation and the dialogs are chunks loaded on demand (conversation.ts, dialogs.ts):
// only their types are exported.
export type { ChatComposer } from "./chat-composer.ts";
export type { ChatConversation } from "./chat-conversation.ts";
export type { ChatConfirmDialog, ConfirmRequest } from "./chat-confirm-dialog.ts";
export type { ChatLogoutDialog } from "./chat-logout-dialog.ts";
// German and Arabic are chunks loaded on demand (see SHIPPED_LOCALES), so only English is exported.
export { en } from "./locales/en.ts";
export type { ChatStrings } from "./locales/en.ts";
export type {
  ChatError,
  ChatErrorCode,
  ChatIdentity,
  ChatMessage,
  ChatUser,
  ConnectionState,
  DeliveryState,
  Receipt,
} from "./chat-state.ts";
