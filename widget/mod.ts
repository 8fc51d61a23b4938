/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The `<chat-widget>` bundle entry. Importing it defines the elements when a
 * custom element registry exists, and nothing else: it is safe to import
 * where `window` is missing (server-side rendering, tests, workers).
 */
import { ChatComposer } from "./chat-composer.ts";
import { ChatConversation } from "./chat-conversation.ts";
import { ChatLogin } from "./chat-login.ts";
import { ChatUserList } from "./chat-user-list.ts";
import { ChatWidget } from "./chat-widget.ts";

export { ChatComposer, ChatConversation, ChatLogin, ChatUserList, ChatWidget };
// German and Arabic are chunks loaded on demand (see SHIPPED_LOCALES), so only English is exported.
export { en } from "./locales/en.ts";
export type { ChatStrings } from "./locales/en.ts";
export type {
  ChatIdentity,
  ChatMessage,
  ChatUser,
  ConnectionState,
  DeliveryState,
} from "./chat-state.ts";

/** Registers the widget's elements once; later calls and a missing registry are no-ops. */
export function defineChatWidget(
  registry: CustomElementRegistry | undefined = globalThis.customElements,
): void {
  if (!registry) return;
  const elements: [string, CustomElementConstructor][] = [
    ["chat-composer", ChatComposer],
    ["chat-conversation", ChatConversation],
    ["chat-login", ChatLogin],
    ["chat-user-list", ChatUserList],
    ["chat-widget", ChatWidget],
  ];
  for (const [tag, element] of elements) {
    if (!registry.get(tag)) registry.define(tag, element);
  }
}

defineChatWidget();
