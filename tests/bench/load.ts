/**
 * The load generator's main-thread side: spreads simulated users over several
 * `load_worker.ts` workers (threads), connects them, sends paced or unpaced
 * private messages and matches every arrival to its send, in the `widget` or
 * the `guide` protocol (see `load_worker.ts`).
 */

import type { HandshakeAuth } from "../../server/protocol.ts";
import type { ConnectedUser, LoadProtocol, WorkerCommand } from "./load_worker.ts";
import { type Distribution, distribution } from "./stats.ts";

/** The outcome of connecting a group of users. */
export interface ConnectResult {
  users: ConnectedUser[];
  errors: string[];
  /** Wall time until the last user had its `users` payload, ms. */
  ms: number;
  /** Per-user time from open to `users`, ms. */
  perUser: Distribution;
}

/** The outcome of one send phase. */
export interface SendResult {
  sent: number;
  /** Acks with ok (none in the guide protocol). */
  acked: number;
  /** Messages that must arrive: those acked with ok, or in the guide protocol every one sent. */
  expected: number;
  failed: Record<string, number>;
  delivered: number;
  lost: number;
  duplicated: number;
  /** Arrivals of messages that need not arrive, as their ack said they failed (must be 0). */
  unexpected: number;
  /** Send -> arrival at the recipient, ms. */
  latency: Distribution;
  /** Send -> ack at the sender, ms. */
  ackLatency: Distribution;
  /** Delivered messages per second, first send to last arrival. */
  deliveredPerSecond: number;
  /** First send to last arrival, ms. */
  ms: number;
}

type Reply = Record<string, unknown> & { id: number };

/** Options of one send phase. */
export interface SendOptions {
  /** Global indices of the users that send. */
  senders: number[];
  perUser: number;
  /** Messages per second in total over all senders; 0 = unpaced. */
  rate?: number;
  durationMs?: number;
  /** Closed loop with this many requests in flight per sender; 0 = open loop. */
  window?: number;
  /** How long to wait for stragglers after the last ack, ms. */
  drainMs?: number;
  /** Send only to users of the other index parity (the other node in cluster runs). */
  crossParity?: boolean;
  /** False for background traffic whose arrivals the recipients must not count. */
  tracked?: boolean;
  /** Called about every 500 ms with the number of messages received so far. */
  onProgress?: (received: number) => void;
}

/** Drives a pool of load workers against one server URL. */
export class LoadGenerator {
  /** What the simulated clients send. */
  readonly protocol: LoadProtocol;
  #workers: Worker[] = [];
  #pending = new Map<number, (reply: Reply) => void>();
  #nextId = 1;
  /** Which worker owns each user (by global index). */
  #owner = new Map<number, number>();
  /** User IDs by global index, once connected. */
  userIDs: string[] = [];

  /**
   * `workers` threads of clients of the server at `url`, speaking `protocol`
   * (default `widget`); with `chatter`, each also sends `typing` before every
   * message and `messages delivered` after every arrival.
   */
  constructor(
    url: string,
    workers: number,
    { protocol = "widget", chatter = false }: { protocol?: LoadProtocol; chatter?: boolean } = {},
  ) {
    this.protocol = protocol;
    for (let w = 0; w < workers; w++) {
      const worker = new Worker(new URL("./load_worker.ts", import.meta.url), { type: "module" });
      worker.onmessage = (event: MessageEvent<Reply>) => {
        const done = this.#pending.get(event.data.id);
        this.#pending.delete(event.data.id);
        done?.(event.data);
      };
      worker.onerror = (event) => {
        console.error(`Load worker ${w} failed: ${event.message}`);
      };
      worker.postMessage(
        { type: "init", url, worker: w, protocol, chatter } satisfies WorkerCommand,
      );
      this.#workers.push(worker);
    }
  }

  /** The number of worker threads. */
  get workerCount(): number {
    return this.#workers.length;
  }

  #ask(
    worker: number,
    command: Record<string, unknown>,
    transfer: Transferable[] = [],
  ): Promise<Reply> {
    const id = this.#nextId++;
    return new Promise((resolve) => {
      this.#pending.set(id, resolve);
      this.#workers[worker].postMessage({ ...command, id }, transfer);
    });
  }

  #all(command: Record<string, unknown>): Promise<Reply[]> {
    return Promise.all(this.#workers.map((_, w) => this.#ask(w, command)));
  }

  /**
   * Connects users `auths[i]` as global index `first + i`, spread round-robin
   * over the workers with `concurrency` handshakes in flight in total.
   */
  async connect(
    auths: HandshakeAuth[],
    options: {
      first?: number;
      concurrency?: number;
      measurePayload?: boolean;
      /** Server URL per user (by position in `auths`); the generator's URL otherwise. */
      urlOf?: (i: number) => string | undefined;
    } = {},
  ): Promise<ConnectResult> {
    const first = options.first ?? this.userIDs.length;
    const shares = this.#workers.map(() =>
      [] as { index: number; auth: HandshakeAuth; url?: string }[]
    );
    auths.forEach((auth, i) => {
      const w = i % this.#workers.length;
      shares[w].push({ index: first + i, auth, url: options.urlOf?.(i) });
      this.#owner.set(first + i, w);
    });
    const concurrency = Math.max(1, Math.ceil((options.concurrency ?? 100) / this.#workers.length));
    const started = performance.now();
    const replies = await Promise.all(
      shares.map((users, w) =>
        this.#ask(w, {
          type: "connect",
          users,
          concurrency,
          measurePayload: options.measurePayload ?? false,
        })
      ),
    );
    const ms = performance.now() - started;
    const users = replies.flatMap((r) => r.users as ConnectedUser[]).sort((a, b) =>
      a.index - b.index
    );
    const errors = replies.flatMap((r) => r.errors as string[]);
    for (const u of users) this.userIDs[u.index] = u.userID;
    await this.#all({ type: "peers", userIDs: this.userIDs });
    return { users, errors, ms, perUser: distribution(Float64Array.from(users, (u) => u.ms)) };
  }

  /** Replaces the recipients users pick from (by global index; a sender never picks itself). */
  async setPeers(userIDs: string[]): Promise<void> {
    this.userIDs = [...userIDs];
    await this.#all({ type: "peers", userIDs: this.userIDs });
  }

  /** Total arrivals recorded by the workers since the last collect. */
  async received(): Promise<number> {
    const replies = await this.#all({ type: "received" });
    return replies.reduce((n, r) => n + (r.received as number), 0);
  }

  /** Runs one send phase and matches every arrival; see `SendOptions`. */
  async send(options: SendOptions): Promise<SendResult> {
    if (this.protocol === "guide" && (options.window ?? 0) > 0) {
      throw new TypeError(
        `Cannot send with window "${options.window}" in the guide protocol: it has no acks`,
      );
    }
    const perUser = options.perUser;
    const shares = this.#workers.map(() => [] as number[]);
    for (const s of options.senders) shares[this.#owner.get(s) ?? 0].push(s);
    const totalRate = options.rate ?? 0;
    const active = shares.filter((s) => s.length > 0).length || 1;
    let progress: ReturnType<typeof setInterval> | undefined;
    if (options.onProgress) {
      progress = setInterval(async () => options.onProgress!(await this.received()), 500);
    }
    const replies = await Promise.all(
      shares.map((senders, w) =>
        senders.length === 0 ? null : this.#ask(w, {
          type: "send",
          senders,
          perUser,
          rate: totalRate * (senders.length / options.senders.length) ||
            (totalRate > 0 ? totalRate / active : 0),
          durationMs: options.durationMs ?? 120_000,
          window: options.window ?? 0,
          ackTimeoutMs: 30_000,
          crossParity: options.crossParity ?? false,
          tracked: options.tracked ?? true,
        })
      ),
    );
    // Wait for arrivals to stop growing (all acked messages have been relayed before their ack;
    // without acks, until the drain's deadline at the latest).
    const expected = replies.reduce(
      (n, r) => n + ((r?.expectedIdx as Uint32Array)?.length ?? 0),
      0,
    );
    const drainDeadline = performance.now() + (options.drainMs ?? 5_000);
    let last = -1;
    let stableSince = performance.now();
    while (performance.now() < drainDeadline) {
      const n = await this.received();
      if (n >= expected && n === last && performance.now() - stableSince > 100) break;
      if (n !== last) {
        last = n;
        stableSince = performance.now();
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    clearInterval(progress);
    const collected = await this.#all({ type: "collect" });

    // Match: count arrivals per global message index.
    const size = (Math.max(0, ...options.senders) + 1) * perUser;
    const expectedSet = new Uint8Array(size);
    let acked = 0;
    let sent = 0;
    const failed: Record<string, number> = {};
    const ackLats: Float64Array[] = [];
    let firstSend = Infinity;
    for (const r of replies) {
      if (!r) continue;
      sent += r.sent as number;
      acked += r.acked as number;
      for (const i of r.expectedIdx as Uint32Array) expectedSet[i] = 1;
      ackLats.push(r.ackLat as Float64Array);
      for (const [code, n] of Object.entries(r.failed as Record<string, number>)) {
        failed[code] = (failed[code] ?? 0) + n;
      }
      if ((r.sent as number) > 0) firstSend = Math.min(firstSend, r.firstSend as number);
    }
    const counts = new Uint16Array(size);
    const latParts: Float64Array[] = [];
    let lastArrival = 0;
    let unexpected = 0;
    for (const c of collected) {
      const indices = c.indices as Uint32Array;
      for (const i of indices) {
        if (i >= size) continue;
        counts[i]++;
        if (!expectedSet[i]) unexpected++;
      }
      latParts.push(c.latencies as Float64Array);
      lastArrival = Math.max(lastArrival, c.lastArrival as number);
    }
    let delivered = 0;
    let lost = 0;
    let duplicated = 0;
    for (let i = 0; i < size; i++) {
      if (counts[i] > 0) delivered++;
      if (counts[i] > 1) duplicated += counts[i] - 1;
      if (expectedSet[i] && counts[i] === 0) lost++;
    }
    const ms = lastArrival > 0 ? lastArrival - firstSend : NaN;
    return {
      sent,
      acked,
      expected,
      failed,
      delivered,
      lost,
      duplicated,
      unexpected,
      latency: distribution(concat(latParts)),
      ackLatency: distribution(concat(ackLats)),
      deliveredPerSecond: delivered / (ms / 1000),
      ms,
    };
  }

  /** `requests` sequential `load messages` calls from user `index`, paging back through `peers`. */
  async loadHistory(
    index: number,
    peers: string[],
    options: { requests: number; limit: number },
  ): Promise<{ latency: Distribution; messages: number; errors: number }> {
    if (this.protocol === "guide") {
      throw new TypeError(`Cannot load messages in the guide protocol: it has no "load messages"`);
    }
    const reply = await this.#ask(this.#owner.get(index) ?? 0, {
      type: "load",
      index,
      peers,
      requests: options.requests,
      limit: options.limit,
    });
    return {
      latency: distribution(reply.latencies as Float64Array),
      messages: reply.messages as number,
      errors: reply.errors as number,
    };
  }

  /** Closes every connection and terminates the workers. */
  async close(): Promise<void> {
    await Promise.race([this.#all({ type: "close" }), new Promise((r) => setTimeout(r, 5_000))]);
    for (const w of this.#workers) w.terminate();
    this.#workers = [];
  }
}

function concat(parts: Float64Array[]): Float64Array {
  const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** New users named `${prefix}0` to `${prefix}${n - 1}`, for `connect()`. */
export function usernames(prefix: string, n: number): { username: string }[] {
  return Array.from({ length: n }, (_, i) => ({ username: `${prefix}${i}` }));
}

/** The indices 0 to `n - 1`: the first `n` users, e.g. as `senders`. */
export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
