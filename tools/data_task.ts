/**
 * The launcher of `deno task export` and `deno task import`: runs
 * tools/export.ts or tools/import.ts with permissions scoped to what they touch:
 * the KV file's folder (or the host of a KV Connect URL), the one file named,
 * the environment and the host name. Paths are taken from the project
 * folder, where tasks run. The tool's exit code is the launcher's.
 */

import { parseArgs } from "node:util";
import { resolve } from "node:path";
import { CONFIG_ENV_NAMES, loadConfig, SETTINGS } from "../server/config.ts";
import { kvFolder } from "./serve.ts";

const ROOT = resolve(new URL("..", import.meta.url).pathname);

/** The options of `deno task export`. */
export const EXPORT_OPTIONS = {
  kv: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** The options of `deno task import`. */
export const IMPORT_OPTIONS = {
  kv: { type: "string" },
  merge: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** The KV a tool uses: `--kv`, else `KV_PATH`, else the server's default. */
export function kvPathOf(kv: unknown, env: Record<string, string | undefined>): string {
  return typeof kv === "string" ? kv : env.KV_PATH?.trim() || SETTINGS.kvPath.default;
}

/** What export and import take from the settings. */
export interface ToolSettings {
  kvPath: string;
  /** `SESSION_TTL_DAYS` in ms: sessions unused longer are over. */
  sessionTtlMs: number;
}

/**
 * The settings from the environment, as the server reads them, with `--kv`
 * over `KV_PATH`; throws a `TypeError` or `RangeError` naming a bad one.
 */
export function toolSettings(kv: unknown): ToolSettings {
  const env: Record<string, string | undefined> = {};
  for (const name of CONFIG_ENV_NAMES) env[name] = Deno.env.get(name);
  const config = loadConfig(env);
  return {
    kvPath: typeof kv === "string" ? SETTINGS.kvPath.parse(kv, "--kv") : config.kvPath,
    sessionTtlMs: config.sessionTtlDays * 24 * 60 * 60 * 1000,
  };
}

/** A KV path fit for a message: a KV Connect URL without its credentials. */
export function kvName(path: string): string {
  return path.replace(/\/\/[^@/]*@/, "//");
}

/** Ends the process with `message` on standard error and exit code 1. */
export function fail(message: string): never {
  console.error(message);
  Deno.exit(1);
}

/** The `deno run` flags, script and arguments for `command` run with `args`. */
export function dataArgs(
  command: "export" | "import",
  args: string[],
  env: Record<string, string | undefined>,
): string[] {
  // Loose here: the tool itself reports bad arguments.
  const { values, positionals } = parseArgs({
    args,
    options: command === "export" ? EXPORT_OPTIONS : IMPORT_OPTIONS,
    strict: false,
    allowPositionals: true,
  });
  const kvPath = kvPathOf(values.kv, env);
  const read: string[] = [];
  const write: string[] = [];
  const net: string[] = [];
  const folder = kvFolder(kvPath);
  if (folder !== null) {
    read.push(folder);
    write.push(folder);
  } else if (/^https?:\/\//i.test(kvPath)) {
    try {
      net.push(new URL(kvPath).host);
    } catch {
      // Not a URL after all: the tool says so.
    }
  }
  const file = positionals[0];
  if (typeof file === "string" && file !== "-") {
    const path = resolve(ROOT, file);
    if (command === "import") read.push(path);
    else {
      // Export writes FILE.partial and renames it to FILE when done.
      read.push(path, `${path}.partial`);
      write.push(path, `${path}.partial`);
    }
  }
  const flags = ["--no-prompt"];
  if (read.length > 0) flags.push(`--allow-read=${read.join(",")}`);
  if (write.length > 0) flags.push(`--allow-write=${write.join(",")}`);
  if (net.length > 0) flags.push(`--allow-net=${net.join(",")}`);
  // The settings' module loads the logger's (pino), which reads the host name and
  // a few variables of its own when loaded: the environment is not scoped, as for serve.
  flags.push("--allow-env", "--allow-sys=hostname");
  return ["run", ...flags, `tools/${command}.ts`, ...args];
}

if (import.meta.main) {
  // Paths are the project folder's, as for every task.
  Deno.chdir(ROOT);
  const [command, ...rest] = Deno.args;
  if (command !== "export" && command !== "import") {
    console.error(`Cannot run "${command ?? ""}": the commands are export and import`);
    Deno.exit(1);
  }
  const child = new Deno.Command(Deno.execPath(), {
    args: dataArgs(command, rest, Deno.env.toObject()),
    cwd: ROOT,
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  Deno.exit((await child.status).code);
}
