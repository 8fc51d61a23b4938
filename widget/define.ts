/// <reference lib="dom" />
/**
 * Registers the widget's elements: importing this module defines them in the page's custom
 * element registry when there is one, and does nothing where `window` is missing
 * (server-side rendering, tests, workers). The bundle imports it, so loading the bundle
 * defines the elements. The conversation and the dialogs come later, with their chunks
 * (`conversation.ts`, `dialogs.ts`).
 */
import { defineOnce } from "./define-once.ts";
import { ChatLogin } from "./chat-login.ts";
import { ChatUserList } from "./chat-user-list.ts";
import { ChatWidget } from "./chat-widget.ts";

/** Registers the widget's elements once; later calls and a missing registry are no-ops. */
export function defineChatWidget(
  registry: CustomElementRegistry | undefined = globalThis.customElements,
): void {
  defineOnce(registry, [
    ["chat-login", ChatLogin],
    ["chat-user-list", ChatUserList],
    ["chat-widget", ChatWidget],
  ]);
}

defineChatWidget();
