/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { html, LitElement, nothing } from "lit";
import { repeat } from "lit/directives/repeat.js";
import type { ChatUser } from "./chat-state.ts";
import type { Translate } from "./chat-locales.ts";
import { chatUserListStyles } from "./chat-user-list.styles.ts";
import { emit } from "./emit.ts";
import { DateTimeFormats, lastSeenLabel } from "./format.ts";

/**
 * The list of people: self first, deleted accounts last, online status as a dot and text
 * ("typing…", when last seen, "blocked"), unread badges.
 * One tab stop; arrow keys, Home and End move between people (roving tabindex).
 *
 * @tagname chat-user-list
 * @fires {CustomEvent<{ userID: string }>} chat-select - a person was chosen (inner: the widget stops it)
 * @csspart user-list - the list
 * @csspart user - one person's button
 * @csspart user-selected - the button of the person whose conversation is open
 * @csspart status - the online dot
 * @csspart last-seen - when an offline person was last online
 * @csspart badge - the unread count
 */
export class ChatUserList extends LitElement {
  static override styles = chatUserListStyles;

  static override properties = {
    t: { attribute: false },
    lang: { type: String },
    users: { attribute: false },
    selected: { attribute: false },
  };

  /** The translator of the enclosing widget. */
  declare t: Translate;
  /** Language tag for "last seen" times. */
  declare lang: string;
  /** People in display order. */
  declare users: ChatUser[];
  /** The userID whose conversation is open. */
  declare selected: string | undefined;

  #formats = new DateTimeFormats();

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
          const status = u.deleted
            ? ""
            : u.blocked
            ? t("blocked")
            : u.typing
            ? html`<span class="typing">${t("typingShort")}</span>`
            : u.connected
            ? t("online")
            : u.lastSeen !== undefined
            ? html`<span part="last-seen">${
              lastSeenLabel(u.lastSeen, { t, lang: this.lang, formats: this.#formats })
            }</span>`
            : t("offline");
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
                <span class="dot ${u.connected ? "on" : u.deleted ? "gone" : ""}" part="status"
                  aria-hidden="true"></span>
                <span class="text ${u.deleted ? "gone" : ""}">
                  <span class="name"><bdi>${u.deleted ? t("deletedUser") : u.username}</bdi>${u.self
                    ? html`
                      <span class="you">${t("you")}</span>
                    `
                    : nothing}</span>
                  ${status ? html`<span class="status">${status}</span>` : nothing}
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
    emit(this, "chat-select", { userID });
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

declare global {
  interface HTMLElementTagNameMap {
    "chat-user-list": ChatUserList;
  }
  interface GlobalEventHandlersEventMap {
    /** A person in the list was chosen. */
    "chat-select": CustomEvent<{ userID: string }>;
  }
}
