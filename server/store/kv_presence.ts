/**
 * Cluster-wide presence in Deno KV, shared by every node of a cluster: a
 * record per user naming the nodes that hold it, an index of the users each
 * node holds, and each node's heartbeat (`keys.ts`).
 *
 * Each node counts its own sockets in memory and writes KV only when a user's
 * count on it goes 0 -> 1 or 1 -> 0. One key per user, updated with optimistic
 * concurrency (`check` on its versionstamp), decides "first socket anywhere" and
 * "last socket anywhere" exactly once even when nodes race. A node that stops
 * heartbeating (SIGKILL, power loss) is tombstoned by the first survivor that
 * notices; survivors then remove it from every user it held, and whichever
 * commit empties a user's record reports that user gone, once, cluster-wide.
 * Node records carry no `expireIn`: a record that vanished on its own would
 * orphan its users' presence; the sweeper deletes a node's record last.
 *
 * Liveness compares heartbeat deadlines with the local clock: nodes on several
 * hosts need clocks that agree to well within the TTL (NTP does).
 */

import type { Presence } from "../chat/ports.ts";
import type { Logger } from "../log.ts";
import {
  clusterNodeKey,
  clusterNodesPrefix,
  presenceKey,
  presenceNodeKey,
  presenceNodePrefix,
  presencePrefix,
} from "./keys.ts";
import { readMany } from "./read_many.ts";
import { retryLocked } from "./retry.ts";

/** Options of `KvPresence`. */
export interface KvPresenceOptions {
  /** This node's ID; random when absent. */
  nodeID?: string;
  /** A node that has not heartbeaten for this long (ms) is dead; heartbeats come every third of it. */
  ttlMs: number;
  logger: Logger;
}

/** Options of `KvPresence.start()`. */
export interface KvPresenceStartOptions {
  /** False: no timers; the caller runs `heartbeat()` itself. */
  timers?: boolean;
  /** Users whose last socket was on a dead node: the caller tells everyone they left. */
  onUsersGone?: (userIDs: string[]) => void;
  /** Users this node held again after it had been declared dead: the caller announces them. */
  onUsersBack?: (userIDs: string[]) => void;
}

interface PresenceRecord {
  /** Node ID -> ms since the user is on that node. */
  nodes: Record<string, number>;
}

interface NodeRecord {
  /** Heartbeat: alive until then (ms since the epoch). */
  expiresAt?: number;
  /** Tombstone: declared dead at (ms); the node must re-register. */
  deadAt?: number;
}

// Optimistic-concurrency retries of one user's record before giving up.
const MAX_CONFLICTS = 100;

function randomNodeId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** `Presence` spanning every node that shares one KV; see the module doc. */
export class KvPresence implements Presence {
  /** This node's ID. */
  readonly nodeID: string;
  #kv: Deno.Kv;
  #ttlMs: number;
  #logger: Logger;
  #onUsersGone: (userIDs: string[]) => void = () => {};
  #onUsersBack: (userIDs: string[]) => void = () => {};
  /** Sockets per user on this node. */
  #local = new Map<string, number>();
  /** Users whose KV record failed to follow `#local`; retried on each heartbeat. */
  #dirty = new Set<string>();
  /** Per-user chains, so one user's add and remove run in order on this node. */
  #chains = new Map<string, Promise<unknown>>();
  /** Last known heartbeat deadline of each node. */
  #nodes = new Map<string, number>();
  #nodeVersion: string | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #beating: Promise<void> | null = null;
  #sweeping: Promise<void> | null = null;
  #closed = false;

  constructor(kv: Deno.Kv, options: KvPresenceOptions) {
    this.#kv = kv;
    this.nodeID = options.nodeID ?? randomNodeId();
    this.#ttlMs = options.ttlMs;
    this.#logger = options.logger.child({ nodeID: this.nodeID });
  }

  /**
   * Registers this node and starts heartbeats and the sweeper, every third of
   * the TTL; with `timers: false` the caller runs `heartbeat()` itself.
   */
  async start(options: KvPresenceStartOptions = {}): Promise<void> {
    if (options.onUsersGone) this.#onUsersGone = options.onUsersGone;
    if (options.onUsersBack) this.#onUsersBack = options.onUsersBack;
    await this.#register();
    if (options.timers === false) return;
    const tick = () => {
      this.#beating = this.heartbeat().catch((error) =>
        this.#logger.error({ event: "heartbeat", err: error }, "Presence heartbeat failed")
      )
        .finally(() => {
          this.#beating = null;
          if (!this.#closed) this.#timer = setTimeout(tick, this.#ttlMs / 3);
        });
    };
    this.#timer = setTimeout(tick, this.#ttlMs / 3);
  }

  /**
   * Stops heartbeats, removes this node's users (returning those now gone
   * everywhere, for the caller to announce) and unregisters the node.
   */
  async close(): Promise<string[]> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#beating;
    await this.#sweeping;
    await Promise.allSettled(this.#chains.values());
    const gone: string[] = [];
    for (const userID of [...this.#local.keys()]) {
      this.#local.delete(userID);
      try {
        if (await this.#update(userID, false)) gone.push(userID);
      } catch (error) {
        this.#logger.error({ event: "presence", userID, err: error }, "Presence update failed");
      }
    }
    await retryLocked(() => this.#kv.delete(clusterNodeKey(this.nodeID)));
    return gone;
  }

  add(userID: string): Promise<boolean> {
    return this.#serial(userID, async () => {
      const n = this.#local.get(userID) ?? 0;
      this.#local.set(userID, n + 1);
      if (n > 0) return false;
      return await this.#sync(userID, true);
    });
  }

  remove(userID: string): Promise<boolean> {
    return this.#serial(userID, async () => {
      const n = this.#local.get(userID) ?? 0;
      if (n > 1) {
        this.#local.set(userID, n - 1);
        return false;
      }
      if (n === 0) return false;
      this.#local.delete(userID);
      return await this.#sync(userID, false);
    });
  }

  async onlineAmong(userIDs: readonly string[]): Promise<Set<string>> {
    const online = new Set<string>();
    const entries = await readMany<PresenceRecord>(this.#kv, userIDs.map(presenceKey));
    // One after another: the first to meet an unknown node reads it for the others.
    for (const entry of entries) {
      if (entry.value && (await this.#liveNodes(entry.value)).length > 0) {
        online.add(entry.key[1] as string);
      }
    }
    return online;
  }

  async list(limit: number): Promise<string[]> {
    const ids: string[] = [];
    // Records of dead nodes are swept within a heartbeat or two; scan a little past `limit`.
    for await (
      const entry of this.#kv.list<PresenceRecord>({ prefix: presencePrefix() }, {
        limit: limit * 2 + 10,
        batchSize: 500,
      })
    ) {
      if (ids.length >= limit) break;
      if ((await this.#liveNodes(entry.value)).length > 0) ids.push(entry.key[1] as string);
    }
    return ids;
  }

  /** Number of users with a socket on this node. */
  get size(): number {
    return this.#local.size;
  }

  #serial<T>(userID: string, run: () => Promise<T>): Promise<T> {
    const previous = this.#chains.get(userID) ?? Promise.resolve();
    const next = previous.catch(() => {}).then(run);
    this.#chains.set(userID, next);
    const cleanup = () => {
      if (this.#chains.get(userID) === next) this.#chains.delete(userID);
    };
    next.then(cleanup, cleanup);
    return next;
  }

  /** Writes `#local`'s view of one user to KV; on failure remembers to retry it. */
  async #sync(userID: string, present: boolean): Promise<boolean> {
    try {
      const changed = await this.#update(userID, present);
      this.#dirty.delete(userID);
      return changed;
    } catch (error) {
      this.#dirty.add(userID);
      throw error;
    }
  }

  /**
   * Adds this node to (or removes it from) the user's record, dropping dead
   * nodes on the way. True when the user went from nowhere to somewhere (add)
   * or from somewhere to nowhere (remove).
   */
  async #update(userID: string, present: boolean): Promise<boolean> {
    const key = presenceKey(userID);
    for (let attempt = 0; attempt < MAX_CONFLICTS; attempt++) {
      const entry = await this.#kv.get<PresenceRecord>(key);
      const nodes = entry.value?.nodes ?? {};
      const live = (await this.#liveNodes(entry.value)).filter((id) => id !== this.nodeID);
      const here = this.nodeID in nodes;
      if (here === present && live.length === Object.keys(nodes).length - (here ? 1 : 0)) {
        return false; // Already as wanted and nothing to prune.
      }
      const next: Record<string, number> = {};
      for (const id of live) next[id] = nodes[id];
      if (present) next[this.nodeID] = nodes[this.nodeID] ?? Date.now();
      const result = await retryLocked(() => {
        const op = this.#kv.atomic().check(entry);
        for (const id of Object.keys(nodes)) {
          if (!(id in next)) op.delete(presenceNodeKey(id, userID));
        }
        if (present) op.set(presenceNodeKey(this.nodeID, userID), true);
        if (Object.keys(next).length === 0) op.delete(key);
        else op.set(key, { nodes: next } satisfies PresenceRecord);
        return op.commit();
      });
      // First anywhere: no other live node had the user; last: this node was the only one.
      if (result.ok) return live.length === 0 && here !== present;
    }
    throw new Error(`Cannot update presence of user "${userID}": too many concurrent changes`);
  }

  /** The IDs in `record` of nodes that are alive (this node always is). */
  async #liveNodes(record: PresenceRecord | null): Promise<string[]> {
    if (!record) return [];
    const ids = Object.keys(record.nodes);
    const now = Date.now();
    const unknown = ids.filter((id) => id !== this.nodeID && !((this.#nodes.get(id) ?? 0) > now));
    if (unknown.length > 0) await this.#refreshNodes(unknown);
    return ids.filter((id) => id === this.nodeID || (this.#nodes.get(id) ?? 0) > now);
  }

  async #refreshNodes(ids: string[]): Promise<void> {
    for (const entry of await readMany<NodeRecord>(this.#kv, ids.map(clusterNodeKey))) {
      this.#nodes.set(entry.key[1] as string, entry.value?.expiresAt ?? 0);
    }
  }

  async #register(): Promise<void> {
    const record: NodeRecord = { expiresAt: Date.now() + this.#ttlMs };
    const result = await retryLocked(() => this.#kv.set(clusterNodeKey(this.nodeID), record));
    this.#nodeVersion = result.versionstamp;
  }

  /**
   * One heartbeat: renews this node and retries failed writes; starts a sweep
   * of dead nodes unless one is running (a long sweep must not delay renewals).
   */
  async heartbeat(): Promise<void> {
    const record: NodeRecord = { expiresAt: Date.now() + this.#ttlMs };
    const key = clusterNodeKey(this.nodeID);
    const result = await retryLocked(() =>
      this.#kv.atomic().check({ key, versionstamp: this.#nodeVersion })
        .set(key, record).commit()
    );
    if (result.ok) {
      this.#nodeVersion = result.versionstamp;
    } else {
      await this.#rejoin();
    }
    for (const userID of [...this.#dirty]) {
      await this.#serial(userID, () => this.#sync(userID, this.#local.has(userID))).catch(() => {});
    }
    this.#sweeping ??= this.#sweep()
      .catch((error) => this.#logger.error({ event: "sweep", err: error }, "Presence sweep failed"))
      .finally(() => this.#sweeping = null);
  }

  /** Survivors declared this node dead (it stalled past the TTL): claim its users again. */
  async #rejoin(): Promise<void> {
    this.#logger.warn({ event: "heartbeat" }, "This node was declared dead by another: rejoining");
    await this.#register();
    const back: string[] = [];
    for (const userID of [...this.#local.keys()]) {
      try {
        const first = await this.#serial(userID, () => this.#sync(userID, this.#local.has(userID)));
        if (first) back.push(userID);
      } catch (error) {
        this.#logger.error({ event: "presence", userID, err: error }, "Presence update failed");
      }
    }
    if (back.length > 0) this.#onUsersBack(back);
  }

  /** Finds nodes past their deadline, tombstones them and removes them from their users. */
  async #sweep(): Promise<void> {
    const now = Date.now();
    for await (const entry of this.#kv.list<NodeRecord>({ prefix: clusterNodesPrefix() })) {
      if (this.#closed) return;
      const id = entry.key[1] as string;
      const { expiresAt, deadAt } = entry.value;
      if (expiresAt !== undefined) this.#nodes.set(id, expiresAt);
      if (id === this.nodeID) continue;
      if (expiresAt !== undefined && expiresAt > now) continue;
      let tombstone: Deno.KvEntry<NodeRecord> | null = null;
      if (deadAt === undefined) {
        const result = await retryLocked(() =>
          this.#kv.atomic().check(entry)
            .set(entry.key, { deadAt: now } satisfies NodeRecord)
            .commit()
        );
        if (!result.ok) continue; // It heartbeat meanwhile, or another survivor got there first.
        this.#nodes.set(id, 0);
        tombstone = { key: entry.key, value: { deadAt: now }, versionstamp: result.versionstamp };
      } else {
        tombstone = entry;
      }
      await this.#sweepNode(tombstone);
    }
  }

  async #sweepNode(tombstone: Deno.KvEntry<NodeRecord>): Promise<void> {
    const deadID = tombstone.key[1] as string;
    const gone: string[] = [];
    let count = 0;
    for await (
      const ref of this.#kv.list({ prefix: presenceNodePrefix(deadID) }, { batchSize: 200 })
    ) {
      if (this.#closed) {
        // Another survivor finishes the sweep: the tombstone stays.
        if (gone.length > 0) this.#onUsersGone(gone);
        return;
      }
      const userID = ref.key[2] as string;
      const key = presenceKey(userID);
      for (let attempt = 0; attempt < MAX_CONFLICTS; attempt++) {
        const entry = await this.#kv.get<PresenceRecord>(key);
        const nodes = { ...entry.value?.nodes };
        delete nodes[deadID];
        const live = await this.#liveNodes({ nodes });
        const result = await retryLocked(() => {
          // The tombstone check aborts the sweep if the node came back meanwhile.
          const op = this.#kv.atomic().check(tombstone).check(entry).delete(ref.key);
          if (entry.value === null || !(deadID in entry.value.nodes)) {
            // Already removed by someone's write; only the index entry is left.
          } else if (live.length === 0) {
            op.delete(key);
            for (const id of Object.keys(nodes)) op.delete(presenceNodeKey(id, userID));
          } else {
            op.set(key, { nodes } satisfies PresenceRecord);
          }
          return op.commit();
        });
        if (result.ok) {
          if (entry.value !== null && deadID in entry.value.nodes && live.length === 0) {
            gone.push(userID);
          }
          break;
        }
        const current = await this.#kv.get<NodeRecord>(tombstone.key);
        if (current.versionstamp !== tombstone.versionstamp) {
          if (gone.length > 0) this.#onUsersGone(gone);
          return; // Back to life, or swept to the end by another survivor.
        }
      }
      count++;
    }
    if (gone.length > 0) this.#onUsersGone(gone);
    await retryLocked(() => this.#kv.atomic().check(tombstone).delete(tombstone.key).commit());
    if (count > 0) {
      this.#logger.warn(
        { event: "sweep", deadNodeID: deadID, count },
        "Swept a dead node's presence",
      );
    }
  }
}
