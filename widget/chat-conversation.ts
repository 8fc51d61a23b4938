/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { html, LitElement, nothing, type PropertyValues, type TemplateResult } from "lit";
import { repeat } from "lit/directives/repeat.js";
import { LIMITS } from "../server/protocol.ts";
import type { ChatIdentity, ChatMessage, ChatUser } from "./chat-client.ts";
import type { Translate } from "./chat-locales.ts";
import { chatConversationStyles } from "./chat-conversation.styles.ts";
import type { ChatComposer } from "./chat-composer.ts";

/** Within this many px of the bottom counts as "at the bottom". */
const BOTTOM_SLACK = 48;
/** Start loading older messages this many px before the top is reached. */
const TOP_SLACK = 160;

interface Rendered {
  peer?: string;
  first?: string;
  last?: string;
  atBottom: boolean;
  /** The first message in view and its distance from the top of the view, to keep it in place. */
  anchor?: { element: HTMLElement; offset: number };
}

/** Web addresses in message text; only http(s), so no other scheme can become a link. */
const URL_PATTERN = /\bhttps?:\/\/[^\s<>"']+/g;

/** Message text with web addresses as links; everything else stays text. */
function linkify(text: string): (string | TemplateResult)[] {
  const out: (string | TemplateResult)[] = [];
  let last = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    // Punctuation that ends a sentence is not part of the address.
    const url = match[0].replace(/[.,;:!?)\]}]+$/, "");
    out.push(
      text.slice(last, match.index),
      html`<a href=${url} target="_blank" rel="noopener noreferrer nofollow" part="link">${url}</a>`,
    );
    last = match.index + url.length;
  }
  out.push(text.slice(last));
  return out;
}

function dayKey(ts: number): string {
  const d = new Date(ts);
  return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
}

/**
 * One conversation: header, the message log (`role="log"`, announcing only new
 * messages), older pages on scrolling up without the view jumping, a "new
 * messages" pill when you have scrolled away, and the composer.
 *
 * @fires back - the back button was pressed (narrow layout; internal)
 * @fires load-older - the view reached the oldest loaded message (internal)
 * @fires retry - `{ clientId }` (internal)
 * @fires discard - `{ clientId }` (internal)
 * @csspart header, log, message, message-in, message-out, bubble, meta, sender, day, pill, back-button
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

  #rendered: Rendered = { atBottom: true };
  #formats = new Map<string, Intl.DateTimeFormat>();
  #stuck = true;
  #resize?: ResizeObserver;
  #observed?: HTMLElement;

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
    const log = this.#log;
    if (log) log.scrollTop = log.scrollHeight;
    this.#stuck = true;
    this._pill = false;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.addEventListener("keydown", this.#onKeydown);
    // A rotated phone, an opened on-screen keyboard or a resized host rewraps every line:
    // whoever was reading the newest message keeps reading it.
    this.#resize ??= new ResizeObserver(() => {
      if (this.#stuck) {
        const log = this.#log;
        if (log) log.scrollTop = log.scrollHeight;
      }
    });
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#resize?.disconnect();
    this.#observed = undefined;
  }

  /** True when the newest message is in view. */
  get atBottom(): boolean {
    const log = this.#log;
    return !log || log.scrollHeight - log.scrollTop - log.clientHeight <= BOTTOM_SLACK;
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (!changed.has("peer") || !this.peer) return;
    const log = this.#log;
    const first = this.peer.messages[0]?.id;
    // Older pages and a newly opened conversation are not news: keep the live region quiet for them.
    if (
      this.peer.userID !== this.#rendered.peer ||
      (first && this.#rendered.first && first < this.#rendered.first)
    ) {
      this._quiet = true;
    }
    if (log) {
      this.#rendered.atBottom = this.atBottom;
      const top = log.getBoundingClientRect().top;
      const element = [...log.querySelectorAll<HTMLElement>(".bubble")].find((m) =>
        m.getBoundingClientRect().bottom > top
      );
      this.#rendered.anchor = element
        ? { element, offset: element.getBoundingClientRect().top - top }
        : undefined;
    }
  }

  protected override updated(changed: PropertyValues<this>): void {
    const log = this.#log;
    if (log && log !== this.#observed && this.#resize) {
      this.#resize.observe(log);
      this.#observed = log;
    }
    if (!changed.has("peer") || !this.peer || !log) return;
    const before = this.#rendered;
    const messages = this.peer.messages;
    const first = messages[0]?.id;
    const lastMessage = messages.at(-1);
    const last = lastMessage?.id;
    const appended = last !== before.last && lastMessage !== undefined;
    if (this.peer.userID !== before.peer) {
      this.scrollToBottom();
    } else if (appended && (before.atBottom || lastMessage.from === this.me?.userID)) {
      this.scrollToBottom();
    } else {
      // Older pages, sender labels and status lines change heights above the reader:
      // keep the message they were looking at exactly where it was.
      const anchor = before.anchor;
      if (anchor?.element.isConnected) {
        log.scrollTop += anchor.element.getBoundingClientRect().top -
          log.getBoundingClientRect().top - anchor.offset;
      }
      if (appended) this._pill = true;
    }
    this.#rendered = { ...this.#rendered, peer: this.peer.userID, first, last };
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
    return html`
      <div class="header" part="header">
        ${this.narrow
          ? html`
            <button class="back" part="back-button" aria-label=${t("back")} title=${t("back")}
              @click=${() => this.#fire("back")}><span aria-hidden="true">←</span></button>
          `
          : nothing}
        <span class="dot ${peer.connected ? "on" : ""}" part="status" aria-hidden="true"></span>
        <h3 id="title" dir="auto">${peer.username}${peer.self ? ` ${t("you")}` : ""}</h3>
        <span class="status">${peer.connected ? t("online") : t("offline")}</span>
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
        .label=${t("composerLabel", { name: peer.username })}
        @send=${this.#onSend}
      ></chat-composer>
    `;
  }

  #renderMessages(messages: ChatMessage[]) {
    const out: { key: string; view: TemplateResult }[] = [];
    let day = "";
    let sender = "";
    const t = this.t;
    const today = dayKey(Date.now());
    const yesterday = dayKey(Date.now() - 86_400_000);
    for (const m of messages) {
      const key = dayKey(m.timestamp);
      if (key !== day) {
        day = key;
        sender = "";
        const label = key === today
          ? t("today")
          : key === yesterday
          ? t("yesterday")
          : this.#format(
            "day",
            new Date(m.timestamp).getFullYear() === new Date().getFullYear()
              ? { weekday: "long", day: "numeric", month: "long" }
              : { day: "numeric", month: "long", year: "numeric" },
          ).format(m.timestamp);
        out.push({
          key: `day:${key}`,
          view: html`
            <div class="day" part="day" role="separator"
              aria-label=${label}><span aria-hidden="true">${label}</span></div>
          `,
        });
      }
      const mine = m.from === this.me?.userID;
      const name = mine ? this.me.username : this.peer.username;
      const showSender = m.from !== sender;
      sender = m.from;
      // Keyed by clientId when there is one, so a pending message turning into a sent one keeps its node.
      out.push({ key: m.clientId ?? m.id, view: this.#renderMessage(m, mine, name, showSender) });
    }
    return repeat(out, (item) => item.key, (item) => item.view);
  }

  #renderMessage(m: ChatMessage, mine: boolean, name: string, showSender: boolean): TemplateResult {
    const t = this.t;
    const time = this.#format("time", { hour: "numeric", minute: "2-digit" }).format(m.timestamp);
    const state = !mine
      ? nothing
      : m.state === "sent"
      ? html`<span class="tick" aria-hidden="true" title=${t("sent")}>✓</span>`
      : m.state === "failed"
      ? html`
        <span role="alert">${t("failed")}${m.error?.message
          ? html`: ${m.error.message}`
          : nothing}</span>
        <button class="link" part="retry-button" @click=${() =>
          this.#fire("retry", { clientId: m.clientId })}>${t("retry")}</button>
        <button class="link" @click=${() => this.#fire("discard", { clientId: m.clientId })}>${t(
          "discard",
        )}</button>
      `
      : html`<span>${this.online ? t("pending") : t("queued")}</span>`;
    const parts = `message ${mine ? "message-out" : "message-in"} message-${m.state}`;
    return html`
      <div class="msg ${mine ? "out" : "in"} ${m.state}" part=${parts} data-id=${m.id}
        data-state=${m.state}>
        ${showSender
          ? html`<div class="sender" part="sender" dir="auto">${name}</div>`
          : html`<span class="sr-only">${name}:</span>`}
        <p class="bubble" part="bubble" dir="auto">${linkify(m.content)}</p>
        <div class="meta" part="meta"><time datetime=${new Date(m.timestamp)
          .toISOString()} title=${this.#format("full", { dateStyle: "full", timeStyle: "short" })
          .format(m.timestamp)}>${time}</time>${state}</div>
      </div>
    `;
  }

  #format(kind: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
    const key = `${this.lang}|${kind}|${JSON.stringify(options)}`;
    let format = this.#formats.get(key);
    if (!format) {
      try {
        format = new Intl.DateTimeFormat(this.lang || undefined, options);
      } catch {
        format = new Intl.DateTimeFormat(undefined, options);
      }
      this.#formats.set(key, format);
    }
    return format;
  }

  #onScroll(): void {
    const log = this.#log!;
    this.#stuck = this.atBottom;
    if (this._pill && this.#stuck) this._pill = false;
    if (log.scrollTop < TOP_SLACK) this.#loadOlder();
  }

  #loadOlder(): void {
    if (this.peer?.hasMore && !this.peer.loadingOlder) this.#fire("load-older");
  }

  #onKeydown = (event: KeyboardEvent): void => {
    // Escape leaves the conversation in the narrow layout, like the back button.
    if (event.key === "Escape" && this.narrow && !event.defaultPrevented) {
      event.preventDefault();
      this.#fire("back");
    }
  };

  #onSend(event: CustomEvent<{ content: string }>): void {
    // The composer's event stops at this shadow root; pass it on to the widget.
    event.stopPropagation();
    this.#fire("send", event.detail);
  }

  #fire(type: string, detail?: unknown): void {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true }));
  }
}
