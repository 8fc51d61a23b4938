/**
 * The logger handed to every part of the server: pino, writing one JSON object
 * per line, or readable text when standard output is a terminal.
 *
 * Fields come first, then a message: `logger.warn({ event, userID, code }, "Dropped an event")`.
 * Fields that hold secrets or message text are redacted by name wherever they
 * appear, and control characters never reach the output raw, so a username or
 * an error message cannot forge a log line or drive a terminal.
 */

import { pino } from "pino";
import { prettyFactory } from "pino-pretty";

/** Levels `LOG_LEVEL` accepts, most verbose first. */
export const LOG_LEVELS = ["debug", "info", "warn", "error", "silent"] as const;
/** One of `LOG_LEVELS`. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Formats `LOG_FORMAT` accepts: `auto` is `text` on a terminal, else `json`. */
export const LOG_FORMATS = ["auto", "json", "text"] as const;
/** One of `LOG_FORMATS`. */
export type LogFormat = (typeof LOG_FORMATS)[number];

/** What the server logs with: pino's level methods and `child()`. */
export type Logger = Pick<
  pino.Logger,
  "debug" | "info" | "warn" | "error" | "child" | "level" | "isLevelEnabled"
>;

/** Where log lines go: each call gets one line, ending in a newline. */
export interface LogDestination {
  write(line: string): void;
}

/** Options of `createLogger()`. */
export interface LoggerOptions {
  /** Least severe level written; `info` by default. */
  level?: LogLevel;
  /** `auto` by default. */
  format?: LogFormat;
  /** Standard output by default. */
  destination?: LogDestination;
}

/**
 * Field names whose values are never written: session credentials, tokens and
 * message text, at the top level or one object down (`{ auth: { sessionID } }`).
 */
export const REDACTED_FIELDS = ["sessionID", "token", "content", "password", "auth"] as const;

// C0 and C1 controls, line and paragraph separators, bidirectional overrides and isolates.
// deno-lint-ignore no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
// JSON.stringify escapes C0 controls itself; these it leaves as they are.
const UNSAFE_IN_JSON = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function unicodeEscape(char: string): string {
  return `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`;
}

/** `text` with every control and formatting character written as a `\uXXXX` escape. */
export function escapeControls(text: string): string {
  return text.replace(UNSAFE, unicodeEscape);
}

// Escapes the strings of a parsed log line for text output. A stack trace keeps
// its line breaks (pino-pretty indents them); nothing else may break a line.
function escapeFields(value: unknown, key = ""): unknown {
  if (typeof value === "string") {
    return key === "stack"
      ? value.split("\n").map(escapeControls).join("\n")
      : escapeControls(value);
  }
  if (Array.isArray(value)) return value.map((item) => escapeFields(item));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [escapeControls(k), escapeFields(v, k)]),
    );
  }
  return value;
}

function standardOutput(): LogDestination {
  const encoder = new TextEncoder();
  return {
    write(line) {
      const bytes = encoder.encode(line);
      // writeSync may write less than asked when the pipe is full.
      for (let at = 0; at < bytes.length;) at += Deno.stdout.writeSync(bytes.subarray(at));
    },
  };
}

/** A logger writing `format` lines of `level` and above to `destination`. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const destination = options.destination ?? standardOutput();
  const format = options.format ?? "auto";
  const text = format === "text" ||
    (format === "auto" && options.destination === undefined && Deno.stdout.isTerminal());
  const paths = REDACTED_FIELDS.flatMap((name) => [name, `*.${name}`]);
  let stream: LogDestination;
  if (text) {
    const pretty = prettyFactory({ colorize: false, translateTime: "SYS:HH:MM:ss.l" });
    stream = { write: (line) => destination.write(pretty(escapeFields(JSON.parse(line)))) };
  } else {
    stream = { write: (line) => destination.write(line.replace(UNSAFE_IN_JSON, unicodeEscape)) };
  }
  return pino({
    level: options.level ?? "info",
    redact: { paths, censor: "[redacted]" },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  }, stream);
}
