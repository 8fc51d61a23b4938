/**
 * `deno task export FILE`: every row of the chat's KV as JSON Lines (see
 * server/store/export.ts), to FILE or, with `-`, to standard output. Run it
 * through the task, which scopes its permissions (tools/data_task.ts).
 */

import { parseArgs } from "node:util";
import { exportKv } from "../server/store/export.ts";
import { openKv } from "../server/store/open_kv.ts";
import { EXPORT_OPTIONS, fail, toolSettings } from "./data_task.ts";

const USAGE = `Usage: deno task export [--kv PATH] FILE

Writes all the chat's data (users, names, sessions, messages, read marks,
counters, receipts, blocks, preferences) as JSON Lines to FILE, or to standard
output for -. It may run while servers use the KV: each conversation is one
snapshot. The file holds session IDs, which are credentials: it is created
readable by its owner only. FILE appears only once the export is complete.

Options:
  --kv PATH   the KV to read, instead of KV_PATH (a file or a KV Connect URL)
  -h, --help  this text

Settings as the server's (deno task serve --help): KV_PATH, and SESSION_TTL_DAYS
to leave out sessions that are over. Paths are taken from the project folder.`;

// Lines are gathered into writes of about this many bytes.
const CHUNK = 64 * 1024;

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({ args: Deno.args, options: EXPORT_OPTIONS, allowPositionals: true });
  } catch (error) {
    fail(`${(error as Error).message}\n\n${USAGE}`);
  }
  if (parsed.values.help) {
    console.log(USAGE);
    return;
  }
  if (parsed.positionals.length !== 1) {
    fail(`Cannot export: name one FILE (or - for standard output)\n\n${USAGE}`);
  }
  const target = parsed.positionals[0];
  let settings;
  try {
    settings = toolSettings(parsed.values.kv);
  } catch (error) {
    fail(`Configuration error: ${(error as Error).message}`);
  }
  const { kvPath } = settings;
  if (kvPath !== ":memory:" && !/^https?:\/\//i.test(kvPath)) {
    try {
      if (!(await Deno.stat(kvPath)).isFile) fail(`Cannot export: "${kvPath}" is not a KV file`);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        fail(`Cannot export: there is no KV at "${kvPath}"`);
      }
      throw error;
    }
  }

  const partial = `${target}.partial`;
  let out: Deno.FsFile | undefined;
  let sink: { write(p: Uint8Array): Promise<number> } = Deno.stdout;
  if (target !== "-") {
    out = await Deno.open(partial, { write: true, create: true, truncate: true, mode: 0o600 });
    sink = out;
  }
  const encoder = new TextEncoder();
  let buffer = "";
  const flush = async () => {
    let bytes = encoder.encode(buffer);
    buffer = "";
    while (bytes.length > 0) bytes = bytes.subarray(await sink.write(bytes));
  };
  const kv = await openKv(kvPath);
  try {
    const result = await exportKv(kv, async (line) => {
      buffer += line;
      if (buffer.length >= CHUNK) await flush();
    }, { sessionTtlMs: settings.sessionTtlMs });
    await flush();
    if (out) {
      await out.sync();
      out.close();
      out = undefined;
      await Deno.rename(partial, target);
    }
    const kinds = [...result.counts].map(([type, n]) => `${n} ${type}`).join(", ");
    console.error(
      `Exported ${result.lines} lines to ${target === "-" ? "standard output" : target}${
        kinds ? `: ${kinds}` : ""
      }`,
    );
  } catch (error) {
    if (out) {
      out.close();
      await Deno.remove(partial).catch(() => {});
    }
    fail(error instanceof Error ? error.message : String(error));
  } finally {
    kv.close();
  }
}

if (import.meta.main) await main();
