/**
 * What the widget exports: its elements, its English strings and its types. Importing this
 * module registers nothing (`define.ts` does); the bundle, `dist/chat-widget.js`, is both.
 */
export { ChatComposer } from "./chat-composer.ts";
export { ChatConversation } from "./chat-conversation.ts";
export { ChatLogin } from "./chat-login.ts";
export { ChatLogoutDialog } from "./chat-logout-dialog.ts";
export { ChatUserList } from "./chat-user-list.ts";
export { ChatWidget } from "./chat-widget.ts";
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
} from "./chat-state.ts";
