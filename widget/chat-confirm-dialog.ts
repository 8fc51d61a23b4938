/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { html, LitElement } from "lit";
import type { Translate } from "./chat-locales.ts";
import { chatConfirmDialogStyles } from "./chat-confirm-dialog.styles.ts";

/** What a confirmation asks, and what confirming does. */
export interface ConfirmRequest {
  /**
   * Its words in the widget's language, asked again when the language changes: the question
   * ("Block Alice?"), what happens on confirming, and the confirming button's label ("Block").
   */
  words: (t: Translate) => { title: string; text: string; confirm: string };
  /** Runs on confirming: resolves with why it failed (the dialog stays open and says so), or undefined. */
  run: () => Promise<string | undefined>;
}

/**
 * A confirmation before something that cannot simply be taken back (blocking someone,
 * deleting a message): the question, what it does, Cancel and the action. A modal
 * `<dialog>`: focus moves to Cancel and back out, Escape cancels; while the action runs
 * both buttons wait, and a failure is said in the dialog.
 *
 * @tagname chat-confirm-dialog
 * @csspart dialog - the dialog
 * @csspart dialog-button - each of its buttons
 * @csspart confirm-button - the action's button
 */
export class ChatConfirmDialog extends LitElement {
  static override styles = chatConfirmDialogStyles;

  static override properties = {
    t: { attribute: false },
    online: { type: Boolean },
    _request: { state: true },
    _busy: { state: true },
    _error: { state: true },
  };

  /** The translator of the enclosing widget. */
  declare t: Translate;
  /** Whether the server can be asked now (every action here needs it). */
  declare online: boolean;
  declare _request: ConfirmRequest | undefined;
  declare _busy: boolean;
  declare _error: string;

  constructor() {
    super();
    this.online = true;
    this._busy = false;
    this._error = "";
  }

  get #dialog(): HTMLDialogElement | null {
    return this.renderRoot.querySelector("dialog");
  }

  /** Asks `request` in the modal dialog, once rendered. */
  async ask(request: ConfirmRequest): Promise<void> {
    this._request = request;
    this._error = "";
    await this.updateComplete;
    if (!this.#dialog?.open) this.#dialog?.showModal();
  }

  /** Closes it; focus goes back where it was. */
  close(): void {
    this.#dialog?.close();
  }

  override render() {
    const words = this._request && this.t ? this._request.words(this.t) : undefined;
    return html`
      <dialog
        part="dialog"
        role="alertdialog"
        aria-labelledby="title"
        aria-describedby="text"
        @cancel=${(event: Event) => this._busy && event.preventDefault()}
      >
        <h3 id="title">${words?.title}</h3>
        <p id="text">${words?.text}</p>
        <p class="error" role="alert">${this._error}</p>
        <div class="end">
          <button part="dialog-button" autofocus ?disabled=${this._busy}
            @click=${this
              .close}>${this.t?.("cancel")}</button>
          <button class="danger" part="dialog-button confirm-button"
            ?disabled=${this._busy || !this.online} @click=${this.#confirm}>${words
              ?.confirm}</button>
        </div>
      </dialog>
    `;
  }

  async #confirm(): Promise<void> {
    const request = this._request;
    if (!request) return;
    this._busy = true;
    this._error = "";
    try {
      this._error = (await request.run()) ?? "";
    } finally {
      this._busy = false;
    }
    if (!this._error && this._request === request) this.close();
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "chat-confirm-dialog": ChatConfirmDialog;
  }
}
