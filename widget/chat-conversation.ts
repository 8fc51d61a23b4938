/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { html, LitElement, nothing, type PropertyValues, type TemplateResult } from "lit";
import { repeat } from "lit/directives/repeat.js";
import { LIMITS } from "../server/protocol.ts";
import type { ChatIdentity, ChatMessage, ChatUser } from "./chat-state.ts";
import type { Translate } from "./chat-locales.ts";
import { chatConversationStyles } from "./chat-conversation.styles.ts";
import type { ChatComposer } from "./chat-composer.ts";
import { emit } from "./emit.ts";
import { DateTimeFormats, dayKey, dayLabel, linkify } from "./format.ts";
import { ScrollAnchor } from "./scroll-anchor.ts";

/** Start loading older messages this many px before the top is reached. */
const TOP_SLACK = 160;

/** What the last render showed, to tell news from older pages. */
interface Rendered {
  peer?: string;
  first?: string;
  last?: string;
}

/**
 * One conversation: header, the message log (`role="log"`, announcing only new
 * messages), older pages on scrolling up without the view jumping, a "new
 * messages" pill when you have scrolled away, and the composer.
 *
 * @tagname chat-conversation
 * @fires {CustomEvent<Record<never, never>>} chat-back - the back button or Escape was pressed in the narrow layout (inner)
 * @fires {CustomEvent<Record<never, never>>} chat-load-older - the view reached the oldest loaded message (inner)
 * @fires {CustomEvent<{ clientId: string }>} chat-retry - Retry was pressed on a failed message (inner)
 * @fires {CustomEvent<{ clientId: string }>} chat-discard - Discard was pressed on a failed message (inner)
 * @csspart header - the bar with the person's name and status
 * @csspart back-button - the back button (narrow layout)
 * @csspart status - the person's online dot
 * @csspart log - the message list (`role="log"`)
 * @csspart day - a day separator
 * @csspart sender - the sender's name above a run of their messages
 * @csspart message - one message
 * @csspart message-in - a message from the other person
 * @csspart message-out - one of your messages
 * @csspart message-pending - one of your messages, not yet stored
 * @csspart message-sent - a stored message
 * @csspart message-failed - one of your messages that was not sent
 * @csspart message-deleted - a message whose sender deleted the account
 * @csspart bubble - a message's text
 * @csspart link - a web address in a message
 * @csspart meta - a message's time and delivery state
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
    _pill: { state: true },
    _quiet: { state: true },
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
  declare _pill: boolean;
  declare _quiet: boolean;

  #rendered: Rendered = {};
  #formats = new DateTimeFormats();
  #scroll = new ScrollAnchor(this, { scroller: () => this.#log, items: ".bubble" });

  constructor() {
    super();
    this.narrow = false;
    this.online = true;
    this.max = LIMITS.maxContentLength;
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
    return html`
      <div class="header" part="header">
        ${this.narrow
          ? html`
            <button class="back" part="back-button" aria-label=${t("back")} title=${t("back")}
              @click=${() => emit(this, "chat-back", {})}><span aria-hidden="true">←</span></button>
          `
          : nothing}
        ${peer.deleted ? nothing : html`
          <span class="dot ${peer.connected ? "on" : ""}" part="status" aria-hidden="true"></span>
        `}
        <h3 id="title" dir="auto" class=${peer.deleted ? "gone" : ""}>${name}${peer.self
          ? ` ${t("you")}`
          : ""}</h3>
        ${peer.deleted ? nothing : html`
          <span class="status">${peer.connected ? t("online") : t("offline")}</span>
        `}
      </div>
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
      ${this._pill
        ? html`<button class="pill primary" part="pill" @click=${this.scrollToBottom}>${
          t("newMessages")
        } ↓</button>`
        : nothing}
      <chat-composer
        exportparts="composer, input, send-button, counter"
        .t=${t}
        .key=${peer.userID}
        .max=${this.max}
        .label=${t("composerLabel", { name })}
        .unavailable=${peer.deleted ? t("peerDeleted") : ""}
      ></chat-composer>
    `;
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
    const state = !mine
      ? nothing
      : m.state === "sent"
      ? html`<span class="tick" aria-hidden="true" title=${t("sent")}>✓</span>`
      : m.state === "failed"
      ? html`
        <span role="alert">${t("failed")}${m.error
          ? html`: ${t.optional(`error_${m.error.code}`) ?? m.error.message}`
          : nothing}</span>
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
      m.deleted ? " message-deleted" : ""
    }`;
    return html`
      <div class="msg ${mine ? "out" : "in"} ${m.state} ${m.deleted ? "deleted" : ""}"
        part=${parts} data-id=${m.id} data-state=${m.state}>
        ${showSender
          ? html`<div class="sender" part="sender" dir="auto">${name}</div>`
          : html`<span class="sr-only">${name}:</span>`}
        <p class="bubble" part="bubble" dir="auto">${m.deleted
          ? t("messageDeleted")
          : linkify(m.content)}</p>
        <div class="meta" part="meta"><time datetime=${new Date(m.timestamp)
          .toISOString()} title=${this.#formats.get(this.lang, {
            dateStyle: "full",
            timeStyle: "short",
          })
          .format(m.timestamp)}>${time}</time>${state}</div>
      </div>
    `;
  }

  #onScroll(): void {
    const log = this.#log!;
    if (this.#scroll.onScroll() && this._pill) this._pill = false;
    if (log.scrollTop < TOP_SLACK) this.#loadOlder();
  }

  #loadOlder(): void {
    if (this.peer?.hasMore && !this.peer.loadingOlder) emit(this, "chat-load-older", {});
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
    "chat-load-older": CustomEvent<Record<never, never>>;
    /** Send a failed message again. */
    "chat-retry": CustomEvent<{ clientId: string }>;
    /** Drop a failed message. */
    "chat-discard": CustomEvent<{ clientId: string }>;
  }
}
