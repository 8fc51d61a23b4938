/// <reference lib="dom" />
/**
 * The log-out dialog and the settings panel, a chunk of their own: a first view shows none of them, so the widget
 * loads this module the first time one opens. The chunk takes Lit and the shared styles from the bundle
 * (`chunk-imports.ts`), so the page holds one copy of each.
 */
import { defineOnce } from "./define-once.ts";
import { ChatLogoutDialog } from "./chat-logout-dialog.ts";
import { ChatSettings } from "./chat-settings.ts";

import { enDialogs } from "./locales/en-dialogs.ts";
export { ChatLogoutDialog, ChatSettings };

/** The English strings this chunk shows; the widget adds them to its English table. */
export const strings = enDialogs;

/** Registers the dialogs and the settings panel once; later calls and a missing registry are no-ops. */
export function defineElements(
  registry: CustomElementRegistry | undefined = globalThis.customElements,
): void {
  defineOnce(registry, [
    ["chat-logout-dialog", ChatLogoutDialog],
    ["chat-settings", ChatSettings],
  ]);
}
