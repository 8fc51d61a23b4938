/// <reference lib="dom" />
/**
 * Launcher mode and the notifications, a chunk of their own: an inline widget without `notify`
 * needs neither, so the widget loads this module only when `mode="launcher"` or `notify` is set.
 * The chunk takes Lit from the bundle (`chunk-imports.ts`).
 */
import { ChatLauncher, type LauncherHost } from "./chat-launcher.ts";
import { enLauncher } from "./locales/en-launcher.ts";
export { ChatLauncher };
export type { LauncherHost };

/** The English strings this chunk shows; the widget adds them to its English table. */
export const strings = enLauncher;

/** Defines nothing: the launcher has no elements of its own, it renders into the widget's shadow root. */
export function defineElements(): void {}

/** Gives `host` (a `<chat-widget>`) its launcher and notifications. */
export function attach(host: LauncherHost): ChatLauncher {
  return new ChatLauncher(host);
}
