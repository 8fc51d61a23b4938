/**
 * Starts N chat servers on consecutive ports sharing one KV file and one Redis,
 * for trying the cluster out: `deno task cluster [N] [FIRST_PORT]`.
 *
 * Uses REDIS_URL when set; otherwise a Redis already answering on
 * 127.0.0.1:6379, or else starts `redis-server` there (no persistence) and stops
 * it on exit. Ctrl+C stops every process it started, by PID.
 */

import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));
const count = Number(Deno.args[0] ?? 3);
const firstPort = Number(Deno.args[1] ?? 3000);
if (!Number.isInteger(count) || count < 1 || count > 32) {
  console.error(`Cannot start "${Deno.args[0]}" nodes: give a whole number from 1 to 32`);
  Deno.exit(1);
}
if (!Number.isInteger(firstPort) || firstPort < 1 || firstPort + count - 1 > 65535) {
  console.error(`Cannot use first port "${Deno.args[1]}": not a port number`);
  Deno.exit(1);
}

async function answers(port: number): Promise<boolean> {
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.close();
    return true;
  } catch {
    return false;
  }
}

async function pipe(
  stream: ReadableStream<Uint8Array<ArrayBuffer>>,
  prefix: string,
  out: typeof Deno.stdout,
) {
  let rest = "";
  const encoder = new TextEncoder();
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    const lines = (rest + chunk).split("\n");
    rest = lines.pop()!;
    for (const line of lines) await out.write(encoder.encode(`${prefix} ${line}\n`));
  }
}

const children: { name: string; process: Deno.ChildProcess }[] = [];
function spawn(name: string, command: string, args: string[], env: Record<string, string> = {}) {
  const process = new Deno.Command(command, {
    args,
    env,
    cwd: root,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  pipe(process.stdout, `[${name}]`, Deno.stdout);
  pipe(process.stderr, `[${name}]`, Deno.stderr);
  children.push({ name, process });
  return process;
}

let redisUrl = Deno.env.get("REDIS_URL") ?? "";
if (redisUrl === "") {
  redisUrl = "redis://127.0.0.1:6379";
  if (!(await answers(6379))) {
    spawn("redis", "redis-server", [
      "--port",
      "6379",
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
    ]);
    for (let i = 0; i < 100 && !(await answers(6379)); i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
const kvPath = Deno.env.get("KV_PATH") ?? "./data/cluster.kv";
console.log(
  `Starting ${count} nodes on ports ${firstPort}-${
    firstPort + count - 1
  } (Redis ${redisUrl}, KV ${kvPath})`,
);
for (let i = 0; i < count; i++) {
  const port = String(firstPort + i);
  spawn(`node ${port}`, Deno.execPath(), [
    "run",
    // The flags of `deno task serve`.
    "--no-prompt",
    "--allow-net",
    "--allow-read=.",
    "--allow-write=./data",
    "--allow-env",
    "--allow-sys=hostname",
    "server/main.ts",
  ], { PORT: port, KV_PATH: kvPath, REDIS_URL: redisUrl });
}

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  // Nodes first, so they can still reach Redis while they drain.
  for (const c of children.filter((c) => c.name !== "redis")) c.process.kill("SIGTERM");
  await Promise.all(children.filter((c) => c.name !== "redis").map((c) => c.process.status));
  for (const c of children.filter((c) => c.name === "redis")) c.process.kill("SIGTERM");
  await Promise.all(children.map((c) => c.process.status));
  Deno.exit(0);
}
Deno.addSignalListener("SIGINT", stop);
Deno.addSignalListener("SIGTERM", stop);
await Promise.all(children.map((c) => c.process.status));
