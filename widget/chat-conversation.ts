/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { html, LitElement, nothing, type PropertyValues, type TemplateResult } from "lit";
import { repeat } from "lit/directives/repeat.js";
import { LIMITS } from "../server/protocol.ts";
import {
  type ChatIdentity,
  type ChatMessage,
  type ChatUser,
  editable,
  lastEditable,
  receiptOf,
} from "./chat-state.ts";
import type {
  DeleteMessageRequest,
  EditMessageRequest,
  FailedAck,
  LoadMessagesAck,
  LoadMessagesRequest,
  MessageChangeAck,
  WireError,
} from "../server/protocol.ts";
import type { ChatConfirmDialog, ConfirmRequest } from "./chat-confirm-dialog.ts";
import type { Translate } from "./chat-locales.ts";
import { chatConversationStyles } from "./chat-conversation.styles.ts";
import type { ChatComposer } from "./chat-composer.ts";
import { emit } from "./emit.ts";
import { DateTimeFormats, lastSeenLabel } from "./format.ts";
import { dayKey, dayLabel, linkify } from "./message-format.ts";
import { ScrollAnchor } from "./scroll-anchor.ts";

/** Start loading older messages this many px before the top is reached. */
const TOP_SLACK = 160;

/** What the last render showed, to tell news from older pages. */
interface Rendered {
  peer?: string;
  first?: string;
  last?: string;
}

/** What the conversation asks of the server. */
export interface ConversationActions {
  /**
   * Sends `edit message` or `delete message` and resolves with its ack. The change itself
   * comes back as `message updated`, to every tab of both people.
   */
  request<A extends { ok: boolean }>(
    event: "edit message" | "delete message" | "load messages",
    payload: EditMessageRequest | DeleteMessageRequest | LoadMessagesRequest,
  ): Promise<A | FailedAck>;
  /** An older page asked for with `load messages` arrived, or could not be fetched. */
  olderLoaded(userID: string, ack: LoadMessagesAck | FailedAck): void;
  /** Blocks or unblocks `userID`; resolves with the refusal, if refused. */
  block(userID: string, blocked: boolean): Promise<WireError | undefined>;
  /** Tells `to` that you are typing to them. */
  typing(to: string): void;
}

/** The refusal of a change, if refused. */
async function refusal(ack: Promise<MessageChangeAck | FailedAck>): Promise<WireError | undefined> {
  const done = await ack;
  return done.ok ? undefined : done.error;
}

/** The parts of the conversation and its composer, as the enclosing widget exposes them. */
const EXPORTED_PARTS =
  "header: conversation-header, log, message, message-in, message-out, message-pending, message-sent, message-failed, message-delivered, message-seen, message-deleted, bubble, deleted, edited, link, meta, sender, day, pill, back-button, block-button, retry-button, placeholder, status, last-seen, typing, message-menu-button, message-menu, composer, input, send-button, counter, composer-notice, edit-bar, edit-cancel, dialog, dialog-button, confirm-button";

/**
 * One conversation: header, the message log (`role="log"`, announcing only new
 * messages), older pages on scrolling up without the view jumping, a "new
 * messages" pill when you have scrolled away, who is typing, and the composer. Your
 * own messages show how far they got (sent, delivered, seen) and, while they may
 * still be changed, a menu to edit or delete them. An edit happens here: Edit in the
 * menu (or Up in an empty box) puts the message in the composer, and saving hands it to
 * `actions.request`. Deleting a message and blocking the person are confirmed first, in a
 * `<chat-confirm-dialog>`. An edit ends with Escape or Cancel, once saved, when the message is deleted (in any
 * tab), or when another conversation opens.
 *
 * @tagname chat-conversation
 * @fires {CustomEvent<Record<never, never>>} chat-back - the back button or Escape was pressed in the narrow layout (inner)
 * @fires {CustomEvent<{ clientId: string }>} chat-retry - Retry was pressed on a failed message (inner)
 * @fires {CustomEvent<{ clientId: string }>} chat-discard - Discard was pressed on a failed message (inner)
 * @csspart header - the bar with the person's name and status
 * @csspart back-button - the back button (narrow layout)
 * @csspart block-button - Block or Unblock
 * @csspart status - the person's online dot
 * @csspart last-seen - when an offline person was last online
 * @csspart typing - "… is typing" (a polite live region)
 * @csspart log - the message list (`role="log"`)
 * @csspart day - a day separator
 * @csspart sender - the sender's name above a run of their messages
 * @csspart message - one message
 * @csspart message-in - a message from the other person
 * @csspart message-out - one of your messages
 * @csspart message-pending - one of your messages, not yet stored
 * @csspart message-sent - a stored message
 * @csspart message-failed - one of your messages that was not sent
 * @csspart message-delivered - one of your messages the other person's device has received
 * @csspart message-seen - one of your messages the other person has read
 * @csspart message-deleted - a deleted message (by its sender, or with the sender's account)
 * @csspart bubble - a message's text
 * @csspart deleted - the "Message deleted" placeholder in place of the text
 * @csspart edited - "edited" on a changed message
 * @csspart link - a web address in a message
 * @csspart meta - a message's time and delivery state
 * @csspart message-menu-button - the button that opens the menu of one of your messages
 * @csspart message-menu - that menu (Edit, Delete)
 * @csspart retry-button - Retry on a failed message
 * @csspart pill - the "new messages" button
 * @csspart placeholder - the text shown when no conversation is open
 */
export class ChatConversation extends LitElement {
  static override styles = chatConversationStyles;

  static override properties = {
    t: { attribute: false },
    lang: { type: String },
    peer: { attribute: false, hasChanged: () => true },
    me: { attribute: false },
    narrow: { type: Boolean, reflect: true },
    online: { type: Boolean },
    max: { attribute: false },
    readReceipts: { attribute: false },
    editWindow: { attribute: false },
    actions: { attribute: false },
    _editing: { state: true },
    _editError: { state: true },
    _pill: { state: true },
    _quiet: { state: true },
    _menu: { state: true },
  };

  /** The translator of the enclosing widget. */
  declare t: Translate;
  /** Language tag for dates and times. */
  declare lang: string;
  /** The other person and the messages with them. */
  declare peer: ChatUser;
  /** The signed-in user. */
  declare me: ChatIdentity;
  /** Narrow layout: shows a back button. */
  declare narrow: boolean;
  /** Whether the connection is up (pending messages say "waiting" otherwise). */
  declare online: boolean;
  /** Longest message the server accepts (for the composer). */
  declare max: number;
  /** Whether the signed-in user has read receipts on (off: no "seen" shown). */
  declare readReceipts: boolean;
  /** Seconds after sending in which your messages may be changed; 0: never. */
  declare editWindow: number;
  /** What it asks of the server. */
  declare actions: ConversationActions;
  /** The message being edited in the composer, and with whom. */
  declare _editing: { userID: string; id: string } | undefined;
  /** Why the last edit was refused, for people; empty when it was not. */
  declare _editError: string;
  declare _pill: boolean;
  declare _quiet: boolean;
  /** The message whose menu is open. */
  declare _menu: string | undefined;

  #rendered: Rendered = {};
  #formats = new DateTimeFormats();
  #scroll = new ScrollAnchor(this, { scroller: () => this.#log, items: ".bubble" });

  constructor() {
    super();
    this.narrow = false;
    this.online = true;
    this.max = LIMITS.maxContentLength;
    this.readReceipts = true;
    this.editWindow = 0;
    this._editError = "";
    this._pill = false;
    this._quiet = true;
  }

  get #log(): HTMLElement | null {
    return this.renderRoot.querySelector(".log");
  }

  /** Moves focus to the composer, once pending renders are done. */
  override focus(): void {
    this.updateComplete.then(async () => {
      const composer = this.renderRoot.querySelector<ChatComposer>("chat-composer");
      await composer?.updateComplete;
      composer?.focus();
    });
  }

  /** Scrolls to the newest message. */
  scrollToBottom(): void {
    this.#scroll.scrollToBottom();
    this._pill = false;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    // Its parts are the widget's: the widget renders it without naming them all.
    this.setAttribute("exportparts", EXPORTED_PARTS);
    this.addEventListener("keydown", this.#onKeydown);
  }

  /** True when the newest message is in view. */
  get atBottom(): boolean {
    return this.#scroll.atBottom;
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (!changed.has("peer") || !this.peer) return;
    const first = this.peer.messages[0]?.id;
    // Older pages and a newly opened conversation are not news: keep the live region quiet for them.
    if (
      this.peer.userID !== this.#rendered.peer ||
      (first && this.#rendered.first && first < this.#rendered.first)
    ) {
      this._quiet = true;
    }
    this.#scroll.capture();
  }

  protected override updated(changed: PropertyValues<this>): void {
    const log = this.#log;
    if (!changed.has("peer") || !this.peer || !log) return;
    const before = this.#rendered;
    const messages = this.peer.messages;
    const first = messages[0]?.id;
    const lastMessage = messages.at(-1);
    const last = lastMessage?.id;
    const appended = last !== before.last && lastMessage !== undefined;
    if (this.peer.userID !== before.peer) {
      this.scrollToBottom();
    } else if (
      appended && (this.#scroll.wasAtBottom || lastMessage.from === this.me?.userID)
    ) {
      this.scrollToBottom();
    } else {
      // Older pages, sender labels and status lines change heights above the reader:
      // keep the message they were looking at exactly where it was.
      this.#scroll.restore();
      // Unless they were reading the newest: messages turned to tombstones, or a new
      // language, moved it out of view.
      if (this.#scroll.wasAtBottom && !this.#scroll.atBottom) this.scrollToBottom();
      else if (appended) this._pill = true;
    }
    this.#rendered = { peer: this.peer.userID, first, last };
    if (this._quiet) requestAnimationFrame(() => (this._quiet = false));
    // A short first page may not fill the view, so no scroll would ever ask for more.
    if (
      this.peer.hasMore && !this.peer.loadingOlder &&
      log.scrollHeight <= log.clientHeight + TOP_SLACK
    ) {
      this.#loadOlder();
    }
  }

  override render() {
    const t = this.t;
    const peer = this.peer;
    if (!peer) return html`<p class="empty" part="placeholder">${t("pickUser")}</p>`;
    const name = peer.deleted ? t("deletedUser") : peer.username;
    const editingId = this.#editingId();
    const editing = editingId ? peer.messages.find((m) => m.id === editingId) : undefined;
    return html`
      <div class="header" part="header">
        ${this.narrow
          ? html`
            <button class="back" part="back-button" aria-label=${t("back")} title=${t("back")}
              @click=${() => emit(this, "chat-back", {})}><span aria-hidden="true">←</span></button>
          `
          : nothing}
        ${peer.deleted ? nothing : html`
          <span class="dot ${!this.online ? "unknown" : peer.connected ? "on" : ""}" part="status"
            aria-hidden="true"></span>
        `}
        <div class="who">
          <h3 id="title" dir="auto" class=${peer.deleted ? "gone" : ""}>${name}${peer.self
            ? ` ${t("you")}`
            : ""}</h3>
          ${peer.deleted ? nothing : html`<span class="status">${this.#presence(peer)}</span>`}
        </div>
        ${peer.self || peer.deleted ? nothing : html`
          <button class="block" part="block-button" aria-haspopup=${peer.blocked
            ? "false"
            : "dialog"}
            @click=${() => this.#block(peer)}>${peer
                .blocked
              ? t("unblock")
              : t("block")}</button>
        `}
      </div>
      <div class="stage">
        <div
          class="log"
          part="log"
          role="log"
          aria-live=${this._quiet ? "off" : "polite"}
          aria-relevant="additions"
          aria-labelledby="title"
          tabindex="0"
          @scroll=${this.#onScroll}
        >
          <div class="top">${peer.loadingOlder
            ? t("loadingOlder")
            : peer.hasMore
            ? html`<button class="link" @click=${this.#loadOlder}>${t("loadOlder")}</button>`
            : peer.messages.length
            ? t("beginning")
            : t("noMessages")}</div>
          ${this.#renderMessages(peer.messages)}
        </div>
        <div class="typing" part="typing" aria-live="polite">${peer.typing
          ? html`<span>${t("typing", { name: `\u2068${name}\u2069` })}</span>`
          : nothing}</div>
        ${this._pill
          ? html`<button class="pill primary" part="pill" @click=${this.scrollToBottom}>${
            t("newMessages")
          } ↓</button>`
          : nothing}
      </div>
      <chat-composer
        exportparts="composer, input, send-button, counter, composer-notice, edit-bar, edit-cancel"
        .t=${t}
        .key=${peer.userID}
        .max=${this.max}
        .label=${t("composerLabel", { name })}
        .unavailable=${peer.deleted
          ? t("peerDeleted")
          : peer.blocked
          ? t("youBlocked", { name: `\u2068${name}\u2069` })
          : ""}
        .editing=${editing}
        .editError=${this._editError}
        @chat-send=${this.#onSend}
        @chat-typing=${this.#onTyping}
        @chat-edit-last=${(event: Event) => {
          event.stopPropagation();
          const last = lastEditable(peer, this.#editOptions());
          if (last) this.#startEditing(last.id);
        }}
        @chat-edit-cancel=${(event: Event) => {
          event.stopPropagation();
          this.#stopEditing();
        }}
      ></chat-composer>
      <chat-confirm-dialog .t=${t} ?online=${this.online}></chat-confirm-dialog>
    `;
  }

  /** Online, blocked, when last seen, or offline; nothing while disconnected, when nobody's is known. */
  #presence(user: ChatUser) {
    const t = this.t;
    if (user.blocked) return t("blocked");
    if (!this.online) return "";
    if (user.connected) return t("online");
    if (user.lastSeen === undefined) return t("offline");
    return html`<span part="last-seen">${
      lastSeenLabel(user.lastSeen, { t, lang: this.lang, formats: this.#formats })
    }</span>`;
  }

  #renderMessages(messages: ChatMessage[]) {
    const out: { key: string; view: TemplateResult }[] = [];
    let day = "";
    let sender = "";
    const labels = { t: this.t, lang: this.lang, formats: this.#formats, now: Date.now() };
    for (const m of messages) {
      const key = dayKey(m.timestamp);
      if (key !== day) {
        day = key;
        sender = "";
        const label = dayLabel(m.timestamp, labels);
        out.push({
          key: `day:${key}`,
          view: html`
            <div class="day" part="day" role="separator"
              aria-label=${label}><span aria-hidden="true">${label}</span></div>
          `,
        });
      }
      const mine = m.from === this.me?.userID;
      const name = mine
        ? this.me.username
        : this.peer.deleted
        ? this.t("deletedUser")
        : this.peer.username;
      const showSender = m.from !== sender;
      sender = m.from;
      // Keyed by clientId when there is one, so a pending message turning into a sent one keeps its node.
      out.push({ key: m.clientId ?? m.id, view: this.#renderMessage(m, mine, name, showSender) });
    }
    return repeat(out, (item) => item.key, (item) => item.view);
  }

  #renderMessage(m: ChatMessage, mine: boolean, name: string, showSender: boolean): TemplateResult {
    const t = this.t;
    const time = this.#formats.get(this.lang, { hour: "numeric", minute: "2-digit" }).format(
      m.timestamp,
    );
    const receipt = mine ? receiptOf(m, this.peer, this.readReceipts) : m.state;
    // Nothing changes in a conversation with a deleted account.
    const changeable = mine && !this.peer.deleted && editable(m, this.#editOptions());
    const menu = changeable && this._menu === m.id;
    const state = !mine || m.deleted ? nothing : m.state === "sent"
      ? html`
        <span class="tick ${receipt}"
          title=${t(receipt as "sent")}><span aria-hidden="true">${receipt ===
              "sent"
            ? "✓"
            : "✓✓"}</span><span class="sr-only">${t(receipt as "sent")}</span></span>
      `
      : m.state === "failed"
      ? html`
        <span role="alert">${m.error?.code === "blocked" && !this.peer.blocked
          ? t("notDelivered")
          : html`${t("failed")}${
            m.error ? html`: ${t.optional(`error_${m.error.code}`) ?? m.error.message}` : nothing
          }`}</span>
        ${m.error?.code === "recipient_deleted" ? nothing : html`
          <button class="link" part="retry-button" @click=${() =>
            emit(this, "chat-retry", { clientId: m.clientId! })}>${t("retry")}</button>
        `}
        <button class="link" @click=${() =>
          emit(this, "chat-discard", { clientId: m.clientId! })}>${t(
            "discard",
          )}</button>
      `
      : html`<span>${this.online ? t("pending") : t("queued")}</span>`;
    const parts = `message ${mine ? "message-out" : "message-in"} message-${m.state}${
      receipt === "delivered" || receipt === "seen" ? ` message-${receipt}` : ""
    }${m.deleted ? " message-deleted" : ""}`;
    const full = { dateStyle: "full", timeStyle: "short" } as const;
    return html`
      <div class="msg ${mine ? "out" : "in"} ${m.state} ${m.deleted ? "deleted" : ""} ${m.id ===
          this._editing?.id
        ? "editing"
        : ""}"
        part=${parts} data-id=${m.id} data-state=${m.state} data-receipt=${receipt}>
        ${showSender
          ? html`<div class="sender" part="sender" dir="auto">${name}</div>`
          : html`<span class="sr-only">${name}:</span>`}
        <div class="line">
          ${changeable
            ? html`
              <button class="more" part="message-menu-button" aria-label=${t(
                "messageActions",
              )} title=${t("messageActions")}
                aria-haspopup="menu" aria-expanded=${menu ? "true" : "false"}
                @click=${() => this.#toggleMenu(m.id)}><span aria-hidden="true">⋯</span></button>
            `
            : nothing}
          <p class="bubble" part=${m.deleted ? "bubble deleted" : "bubble"} dir="auto">${m.deleted
            ? t("messageDeleted")
            : linkify(m.content)}</p>
        </div>
        <div class="meta" part="meta"><time datetime=${new Date(m.timestamp)
          .toISOString()} title=${this.#formats.get(this.lang, full).format(
            m.timestamp,
          )}>${time}</time>${m
            .editedAt && !m.deleted
          ? html`<span class="edited" part="edited" title=${
            this.#formats.get(this.lang, full)
              .format(m.editedAt)
          }>${t("edited")}</span>`
          : nothing}${state}</div>
        ${menu
          ? html`
            <div class="menu" part="message-menu" role="menu" aria-label=${t("messageActions")}
              aria-orientation="horizontal" @keydown=${this.#menuKeydown}
              @focusout=${this.#menuFocusout}>
              <button role="menuitem" tabindex="-1" @click=${() => this.#choose("edit", m.id)}>${t(
                "edit",
              )}</button>
              <button role="menuitem" tabindex="-1" class="danger" @click=${() =>
                this.#choose("delete", m.id)}>${t("delete")}</button>
            </div>
          `
          : nothing}
      </div>
    `;
  }

  #toggleMenu(id: string): void {
    this._menu = this._menu === id ? undefined : id;
    if (this._menu) {
      this.updateComplete.then(() => {
        const first = this.renderRoot.querySelector<HTMLElement>(".menu [role=menuitem]");
        first?.scrollIntoView({ block: "nearest" });
        first?.focus();
      });
    }
  }

  /** Closes the menu and gives focus back to its button. */
  #closeMenu(): void {
    const id = this._menu;
    this._menu = undefined;
    if (id) {
      this.renderRoot.querySelector<HTMLElement>(
        `.msg[data-id="${CSS.escape(id)}"] .more`,
      )?.focus();
    }
  }

  #choose(action: "edit" | "delete", id: string): void {
    this.#closeMenu();
    if (action === "edit") this.#startEditing(id);
    else this.#delete(id);
  }

  #editOptions() {
    return { selfID: this.me?.userID, windowSeconds: this.editWindow, now: Date.now() };
  }

  /** The message being edited, while it is still there (not deleted meanwhile, in any tab). */
  #editingId(): string | undefined {
    const editing = this._editing;
    const peer = this.peer;
    if (!editing || !peer || editing.userID !== peer.userID) return undefined;
    return peer.messages.some((m) => m.id === editing.id && !m.deleted && m.state === "sent")
      ? editing.id
      : undefined;
  }

  #startEditing(id: string): void {
    const peer = this.peer;
    const message = peer?.messages.find((m) => m.id === id);
    if (!peer || peer.deleted || !message || !editable(message, this.#editOptions())) return;
    this._editing = { userID: peer.userID, id };
    this._editError = "";
  }

  #stopEditing(): void {
    this._editing = undefined;
    this._editError = "";
  }

  #saving = false;

  // When `typing` was last sent to each person.
  #typingSent = new Map<string, number>();

  /** Typing in the box: the person hears of it at most once every `LIMITS.typingIntervalMs`. */
  #onTyping = (event: Event): void => {
    event.stopPropagation();
    const peer = this.peer;
    if (!peer || peer.self || peer.deleted || peer.blocked || !peer.connected || !this.online) {
      return;
    }
    const now = Date.now();
    if (now - (this.#typingSent.get(peer.userID) ?? -Infinity) < LIMITS.typingIntervalMs) return;
    this.#typingSent.set(peer.userID, now);
    this.actions.typing(peer.userID);
  };

  /** The composer sent: an edit is saved here; a new message goes on to the widget. */
  #onSend = async (event: CustomEvent<{ content: string }>): Promise<void> => {
    const id = this.#editingId();
    if (!id) {
      // The next keystroke starts a new message: say so at once.
      this.#typingSent.delete(this.peer.userID);
      return;
    }
    event.stopPropagation();
    const message = this.peer.messages.find((m) => m.id === id);
    if (this.#saving || !message) return;
    if (message.content === event.detail.content) return this.#stopEditing();
    this.#saving = true;
    const error = await refusal(this.actions.request("edit message", {
      id,
      content: event.detail.content,
      with: this.peer.userID,
    }));
    this.#saving = false;
    if (this._editing?.id !== id) return;
    if (!error) return this.#stopEditing();
    const t = this.t;
    this._editError = t("editFailed", { reason: this.#reason(error) });
  };

  /** A refusal in the table's words when it has them, else the server's. */
  #reason(error: WireError): string {
    return this.t.optional(`error_${error.code}`) ?? error.message;
  }

  #confirm(request: ConfirmRequest): void {
    void this.renderRoot.querySelector<ChatConfirmDialog>("chat-confirm-dialog")?.ask(request);
  }

  #delete(id: string): void {
    this.#confirm({
      words: (t) => ({
        title: t("deleteMessageTitle"),
        text: t("deleteMessageHint"),
        confirm: t("delete"),
      }),
      run: async () => {
        const error = await refusal(
          this.actions.request("delete message", { id, with: this.peer.userID }),
        );
        if (error) return this.t("deleteMessageFailed", { reason: this.#reason(error) });
        this.focus();
      },
    });
  }

  #block(peer: ChatUser): void {
    if (peer.blocked) {
      void this.actions.block(peer.userID, false);
      return;
    }
    const name = `\u2068${peer.username}\u2069`;
    this.#confirm({
      words: (t) => ({
        title: t("blockTitle", { name }),
        text: t("blockHint", { name }),
        confirm: t("block"),
      }),
      run: async () => {
        const error = await this.actions.block(peer.userID, true);
        return error ? this.t("blockFailed", { reason: this.#reason(error) }) : undefined;
      },
    });
  }

  #menuKeydown = (event: KeyboardEvent): void => {
    const items = [
      ...(event.currentTarget as HTMLElement).querySelectorAll<HTMLElement>("[role=menuitem]"),
    ];
    const index = items.indexOf((this.renderRoot as ShadowRoot).activeElement as HTMLElement);
    const rtl = getComputedStyle(this).direction === "rtl";
    const step = {
      ArrowDown: 1,
      ArrowUp: -1,
      ArrowRight: rtl ? -1 : 1,
      ArrowLeft: rtl ? 1 : -1,
    }[event.key];
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      this.#closeMenu();
    } else if (step !== undefined || event.key === "Home" || event.key === "End") {
      event.preventDefault();
      const next = event.key === "Home"
        ? 0
        : event.key === "End"
        ? items.length - 1
        : (index + step! + items.length) % items.length;
      items[next]?.focus();
    }
  };

  #menuFocusout = (event: FocusEvent): void => {
    // Tab, or a click elsewhere, closes the menu; moving between its items does not.
    if (!(event.currentTarget as HTMLElement).contains(event.relatedTarget as Node | null)) {
      this._menu = undefined;
    }
  };

  #onScroll(): void {
    const log = this.#log;
    // A scroll event can arrive after the conversation closed and its log is gone.
    if (!log) return;
    if (this.#scroll.onScroll() && this._pill) this._pill = false;
    if (log.scrollTop < TOP_SLACK) this.#loadOlder();
  }

  /** Asks for the page before the oldest message held, unless one is on its way. */
  async #loadOlder(): Promise<void> {
    const peer = this.peer;
    if (!peer?.hasMore || peer.loadingOlder || !this.online) return;
    peer.loadingOlder = true;
    this.requestUpdate();
    const ack = await this.actions.request<LoadMessagesAck>("load messages", {
      with: peer.userID,
      before: peer.messages.find((m) => m.state === "sent")?.id,
      limit: LIMITS.defaultPageSize,
    });
    peer.loadingOlder = false;
    this.actions.olderLoaded(peer.userID, ack);
  }

  #onKeydown = (event: KeyboardEvent): void => {
    // Escape leaves the conversation in the narrow layout, like the back button.
    if (event.key === "Escape" && this.narrow && !event.defaultPrevented) {
      event.preventDefault();
      emit(this, "chat-back", {});
    }
  };
}

declare global {
  interface HTMLElementTagNameMap {
    "chat-conversation": ChatConversation;
  }
  interface GlobalEventHandlersEventMap {
    /** Back to the list (narrow layout). */
    "chat-back": CustomEvent<Record<never, never>>;
    /** The view reached the oldest message held: load the page before it. */
    /** Send a failed message again. */
    "chat-retry": CustomEvent<{ clientId: string }>;
    /** Drop a failed message. */
    "chat-discard": CustomEvent<{ clientId: string }>;
    /** Edit one of your messages (from its menu). */
    "chat-edit-start": CustomEvent<{ id: string }>;
  }
}
