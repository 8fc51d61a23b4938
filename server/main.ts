/** Entry point: configuration -> server -> graceful shutdown on SIGINT/SIGTERM. */

import { CONFIG_ENV_NAMES, loadConfig } from "./config.ts";
import { startServer } from "./app.ts";

function readEnv(): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const name of CONFIG_ENV_NAMES) env[name] = Deno.env.get(name);
  return env;
}

let config;
try {
  config = loadConfig(readEnv());
} catch (error) {
  console.error(`Configuration error: ${error instanceof Error ? error.message : error}`);
  Deno.exit(1);
}

let server;
try {
  server = await startServer(config);
} catch (error) {
  console.error(`Cannot start the server: ${error instanceof Error ? error.message : error}`);
  Deno.exit(1);
}
const kvName = config.kvPath.replace(/\/\/[^@/]*@/, "//");
console.log(`Chat server listening on ${server.url} (KV: ${kvName})`);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`${signal} received: draining`);
  const timer = setTimeout(() => {
    console.error("Shutdown took longer than 10 s: exiting");
    Deno.exit(1);
  }, 10_000);
  try {
    await server!.close();
    clearTimeout(timer);
    console.log("Stopped");
    Deno.exit(0);
  } catch (error) {
    console.error("Shutdown failed:", error);
    Deno.exit(1);
  }
}
Deno.addSignalListener("SIGINT", () => shutdown("SIGINT"));
Deno.addSignalListener("SIGTERM", () => shutdown("SIGTERM"));
