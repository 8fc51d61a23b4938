/**
 * Entry point: configuration -> logger -> KV -> server -> listen; a graceful
 * shutdown on SIGINT/SIGTERM. `--help` lists every setting.
 */

import { parseArgs } from "node:util";
import {
  type Config,
  CONFIG_ENV_NAMES,
  loadConfig,
  settingsHelp,
  unknownSettingWarnings,
} from "./config.ts";
import { startServer } from "./app.ts";
import { createLogger } from "./log.ts";
import { openKv } from "./store/open_kv.ts";

const USAGE = `Usage: deno task serve [--help]

Runs the chat server. Every setting is an environment variable:

`;

/** Ends the process before the server runs, with `message` on standard error. */
function fail(message: string): never {
  console.error(message);
  Deno.exit(1);
}

function readEnv(): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const name of CONFIG_ENV_NAMES) env[name] = Deno.env.get(name);
  return env;
}

let help = false;
try {
  help = parseArgs({ args: Deno.args, options: { help: { type: "boolean", short: "h" } } })
    .values.help === true;
} catch (error) {
  fail(`${error instanceof Error ? error.message : error}\n\n${USAGE}${settingsHelp()}`);
}
if (help) {
  console.log(`${USAGE}${settingsHelp()}`);
  Deno.exit(0);
}

let config: Config;
try {
  config = loadConfig(readEnv());
} catch (error) {
  fail(`Configuration error: ${error instanceof Error ? error.message : error}`);
}
const logger = createLogger({ level: config.logLevel, format: config.logFormat });
try {
  for (const warning of unknownSettingWarnings(Object.keys(Deno.env.toObject()))) {
    logger.warn({ event: "config" }, warning);
  }
} catch {
  // Without the permission to list the environment, nothing to compare.
}
// Credentials in a KV Connect URL stay out of the log.
const kvName = config.kvPath.replace(/\/\/[^@/]*@/, "//");

let kv: Deno.Kv;
let server: Awaited<ReturnType<typeof startServer>>;
try {
  kv = await openKv(config.kvPath);
  server = await startServer(config, { kv, logger });
} catch (error) {
  // The server never ran: a plain line, like a configuration error.
  fail(`Cannot start the server: ${error instanceof Error ? error.message : error}`);
}
logger.info(
  { event: "start", url: server.url, kv: kvName },
  `Chat server listening on ${server.url}`,
);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ event: "stop", signal }, `${signal} received: draining`);
  // DRAIN_SECONDS of serving on, then 10 s for the rest.
  const limit = config.drainSeconds + 10;
  const timer = setTimeout(() => {
    logger.error({ event: "stop" }, `Shutdown took longer than ${limit} s: exiting`);
    Deno.exit(1);
  }, limit * 1000);
  try {
    await server.close();
    kv.close();
    clearTimeout(timer);
    logger.info({ event: "stop" }, "Stopped");
    Deno.exit(0);
  } catch (error) {
    logger.error({ event: "stop", err: error }, "Shutdown failed");
    Deno.exit(1);
  }
}
Deno.addSignalListener("SIGINT", () => shutdown("SIGINT"));
Deno.addSignalListener("SIGTERM", () => shutdown("SIGTERM"));
