/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * What the `notify` tokens do outside the widget's own box: the unread count in the page's
 * title, and a short tone. Both are the page's, not one widget's, so every widget on the page
 * shares them (the tone's AudioContext, the title's one prefix).
 */

/**
 * "(3) " before the host page's title while widgets that ask for it (`notify="title"`) have
 * unread messages, the sum of their counts. The host's title comes back exactly as it was when
 * there are none; if the host changes its title meanwhile, the new one is the base.
 */
export class TitlePrefix {
  static #counts = new Map<object, number>();
  /** The host's title without the prefix; undefined when the page had no `<title>`. */
  static #base: string | undefined;
  /** What was last written, while a prefix is shown. */
  static #written: string | undefined;
  static #observer: MutationObserver | undefined;

  /** Sets `owner`'s unread count (0: none, as when it leaves the page). */
  static set(owner: object, count: number): void {
    if ((TitlePrefix.#counts.get(owner) ?? 0) === count) return;
    if (count > 0) TitlePrefix.#counts.set(owner, count);
    else TitlePrefix.#counts.delete(owner);
    TitlePrefix.#apply();
  }

  static #apply(): void {
    const doc = globalThis.document;
    if (!doc) return;
    let total = 0;
    for (const count of TitlePrefix.#counts.values()) total += count;
    // The raw text: `document.title` collapses white space, which would not restore exactly.
    const current = doc.querySelector("title")?.textContent ?? undefined;
    if (TitlePrefix.#written === undefined || current !== TitlePrefix.#written) {
      // The first prefix, or the host wrote a title of its own since the last one.
      if (total > 0 || TitlePrefix.#written !== undefined) TitlePrefix.#base = current;
    }
    if (total > 0) {
      const text = `(${total}) ${TitlePrefix.#base ?? ""}`;
      if (current !== text) doc.title = text;
      TitlePrefix.#written = text;
      if (!TitlePrefix.#observer && doc.head) {
        TitlePrefix.#observer = new MutationObserver(() => TitlePrefix.#apply());
        TitlePrefix.#observer.observe(doc.head, {
          childList: true,
          subtree: true,
          characterData: true,
        });
      }
    } else if (TitlePrefix.#written !== undefined) {
      TitlePrefix.#observer?.disconnect();
      TitlePrefix.#observer = undefined;
      TitlePrefix.#written = undefined;
      const base = TitlePrefix.#base;
      TitlePrefix.#base = undefined;
      // A page without a <title> gets none back; setting `document.title` made one.
      if (base === undefined) doc.querySelector("title")?.remove();
      else if (current !== base) doc.title = base;
    }
  }
}

/** The shortest time between two tones (ms): a burst of messages is one tone. */
const CHIME_GAP_MS = 1000;

/**
 * A short two-note tone made with Web Audio, nothing fetched. Browsers let a page play sound
 * once the person has interacted with it; before that the tone is silently skipped.
 */
export class Chime {
  static #context: AudioContext | undefined;
  static #last = 0;

  /** Plays the tone, unless one played within the last second or the page cannot play sound. */
  static play(): void {
    const now = Date.now();
    if (now - Chime.#last < CHIME_GAP_MS || typeof AudioContext === "undefined") return;
    Chime.#last = now;
    try {
      const context = Chime.#context ??= new AudioContext();
      // A suspended context keeps its clock still: tones scheduled now would all sound at once
      // when it runs, so this one plays only if it can start now or very soon.
      if (context.state === "running") Chime.#tone(context);
      else {
        context.resume().then(
          () => Date.now() - now < CHIME_GAP_MS && Chime.#tone(context),
          () => {},
        );
      }
    } catch (error) {
      console.error("Cannot play the <chat-widget> sound:", error);
    }
  }

  static #tone(context: AudioContext): void {
    const start = context.currentTime + 0.01;
    const gain = context.createGain();
    gain.gain.setValueAtTime(0.0001, start);
    gain.gain.exponentialRampToValueAtTime(0.12, start + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.4);
    gain.connect(context.destination);
    [880, 1318.5].forEach((frequency, i) => {
      const tone = context.createOscillator();
      tone.type = "sine";
      tone.frequency.value = frequency;
      tone.connect(gain);
      tone.start(start + i * 0.1);
      tone.stop(start + 0.4);
    });
  }
}
