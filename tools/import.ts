/**
 * `deno task import FILE`: the lines of an export into the chat's KV (see
 * server/store/import.ts). Run it through the task, which scopes its
 * permissions (tools/data_task.ts).
 */

import { parseArgs } from "node:util";
import { fileLines, importKv } from "../server/store/import.ts";
import { openKv } from "../server/store/open_kv.ts";
import { fail, IMPORT_OPTIONS, kvName, toolSettings } from "./data_task.ts";

const USAGE = `Usage: deno task import [--kv PATH] [--merge] FILE

Loads a file written by deno task export into an empty KV. Every line is checked
first: a bad one is reported with its line number and nothing is written. Then
the rows are written in commits within KV's limits; should that stop half way
(a crash, a full disk), servers refuse the KV until the import is run again
with --merge.

Options:
  --kv PATH   the KV to write, instead of KV_PATH (a file or a KV Connect URL)
  --merge     write into a KV that holds data: each row of the file replaces
              the row of its key, other rows stay
  -h, --help  this text

Settings as the server's (deno task serve --help): KV_PATH, and SESSION_TTL_DAYS
to leave out sessions that are over. Paths are taken from the project folder.`;

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({ args: Deno.args, options: IMPORT_OPTIONS, allowPositionals: true });
  } catch (error) {
    fail(`${(error as Error).message}\n\n${USAGE}`);
  }
  if (parsed.values.help) {
    console.log(USAGE);
    return;
  }
  if (parsed.positionals.length !== 1) fail(`Cannot import: name one FILE\n\n${USAGE}`);
  const file = parsed.positionals[0];
  if (file === "-") {
    fail(
      "Cannot import from standard input: name a file (it is read twice: checked, then written)",
    );
  }
  let settings;
  try {
    settings = toolSettings(parsed.values.kv);
  } catch (error) {
    fail(`Configuration error: ${(error as Error).message}`);
  }
  try {
    await Deno.stat(file);
  } catch (error) {
    fail(`Cannot import "${file}": ${(error as Error).message}`);
  }
  const kv = await openKv(settings.kvPath);
  try {
    const result = await importKv(kv, fileLines(file), {
      merge: parsed.values.merge ?? false,
      sessionTtlMs: settings.sessionTtlMs,
    });
    const rows = [...result.counts.values()].reduce((sum, n) => sum + n, 0);
    const kinds = [...result.counts].map(([type, n]) => `${n} ${type}`).join(", ");
    console.error(
      `Imported ${rows} rows into ${kvName(settings.kvPath)} in ${result.commits} commits${
        kinds ? `: ${kinds}` : ""
      }${
        result.expiredSessions > 0
          ? `; left out ${result.expiredSessions} sessions that are over`
          : ""
      }`,
    );
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  } finally {
    kv.close();
  }
}

if (import.meta.main) await main();
