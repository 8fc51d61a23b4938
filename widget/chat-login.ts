/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { html, LitElement, type PropertyValues } from "lit";
import { LIMITS, type WireError } from "../server/protocol.ts";
import type { Translate } from "./chat-locales.ts";
import { chatLoginStyles } from "./chat-login.styles.ts";
import { emit } from "./emit.ts";

/**
 * The username form. Shows the server's reason inline when it refuses a name, and a notice
 * when it is shown again (the session ended, the account was deleted).
 *
 * @tagname chat-login
 * @fires {CustomEvent<{ username: string }>} chat-sign-in - the form was submitted with a name (inner: the widget stops it)
 * @csspart login - the form
 * @csspart input - the username field
 * @csspart button - the submit button
 * @csspart error - the error text
 */
export class ChatLogin extends LitElement {
  static override styles = chatLoginStyles;

  static override properties = {
    t: { attribute: false },
    error: { attribute: false },
    notice: { attribute: false },
    busy: { type: Boolean },
    _empty: { state: true },
  };

  /** The translator of the enclosing widget. */
  declare t: Translate;
  /** The server's refusal to show, if any. */
  declare error: WireError | undefined;
  /** Why the form is shown again, if it is. */
  declare notice: string;
  /** True while the server is deciding. */
  declare busy: boolean;
  declare _empty: boolean;

  constructor() {
    super();
    this.busy = false;
    this.notice = "";
    this._empty = false;
  }

  /** Moves focus to the username field. */
  override focus(): void {
    this.renderRoot.querySelector("input")?.focus();
  }

  protected override updated(changed: PropertyValues<this>): void {
    if (changed.has("error") && this.error) this.focus();
  }

  override render() {
    const t = this.t;
    const message = this._empty
      ? t("usernameRequired")
      : this.error
      ? t.optional(`error_${this.error.code}`) ?? this.error.message
      : "";
    return html`
      <form part="login" @submit=${this.#submit} novalidate>
        <h3>${t("loginTitle")}</h3>
        ${this.notice
          ? html`<p class="notice" role="status">${this.notice}</p>`
          : html`<p>${t("loginHint")}</p>`}
        <label for="username">${t("usernameLabel")}</label>
        <input
          id="username"
          part="input"
          name="username"
          autocomplete="nickname"
          autocapitalize="none"
          spellcheck="false"
          maxlength=${LIMITS.maxUsernameLength * 2}
          aria-invalid=${message ? "true" : "false"}
          aria-describedby="username-error"
          ?disabled=${this.busy}
          @input=${() => (this._empty = false)}
        >
        <div id="username-error" class="error" part="error" role="alert">${message}</div>
        <button class="primary" part="button" type="submit" ?disabled=${this.busy}>
          ${this.busy ? t("loginBusy") : t("loginButton")}
        </button>
      </form>
    `;
  }

  #submit(event: SubmitEvent): void {
    event.preventDefault();
    const input = this.renderRoot.querySelector("input")!;
    const username = input.value.trim();
    if (!username) {
      this._empty = true;
      input.focus();
      return;
    }
    emit(this, "chat-sign-in", { username });
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "chat-login": ChatLogin;
  }
  interface GlobalEventHandlersEventMap {
    /** The username form was submitted with a name. */
    "chat-sign-in": CustomEvent<{ username: string }>;
  }
}
