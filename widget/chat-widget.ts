/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { html, LitElement, nothing } from "lit";
import type {
  FailedAck,
  SearchUsersAck,
  SearchUsersRequest,
  WireError,
} from "../server/protocol.ts";
import { ChatConnection, type ChatConnectionEvents } from "./chat-connection.ts";
import { type ChatEventDetail, type ChatEventName, emit, listen } from "./emit.ts";
import { type ChatIdentity, type ChatUser, type ConnectionState } from "./chat-state.ts";
import type { ChatConversation, ConversationActions } from "./chat-conversation.ts";
import type { ChatLauncher } from "./chat-launcher.ts";
import {
  createLocaleRegistry,
  createTranslator,
  SHIPPED_LOCALES,
  type Translate,
} from "./chat-locales.ts";
import type { ChatStrings } from "./locales/en.ts";
import type { ChatLogin } from "./chat-login.ts";
import type { ChatLogoutDialog } from "./chat-logout-dialog.ts";
import type { ChatUserList } from "./chat-user-list.ts";
import { chatWidgetStyles } from "./chat-widget.styles.ts";

/** Below this width (px) the list and the conversation are two views with a back button. */
const NARROW_BELOW = 560;
/** How often "last seen 5 minutes ago" and the edit window are brought up to date (ms). */
const CLOCK_MS = 30_000;

/**
 * The chunks loaded on demand, beside the bundle: a first view (the list, or the username form)
 * needs neither the conversation nor a dialog, and an inline widget without `notify` never needs
 * the launcher and the notifications.
 */
const CHUNKS = {
  conversation: () => import("./conversation.ts"),
  dialogs: () => import("./dialogs.ts"),
  launcher: () => import("./launcher.ts"),
  search: () => import("./search.ts"),
};

/** The server the bundle was loaded from: a host page needs no `server` attribute. */
function scriptOrigin(): string {
  try {
    const url = new URL(import.meta.url);
    return url.protocol === "http:" || url.protocol === "https:" ? url.origin : "";
  } catch {
    return "";
  }
}

/**
 * `<chat-widget>`: private one-to-one chat with the server it was loaded from. People pick a
 * username, or, in host mode (`token` or `tokenProvider` set), the host site's token says who
 * they are.
 *
 * @tagname chat-widget
 * @attribute lang - language of every string, date and time (default: the nearest `lang`, else the browser's)
 * @attribute dir - `ltr` or `rtl` (default: from the language)
 * @attribute mode - `inline` (the default: the element is the chat) or `launcher` (a round button that opens the chat in a panel above it)
 * @attribute position - launcher mode: `right` (the default: bottom, at the end of the line, so bottom-left in RTL) or `left` (at its start)
 * @attribute notify - space-separated tokens, all off by default: `title` (unread count in the page title), `desktop` (a notification while the page is hidden), `sound` (a short tone), `preview` (launcher mode: a bubble beside the closed button)
 * @attribute open - launcher mode: the panel is open (reflected)
 * @property {string} lang - language of every string, date and time (the native property)
 * @property {string} dir - `ltr` or `rtl` (the native property)
 * @fires {CustomEvent<{ userID: string, username: string }>} chat-session - signed in (a new username or a restored session)
 * @fires {CustomEvent<{ message: Message, user: ChatIdentity }>} chat-message - a message from someone else arrived
 * @fires {CustomEvent<{ message: Message }>} chat-message-sent - the server stored one of your messages
 * @fires {CustomEvent<{ message: Message }>} chat-message-updated - a message was edited or deleted (yours, from any tab, or theirs)
 * @fires {CustomEvent<{ userID: string, blocked: boolean }>} chat-block-change - you blocked or unblocked someone (here or in another tab)
 * @fires {CustomEvent<{ total: number }>} chat-unread-change - the total unread count changed
 * @fires {CustomEvent<{ state: ConnectionState }>} chat-connection-change - signed-out, connecting, connected, reconnecting, offline or unreachable
 * @fires {CustomEvent<{ userID: string | null }>} chat-conversation-change - a conversation was opened, or closed (`null`)
 * @fires {CustomEvent<{ code: string, message: string, source: string }>} chat-error - the server refused something, or (host mode) the user could not be signed in: `auth_required`, `invalid_token`, `token_expired`, `token_unavailable`
 * @fires {CustomEvent<{ deleted: boolean }>} chat-logout - the user logged out, or deleted the account (`deleted`)
 * @fires {CustomEvent<Record<never, never>>} chat-open - launcher mode: the panel opened (the button, `show()`, a notification or a preview)
 * @fires {CustomEvent<Record<never, never>>} chat-close - launcher mode: the panel closed (the button, its close button, Escape, `hide()`)
 * @csspart base - the outer box
 * @csspart launcher - launcher mode: the round button that opens and closes the panel
 * @csspart launcher-badge - the unread count on the launcher while the panel is closed
 * @csspart panel - launcher mode: the panel the chat opens in (the whole screen below 560 px)
 * @csspart close-button - the panel's close button
 * @csspart message-preview - launcher mode, `notify="preview"`: the bubble with an arriving message beside the closed button
 * @csspart preview-close - its dismiss button
 * @csspart notify-settings - the notification settings in the settings panel (sound, desktop notifications)
 * @csspart header - the title bar
 * @csspart title - the title text
 * @csspart total-badge - the total unread count
 * @csspart logout-button - the log out button (not in host mode)
 * @csspart settings-button - the button that opens the settings
 * @csspart settings - the settings panel (read receipts)
 * @csspart dialog - the log-out dialog and the confirmations (block, delete a message)
 * @csspart dialog-button - each button of a dialog
 * @csspart delete-button - "Delete my account" in the log-out dialog
 * @csspart confirm-button - the action's button in a confirmation
 * @csspart auth-status - host mode, not signed in: "Connecting…", or why not (shown instead of the username form)
 * @csspart banner - the connection banner
 * @csspart login - the username form
 * @csspart input - the username field and the message box's text area
 * @csspart button - the username form's button
 * @csspart error - the username form's error text
 * @csspart search - the search box above the list of people
 * @csspart search-more - "More results" under the people a search found
 * @csspart user-list - a section of the list of people (conversations, people, search results)
 * @csspart user - one person in the list
 * @csspart user-selected - the person whose conversation is open
 * @csspart status - an online dot
 * @csspart last-seen - when an offline person was last online ("last seen 5 minutes ago")
 * @csspart preview - a conversation's last message in the list ("You: …" for yours), or "typing…"
 * @csspart time - when a conversation's last message was sent
 * @csspart badge - a person's unread count
 * @csspart conversation - the conversation pane
 * @csspart conversation-header - the conversation's bar with the person's name
 * @csspart back-button - the back button (narrow layout)
 * @csspart block-button - Block or Unblock in the conversation's bar
 * @csspart typing - "Alice is typing…" (a polite live region)
 * @csspart placeholder - the text shown when no conversation is open
 * @csspart log - the message list
 * @csspart day - a day separator
 * @csspart sender - the sender's name above a run of their messages
 * @csspart message - one message
 * @csspart message-in - a message from the other person
 * @csspart message-out - one of your messages
 * @csspart message-pending - one of your messages, not yet stored
 * @csspart message-sent - a stored message
 * @csspart message-failed - one of your messages that was not sent
 * @csspart message-delivered - one of your messages the other person's device has received (✓✓)
 * @csspart message-seen - one of your messages the other person has read (✓✓ in the accent color)
 * @csspart message-deleted - a deleted message, by its sender or with the sender's account ("Message deleted")
 * @csspart bubble - a message's text
 * @csspart deleted - the "Message deleted" placeholder in a deleted message's bubble
 * @csspart edited - "edited" on a changed message
 * @csspart link - a web address in a message
 * @csspart meta - a message's time and delivery state
 * @csspart message-menu-button - the ⋯ button on your messages that may still be changed
 * @csspart message-menu - its menu: Edit, Delete
 * @csspart retry-button - Retry on a failed message
 * @csspart pill - the "new messages" button
 * @csspart composer - the message box
 * @csspart send-button - the send button
 * @csspart counter - the remaining-length counter
 * @csspart composer-notice - why nothing can be sent (the person deleted the account, or you blocked them)
 * @csspart edit-bar - "Editing message" above the message box, while editing
 * @csspart edit-cancel - its Cancel button
 * @cssprop [--chat-font-family=system-ui] - the font of every text
 * @cssprop [--chat-font-size=15px] - the base text size
 * @cssprop [--chat-radius=12px] - the corner radius of the frame and the bubbles
 * @cssprop --chat-background - the conversation's background
 * @cssprop --chat-panel-background - the list's and the title bar's background
 * @cssprop --chat-color - the text color
 * @cssprop --chat-muted-color - secondary text
 * @cssprop --chat-border-color - lines and borders
 * @cssprop --chat-accent-color - buttons, badges, your messages
 * @cssprop --chat-accent-text-color - text on the accent color
 * @cssprop --chat-focus-ring-color - the focus outline
 * @cssprop --chat-bubble-in-background - messages from others
 * @cssprop --chat-bubble-in-color - the text of messages from others
 * @cssprop --chat-bubble-out-background - your messages (default: the accent color)
 * @cssprop --chat-bubble-out-color - the text of your messages
 * @cssprop --chat-online-color - the online dot and the sent tick
 * @cssprop --chat-danger-color - errors and failed messages
 * @cssprop --chat-banner-background - the connection banner
 * @cssprop --chat-banner-color - the connection banner's text
 */
export class ChatWidget extends LitElement {
  /** Shipped and registered string tables by language tag. */
  static locales: Map<string, ChatStrings> = createLocaleRegistry();

  /** Adds or replaces the strings for a language (`registerLocale("fr", {...})`); missing keys fall back to English. */
  static registerLocale(lang: string, strings: ChatStrings): void {
    ChatWidget.locales.set(lang, { ...ChatWidget.locales.get(lang), ...strings });
  }

  /** Shipped tables being fetched (a promise) or settled (`true`), by language. */
  static #localeLoads = new Map<string, Promise<void> | true>();

  /** Fetches the shipped table for `lang` the first time it is needed; undefined when there is nothing to wait for. */
  static #loadLocale(lang: string): Promise<void> | undefined {
    const base = lang.split("-")[0].toLowerCase();
    const loader = SHIPPED_LOCALES[base];
    let load = ChatWidget.#localeLoads.get(base);
    if (!loader || load === true) return undefined;
    load ??= loader().then(
      // Strings a host registered before the table arrived stay on top of it.
      (strings) =>
        void ChatWidget.locales.set(base, { ...strings, ...ChatWidget.locales.get(base) }),
      (error) => console.error(`Cannot load the "${base}" strings of <chat-widget>:`, error),
    ).finally(() => ChatWidget.#localeLoads.set(base, true));
    ChatWidget.#localeLoads.set(base, load);
    return load;
  }

  static override styles = chatWidgetStyles;

  static override properties = {
    server: { type: String },
    storageKey: { type: String, attribute: "storage-key" },
    theme: { type: String, reflect: true },
    strings: { attribute: false },
    token: { attribute: false },
    tokenProvider: { attribute: false },
    mode: { reflect: true },
    position: {},
    notify: {},
    open: { type: Boolean, reflect: true },
    _narrow: { state: true },
    _settings: { state: true },
  };

  static override get observedAttributes(): string[] {
    // `lang` and `dir` stay native HTMLElement properties; the widget only re-renders when they change.
    return [...super.observedAttributes, "lang", "dir"];
  }

  /** Chat server origin; defaults to where the script was loaded from. */
  declare server: string;
  /** localStorage key of the session (the outbox uses `<key>:outbox`); give each widget on a page its own. */
  declare storageKey: string;
  /** `light`, `dark` or `auto` (follows the system). */
  declare theme: "light" | "dark" | "auto";
  /** Replaces individual strings of the current language, e.g. `{ title: "Support" }`. */
  declare strings: ChatStrings | undefined;
  /**
   * A token the host site signed for its signed-in user (host mode: no username form); a
   * property only, so it never shows in the page's markup. Setting another one reconnects.
   */
  declare token: string;
  /** Host mode: gives a fresh token; called at every connect attempt and once more after `token_expired`. */
  declare tokenProvider: (() => Promise<string>) | undefined;
  /** `inline` (unset: the element is the chat) or `launcher` (a button that opens it in a panel). */
  declare mode: "inline" | "launcher" | undefined;
  /** Launcher mode: `right` (unset: bottom, at the end of the line; bottom-left in RTL) or `left` (at its start). */
  declare position: "right" | "left" | undefined;
  /** Notifications, space-separated: `title`, `desktop`, `sound`, `preview` (unset: none). */
  declare notify: string | undefined;
  /** Launcher mode: whether the panel is open; `show()` and `hide()` also fire `chat-open` and `chat-close`. */
  declare open: boolean;
  declare _narrow: boolean;
  /** The settings panel is open. */
  declare _settings: boolean;
  /** Your message being edited in the composer. */

  /** The chunks loading or loaded, by name; shared by every widget on the page. */
  static #chunks = new Map<keyof typeof CHUNKS, Promise<unknown>>();

  /** Loads a chunk (once per page), registers its elements and gives its module. */
  static #chunk<K extends keyof typeof CHUNKS>(name: K): ReturnType<typeof CHUNKS[K]> {
    let load = ChatWidget.#chunks.get(name);
    if (!load) {
      load = CHUNKS[name]().then((m) => {
        // Its English first: its elements render with it from their first update.
        ChatWidget.locales.set("en", { ...m.strings, ...ChatWidget.locales.get("en") });
        m.defineElements();
        return m;
      });
      ChatWidget.#chunks.set(name, load);
      // A failed fetch may work next time.
      load.catch(() => ChatWidget.#chunks.delete(name));
    }
    return load as ReturnType<typeof CHUNKS[K]>;
  }

  #connection: ChatConnection = new ChatConnection(this, {
    target: () => ({
      server: this.server || scriptOrigin() || globalThis.location?.origin || "",
      storageKey: this.storageKey,
      token: this.token || undefined,
      tokenProvider: this.tokenProvider,
    }),
    // The map below declares each of these events with the connection's detail type.
    emit: (type, detail) => this.#emit(type, detail as ChatEventDetail<typeof type>),
    isVisible: (): boolean =>
      this.isConnected && globalThis.document?.visibilityState !== "hidden" &&
      (this.mode == "launcher"
        ? this.open
        : !this._narrow || this.#connection.activeUserID !== undefined),
  });
  /** The launcher and the notifications (their chunk), once loaded; `#launching` while it loads. */
  #launcher?: ChatLauncher;
  #launching?: Promise<void>;
  #resize?: ResizeObserver;
  #focusNext?: "list" | "login";
  #clock?: ReturnType<typeof setInterval>;

  constructor() {
    super();
    this.server = "";
    this.storageKey = "chat-widget-session";
    this.theme = "auto";
    this.token = "";
    this.open = false;
    this._narrow = false;
    this._settings = false;
  }

  /** The signed-in user, or undefined. */
  get user(): ChatIdentity | undefined {
    return this.#connection.identity;
  }

  /** Everyone in the list, in display order: conversations (newest first), then the others. */
  get users(): readonly ChatUser[] {
    return this.#connection.sortedUsers;
  }

  /** Where the connection stands. */
  get connectionState(): ConnectionState {
    return this.#connection.state;
  }

  /** Unread messages over all conversations. */
  get unreadTotal(): number {
    return this.#connection.totalUnread;
  }

  /** The userID of the open conversation. */
  get activeConversation(): string | undefined {
    return this.#connection.activeUserID;
  }

  /** Opens the conversation with `userID` and marks it read. */
  openConversation(userID: string): void {
    if (!this.#connection.users.has(userID)) throw new RangeError(`Unknown user "${userID}"`);
    const changed = this.#connection.activeUserID !== userID;
    this.#connection.activeUserID = userID;
    this.requestUpdate();
    // Read only if the reader can see it: a hidden page marks it when it is shown again.
    this.#connection.markRead(userID);
    if (changed) this.#emit("chat-conversation-change", { userID });
  }

  /** Closes the open conversation (in the narrow layout: back to the list). */
  closeConversation(): void {
    if (this.#connection.activeUserID === undefined) return;
    this.#connection.activeUserID = undefined;
    this.requestUpdate();
    this.#emit("chat-conversation-change", { userID: null });
  }

  /** Forgets the session on this device, shows the username form and ends the session on the server (awaitable). */
  logout(): Promise<void> {
    return this.#connection.logout();
  }

  /** Tries to reach the server again now instead of waiting for the next automatic attempt. */
  reconnect(): void {
    this.#connection.reconnectNow();
  }

  /** Launcher mode: opens the panel (and fires `chat-open`, if it was closed). */
  show(): void {
    if (!this.open) {
      this.open = true;
      this.#emit("chat-open", {});
    }
  }

  /** Launcher mode: closes the panel (and fires `chat-close`, if it was open). */
  hide(): void {
    if (this.open) {
      this.open = false;
      this.#emit("chat-close", {});
    }
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.#resize ??= new ResizeObserver(([entry]) => {
      this._narrow = entry.contentRect.width < NARROW_BELOW;
    });
    this.#resize.observe(this);
    globalThis.document?.addEventListener("visibilitychange", this.#onVisibility);
    // One timer for every time-dependent line: "last seen …" and which messages may still change.
    this.#clock ??= setInterval(() => {
      const client = this.#connection;
      if (
        client.identity &&
        (client.editWindowSeconds > 0 ||
          [...client.users.values()].some((u) => !u.connected && u.lastSeen !== undefined))
      ) this.requestUpdate();
    }, CLOCK_MS);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#resize?.disconnect();
    globalThis.document?.removeEventListener("visibilitychange", this.#onVisibility);
    clearInterval(this.#clock);
    this.#clock = undefined;
  }

  override attributeChangedCallback(name: string, old: string | null, value: string | null): void {
    super.attributeChangedCallback(name, old, value);
    if ((name === "lang" || name === "dir") && old !== value) this.requestUpdate();
  }

  protected override willUpdate(): void {
    // An open conversation needs its chunk; until it is there, the pane says "Loading…".
    if (this.#connection.activeUserID !== undefined && !customElements.get("chat-conversation")) {
      void this.#load("conversation");
    }
    if (this.mode == "launcher" || this.notify) {
      this.#launching ??= this.#load("launcher").then((m) =>
        void (this.#launcher = m?.attach(this))
      );
    }
  }

  protected override updated(): void {
    // After signing in, focus goes to the list once it has people in it.
    if (this.#focusNext === "list" && this.#connection.state === "connected") {
      const list = this.renderRoot.querySelector<ChatUserList>("chat-user-list");
      if (list) {
        this.#focusNext = undefined;
        list.updateComplete.then(() => list.focusUser());
      }
    }
  }

  /** The first render in a language waits for its strings, so no English flashes by. */
  protected override scheduleUpdate(): void | Promise<unknown> {
    const load = ChatWidget.#loadLocale(this.#lang());
    return load ? load.then(() => super.scheduleUpdate()) : super.scheduleUpdate();
  }

  #lang(): string {
    return this.lang || this.closest<HTMLElement>("[lang]")?.lang ||
      globalThis.document?.documentElement.lang || globalThis.navigator?.language || "en";
  }

  override render() {
    const lang = this.#lang();
    const { t, dir } = createTranslator(ChatWidget.locales, lang, this.strings);
    const client = this.#connection;
    const signedIn = !!client.identity && client.state !== "signed-out";
    const active = client.activeUserID ? client.users.get(client.activeUserID) : undefined;
    const total = client.totalUnread;
    const banner = {
      "signed-out": "",
      connected: "",
      connecting: signedIn ? t("connecting") : "",
      reconnecting: t("reconnecting"),
      offline: t("offlineBanner"),
      unreachable: t("unreachable", { server: client.server }),
    }[client.state];
    // The launcher's panel is narrow, or the whole (narrow) screen.
    const narrow = this._narrow || this.mode == "launcher";
    const expired = client.loginError?.code === "invalid_session";
    const root = html`
      <section
        class="root ${narrow ? "narrow" : ""}"
        part="base"
        dir=${this.dir || dir}
        lang=${lang}
        aria-labelledby="chat-title"
      >
        <div class="header" part="header">
          <h2 id="chat-title" part="title">${t("title")}</h2>
          ${total > 0
            ? html`<span class="badge" part="total-badge" role="img" aria-label=${
              t("unread", { n: total })
            }>${total}</span>`
            : nothing}
          ${signedIn
            ? html`
              <span class="me" dir="auto">${client.identity!.username}</span>
              <button class="icon" part="settings-button" aria-label=${t("settings")} title=${t(
                "settings",
              )}
                aria-expanded=${this._settings ? "true" : "false"} aria-controls="settings"
                @pointerdown=${(event: Event) => this._settings && event.preventDefault()}
                @click=${this.#toggleSettings}><span aria-hidden="true">⚙︎</span></button>
              ${client.hostMode ? nothing : html`
                <button part="logout-button" aria-haspopup="dialog" @click=${this
                  .#openLogout}>${t("logout")}</button>
              `}
              ${customElements.get("chat-logout-dialog") && !client.hostMode
                ? html`
                  <chat-logout-dialog
                    exportparts="dialog, dialog-button, delete-button"
                    .t=${t}
                    .name=${client.identity!.username}
                    .accountTtlDays=${client.accountTtlDays}
                    .leave=${this.#leave}
                    ?online=${client.state === "connected"}
                  ></chat-logout-dialog>
                `
                : nothing}
            `
            : nothing}
        </div>
        ${signedIn && this._settings && customElements.get("chat-settings")
          ? html`
            <chat-settings id="settings" exportparts="settings" .t=${t}
              .readReceipts=${client.preferences.readReceipts}
              ?online=${client.state === "connected"}>${this.#launcher?.settings(t)}</chat-settings>
          `
          : nothing}
        <div class="banner" part="banner" role="status">${banner}</div>
        <div class="body">
          ${!signedIn && client.hostMode ? this.#renderAuthStatus(t) : !signedIn
            ? html`
              <chat-login
                exportparts="login, input, button, error"
                .t=${t}
                .error=${expired ? undefined : client.loginError}
                .notice=${expired
                  ? t("sessionExpired")
                  : client.accountDeleted
                  ? t("accountDeleted")
                  : ""}
                ?busy=${client.signingIn && client.state === "connecting"}
              ></chat-login>
            `
            : html`
              <chat-user-list
                exportparts="search, user-list, user, user-selected, status, last-seen, badge, preview, time, search-more"
                ?hidden=${narrow && !!active}
                .t=${t}
                .lang=${lang}
                .sections=${client.sections}
                .searchUsers=${this.#searchUsers}
                .selected=${client.activeUserID}
                .presence=${client.state === "connected"}
                @pointerover=${this.#prefetch}
                @focusin=${this.#prefetch}
                @input=${this.#prefetch}
              ></chat-user-list>
              ${customElements.get("chat-conversation")
                ? html`
                  <chat-conversation
                    part="conversation"
                    ?hidden=${narrow && !active}
                    .t=${t}
                    .lang=${lang}
                    .peer=${active}
                    .me=${client.identity}
                    .online=${client.state === "connected"}
                    .max=${client.maxContentLength}
                    .readReceipts=${client.preferences.readReceipts}
                    .editWindow=${client.editWindowSeconds}
                    .actions=${this.#actions}
                    ?narrow=${narrow}
                  ></chat-conversation>
                `
                : html`
                  <p class="empty" part="placeholder" ?hidden=${narrow && !active}>${active
                    ? t("loading")
                    : t("pickUser")}</p>
                `}
            `}
        </div>
      </section>
    `;
    return this.#launcher ? this.#launcher.wrap(root, t) : root;
  }

  /** Host mode, not signed in: connecting, or why not (with another try when a provider can give a new token). */
  #renderAuthStatus(t: Translate) {
    const error = this.#connection.hostError;
    return html`
      <div class="auth" part="auth-status">
        ${error
          ? html`
            <p role="alert">${t.optional(`error_${error.code}`) ?? error.message}</p>
            ${this.tokenProvider
              ? html`<button @click=${() => this.reconnect()}>${t("tryAgain")}</button>`
              : nothing}
          `
          : html`<p role="status">${
            this.#connection.state === "signed-out" ? t("error_auth_required") : t("connecting")
          }</p>`}
      </div>
    `;
  }

  /** Listens for the inner elements' events where they end: at this shadow root. */
  protected override createRenderRoot(): HTMLElement | DocumentFragment {
    const root = super.createRenderRoot();
    const stop = <K extends ChatEventName>(
      type: K,
      handle: (detail: ChatEventDetail<K>) => void,
    ) =>
      listen(root, type, (event) => {
        // Inner events are the widget's own business: the host page hears only public ones.
        event.stopPropagation();
        handle(event.detail);
      });
    stop("chat-sign-in", ({ username }) => this.#onSignIn(username));
    stop("chat-select", ({ userID, user }) => this.#onSelect(userID, user));
    stop("chat-back", () => this.#onBack());
    stop("chat-retry", ({ clientId }) => this.#connection.retry(clientId));
    stop("chat-discard", ({ clientId }) => this.#connection.discard(clientId));
    stop("chat-send", ({ content }) => this.#onSend(content));
    stop("chat-preferences", ({ readReceipts }) => {
      void this.#connection.setReadReceipts(readReceipts);
    });
    stop("chat-settings-close", ({ refocus }) => {
      this._settings = false;
      if (refocus) this.renderRoot.querySelector<HTMLElement>("[part=settings-button]")?.focus();
    });
    return root;
  }

  #emit<K extends ChatEventName>(type: K, detail: ChatEventDetail<K>): void {
    emit(this, type, detail);
    // Focus follows the person's own actions only: a restored or expired session on page
    // load must not pull focus away from the host page.
    const focus = this.#focusNext;
    if (
      (type === "chat-logout" && focus === "login") ||
      (type === "chat-connection-change" && this.#connection.state === "signed-out" &&
        this.matches(":focus-within"))
    ) {
      this.#focusNext = undefined;
      this.updateComplete.then(() =>
        this.renderRoot.querySelector<ChatLogin>("chat-login")?.focus()
      );
    }
  }

  #onSignIn(username: string): void {
    this.#focusNext = "list";
    this.#connection.signIn(username);
  }

  async #onSelect(userID: string, user?: ChatUser): Promise<void> {
    // Someone found by a search is added to the list as the conversation opens.
    if (user) this.#connection.addUser(user);
    this.openConversation(userID);
    if (await this.#load("conversation")) {
      this.renderRoot.querySelector<ChatConversation>("chat-conversation")?.focus();
    }
  }

  /**
   * Someone reaching for the list is about to open a conversation, or (in the search box) to
   * search: fetch that chunk now, and render once the search results can show.
   */
  #prefetch = (event: Event): void => {
    const search = (event.composedPath()[0] as Element).localName === "input";
    if (search && !customElements.get("chat-search-results")) void this.#load("search");
    else ChatWidget.#chunk("conversation").catch(() => {});
  };

  /** Loads a chunk and renders with it; gives its module, or undefined (and the error logged) when it cannot be fetched. */
  async #load<K extends keyof typeof CHUNKS>(
    name: K,
  ): Promise<Awaited<ReturnType<typeof CHUNKS[K]>> | undefined> {
    let chunk;
    try {
      chunk = await ChatWidget.#chunk(name);
    } catch (error) {
      console.error(`Cannot load the ${name} of <chat-widget>:`, error);
      return undefined;
    }
    this.requestUpdate();
    await this.updateComplete;
    return chunk;
  }

  #onBack(): void {
    const previous = this.#connection.activeUserID;
    this.closeConversation();
    this.updateComplete.then(() =>
      this.renderRoot.querySelector<ChatUserList>("chat-user-list")?.focusUser(previous)
    );
  }

  #onSend(content: string): void {
    const to = this.#connection.activeUserID;
    if (to) this.#connection.send(to, content);
  }

  /** Asks the server for people whose name begins with a text (the list's search). */
  #searchUsers = (request: SearchUsersRequest): Promise<SearchUsersAck | FailedAck> =>
    this.#connection.request("search users", request);

  /** What the open conversation asks of the server: edits, deletions, blocks. */
  #actions: ConversationActions = {
    request: (event, payload) => this.#connection.request(event, payload),
    block: (userID, blocked) => this.#connection.setBlocked(userID, blocked),
    typing: (to) => this.#connection.typing(to),
    olderLoaded: (userID, ack) => this.#connection.olderLoaded(userID, ack),
  };

  async #toggleSettings(): Promise<void> {
    if (this._settings) {
      this._settings = false;
    } else if (await this.#load("dialogs")) {
      this._settings = true;
      await this.updateComplete;
      this.renderRoot.querySelector("chat-settings")?.focus();
    }
  }

  #dialog(): ChatLogoutDialog | null {
    return this.renderRoot.querySelector("chat-logout-dialog");
  }

  async #openLogout(): Promise<void> {
    if (await this.#load("dialogs")) await this.#dialog()?.show();
  }

  /** What the log-out dialog does: logs out here, or deletes the account. */
  #leave = async (deleteAccount: boolean): Promise<WireError | undefined> => {
    // The username form takes the focus once the user is signed out.
    this.#focusNext = "login";
    if (!deleteAccount) {
      void this.logout();
      return undefined;
    }
    const error = await this.#connection.deleteAccount();
    if (error) this.#focusNext = undefined;
    return error;
  };

  #onVisibility = (): void => {
    const active = this.#connection.activeUserID;
    if (globalThis.document?.visibilityState === "visible" && active) {
      this.#connection.markRead(active);
    }
  };
}

declare global {
  interface HTMLElementTagNameMap {
    "chat-widget": ChatWidget;
  }
  interface GlobalEventHandlersEventMap {
    /** Signed in (a new username or a restored session). */
    "chat-session": CustomEvent<ChatConnectionEvents["chat-session"]>;
    /** A message from someone else arrived. */
    "chat-message": CustomEvent<ChatConnectionEvents["chat-message"]>;
    /** The server stored one of your messages. */
    "chat-message-sent": CustomEvent<ChatConnectionEvents["chat-message-sent"]>;
    /** A message was edited or deleted. */
    "chat-message-updated": CustomEvent<ChatConnectionEvents["chat-message-updated"]>;
    /** You blocked or unblocked someone. */
    "chat-block-change": CustomEvent<ChatConnectionEvents["chat-block-change"]>;
    /** The total unread count changed. */
    "chat-unread-change": CustomEvent<ChatConnectionEvents["chat-unread-change"]>;
    /** The connection state changed. */
    "chat-connection-change": CustomEvent<ChatConnectionEvents["chat-connection-change"]>;
    /** A conversation was opened (`userID`) or closed (`null`). */
    "chat-conversation-change": CustomEvent<{ userID: string | null }>;
    /** The server refused something. */
    "chat-error": CustomEvent<ChatConnectionEvents["chat-error"]>;
    /** The user logged out. */
    "chat-logout": CustomEvent<ChatConnectionEvents["chat-logout"]>;
    /** Launcher mode: the panel opened. */
    "chat-open": CustomEvent<Record<never, never>>;
    /** Launcher mode: the panel closed. */
    "chat-close": CustomEvent<Record<never, never>>;
  }
}
