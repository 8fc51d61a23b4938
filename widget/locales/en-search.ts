/** English for the search results: in their chunk, which adds it to the English table when it loads. */

/** English of the search results. */
export const enSearch = {
  searching: "Searching…",
  searchNone: "No one found for “{query}”",
  searchOffline: "Only people already listed: the server cannot be asked now",
  searchResults_one: "{n} person found",
  searchResults_other: "{n} people found",
  searchMore: "More results",
} satisfies Record<string, string>;
