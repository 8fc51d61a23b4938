/// <reference lib="dom" />
/**
 * The conversation, its message box and the confirmations it asks for, a chunk of their own: a first view shows the list (or
 * the username form) and no conversation, so the widget loads this module when one is about to
 * open. The chunk takes Lit and the shared modules from the bundle (`chunk-imports.ts`).
 */
import { defineOnce } from "./define-once.ts";
import { ChatComposer } from "./chat-composer.ts";
import { ChatConfirmDialog } from "./chat-confirm-dialog.ts";
import { ChatConversation } from "./chat-conversation.ts";

import { enConversation } from "./locales/en-conversation.ts";
export { ChatComposer, ChatConfirmDialog, ChatConversation };

/** The English strings this chunk shows; the widget adds them to its English table. */
export const strings = enConversation;

/** Registers the conversation and the composer once; later calls and a missing registry are no-ops. */
export function defineElements(
  registry: CustomElementRegistry | undefined = globalThis.customElements,
): void {
  defineOnce(registry, [
    ["chat-composer", ChatComposer],
    ["chat-confirm-dialog", ChatConfirmDialog],
    ["chat-conversation", ChatConversation],
  ]);
}
