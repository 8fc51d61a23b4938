/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import type { ReactiveController, ReactiveControllerHost } from "lit";

/** Within this many px of the bottom counts as "at the bottom". */
const BOTTOM_SLACK = 48;

/** An item and its distance from the top of the view, to put it back there. */
interface Anchor {
  element: HTMLElement;
  offset: number;
}

/**
 * Keeps a scrolling list where its reader left it: at the bottom for whoever was reading the
 * newest item (also when a resize rewraps every line), and otherwise with the first item in
 * view exactly in place while content above it changes height (older pages arriving, labels
 * and status lines appearing).
 *
 * The host calls `capture()` before a render that may move things and `restore()` or
 * `scrollToBottom()` after it, and forwards its scroller's `scroll` events to `onScroll()`.
 */
export class ScrollAnchor implements ReactiveController {
  #scroller: () => HTMLElement | null;
  #items: string;
  #stuck = true;
  #wasAtBottom = true;
  #anchor?: Anchor;
  #resize?: ResizeObserver;
  #observed?: HTMLElement;

  constructor(
    host: ReactiveControllerHost,
    options: { scroller: () => HTMLElement | null; items: string },
  ) {
    this.#scroller = options.scroller;
    this.#items = options.items;
    host.addController(this);
  }

  /** Watches the scroller's size from now on (see `hostUpdated`). */
  hostConnected(): void {
    // A rotated phone, an opened on-screen keyboard or a resized host rewraps every line:
    // whoever was reading the newest item keeps reading it.
    this.#resize ??= new ResizeObserver(() => {
      if (this.#stuck) this.#toBottom();
    });
  }

  /** Observes the scroller once it is rendered, and again when a render replaces it. */
  hostUpdated(): void {
    const scroller = this.#scroller();
    if (scroller && scroller !== this.#observed && this.#resize) {
      this.#resize.observe(scroller);
      this.#observed = scroller;
    }
  }

  /** Stops watching sizes while detached. */
  hostDisconnected(): void {
    this.#resize?.disconnect();
    this.#observed = undefined;
  }

  /** True when the newest item is in view. */
  get atBottom(): boolean {
    const scroller = this.#scroller();
    return !scroller ||
      scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight <= BOTTOM_SLACK;
  }

  /** Whether the view was at the bottom at the last `capture()`. */
  get wasAtBottom(): boolean {
    return this.#wasAtBottom;
  }

  /** Remembers, before the DOM changes, whether the view is at the bottom and which item is first in view. */
  capture(): void {
    const scroller = this.#scroller();
    if (!scroller) return;
    this.#wasAtBottom = this.atBottom;
    const top = scroller.getBoundingClientRect().top;
    const element = [...scroller.querySelectorAll<HTMLElement>(this.#items)].find((item) =>
      item.getBoundingClientRect().bottom > top
    );
    this.#anchor = element
      ? { element, offset: element.getBoundingClientRect().top - top }
      : undefined;
  }

  /** Puts the item captured as first in view back at the same distance from the top. */
  restore(): void {
    const scroller = this.#scroller();
    const anchor = this.#anchor;
    if (!scroller || !anchor?.element.isConnected) return;
    const moved = anchor.element.getBoundingClientRect().top -
      scroller.getBoundingClientRect().top - anchor.offset;
    // Renders that move nothing (the clock's, a receipt's) must not touch a scroll in progress.
    if (moved !== 0) scroller.scrollTop += moved;
  }

  /** Scrolls to the newest item and keeps it in view through resizes. */
  scrollToBottom(): void {
    this.#toBottom();
    this.#stuck = true;
  }

  /** Follows the reader: at the bottom or not. Returns whether the view is at the bottom. */
  onScroll(): boolean {
    this.#stuck = this.atBottom;
    return this.#stuck;
  }

  #toBottom(): void {
    const scroller = this.#scroller();
    if (scroller) scroller.scrollTop = scroller.scrollHeight;
  }
}
