/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { html, LitElement } from "lit";
import type { Translate } from "./chat-locales.ts";
import { chatLogoutDialogStyles } from "./chat-logout-dialog.styles.ts";
import type { WireError } from "../server/protocol.ts";

/**
 * The log-out dialog: what happens to the name and the history either way, then "Log out
 * on this device", "Delete my account" or Cancel. A modal `<dialog>`: focus moves in (to
 * Cancel, the choice that changes nothing) and back out, Escape cancels.
 *
 * @tagname chat-logout-dialog
 * @fires {CustomEvent<{ deleteAccount: boolean }>} chat-leave - a choice was made: log out, or delete the account (inner: the widget stops it)
 * @csspart dialog - the dialog
 * @csspart dialog-button - each of its buttons
 * @csspart delete-button - "Delete my account"
 */
export class ChatLogoutDialog extends LitElement {
  static override styles = chatLogoutDialogStyles;

  static override properties = {
    t: { attribute: false },
    name: { attribute: false },
    accountTtlDays: { attribute: false },
    online: { type: Boolean },
    leave: { attribute: false },
    _busy: { state: true },
    _error: { state: true },
  };

  /** The translator of the enclosing widget. */
  declare t: Translate;
  /** The signed-in user's name. */
  declare name: string;
  /** Days an account with no signed-in device is kept before it is deleted; 0: kept. */
  declare accountTtlDays: number;
  /** Whether the server can be asked now (deleting needs it). */
  declare online: boolean;
  /** Logs out on this device, or deletes the account; resolves with the refusal, if refused. */
  declare leave: (deleteAccount: boolean) => Promise<WireError | undefined>;
  /** True while the account is being deleted. */
  declare _busy: boolean;
  /** Why deleting failed, for people; empty when it did not. */
  declare _error: string;

  constructor() {
    super();
    this.name = "";
    this.accountTtlDays = 90;
    this._busy = false;
    this.online = true;
    this._error = "";
  }

  get #dialog(): HTMLDialogElement | null {
    return this.renderRoot.querySelector("dialog");
  }

  /** Opens the dialog (modal); once rendered. */
  async show(): Promise<void> {
    this._error = "";
    await this.updateComplete;
    if (!this.#dialog?.open) this.#dialog?.showModal();
  }

  /** Closes it; focus goes back where it was. */
  close(): void {
    this.#dialog?.close();
  }

  async #leave(deleteAccount: boolean): Promise<void> {
    if (!deleteAccount) {
      this.close();
      await this.leave(false);
      return;
    }
    this._busy = true;
    this._error = "";
    const error = await this.leave(true);
    this._busy = false;
    if (!error) return this.close();
    const t = this.t;
    this._error = t("deleteFailed", {
      reason: t.optional(`error_${error.code}`) ?? error.message,
    });
  }

  override render() {
    const t = this.t;
    // Isolated, so a name in another script does not reorder the sentence around it.
    const name = `\u2068${this.name}\u2069`;
    return html`
      <dialog
        part="dialog"
        role="alertdialog"
        aria-labelledby="title"
        @cancel=${(event: Event) => this._busy && event.preventDefault()}
      >
        <h3 id="title">${t("logoutTitle")}</h3>
        <div class="choice">
          <button part="dialog-button" aria-describedby="device"
            @click=${() => this.#leave(false)}>${t(
              "logoutDevice",
            )}</button>
          <p id="device">${this.accountTtlDays > 0
            ? t("logoutDeviceHint", { name, days: String(this.accountTtlDays) })
            : t("logoutDeviceHintKept", { name })}</p>
        </div>
        <div class="choice">
          <button class="danger" part="dialog-button delete-button" aria-describedby="delete"
            ?disabled=${this._busy || !this.online}
            @click=${() => this.#leave(true)}>${this._busy
              ? t("deleting")
              : t("deleteAccount")}</button>
          <p id="delete">${t("deleteAccountHint", { name })}</p>
        </div>
        <p class="error" role="alert">${this._error}</p>
        <div class="end">
          <button part="dialog-button" autofocus ?disabled=${this._busy}
            @click=${this.close}>${t("cancel")}</button>
        </div>
      </dialog>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "chat-logout-dialog": ChatLogoutDialog;
  }
}
