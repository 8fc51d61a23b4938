/// <reference lib="dom" />
/**
 * Registers the widget's elements: importing this module defines them in the page's custom
 * element registry when there is one, and does nothing where `window` is missing
 * (server-side rendering, tests, workers). The bundle imports it, so loading the bundle
 * defines the elements.
 */
import { ChatComposer } from "./chat-composer.ts";
import { ChatConversation } from "./chat-conversation.ts";
import { ChatLogin } from "./chat-login.ts";
import { ChatLogoutDialog } from "./chat-logout-dialog.ts";
import { ChatUserList } from "./chat-user-list.ts";
import { ChatWidget } from "./chat-widget.ts";

/** Registers the widget's elements once; later calls and a missing registry are no-ops. */
export function defineChatWidget(
  registry: CustomElementRegistry | undefined = globalThis.customElements,
): void {
  if (!registry) return;
  const elements: [keyof HTMLElementTagNameMap, CustomElementConstructor][] = [
    ["chat-composer", ChatComposer],
    ["chat-conversation", ChatConversation],
    ["chat-login", ChatLogin],
    ["chat-logout-dialog", ChatLogoutDialog],
    ["chat-user-list", ChatUserList],
    ["chat-widget", ChatWidget],
  ];
  for (const [tag, element] of elements) {
    if (!registry.get(tag)) registry.define(tag, element);
  }
}

defineChatWidget();
