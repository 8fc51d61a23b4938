/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { css, html, LitElement } from "lit";
import type { Translate } from "./chat-locales.ts";
import { emit } from "./emit.ts";
import { baseStyles } from "./shared.styles.ts";

/**
 * The settings panel the title bar's ⚙ button opens: read receipts on or off, and below them
 * what the widget puts in its slot (the notification settings). Escape closes it (focus goes
 * back to the button), and so does focus leaving it.
 *
 * @tagname chat-settings
 * @slot - more settings, below read receipts
 * @fires {CustomEvent<{ readReceipts: boolean }>} chat-preferences - a setting was changed (inner)
 * @fires {CustomEvent<{ refocus: boolean }>} chat-settings-close - Escape (`refocus`), or focus left the panel (inner)
 * @csspart settings - the panel
 */
export class ChatSettings extends LitElement {
  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
      }
      .panel {
        padding: 12px 14px;
        border: 1px solid var(--_border);
        border-radius: 10px;
        background: var(--_bg);
        box-shadow: 0 4px 16px rgb(0 0 0 / 0.2);
      }
      label {
        display: flex;
        align-items: center;
        gap: 8px;
        font-weight: 600;
      }
      input {
        width: 18px;
        height: 18px;
        margin: 0;
        accent-color: var(--_accent);
      }
      p {
        margin: 6px 0 0;
        color: var(--_muted);
        font-size: 13px;
      }
    `,
  ];

  static override properties = {
    t: { attribute: false },
    readReceipts: { attribute: false },
    online: { type: Boolean },
  };

  /** The translator of the enclosing widget. */
  declare t: Translate;
  /** Whether read receipts are on. */
  declare readReceipts: boolean;
  /** Whether the server can be asked now (a change needs it). */
  declare online: boolean;

  constructor() {
    super();
    this.readReceipts = true;
    this.online = true;
  }

  /** Moves focus to the first setting, once rendered. */
  override focus(): void {
    this.updateComplete.then(() => this.renderRoot.querySelector("input")?.focus());
  }

  override render() {
    const t = this.t;
    return html`
      <div class="panel" part="settings" @keydown=${this.#keydown} @focusout=${this.#focusout}>
        <label>
          <input type="checkbox" aria-describedby="hint" .checked=${this.readReceipts}
            ?disabled=${!this.online} @change=${(event: Event) =>
              emit(this, "chat-preferences", {
                readReceipts: (event.target as HTMLInputElement).checked,
              })}>
          ${t("readReceipts")}
        </label>
        <p id="hint">${t("readReceiptsHint")}</p>
        <slot></slot>
      </div>
    `;
  }

  #keydown(event: KeyboardEvent): void {
    if (event.key !== "Escape") return;
    event.preventDefault();
    emit(this, "chat-settings-close", { refocus: true });
  }

  #focusout(event: FocusEvent): void {
    const next = event.relatedTarget as Node | null;
    // Slotted settings are the panel's too, though they live in the widget's shadow root.
    if (!this.renderRoot.contains(next) && !this.contains(next)) {
      emit(this, "chat-settings-close", { refocus: false });
    }
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "chat-settings": ChatSettings;
  }
  interface GlobalEventHandlersEventMap {
    /** A setting was changed in the settings panel. */
    "chat-preferences": CustomEvent<{ readReceipts: boolean }>;
    /** The settings panel asks to be closed (`refocus`: give focus back to its button). */
    "chat-settings-close": CustomEvent<{ refocus: boolean }>;
  }
}
