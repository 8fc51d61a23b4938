/**
 * What the bundle's on-demand chunks of elements (`conversation.ts`, `dialogs.ts`) take from
 * the bundle instead of carrying copies of their own: Lit, the protocol's limits, the state
 * functions, `emit()`, times and the base styles. The bundle exports this module as
 * `chunkImports`, and the build points a chunk's imports of these modules at it.
 */
export { css, html, LitElement, nothing } from "lit";
export { repeat } from "lit/directives/repeat.js";
export { LIMITS } from "../server/protocol.ts";
export { editable, lastEditable, nameMatches, receiptOf, userFromEntry } from "./chat-state.ts";
export { defineOnce } from "./define-once.ts";
export { emit } from "./emit.ts";
export { DateTimeFormats, lastSeenLabel } from "./format.ts";
export { baseStyles } from "./shared.styles.ts";
