/**
 * Writes the settings table of docs/operations.md from `SETTINGS` in server/config.ts, between
 * its `<!-- settings -->` and `<!-- /settings -->` lines. With `--check`, only says whether the
 * table there is the one `SETTINGS` makes (exit code 1 if not).
 *
 *   deno task settings [--check]
 */
import { parseArgs } from "node:util";
import { settingsTable } from "../server/config.ts";

/** Where the table goes. */
export const SETTINGS_DOC = new URL("../docs/operations.md", import.meta.url);
const START = "<!-- settings -->";
const END = "<!-- /settings -->";

/** `doc` with its settings block replaced by `table`; throws if the markers are missing. */
export function withSettingsTable(doc: string, table: string): string {
  const start = doc.indexOf(START);
  const end = doc.indexOf(END);
  if (start < 0 || end < start) {
    throw new Error(`Cannot find the settings table: no ${START} … ${END} lines`);
  }
  return `${doc.slice(0, start)}${START}\n\n${table}\n\n${doc.slice(end)}`;
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { check: { type: "boolean" } } });
  const doc = await Deno.readTextFile(SETTINGS_DOC);
  const next = withSettingsTable(doc, settingsTable());
  if (values.check) {
    if (next !== doc) {
      console.error("docs/operations.md: the settings table is out of date (deno task settings)");
      Deno.exit(1);
    }
  } else if (next !== doc) {
    await Deno.writeTextFile(SETTINGS_DOC, next);
    console.log("docs/operations.md: settings table written");
  }
}
