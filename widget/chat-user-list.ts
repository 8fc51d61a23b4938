/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { css, html, LitElement, nothing } from "lit";
import { repeat } from "lit/directives/repeat.js";
import type { ChatUser } from "./chat-client.ts";
import type { Translate } from "./chat-locales.ts";
import { baseStyles } from "./shared.styles.ts";

/**
 * The list of people: self first, online status as a dot and text, unread badges.
 * One tab stop; arrow keys, Home and End move between people (roving tabindex).
 *
 * @fires select - `{ userID }` when a person is chosen (internal, not composed)
 * @csspart user-list - the list
 * @csspart user - one person's button; also `user-selected` on the open one
 * @csspart status - the online dot
 * @csspart badge - the unread count
 */
export class ChatUserList extends LitElement {
  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
        overflow-y: auto;
        background: var(--_panel);
      }
      h3 {
        margin: 0;
        padding: 12px 16px 6px;
        font-size: 13px;
        font-weight: 700;
        color: var(--_muted);
        text-transform: uppercase;
        letter-spacing: 0.04em;
      }
      ul {
        list-style: none;
        margin: 0;
        padding: 4px 8px 12px;
      }
      li + li {
        margin-top: 2px;
      }
      button {
        display: flex;
        align-items: center;
        gap: 10px;
        width: 100%;
        min-height: 52px;
        padding: 8px 10px;
        border: 0;
        border-inline-start: 3px solid transparent;
        border-radius: 10px;
        background: transparent;
        text-align: start;
      }
      button:hover {
        background: var(--_in);
      }
      button[aria-current="true"] {
        background: var(--_bg);
        border-inline-start: 3px solid var(--_accent);
      }
      .text {
        display: grid;
        flex: 1;
        min-width: 0;
      }
      /* A long name is cut, "(you)" never is. */
      .name {
        display: flex;
        gap: 4px;
        font-weight: 600;
        white-space: nowrap;
      }
      .name bdi {
        overflow: hidden;
        text-overflow: ellipsis;
      }
      .you {
        flex: none;
        font-weight: 400;
        color: var(--_muted);
      }
      .status {
        font-size: 13px;
        color: var(--_muted);
      }
      .empty {
        padding: 8px 16px;
        color: var(--_muted);
      }
    `,
  ];

  static override properties = {
    t: { attribute: false },
    users: { attribute: false },
    selected: { attribute: false },
  };

  /** The translator of the enclosing widget. */
  declare t: Translate;
  /** People in display order. */
  declare users: ChatUser[];
  /** The userID whose conversation is open. */
  declare selected: string | undefined;

  constructor() {
    super();
    this.users = [];
  }

  /** Moves focus to the selected person, or the first one. */
  focusUser(userID?: string): void {
    const buttons = [...this.renderRoot.querySelectorAll<HTMLButtonElement>("button[data-id]")];
    (buttons.find((b) => b.dataset.id === (userID ?? this.selected)) ?? buttons[0])?.focus();
  }

  override render() {
    const t = this.t;
    const focusable = this.users.some((u) => u.userID === this.selected)
      ? this.selected
      : this.users[0]?.userID;
    return html`
      <h3 id="heading">${t("users")}</h3>
      <ul part="user-list" aria-labelledby="heading" @keydown=${this.#keydown}>
        ${repeat(this.users, (u) => u.userID, (u) => {
          const status = u.connected ? t("online") : t("offline");
          const current = u.userID === this.selected;
          return html`
            <li>
              <button
                part=${current ? "user user-selected" : "user"}
                data-id=${u.userID}
                tabindex=${u.userID === focusable ? 0 : -1}
                aria-current=${current ? "true" : "false"}
                @click=${() => this.#select(u.userID)}
              >
                <span class="dot ${u.connected
                  ? "on"
                  : ""}" part="status" aria-hidden="true"></span>
                <span class="text">
                  <span class="name"><bdi>${u.username}</bdi>${u.self
                    ? html`
                      <span class="you">${t("you")}</span>
                    `
                    : nothing}</span>
                  <span class="status">${status}</span>
                </span>
                ${u.unread > 0
                  ? html`
                    <span class="badge"
                      part="badge"><span aria-hidden="true">${u
                        .unread}</span><span class="sr-only">${t("unread", {
                          n: u.unread,
                        })}</span></span>
                  `
                  : nothing}
              </button>
            </li>
          `;
        })}
      </ul>
      ${this.users.length <= 1 ? html`<p class="empty">${t("noUsers")}</p>` : nothing}
    `;
  }

  #select(userID: string): void {
    this.dispatchEvent(new CustomEvent("select", { detail: { userID }, bubbles: true }));
  }

  #keydown(event: KeyboardEvent): void {
    const buttons = [...this.renderRoot.querySelectorAll<HTMLButtonElement>("button[data-id]")];
    const index = buttons.indexOf(
      this.renderRoot.querySelector<HTMLButtonElement>("button:focus")!,
    );
    if (index < 0) return;
    const next =
      { ArrowDown: index + 1, ArrowUp: index - 1, Home: 0, End: buttons.length - 1 }[event.key];
    if (next === undefined) return;
    event.preventDefault();
    const target = buttons[Math.max(0, Math.min(buttons.length - 1, next))];
    for (const b of buttons) b.tabIndex = b === target ? 0 : -1;
    target.focus();
  }
}
