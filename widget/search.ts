/// <reference lib="dom" />
/**
 * The search results of the people list, a chunk of their own: a first view shows the search
 * box and no results, so the widget loads this module when the box is first reached for.
 * The chunk takes Lit and the shared modules from the bundle (`chunk-imports.ts`).
 */
import { defineOnce } from "./define-once.ts";
import { ChatSearchResults } from "./chat-search-results.ts";

import { enSearch } from "./locales/en-search.ts";
export { ChatSearchResults };

/** The English strings this chunk shows; the widget adds them to its English table. */
export const strings = enSearch;

/** Registers the search results once; later calls and a missing registry are no-ops. */
export function defineElements(
  registry: CustomElementRegistry | undefined = globalThis.customElements,
): void {
  defineOnce(registry, [["chat-search-results", ChatSearchResults]]);
}
