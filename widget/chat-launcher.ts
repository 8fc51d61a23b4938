/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { html, nothing, type ReactiveController, type ReactiveControllerHost } from "lit";
import type { ChatIdentity, ChatUser } from "./chat-state.ts";
import type { Translate } from "./chat-locales.ts";
import type { Message } from "../server/protocol.ts";
import { launcherStyles } from "./chat-launcher.styles.ts";
import { Chime, TitlePrefix } from "./chat-notifications.ts";

/** How long a preview bubble stays (ms), unless the pointer or focus is on it. */
const PREVIEW_MS = 8000;
/** After the pointer or focus leaves a preview, it stays this long (ms). */
const PREVIEW_LINGER_MS = 3000;
/** The most characters of a message a preview or a desktop notification shows. */
const EXCERPT_LENGTH = 160;

/** What the launcher needs of its widget: `<chat-widget>` is one. */
export interface LauncherHost extends ReactiveControllerHost, HTMLElement {
  mode: "inline" | "launcher" | undefined;
  position: "right" | "left" | undefined;
  notify: string | undefined;
  open: boolean;
  storageKey: string;
  token: string;
  tokenProvider: (() => Promise<string>) | undefined;
  readonly renderRoot: HTMLElement | DocumentFragment;
  readonly unreadTotal: number;
  readonly users: readonly ChatUser[];
  readonly activeConversation: string | undefined;
  show(): void;
  hide(): void;
  openConversation(userID: string): void;
}

/** A message shown in the preview bubble. */
interface Preview {
  userID: string;
  name: string;
  text: string;
}

/** An element of the widget that takes focus its own way. */
type Focusable = HTMLElement & { focusUser?(): void; updateComplete?: Promise<unknown> };

/** The first `EXCERPT_LENGTH` characters of `text` on one line, with … when cut. */
function excerpt(text: string): string {
  const line = text.replace(/\s+/g, " ").trim();
  const chars = [...line];
  return chars.length > EXCERPT_LENGTH ? `${chars.slice(0, EXCERPT_LENGTH).join("")}…` : line;
}

const chatIcon = html`
  <svg class="chat-icon" viewBox="0 0 24 24" width="26" height="26"
    aria-hidden="true" focusable="false">
    <path fill="currentColor"
      d="M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2h-9l-5 4v-4H4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2Z" />
  </svg>
`;
const closeIcon = html`
  <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true"
    focusable="false">
    <path d="M6 6l12 12M18 6 6 18" fill="none" stroke="currentColor"
      stroke-width="2.4" stroke-linecap="round" />
  </svg>
`;

/**
 * Launcher mode and the notifications: the round button with the unread count, the panel it
 * opens (the whole screen on phones), the preview bubble, and what `notify` asks for (the
 * page title, desktop notifications, a sound). A controller of the widget, in a chunk the widget
 * loads when `mode="launcher"` or `notify` is set; it renders into the widget's own shadow root
 * (its styles are adopted there) and drives it through its public API.
 */
export class ChatLauncher implements ReactiveController {
  #host: LauncherHost;
  /** The widget's translator, from its latest render. */
  #t: Translate | undefined;
  #preview: Preview | undefined;
  #previewTimer: ReturnType<typeof setTimeout> | undefined;
  /** Whether the panel was open at the last update. */
  #wasOpen: boolean;
  /** After this update: give focus to the launcher (the panel closed with focus in it). */
  #refocus = false;
  /** After this update: move focus into the panel (the person opened it). */
  #focusIn = false;
  /** Desktop notifications still shown, closed when the page is seen again. */
  #shown = new Set<Notification>();
  /** Host mode keeps nothing in localStorage: the mute switch lives here then. */
  #mutedHere = false;

  constructor(host: LauncherHost) {
    this.#host = host;
    this.#wasOpen = host.open;
    const root = host.renderRoot as ShadowRoot;
    const sheet = launcherStyles.styleSheet;
    if (sheet && root.adoptedStyleSheets && !root.adoptedStyleSheets.includes(sheet)) {
      root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet];
    }
    host.addController(this);
  }

  hostConnected(): void {
    this.#host.addEventListener("chat-message", this.#onMessage);
    globalThis.document?.addEventListener("visibilitychange", this.#onVisibility);
    this.#host.requestUpdate();
  }

  hostDisconnected(): void {
    this.#host.removeEventListener("chat-message", this.#onMessage);
    globalThis.document?.removeEventListener("visibilitychange", this.#onVisibility);
    TitlePrefix.set(this, 0);
    this.#dismiss();
  }

  hostUpdate(): void {
    const host = this.#host;
    // Closing hides what had focus: it goes back to the launcher.
    if (this.#wasOpen && !host.open && host.matches(":focus-within")) this.#refocus = true;
  }

  hostUpdated(): void {
    const host = this.#host;
    TitlePrefix.set(this, this.#tokens().has("title") ? host.unreadTotal : 0);
    const opened = host.open && !this.#wasOpen && host.mode === "launcher";
    this.#wasOpen = host.open;
    if (opened) {
      this.#dismiss();
      // The open conversation is read now that it shows.
      const active = host.activeConversation;
      if (active !== undefined) host.openConversation(active);
    }
    if (this.#refocus) {
      this.#refocus = false;
      this.#part("launcher")?.focus();
    }
    if (this.#focusIn && host.open) {
      this.#focusIn = false;
      void this.#focusPanel();
    }
  }

  /**
   * The widget's view: `root` as it is inline, or in launcher mode the button, the panel with
   * `root` in it, and the preview bubble.
   */
  wrap(root: unknown, t: Translate): unknown {
    this.#t = t;
    const host = this.#host;
    if (host.mode !== "launcher") return root;
    const open = host.open;
    const total = host.unreadTotal;
    const preview = open ? undefined : this.#preview;
    // `reset`: its own font and text, as a host's "* { … !important }" reaches the host.
    const classes = `launcher reset ${host.position === "left" ? "start" : "end"} ${
      open ? "open" : ""
    }`;
    return html`
      <div class=${classes} dir=${this.#dir(t)} lang=${this.#lang()} @keydown=${this.#onKeydown}>
        <div id="panel" class="panel" part="panel" ?hidden=${!open}>
          <button class="close" part="close-button" aria-label=${t("closeChat")} title=${t(
            "closeChat",
          )} @click=${() => host.hide()}>${closeIcon}</button>
          ${root}
        </div>
        <div class="sr-only" role="status">${preview
          ? `${t("newMessageFrom", { name: preview.name })}: ${preview.text}`
          : ""}</div>
        ${preview
          ? html`
            <div class="preview" part="message-preview" @pointerenter=${this.#holdPreview}
              @pointerleave=${this.#releasePreview} @focusin=${this.#holdPreview}
              @focusout=${this.#releasePreview}>
              <button class="preview-open" @click=${() => this.#openWith(preview.userID)}>
                <strong dir="auto">${preview.name}</strong>
                <span class="preview-text" dir="auto">${preview.text}</span>
              </button>
              <button class="preview-close" part="preview-close" aria-label=${t("dismiss")}
                title=${t("dismiss")} @click=${this.#dismissToLauncher}>${closeIcon}</button>
            </div>
          `
          : nothing}
        <button class="fab" part="launcher" aria-expanded=${open ? "true" : "false"}
          aria-controls="panel" @click=${this.#toggle}>
          ${open ? closeIcon : chatIcon}<span class="sr-only">${t("title")}</span>
          ${total > 0 && !open
            ? html`<span class="badge" part="launcher-badge" role="img" aria-label=${
              t("unread", {
                n: total,
              })
            }>${total > 99 ? "99+" : total}</span>`
            : nothing}
        </button>
      </div>
    `;
  }

  /** The notification settings, for the settings panel: the sound, and asking for desktop notifications. */
  settings(t: Translate): unknown {
    const tokens = this.#tokens();
    const sound = tokens.has("sound");
    const ask = tokens.has("desktop") && globalThis.Notification?.permission === "default";
    if (!sound && !ask) return nothing;
    return html`
      <div class="notify-settings reset" part="notify-settings">
        ${sound
          ? html`
            <label><input type="checkbox" .checked=${!this.#muted()}
              @change=${(event: Event) =>
                this.#setMuted(!(event.target as HTMLInputElement).checked)}>
              ${t("sound")}</label>
          `
          : nothing}
        ${ask
          ? html`
            <div class="desktop">
              <span id="desktop-hint">${t("desktopNotifications")}</span>
              <button aria-describedby="desktop-hint" @click=${this.#askPermission}>${t(
                "enableNotifications",
              )}</button>
            </div>
          `
          : nothing}
      </div>
    `;
  }

  #tokens(): Set<string> {
    return new Set((this.#host.notify ?? "").split(/\s+/));
  }

  #dir(t: Translate): string {
    return this.#host.dir || (t("dir") === "rtl" ? "rtl" : "ltr");
  }

  /** The widget's language, found as the widget finds it. */
  #lang(): string {
    const host = this.#host;
    return host.lang || host.closest<HTMLElement>("[lang]")?.lang ||
      globalThis.document?.documentElement.lang || globalThis.navigator?.language || "en";
  }

  #part(name: string): HTMLElement | null {
    return this.#host.renderRoot.querySelector<HTMLElement>(`[part="${name}"]`);
  }

  #toggle = (): void => {
    const host = this.#host;
    if (host.open) host.hide();
    else {
      this.#focusIn = true;
      host.show();
    }
  };

  /** Opens the panel (launcher mode) on the conversation with `userID`, focus in it. */
  #openWith(userID: string): void {
    const host = this.#host;
    this.#dismiss();
    if (host.users.some((u) => u.userID === userID)) host.openConversation(userID);
    this.#focusIn = true;
    if (host.mode === "launcher") host.show();
    host.requestUpdate();
  }

  /** Focus to what the panel shows: the conversation's message box, the list, or the form. */
  async #focusPanel(): Promise<void> {
    const host = this.#host;
    const root = host.renderRoot;
    if (host.activeConversation !== undefined) {
      await customElements.whenDefined("chat-conversation");
      await host.updateComplete;
    }
    const target = root.querySelector<Focusable>(
      "chat-conversation:not([hidden]), chat-user-list:not([hidden]), chat-login",
    );
    await target?.updateComplete;
    if (target?.focusUser) target.focusUser();
    else target?.focus();
    if (!host.matches(":focus-within")) this.#part("close-button")?.focus();
  }

  #onKeydown = (event: KeyboardEvent): void => {
    const host = this.#host;
    // Inner parts handle their own Escape first (a menu, editing, the settings, back to the list).
    if (event.key !== "Escape" || event.defaultPrevented) return;
    // A modal dialog closes itself on Escape.
    if (event.composedPath().some((node) => node instanceof HTMLDialogElement)) return;
    if (host.open) {
      event.preventDefault();
      host.hide();
    } else if (this.#preview) {
      event.preventDefault();
      this.#dismissToLauncher();
    }
  };

  #onMessage = (event: CustomEvent<{ message: Message; user: ChatIdentity }>): void => {
    const host = this.#host;
    const { message, user } = event.detail;
    // Read as it arrived: that conversation is open and in view.
    if (!host.users.find((u) => u.userID === user.userID)?.unread) return;
    const tokens = this.#tokens();
    if (tokens.has("sound") && !this.#muted()) Chime.play();
    if (tokens.has("desktop") && globalThis.document?.visibilityState === "hidden") {
      this.#notifyDesktop(message, user);
    }
    if (tokens.has("preview") && host.mode === "launcher" && !host.open) {
      this.#preview = { userID: user.userID, name: user.username, text: excerpt(message.content) };
      this.#armPreview(PREVIEW_MS);
      host.requestUpdate();
    }
  };

  #notifyDesktop(message: Message, user: ChatIdentity): void {
    const t = this.#t;
    if (!t || globalThis.Notification?.permission !== "granted") return;
    try {
      // The message id as the tag: the same message in another tab replaces, not repeats.
      const notification = new Notification(t("newMessageFrom", { name: user.username }), {
        body: excerpt(message.content),
        tag: message.id,
        lang: this.#lang(),
        dir: this.#dir(t) as NotificationDirection,
      });
      this.#shown.add(notification);
      notification.addEventListener("close", () => this.#shown.delete(notification));
      notification.addEventListener("click", () => {
        globalThis.focus?.();
        notification.close();
        this.#openWith(user.userID);
      });
    } catch (error) {
      // Some browsers (Android) show notifications only from a service worker.
      console.error("Cannot show a <chat-widget> notification:", error);
    }
  }

  #onVisibility = (): void => {
    if (globalThis.document?.visibilityState !== "visible") return;
    for (const notification of this.#shown) notification.close();
    this.#shown.clear();
  };

  #askPermission = async (): Promise<void> => {
    try {
      await Notification.requestPermission();
    } catch (error) {
      console.error("Cannot ask for notifications:", error);
    }
    this.#host.requestUpdate();
    await this.#host.updateComplete;
    // The button is gone: focus stays in the settings panel.
    this.#host.renderRoot.querySelector<HTMLElement>("chat-settings")?.focus();
  };

  /** The localStorage key of the mute switch, or undefined in host mode (nothing is kept). */
  #muteKey(): string | undefined {
    const host = this.#host;
    return host.token || host.tokenProvider ? undefined : `${host.storageKey}:sound`;
  }

  #muted(): boolean {
    const key = this.#muteKey();
    if (!key) return this.#mutedHere;
    try {
      return globalThis.localStorage?.getItem(key) === "off";
    } catch {
      return this.#mutedHere;
    }
  }

  #setMuted(muted: boolean): void {
    this.#mutedHere = muted;
    const key = this.#muteKey();
    try {
      if (key && muted) globalThis.localStorage?.setItem(key, "off");
      else if (key) globalThis.localStorage?.removeItem(key);
    } catch {
      // Full or unavailable storage: the switch holds for this page.
    }
    this.#host.requestUpdate();
  }

  #armPreview(ms: number): void {
    clearTimeout(this.#previewTimer);
    this.#previewTimer = setTimeout(() => this.#dismiss(), ms);
  }

  #holdPreview = (): void => clearTimeout(this.#previewTimer);

  #releasePreview = (event: Event): void => {
    const preview = event.currentTarget as HTMLElement;
    // Still on it: the pointer, or focus moving between its buttons.
    if (preview.matches(":hover") || preview.matches(":focus-within")) return;
    if (
      event.type === "focusout" && preview.contains((event as FocusEvent).relatedTarget as Node)
    ) {
      return;
    }
    this.#armPreview(PREVIEW_LINGER_MS);
  };

  #dismiss(): void {
    clearTimeout(this.#previewTimer);
    if (!this.#preview) return;
    this.#preview = undefined;
    this.#host.requestUpdate();
  }

  #dismissToLauncher = (): void => {
    this.#dismiss();
    this.#host.updateComplete.then(() => this.#part("launcher")?.focus());
  };
}
