/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { html, LitElement, nothing, type PropertyValues } from "lit";
import { LIMITS } from "../server/protocol.ts";
import type { Translate } from "./chat-locales.ts";
import { chatComposerStyles } from "./chat-composer.styles.ts";
import { emit } from "./emit.ts";

/** Show the remaining-length counter from this many characters before the limit. */
const COUNTER_FROM = 500;

/**
 * The message box: Enter sends, Shift+Enter adds a newline, whitespace-only or
 * over-long text cannot be sent, a counter appears near the limit. Keeps one
 * draft per conversation (`key`). With `unavailable` set it is disabled and says why.
 *
 * @tagname chat-composer
 * @fires {CustomEvent<{ content: string }>} chat-send - the person sent what they wrote (inner: the widget stops it)
 * @csspart composer - the form
 * @csspart input - the text area
 * @csspart send-button - the send button
 * @csspart counter - the remaining-length counter
 * @csspart composer-notice - why nothing can be sent here
 */
export class ChatComposer extends LitElement {
  static override styles = chatComposerStyles;

  static override properties = {
    t: { attribute: false },
    label: { attribute: false },
    key: { attribute: false },
    max: { attribute: false },
    unavailable: { attribute: false },
    _value: { state: true },
  };

  /** The translator of the enclosing widget. */
  declare t: Translate;
  /** Accessible label of the text area. */
  declare label: string;
  /** The conversation the draft belongs to. */
  declare key: string;
  /** Longest content the server accepts, in UTF-16 code units (`String#length`). */
  declare max: number;
  /** Why nothing can be sent here (the person deleted the account); empty when sending works. */
  declare unavailable: string;
  declare _value: string;

  #drafts = new Map<string, string>();

  constructor() {
    super();
    this.label = "";
    this.key = "";
    this.max = LIMITS.maxContentLength;
    this.unavailable = "";
    this._value = "";
  }

  /** Moves focus to the text area. */
  override focus(): void {
    this.renderRoot.querySelector("textarea")?.focus();
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has("key")) {
      const previous = changed.get("key");
      if (previous !== undefined) this.#drafts.set(previous, this._value);
      this._value = this.#drafts.get(this.key) ?? "";
    }
  }

  override render() {
    const t = this.t;
    const length = this._value.length;
    const left = this.max - length;
    const off = !!this.unavailable;
    const sendable = this._value.trim().length > 0 && left >= 0 && !off;
    return html`
      <form part="composer" @submit=${this.#submit}>
        <textarea
          part="input"
          rows="1"
          dir="auto"
          .value=${this._value}
          aria-label=${this.label}
          placeholder=${off ? "" : t("composerPlaceholder")}
          aria-invalid=${left < 0 ? "true" : "false"}
          aria-describedby="counter notice"
          enterkeyhint="send"
          ?disabled=${off}
          @input=${this.#input}
          @keydown=${this.#keydown}
          @focus=${this.#keepVisible}
        ></textarea>
        <button class="primary" part="send-button" type="submit"
          ?disabled=${!sendable}>${t("send")}</button>
      </form>
      <div id="counter" class="counter ${left < 0
        ? "over"
        : ""}" part="counter" aria-live="polite" ?hidden=${left > COUNTER_FROM}>
        ${left > COUNTER_FROM
          ? nothing
          : left >= 0
          ? t("charsLeft", { n: left })
          : t("tooLong", { n: -left })}
      </div>
      <p id="notice" class="notice" part="composer-notice" ?hidden=${!off}>${this.unavailable}</p>
    `;
  }

  #input(event: InputEvent): void {
    this._value = (event.target as HTMLTextAreaElement).value;
  }

  #keydown(event: KeyboardEvent): void {
    // isComposing: Enter that confirms an IME candidate must not send.
    if (
      event.key === "Enter" && !event.shiftKey && !event.isComposing && !event.altKey &&
      !event.ctrlKey
    ) {
      event.preventDefault();
      this.#submit();
    }
  }

  #submit(event?: Event): void {
    event?.preventDefault();
    // Blank lines around the text are a slip of the Enter key, not content.
    const content = this._value.replace(/^\s*\n|\s+$/g, "");
    if (!content.trim() || content.length > this.max || this.unavailable) return;
    this._value = "";
    this.#drafts.delete(this.key);
    emit(this, "chat-send", { content });
    this.focus();
  }

  /** On phones the on-screen keyboard shrinks the visual viewport: keep the box above it. */
  #keepVisible = (): void => {
    const viewport = globalThis.visualViewport;
    if (!viewport) return;
    const scroll = () => this.scrollIntoView({ block: "nearest" });
    viewport.addEventListener("resize", scroll, { once: true });
    setTimeout(scroll, 300);
  };
}

declare global {
  interface HTMLElementTagNameMap {
    "chat-composer": ChatComposer;
  }
  interface GlobalEventHandlersEventMap {
    /** The person sent the text of the message box. */
    "chat-send": CustomEvent<{ content: string }>;
  }
}
