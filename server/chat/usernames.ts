/** Username rules: what a name may be, and when two names are the same. */

import unhomoglyph from "unhomoglyph";
import { LIMITS } from "../protocol.ts";
import { ChatError } from "./errors.ts";

// Control characters, and line and paragraph separators.
const CONTROL = /[\p{Cc}\p{Zl}\p{Zp}]/gu;

// Characters that draw nothing, or only change how their neighbours are drawn, so a
// name could hide them or look like another: the default-ignorable code points
// (zero-width spaces and joiners, the soft hyphen, word joiner, variation selectors,
// tag characters, the Hangul fillers), the format characters (bidirectional marks,
// overrides and isolates, the Arabic letter mark), and the Braille blank, a
// pattern of no dots that draws as a space without being one.
const INVISIBLE = /[\p{Default_Ignorable_Code_Point}\p{Cf}\u2800]/gu;
// What a skeleton drops (UTS #39); of these, a name keeps only emoji joiners and U+FE0F.
const IGNORABLE = /\p{Default_Ignorable_Code_Point}/gu;

// Inside an emoji they are part of what is drawn: a zero-width joiner glues two
// pictographs into one (👩‍💻, 🏳️‍🌈), and U+FE0F asks for the emoji form of a
// pictograph (❤️) or of a keycap (1️⃣). Only there are they allowed.
const PICTOGRAPH = String.raw`\p{Extended_Pictographic}`;
const EMOJI_GLUE = new RegExp(
  [
    String.raw`(?<=${PICTOGRAPH}[\uFE0F\p{Emoji_Modifier}]?)\u200D(?=${PICTOGRAPH})`,
    String.raw`(?<=${PICTOGRAPH})\uFE0F`,
    String.raw`(?<=[#*0-9])\uFE0F(?=\u20E3)`,
  ].join("|"),
  "gu",
);

// The code points a refusal names, at most.
const NAMED_AT_MOST = 3;

/** `U+200B, U+2060 and 2 more`: the distinct code points of `found`, never the characters. */
function describe(found: readonly string[]): string {
  const distinct = [...new Set(found)];
  const named = distinct.slice(0, NAMED_AT_MOST).map((c) =>
    `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`
  );
  const more = distinct.length - named.length;
  return more > 0 ? `${named.join(", ")} and ${more} more` : named.join(", ");
}

/**
 * Returns the canonical form of a requested username (trimmed, NFC, inner
 * whitespace runs folded to one space), or throws a `ChatError` with code
 * `invalid_username` saying what is wrong. Display names from host tokens follow
 * the same rules.
 */
export function normalizeUsername(input: unknown): string {
  if (typeof input !== "string") {
    throw new ChatError("invalid_username", "Username must be text");
  }
  if (!input.isWellFormed()) {
    throw new ChatError(
      "invalid_username",
      "Username contains invalid Unicode",
    );
  }
  // Checked before whitespace is folded: U+FEFF counts as whitespace there.
  const trimmed = input.trim();
  const controls = trimmed.match(CONTROL);
  if (controls) {
    throw new ChatError(
      "invalid_username",
      `Username cannot contain control characters (${describe(controls)})`,
    );
  }
  const hidden = trimmed.replace(EMOJI_GLUE, "").match(INVISIBLE);
  if (hidden) {
    const blank = trimmed.replace(INVISIBLE, "").trim() === "";
    throw new ChatError(
      "invalid_username",
      blank
        ? `Username cannot be blank: it has only invisible characters (${describe(hidden)})`
        : `Username cannot contain invisible or formatting characters (${describe(hidden)})`,
    );
  }
  const name = trimmed.normalize("NFC").replace(/\s+/gu, " ");
  const length = [...name].length;
  if (length === 0) {
    throw new ChatError("invalid_username", "Username cannot be empty");
  }
  if (length > LIMITS.maxUsernameLength) {
    throw new ChatError(
      "invalid_username",
      `Username is too long: ${length} characters, at most ${LIMITS.maxUsernameLength}`,
    );
  }
  return name;
}

// The UTS #39 skeleton: NFD, without default-ignorable code points, each character
// replaced by its prototype from Unicode's confusables data, NFD again. Strings that
// look alike have one skeleton ("аdmin" with a Cyrillic а, "admin" and "adrnin" all
// give "adrnin"); it is for comparing, never for showing.
function skeleton(text: string): string {
  return unhomoglyph(text.normalize("NFD").replace(IGNORABLE, "")).normalize("NFD");
}

/**
 * The keys a name is reserved under, one or two: two names are the same when they
 * share one. The first is the skeleton of the case-folded name, so case and width
 * variants and small-letter look-alikes meet ("alice", "ALICE", "ａｌｉｃｅ", "аlice"
 * with a Cyrillic а). The second is the skeleton of the name as written, so capital
 * look-alikes meet too ("ALICE", "ΑLICE" with a Greek Α, "ALlCE" with a small L). Both are
 * lower-cased, as prototypes can be capitals ("0" is "O"). One key cannot serve
 * both: folding makes "I" an "i", the skeleton an "l".
 */
export function nameKeys(name: string): string[] {
  const folded = skeleton(name.normalize("NFKC").toLowerCase().normalize("NFKC")).toLowerCase();
  const written = skeleton(name.normalize("NFKC")).toLowerCase();
  return folded === written ? [folded] : [folded, written];
}
