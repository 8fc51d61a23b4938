/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { html, LitElement, nothing } from "lit";
import { repeat } from "lit/directives/repeat.js";
import type { Translate } from "./chat-locales.ts";
import type { FailedAck, SearchUsersAck, SearchUsersRequest } from "../server/protocol.ts";
import { type ChatUser, previewOf, type UserSections } from "./chat-state.ts";
import { chatUserListStyles } from "./chat-user-list.styles.ts";
import { emit } from "./emit.ts";
import { DateTimeFormats, lastSeenLabel, listTime } from "./format.ts";

/** Which section a person is shown in. */
type Section = "conversations" | "people";

/**
 * The list of people in two sections: conversations, the most recent first, each with its last
 * message, time and unread count; then everyone else, you first, online people next. While the
 * pointer or the keyboard focus is in the list, nobody moves: arrivals are added at the end of
 * their section, and the order catches up when both leave.
 *
 * A search box filters the list at once; `<chat-search-results>` (a chunk of its own) shows
 * the matches, and asks the server (`searchUsers`) for everyone else whose name begins with it.
 *
 * One tab stop in the list; arrow keys, Home and End move between people (roving tabindex);
 * ArrowDown in the search box enters the list, Enter opens the first person found, Escape
 * clears it.
 *
 * @tagname chat-user-list
 * @fires {CustomEvent<{ userID: string, user: ChatUser }>} chat-select - a person was chosen (inner: the widget stops it)
 * @csspart search - the search box
 * @csspart search-more - "More results" under the people found (in `<chat-search-results>`)
 * @csspart user-list - a section's list
 * @csspart user - one person's button
 * @csspart user-selected - the button of the person whose conversation is open
 * @csspart status - the online dot
 * @csspart last-seen - when an offline person was last online
 * @csspart preview - a conversation's last message ("You: …" for yours), or "typing…"
 * @csspart time - when a conversation's last message was sent
 * @csspart badge - the unread count
 */
export class ChatUserList extends LitElement {
  static override styles = chatUserListStyles;

  static override properties = {
    t: { attribute: false },
    lang: { type: String },
    sections: { attribute: false },
    searchUsers: { attribute: false },
    selected: { attribute: false },
    presence: { type: Boolean },
    _query: { state: true },
  };

  /** The translator of the enclosing widget. */
  declare t: Translate;
  /** Language tag for times. */
  declare lang: string;
  /** People by section, in display order. */
  declare sections: UserSections;
  /** Asks the server for people whose name begins with a text. */
  declare searchUsers: (request: SearchUsersRequest) => Promise<SearchUsersAck | FailedAck>;
  /** The userID whose conversation is open. */
  declare selected: string | undefined;
  /** False while disconnected: nobody's presence is known, so none is shown. */
  declare presence: boolean;
  declare _query: string;

  #formats = new DateTimeFormats();
  // The order shown when the pointer or the focus entered, kept until both have left.
  #frozen: Map<string, Section> | undefined;
  #shown: { conversations: ChatUser[]; people: ChatUser[] } = { conversations: [], people: [] };
  #pointerIn = false;
  #focusIn = false;

  constructor() {
    super();
    this.sections = { conversations: [], people: [] };
    this.presence = true;
    this._query = "";
  }

  /** Moves focus to the selected person, or the first one. */
  focusUser(userID?: string): void {
    const buttons = this.#buttons();
    (buttons.find((b) => b.dataset.id === (userID ?? this.selected)) ?? buttons[0])?.focus();
  }

  /** Moves focus to the search box. */
  focusSearch(): void {
    this.renderRoot.querySelector<HTMLInputElement>("input")?.focus();
  }

  override render() {
    const t = this.t;
    const query = this._query.trim();
    return html`
      <input
        part="search"
        type="search"
        aria-label=${t("searchLabel")}
        placeholder=${t("searchLabel")}
        autocomplete="off"
        spellcheck="false"
        maxlength="64"
        enterkeyhint="search"
        .value=${this._query}
        @input=${this.#onInput}
        @keydown=${this.#searchKeydown}
      />
      <div
        class="lists"
        @keydown=${this.#keydown}
        @pointerenter=${() => this.#hold("pointer", true)}
        @pointerleave=${() => this.#hold("pointer", false)}
        @focusin=${() => this.#hold("focus", true)}
        @focusout=${(event: FocusEvent) => this.#hold("focus", this.#contains(event.relatedTarget))}
      >
        ${query ? this.#renderResults(query) : this.#renderSections()}
      </div>
    `;
  }

  #renderSections() {
    const t = this.t;
    const shown = this.#arrange();
    this.#shown = shown;
    const focusable = this.#focusable([...shown.conversations, ...shown.people]);
    const alone = ![...shown.conversations, ...shown.people].some((u) => !u.self);
    return html`
      ${this.#section("conversations", t("conversations"), shown.conversations, focusable)}
      ${this.#section("people", t("users"), shown.people, focusable)}
      ${alone ? html`<p class="empty">${t("noUsers")}</p>` : nothing}
    `;
  }

  #renderResults(query: string) {
    const { conversations, people } = this.sections;
    return html`
      <chat-search-results
        .t=${this.t}
        .query=${query}
        .users=${[...conversations, ...people]}
        .searchUsers=${this.searchUsers}
        .row=${this.#resultRow}
        .selected=${this.selected}
      ></chat-search-results>
    `;
  }

  #resultRow = (user: ChatUser, focusable: string | undefined) =>
    this.#row(user, focusable, undefined);

  /** The sections, or while held, the order shown when they were last free to move. */
  #arrange(): { conversations: ChatUser[]; people: ChatUser[] } {
    const frozen = this.#frozen;
    const { conversations, people } = this.sections;
    if (!frozen) return { conversations, people };
    const byId = new Map([...conversations, ...people].map((u) => [u.userID, u]));
    const shown = { conversations: [] as ChatUser[], people: [] as ChatUser[] };
    // The order held, then anyone new at the end of the section they belong in.
    for (const [id, section] of frozen) {
      const user = byId.get(id);
      if (user) shown[section].push(user);
    }
    for (const user of conversations) if (!frozen.has(user.userID)) shown.conversations.push(user);
    for (const user of people) if (!frozen.has(user.userID)) shown.people.push(user);
    return shown;
  }

  #hold(what: "pointer" | "focus", inside: boolean): void {
    if (what === "pointer") this.#pointerIn = inside;
    else this.#focusIn = inside;
    if (this.#pointerIn || this.#focusIn) {
      if (!this.#frozen) {
        const shown = this.#shown;
        this.#frozen = new Map([
          ...shown.conversations.map((u) => [u.userID, "conversations"] as const),
          ...shown.people.map((u) => [u.userID, "people"] as const),
        ]);
      }
    } else if (this.#frozen) {
      this.#frozen = undefined;
      this.requestUpdate();
    }
  }

  #contains(node: EventTarget | null): boolean {
    return node instanceof Node && !!this.renderRoot.querySelector(".lists")?.contains(node);
  }

  #focusable(users: ChatUser[]): string | undefined {
    return users.some((u) => u.userID === this.selected) ? this.selected : users[0]?.userID;
  }

  /** A section under its heading, or nothing when nobody is in it. */
  #section(id: Section, title: string, users: ChatUser[], focusable: string | undefined) {
    return users.length === 0 ? nothing : html`
      <h3 id=${id}>${title}</h3>
      <ul part="user-list" aria-labelledby=${id}>
        ${repeat(users, (u) => u.userID, (u) => this.#row(u, focusable, id === "conversations"))}
      </ul>
    `;
  }

  #row(u: ChatUser, focusable: string | undefined, asConversation: boolean | undefined) {
    const t = this.t;
    const preview = asConversation === false ? undefined : previewOf(u);
    const current = u.userID === this.selected;
    const known = this.presence;
    const presence = u.deleted || !known
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
    const second = preview && !u.blocked && !(u.typing && known)
      ? html`<span class="status" part="preview">${
        preview.deleted
          ? html`<i>${t("previewDeleted")}</i>`
          : preview.mine
          ? t("previewMine", { text: preview.text })
          : preview.text
      }</span>${
        u.connected && known && !u.deleted
          ? html`<span class="sr-only">${t("online")}</span>`
          : nothing
      }`
      : preview && u.typing && known
      ? html`<span class="status typing" part="preview">${t("typingShort")}</span>`
      : presence
      ? html`<span class="status">${presence}</span>`
      : nothing;
    return html`
      <li>
        <button
          part=${current ? "user user-selected" : "user"}
          data-id=${u.userID}
          tabindex=${u.userID === focusable ? 0 : -1}
          aria-current=${current ? "true" : "false"}
          @click=${() => this.#select(u)}
        >
          <span class="dot ${!known ? "unknown" : u.connected ? "on" : u.deleted ? "gone" : ""}"
            part="status" aria-hidden="true"></span>
          <span class="text ${u.deleted ? "gone" : ""}">
            <span class="top">
              <span class="name"><bdi>${u.deleted ? t("deletedUser") : u.username}</bdi>${u.self
                ? html`
                  <span class="you">${t("you")}</span>
                `
                : nothing}</span>
              ${preview
                ? html`<time part="time" datetime=${new Date(preview.timestamp).toISOString()}>${
                  listTime(preview.timestamp, { lang: this.lang, formats: this.#formats })
                }</time>`
                : nothing}
            </span>
            ${second}
          </span>
          ${u.unread > 0
            ? html`
              <span class="badge"
                part="badge"><span aria-hidden="true">${u.unread}</span><span class="sr-only">${t(
                  "unread",
                  { n: u.unread },
                )}</span></span>
            `
            : nothing}
        </button>
      </li>
    `;
  }

  #select(user: ChatUser): void {
    emit(this, "chat-select", { userID: user.userID, user });
  }

  #onInput(event: Event): void {
    this._query = (event.target as HTMLInputElement).value;
  }

  #searchKeydown(event: KeyboardEvent): void {
    if (event.key === "Escape" && this._query) {
      // Clears the search only; an Escape with nothing to clear is the host's.
      event.stopPropagation();
      this._query = "";
    } else if (event.key === "ArrowDown") {
      event.preventDefault();
      this.#buttons()[0]?.focus();
    } else if (event.key === "Enter" && this._query.trim()) {
      event.preventDefault();
      this.#buttons()[0]?.click();
    }
  }

  #buttons(): HTMLButtonElement[] {
    return [...this.renderRoot.querySelectorAll<HTMLButtonElement>("button[data-id]")];
  }

  #keydown(event: KeyboardEvent): void {
    const buttons = this.#buttons();
    const index = buttons.indexOf(
      this.renderRoot.querySelector<HTMLButtonElement>("button:focus")!,
    );
    if (index < 0) return;
    if (event.key === "ArrowUp" && index === 0) {
      event.preventDefault();
      this.focusSearch();
      return;
    }
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
    /** A person in the list was chosen (`user`: as the list shows them). */
    "chat-select": CustomEvent<{ userID: string; user: ChatUser }>;
  }
}
