/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { html, LitElement, nothing, type PropertyValues, type TemplateResult } from "lit";
import { repeat } from "lit/directives/repeat.js";
import {
  type FailedAck,
  LIMITS,
  type SearchUsersAck,
  type SearchUsersRequest,
  type WireError,
} from "../server/protocol.ts";
import type { Translate } from "./chat-locales.ts";
import { type ChatUser, nameMatches, userFromEntry } from "./chat-state.ts";

/** Quiet time after the last keystroke before the server is asked. */
const SEARCH_DELAY_MS = 200;

/**
 * What the people list shows while its search box has text: the people listed already whose
 * name begins with it, at once, then the people the server finds (`searchUsers`, asked once
 * the typing pauses; a page at a time, "More results" for the next), and a status line (a
 * polite live region). It renders into the list's shadow root, so the list's styles and its
 * keyboard handling cover its rows.
 *
 * @tagname chat-search-results
 */
export class ChatSearchResults extends LitElement {
  static override properties = {
    t: { attribute: false },
    query: { attribute: false },
    users: { attribute: false },
    searchUsers: { attribute: false },
    row: { attribute: false },
    selected: { attribute: false },
    _found: { state: true },
  };

  /** The translator of the enclosing widget. */
  declare t: Translate;
  /** The search box's text, trimmed. */
  declare query: string;
  /** Everyone listed already, in the list's order. */
  declare users: ChatUser[];
  /** Asks the server for people whose name begins with a text. */
  declare searchUsers: (request: SearchUsersRequest) => Promise<SearchUsersAck | FailedAck>;
  /** Renders one person as the list does; `focusable` is the one row in the tab order. */
  declare row: (user: ChatUser, focusable: string | undefined) => TemplateResult;
  /** The userID whose conversation is open. */
  declare selected: string | undefined;
  /** What the server has found for `query` so far. */
  declare _found: {
    query: string;
    users: ChatUser[];
    next?: string;
    busy: boolean;
    error?: WireError;
  };

  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor() {
    super();
    this.users = [];
    this.query = "";
    this._found = { query: "", users: [], busy: false };
  }

  protected override createRenderRoot(): HTMLElement {
    return this;
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearTimeout(this.#timer);
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (!changed.has("query") || this.query === this._found.query) return;
    clearTimeout(this.#timer);
    this._found = { query: this.query, users: [], busy: true };
    this.#timer = setTimeout(() => void this.#ask(), SEARCH_DELAY_MS);
  }

  /** Asks the server for the first page of people found, or (`more`) the next. */
  async #ask(more = false): Promise<void> {
    const { query, users, next } = this._found;
    if (more) this._found = { ...this._found, busy: true };
    const ack = await this.searchUsers({
      query,
      limit: LIMITS.defaultSearchLimit,
      ...(more ? { after: next } : {}),
    });
    // The text changed meanwhile: that search shows instead.
    if (this._found.query !== query) return;
    const found = more ? users : [];
    this._found = ack.ok
      ? {
        query,
        users: [...found, ...ack.users.map((e) => ({ ...userFromEntry(e), partner: false }))],
        next: ack.next,
        busy: false,
      }
      : { query, users: found, busy: false, error: ack.error };
  }

  override render() {
    const { t, query, _found: found } = this;
    const local = this.users.filter((u) => !u.self && !u.deleted && nameMatches(u.username, query));
    const listed = new Set(local.map((u) => u.userID));
    const all = [...local, ...found.users.filter((u) => !listed.has(u.userID))];
    const focusable = all.some((u) => u.userID === this.selected) ? this.selected : all[0]?.userID;
    const status = found.busy
      ? t("searching")
      : found.error
      ? t("searchOffline")
      : all.length === 0
      ? t("searchNone", { query })
      : t("searchResults", { n: all.length });
    return html`
      <ul part="user-list" aria-label=${t("searchLabel")}>
        ${repeat(all, (u) => u.userID, (u) => this.row(u, focusable))}
      </ul>
      <p class="empty" role="status">${status}</p>
      ${found.next && !found.busy
        ? html`
          <button class="link more" part="search-more" @click=${() => this.#ask(true)}>${t(
            "searchMore",
          )}</button>
        `
        : nothing}
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "chat-search-results": ChatSearchResults;
  }
}
