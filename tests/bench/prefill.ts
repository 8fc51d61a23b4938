/**
 * Fills a KV file with users and messages before the server under test opens
 * it, through the server's own store module (`KvChatStore`, so the key layout
 * and the group-commit writer are the real ones). Writing directly is about
 * 50x faster than sending 100,000 messages over sockets and leaves the socket
 * path to the scenarios that measure it.
 */

import { createMessageIdGenerator } from "../../server/chat/ids.ts";
import { nameKeys } from "../../server/chat/usernames.ts";
import { newSessionId, newUserId } from "../../server/chat/ids.ts";
import type { Message } from "../../server/protocol.ts";
import { KvChatStore } from "../../server/store/kv_store.ts";
import { sha256 } from "./cache.ts";

/** What was written: every user with its session, and the hub's peers. */
export interface Prefilled {
  users: { userID: string; sessionID: string; username: string }[];
  /** User 0 talks to these users (most of its conversations). */
  hubPeers: string[];
  messages: number;
  ms: number;
}

/**
 * `prefill()` into `path`, reusing a copy made earlier with the same options and
 * the same store source files (kept for a day in `cacheDir`): the fill takes
 * 5-20 s on these machines and measures nothing itself.
 */
export async function cachedPrefill(
  path: string,
  options: Parameters<typeof prefill>[1] & { cacheDir: string },
): Promise<Prefilled & { cached: boolean }> {
  const { cacheDir, ...fill } = options;
  const sources = await Promise.all(
    ["kv_store.ts", "group_writer.ts"].map((f) =>
      Deno.readTextFile(new URL(`../../server/store/${f}`, import.meta.url))
    ),
  );
  const key = (await sha256(JSON.stringify(fill) + sources.join("\n"))).slice(0, 16);
  const cachedKv = `${cacheDir}/prefill-${key}.kv`;
  const cachedMeta = `${cacheDir}/prefill-${key}.json`;
  try {
    const stat = await Deno.stat(cachedMeta);
    if (Date.now() - (stat.mtime?.getTime() ?? 0) < 24 * 60 * 60 * 1000) {
      const meta = JSON.parse(await Deno.readTextFile(cachedMeta)) as Prefilled;
      await Deno.copyFile(cachedKv, path);
      return { ...meta, cached: true };
    }
  } catch {
    // Not cached yet.
  }
  const result = await prefill(path, fill);
  await Deno.mkdir(cacheDir, { recursive: true });
  // The KV is closed, so its WAL is checkpointed into the one file.
  await Deno.copyFile(path, cachedKv);
  await Deno.writeTextFile(cachedMeta, JSON.stringify(result));
  return { ...result, cached: false };
}

/**
 * Writes `users` users and `messages` messages into the KV at `path`. User 0 is
 * a hub: `hubShare` of all messages are between it and `hubPeers` others, the
 * rest go between random pairs, so the hub's reconnect sees the worst-case
 * `users` payload.
 */
export async function prefill(
  path: string,
  options: {
    users: number;
    messages: number;
    hubPeers?: number;
    hubShare?: number;
    prefix?: string;
  },
): Promise<Prefilled> {
  const started = performance.now();
  const kv = await Deno.openKv(path);
  const store = new KvChatStore(kv);
  const ttlMs = 30 * 24 * 60 * 60 * 1000;
  const prefix = options.prefix ?? "pf";
  const users: Prefilled["users"] = [];
  // User creation is one atomic commit each (with a uniqueness check); a few in parallel.
  for (let i = 0; i < options.users; i += 50) {
    const batch = [];
    for (let j = i; j < Math.min(options.users, i + 50); j++) {
      const username = `${prefix}${j}`;
      const user = { userID: newUserId(), username, createdAt: Date.now() };
      const sessionID = newSessionId();
      users.push({ userID: user.userID, sessionID, username });
      batch.push(store.createUser(user, { nameKeys: nameKeys(username), sessionID, ttlMs }));
    }
    const created = await Promise.all(batch);
    if (created.includes(false)) throw new Error(`Cannot prefill: a username "${prefix}*" exists`);
  }
  const hubPeerCount = Math.min(options.hubPeers ?? 300, options.users - 1);
  const hubShare = options.hubShare ?? 0.3;
  const hubEvery = hubShare > 0 ? Math.max(1, Math.round(1 / hubShare)) : 0;
  const hubPeers = users.slice(1, 1 + hubPeerCount).map((u) => u.userID);
  const nextId = createMessageIdGenerator();
  const content = "prefilled message with a realistic length of text, about sixty chars";
  let pending: Promise<void>[] = [];
  for (let n = 0; n < options.messages; n++) {
    let from: string;
    let to: string;
    // Hub messages are spread over the whole fill, so the hub's most recent
    // conversations are long ones and its `users` payload is the largest.
    if (hubEvery > 0 && n % hubEvery === 0 && hubPeers.length > 0) {
      const k = n / hubEvery;
      const peer = hubPeers[k % hubPeers.length];
      [from, to] = k % 2 === 0 ? [users[0].userID, peer] : [peer, users[0].userID];
    } else {
      const a = Math.floor(Math.random() * users.length);
      let b = Math.floor(Math.random() * (users.length - 1));
      if (b >= a) b++;
      from = users[a].userID;
      to = users[b].userID;
    }
    const { id, timestamp } = nextId();
    const message: Message = { id, from, to, content, timestamp };
    pending.push(store.saveMessage(message));
    // Bounded memory: the group writer merges whatever is queued into few commits.
    if (pending.length >= 5000) {
      await Promise.all(pending);
      pending = [];
    }
  }
  await Promise.all(pending);
  await store.close();
  kv.close();
  return { users, hubPeers, messages: options.messages, ms: performance.now() - started };
}
