/**
 * The storage path alone: the throughput scenario's messages written straight
 * through `KvChatStore.saveMessage` (the same rows, the same group commits),
 * with no Socket.IO, validation or delivery, and every message queued at once so
 * that commits are as large as KV allows. What the chat server could at best
 * deliver per second if everything else were free. Prints one JSON line.
 *
 *   deno run -A tests/bench/store_ceiling.ts --kv PATH [--users 200] [--per-user 50]
 *     [--guide]            messages as the guide's client sends them, without a clientId
 *     [--server-dir DIR]   the checkout whose store is measured (default: this one)
 *     [--help]
 */

import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Message } from "../../server/protocol.ts";
import { type Flag, HELP_FLAG, optionsOrExit, parseFlags, usage, wholeNumber } from "./cli.ts";
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

const FLAGS = {
  kv: { type: "string", value: "PATH", help: 'the KV file to write, or ":memory:" (required)' },
  users: {
    type: "string",
    value: "N",
    help: "senders, each writing to random others (default 200)",
  },
  "per-user": { type: "string", value: "N", help: "messages per sender (default 50)" },
  guide: {
    type: "boolean",
    help: "messages as the guide's client sends them, without a clientId (default: with one)",
  },
  "server-dir": {
    type: "string",
    value: "DIR",
    help: "the checkout whose store is measured (default: this one)",
  },
  help: HELP_FLAG,
} as const satisfies Record<string, Flag>;

/** What to run, from `args`; throws on an unknown option, a missing value or a bad one. */
function parseOptions(
  args: string[],
): { kv: string; users: number; perUser: number; guide: boolean; dir: string; help: boolean } {
  const values = parseFlags(args, FLAGS);
  const help = values.help ?? false;
  if (!values.kv && !help) {
    throw new TypeError(`Cannot run: --kv is required (a file path or ":memory:")`);
  }
  return {
    kv: values.kv ?? "",
    users: wholeNumber("users", values.users ?? "200", { min: 2 }),
    perUser: wholeNumber("per-user", values["per-user"] ?? "50", { min: 1 }),
    guide: values.guide ?? false,
    dir: resolve(values["server-dir"] ?? ROOT),
    help,
  };
}

async function main(): Promise<void> {
  const args = optionsOrExit(
    parseOptions,
    usage("deno run -A tests/bench/store_ceiling.ts --kv PATH [options]", FLAGS),
  );
  const { kv: path, users, perUser, guide, dir } = args;
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
          ...(guide ? {} : { clientId: crypto.randomUUID() }),
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
