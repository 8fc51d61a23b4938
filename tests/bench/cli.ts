/**
 * Command-line options for the benchmark's scripts, parsed by `node:util`
 * `parseArgs`, with errors that name the offending option and value, and the
 * `--help` text drawn from the same table.
 */

import { parseArgs } from "node:util";

/** One option: its kind, and what `--help` says about it. */
export interface Flag {
  type: "string" | "boolean";
  short?: string;
  /** The value's name in `--help`, e.g. `N` or `FILE`. */
  value?: string;
  help: string;
}

/** `-h, --help`, which every script takes. */
export const HELP_FLAG = {
  type: "boolean",
  short: "h",
  help: "print this and exit",
} as const satisfies Flag;

/** The values given, by option name; absent options are undefined. */
export type FlagValues<T extends Record<string, Flag>> = {
  [K in keyof T]?: T[K]["type"] extends "string" ? string : boolean;
};

/**
 * The options in `args`. Throws a TypeError for an unknown option, a string option without a
 * value, a value given to a boolean option, and any argument that is not an option.
 */
export function parseFlags<T extends Record<string, Flag>>(
  args: string[],
  flags: T,
): FlagValues<T> {
  const options = Object.fromEntries(
    Object.entries(flags).map((
      [name, { type, short }],
    ) => [name, short ? { type, short } : { type }]),
  );
  // Not strict: parseArgs' own errors do not quote the value, so the tokens are checked here.
  const { values, tokens } = parseArgs({
    args,
    options,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  for (const token of tokens) {
    if (token.kind === "positional") {
      throw new TypeError(`Cannot parse argument "${token.value}": only options are taken`);
    }
    if (token.kind !== "option") continue;
    const flag = Object.hasOwn(flags, token.name) ? flags[token.name] : undefined;
    if (flag === undefined) {
      throw new TypeError(`Cannot parse option "${token.rawName}": not an option, see --help`);
    }
    // A value that looks like an option means the value itself was left out.
    const missing = token.value === undefined ||
      (!token.inlineValue && token.value.startsWith("-"));
    if (flag.type === "string" && missing) {
      throw new TypeError(`Cannot use option "${token.rawName}": it needs a value`);
    }
    if (flag.type === "boolean" && token.value !== undefined) {
      throw new TypeError(
        `Cannot use option "${token.rawName}" with "${token.value}": it takes no value`,
      );
    }
  }
  return values as FlagValues<T>;
}

/** Option `--name`'s value `text` as a whole number from `min` to `max`. */
export function wholeNumber(
  name: string,
  text: string,
  { min = 0, max = Infinity }: { min?: number; max?: number } = {},
): number {
  if (!/^[+-]?\d+$/.test(text)) {
    throw new TypeError(`Cannot parse --${name} "${text}": not a whole number`);
  }
  const value = Number(text);
  if (value < min || value > max) {
    const bounds = Number.isFinite(max) ? `${min} to ${max}` : `${min} or more`;
    throw new RangeError(`Cannot use --${name} "${text}": must be ${bounds}`);
  }
  return value;
}

/** The `--help` text: `synopsis`, then one line per option of `flags`. */
export function usage(synopsis: string, flags: Record<string, Flag>): string {
  const rows = Object.entries(flags).map(([name, flag]) => [
    `${flag.short ? `-${flag.short}, ` : ""}--${name}${flag.value ? ` ${flag.value}` : ""}`,
    flag.help,
  ]);
  const width = Math.max(...rows.map(([left]) => left.length));
  return [
    `Usage: ${synopsis}`,
    "",
    "Options:",
    ...rows.map(([left, help]) => `  ${left.padEnd(width)}  ${help}`),
  ].join("\n");
}

/**
 * What `parse` makes of the program's arguments; a bad option ends the program with its
 * message and exit code 2, `--help` with `help` and exit code 0.
 */
export function optionsOrExit<T extends { help: boolean }>(
  parse: (args: string[]) => T,
  help: string,
): T {
  let options: T;
  try {
    options = parse(Deno.args);
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    Deno.exit(2);
  }
  if (options.help) {
    console.log(help);
    Deno.exit(0);
  }
  return options;
}
