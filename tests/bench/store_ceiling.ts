/**
 * The storage path alone: the throughput scenario's messages written straight
 * through `KvChatStore.saveMessage` (the same rows, the same group commits),
 * with no Socket.IO, validation or delivery, and every message queued at once so
 * that commits are as large as KV allows. What the chat server could at best
 * deliver per second if everything else were free. Prints one JSON line.
 *
 *   deno run -A tests/bench/store_ceiling.ts --kv PATH [--users 200] [--per-user 50]
 *     [--server-dir DIR]   the checkout whose store is measured (default: this one)
 */

import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Message } from "../../server/protocol.ts";
import { denoPath, ROOT } from "./server_process.ts";

/** What one run measured. */
export interface StoreCeiling {
  messages: number;
  ms: number;
  perSecond: number;
  commits: number;
  largestBatch: number;
  /** KV mutations per message (sets and sums), as committed. */
  mutationsPerMessage: number;
}

/** This script's exit code and output, run with `args` in a process of its own. */
export async function runStoreCeiling(
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(denoPath(), {
    args: ["run", "-A", fileURLToPath(import.meta.url), ...args],
    cwd: ROOT,
    stdin: "null",
  }).output();
  const decoder = new TextDecoder();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

function parseArgs(args: string[]): { kv: string; users: number; perUser: number; dir: string } {
  const out = {
    kv: "",
    users: 200,
    perUser: 50,
    dir: ROOT,
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!["--kv", "--users", "--per-user", "--server-dir"].includes(arg)) {
      throw new TypeError(`Cannot parse option "${arg}"`);
    }
    const value = args[++i];
    if (value === undefined) throw new TypeError(`Cannot use option "${arg}": it needs a value`);
    if (arg === "--kv") out.kv = value;
    else if (arg === "--users") out.users = Number(value);
    else if (arg === "--per-user") out.perUser = Number(value);
    else out.dir = resolve(value);
  }
  if (!out.kv) throw new TypeError(`Cannot run: --kv is required (a file path or ":memory:")`);
  if (!Number.isInteger(out.users) || out.users < 2) {
    throw new RangeError(`Cannot use --users "${out.users}": must be a whole number of at least 2`);
  }
  if (!Number.isInteger(out.perUser) || out.perUser < 1) {
    throw new RangeError(`Cannot use --per-user "${out.perUser}": must be a whole number`);
  }
  return out;
}

async function main(): Promise<void> {
  let args: ReturnType<typeof parseArgs>;
  try {
    args = parseArgs(Deno.args);
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    Deno.exit(2);
  }
  const { kv: path, users, perUser, dir } = args;
  const { KvChatStore } = await import(join(dir, "server/store/kv_store.ts"));
  const { createMessageIdGenerator, newUserId } = await import(join(dir, "server/chat/ids.ts"));
  const kv = await Deno.openKv(path);
  const store = new KvChatStore(kv);
  try {
    const ids: string[] = Array.from({ length: users }, () => newUserId());
    const nextId = createMessageIdGenerator();
    // Built first, so the timed part is the store's alone.
    const messages: Message[] = [];
    for (let i = 0; i < perUser; i++) {
      for (let u = 0; u < users; u++) {
        const to = (u + 1 + Math.floor(Math.random() * (users - 1))) % users;
        const { id, timestamp } = nextId();
        messages.push({
          id,
          from: ids[u],
          to: ids[to],
          // The load generator's content: a tag, an index and a send time.
          content: `b ${messages.length} ${performance.now().toFixed(3)}`,
          timestamp,
          clientId: crypto.randomUUID(),
        });
      }
    }
    const start = performance.now();
    await Promise.all(messages.map((m) => store.saveMessage(m)));
    const ms = performance.now() - start;
    const stats = store.writerStats;
    const result: StoreCeiling = {
      messages: messages.length,
      ms,
      perSecond: messages.length / (ms / 1000),
      commits: stats.commits,
      largestBatch: stats.largestBatch,
      mutationsPerMessage: stats.mutations / messages.length,
    };
    console.log(JSON.stringify(result));
  } finally {
    await store.close();
    kv.close();
  }
}

if (import.meta.main) await main();
