/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { html, LitElement, nothing, type PropertyValues } from "lit";
import { LIMITS, type Message } from "../server/protocol.ts";
import type { Translate } from "./chat-locales.ts";
import { chatComposerStyles } from "./chat-composer.styles.ts";
import { emit } from "./emit.ts";

/** Show the remaining-length counter from this many characters before the limit. */
const COUNTER_FROM = 500;

/**
 * The message box: Enter sends, Shift+Enter adds a newline, whitespace-only or
 * over-long text cannot be sent, a counter appears near the limit. Keeps one
 * draft per conversation (`key`). With `unavailable` set it is disabled and says why.
 * With `editing` set it holds that message's text under an "Editing message" bar:
 * Enter saves, Escape or Cancel gives the draft back; Up in an empty box asks to edit
 * your last message.
 *
 * @tagname chat-composer
 * @fires {CustomEvent<{ content: string }>} chat-send - the person sent (or, editing, saved) what they wrote (inner: the widget stops it)
 * @fires {CustomEvent<Record<never, never>>} chat-typing - the person typed into a non-empty box (inner)
 * @fires {CustomEvent<Record<never, never>>} chat-edit-last - Up was pressed in the empty box (inner)
 * @fires {CustomEvent<Record<never, never>>} chat-edit-cancel - Escape or Cancel while editing (inner)
 * @csspart composer - the form
 * @csspart input - the text area
 * @csspart send-button - the send button
 * @csspart counter - the remaining-length counter
 * @csspart composer-notice - why nothing can be sent here
 * @csspart edit-bar - "Editing message", while editing
 * @csspart edit-cancel - its Cancel button
 */
export class ChatComposer extends LitElement {
  static override styles = chatComposerStyles;

  static override properties = {
    t: { attribute: false },
    label: { attribute: false },
    key: { attribute: false },
    max: { attribute: false },
    unavailable: { attribute: false },
    editing: { attribute: false },
    editError: { attribute: false },
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
  /** The message being edited, if any: its text fills the box until saved or cancelled. */
  declare editing: Pick<Message, "id" | "content"> | undefined;
  /** Why the last save was refused, for people; empty when it was not. */
  declare editError: string;
  declare _value: string;

  #drafts = new Map<string, string>();
  // What the box held before editing began, given back when it ends.
  #draft = "";

  constructor() {
    super();
    this.label = "";
    this.key = "";
    this.max = LIMITS.maxContentLength;
    this.unavailable = "";
    this.editError = "";
    this._value = "";
  }

  /** Moves focus to the text area. */
  override focus(): void {
    this.renderRoot.querySelector("textarea")?.focus();
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    const before = changed.has("editing") ? changed.get("editing") : this.editing;
    if (changed.has("key")) {
      const previous = changed.get("key");
      if (previous !== undefined) this.#drafts.set(previous, before ? this.#draft : this._value);
      this._value = this.#drafts.get(this.key) ?? "";
    }
    if (!changed.has("editing")) return;
    if (this.editing && this.editing.id !== before?.id) {
      if (!before || changed.has("key")) this.#draft = this._value;
      this._value = this.editing.content;
      // Into the box, at the end of the text.
      this.updateComplete.then(() => {
        const area = this.renderRoot.querySelector("textarea");
        area?.focus();
        area?.setSelectionRange(area.value.length, area.value.length);
      });
    } else if (!this.editing && before) {
      this._value = this.#draft;
    }
  }

  override render() {
    const t = this.t;
    const length = this._value.length;
    const left = this.max - length;
    const off = !!this.unavailable;
    const sendable = this._value.trim().length > 0 && left >= 0 && !off;
    const editing = !!this.editing && !off;
    return html`
      ${editing
        ? html`
          <div class="edit-bar" part="edit-bar">
            <span id="editing">${t("editing")}</span>
            <button class="link" part="edit-cancel" @click=${this.#cancelEdit}>${t(
              "cancel",
            )}</button>
          </div>
          <p class="error" role="alert" ?hidden=${!this.editError}>${this.editError}</p>
        `
        : nothing}
      <form part="composer" @submit=${this.#submit}>
        <textarea
          part="input"
          rows="1"
          dir="auto"
          .value=${this._value}
          aria-label=${this.label}
          placeholder=${off ? "" : t("composerPlaceholder")}
          aria-invalid=${left < 0 ? "true" : "false"}
          aria-describedby=${editing ? "editing counter notice" : "counter notice"}
          enterkeyhint="send"
          ?disabled=${off}
          @input=${this.#input}
          @keydown=${this.#keydown}
          @focus=${this.#keepVisible}
        ></textarea>
        <button class="primary" part="send-button" type="submit"
          ?disabled=${!sendable}>${editing ? t("save") : t("send")}</button>
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
    if (!this.editing && this._value.trim()) emit(this, "chat-typing", {});
  }

  #cancelEdit(): void {
    emit(this, "chat-edit-cancel", {});
    this.focus();
  }

  #keydown(event: KeyboardEvent): void {
    const plain = !event.shiftKey && !event.isComposing && !event.altKey && !event.ctrlKey &&
      !event.metaKey;
    if (event.key === "Escape" && this.editing) {
      // Handled: the conversation's own Escape (back to the list) must not follow.
      event.preventDefault();
      this.#cancelEdit();
      return;
    }
    if (event.key === "ArrowUp" && plain && !this.editing && this._value === "") {
      event.preventDefault();
      emit(this, "chat-edit-last", {});
      return;
    }
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
    // An edit stays in the box until the widget says it was saved.
    if (this.editing) return emit(this, "chat-send", { content });
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
    /** The person sent the text of the message box (or, editing, saved it). */
    "chat-send": CustomEvent<{ content: string }>;
    /** The person is typing a message. */
    "chat-typing": CustomEvent<Record<never, never>>;
    /** Up in the empty box: edit the last message. */
    "chat-edit-last": CustomEvent<Record<never, never>>;
    /** Stop editing, keeping the message as it was. */
    "chat-edit-cancel": CustomEvent<Record<never, never>>;
  }
}
