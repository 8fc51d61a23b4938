/**
 * The server's Prometheus metrics (prom-client): one registry per server, the
 * counters and histograms the transport and the store feed, gauges read when
 * scraped, the process's memory and CPU, and an event-loop lag monitor. See
 * docs/operations.md#metrics for every series.
 */

import process from "node:process";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { ErrorCode } from "./protocol.ts";

/** How a handshake was let in: a new username, a stored session, or a host-signed token. */
export type LoginMode = "username" | "session" | "token";

/** What a refused event or sign-up ran into. */
export type RateLimit = "events" | "signups";

/** Which connection limit refused a socket (`CONNECTIONS_PER_IP`, `CONNECTIONS_PER_USER`). */
export type ConnectionLimit = "per_address" | "per_user";

/** One KV commit of the group-commit writer, as the store reports it. */
export interface CommitReport {
  /** From the first attempt to the answer, retries included. */
  seconds: number;
  /** Writes merged into it. */
  writes: number;
  /** `database is locked` retries it took. */
  lockRetries: number;
}

/** What the Socket.IO layer counts; everything is cheap enough for every event. */
export interface ChatCounters {
  /** A `private message` arrived (before any check). */
  messageReceived(): void;
  /** A message was committed to KV (a first send, not a retry of one). */
  messageStored(): void;
  /** A retry with a known `clientId`, answered with the message stored before. */
  messageDuplicate(): void;
  /** A stored message was emitted to its recipient's and its sender's other sockets. */
  messageRelayed(): void;
  /** A `private message` was refused, with this code. */
  messageRefused(code: ErrorCode): void;
  /** An event's ack went out `seconds` after the event arrived. */
  acked(event: string, seconds: number): void;
  /** An event or a sign-up was refused by a rate limit. */
  rateLimited(limit: RateLimit): void;
  /** A socket was refused by a connection limit. */
  connectionRefused(limit: ConnectionLimit): void;
  /** A handshake failed with this code (connection limits included, as `rate_limited`). */
  handshakeRefused(code: ErrorCode): void;
  /** A handshake created an account (even if a connection limit then refused the socket). */
  signup(mode: Exclude<LoginMode, "session">): void;
  /** A handshake let a user in. */
  login(mode: LoginMode): void;
  /** A socket that stopped reading was dropped. */
  slowConsumerDropped(): void;
}

/** What the metrics read when scraped. */
export interface MetricSources {
  /** Sockets connected to this node. */
  sockets(): number;
  /** Users with at least one socket on this node. */
  users(): number;
  /** Whether the Redis adapter's connection is up; only when Redis is configured. */
  redisConnected?: () => boolean;
}

// Seconds: from a fast in-memory ack to a commit stuck behind a locked database.
const LATENCY_BUCKETS = [
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];
const LAG_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** How often the event-loop lag is sampled. */
export const LAG_SAMPLE_MS = 500;

/**
 * The metrics of one server. prom-client's default metrics are not used: under
 * the scoped permissions of `deno task serve` the ones read from /proc report 0,
 * and their event-loop monitor cannot be stopped when a server closes.
 */
export class ServerMetrics implements ChatCounters {
  /** The registry `/metrics` renders; no other server shares it. */
  readonly registry: Registry = new Registry();
  #received: Counter;
  #stored: Counter;
  #duplicates: Counter;
  #relayed: Counter;
  #refused: Counter<"code">;
  #ack: Histogram<"event">;
  #rateLimited: Counter<"limit">;
  #connectionsRefused: Counter<"limit">;
  #handshakesRefused: Counter<"code">;
  #logins: Counter<"mode">;
  #signups: Counter<"mode">;
  #slowConsumers: Counter;
  #commitSeconds: Histogram;
  #commitWrites: Histogram;
  #lockRetries: Counter;
  #lag: Histogram;
  #lagTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(sources: MetricSources) {
    const registers = [this.registry];
    const counter = <L extends string = never>(name: string, help: string, labelNames?: L[]) =>
      new Counter<L>({ name, help, labelNames: labelNames ?? [], registers });
    const histogram = <L extends string = never>(
      name: string,
      help: string,
      options: { buckets: number[]; labelNames?: L[] },
    ) =>
      new Histogram<L>({ name, help, registers, ...options, labelNames: options.labelNames ?? [] });
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });

    gauge("chat_connected_sockets", "Sockets connected to this node", sources.sockets);
    gauge(
      "chat_connected_users",
      "Users with at least one socket connected to this node",
      sources.users,
    );
    this.#received = counter(
      "chat_messages_received_total",
      "Private messages that arrived, before any check",
    );
    this.#stored = counter(
      "chat_messages_stored_total",
      "Private messages committed to KV (first sends; retries are duplicates)",
    );
    this.#duplicates = counter(
      "chat_messages_duplicate_total",
      "Retried private messages answered with the message stored before (same clientId)",
    );
    this.#relayed = counter(
      "chat_messages_relayed_total",
      "Stored private messages emitted to the recipient and the sender's other sockets",
    );
    this.#refused = counter(
      "chat_messages_refused_total",
      "Private messages refused, by error code; nothing of them was stored",
      ["code"],
    );
    this.#ack = histogram(
      "chat_ack_duration_seconds",
      "From an event's arrival to its ack (for private message: after the KV commit), by event",
      { buckets: LATENCY_BUCKETS, labelNames: ["event"] },
    );
    this.#rateLimited = counter(
      "chat_rate_limited_total",
      "Events (MESSAGE_RATE, MESSAGE_BURST) and sign-ups (SIGNUP_LIMIT) refused by a rate limit",
      ["limit"],
    );
    this.#connectionsRefused = counter(
      "chat_connections_refused_total",
      "Handshakes refused by CONNECTIONS_PER_IP (per_address) or CONNECTIONS_PER_USER (per_user)",
      ["limit"],
    );
    this.#handshakesRefused = counter(
      "chat_handshakes_refused_total",
      "Handshakes refused, by the connect_error code",
      ["code"],
    );
    this.#logins = counter(
      "chat_logins_total",
      "Handshakes let in: by a new username, a stored session, or a host-signed token",
      ["mode"],
    );
    this.#signups = counter(
      "chat_signups_total",
      "Accounts created: by a new username, or by the first sign-in of a host-signed token",
      ["mode"],
    );
    this.#slowConsumers = counter(
      "chat_slow_consumers_dropped_total",
      "Sockets dropped for queueing more than MAX_BUFFERED_BYTES unsent",
    );
    this.#commitSeconds = histogram(
      "chat_kv_commit_duration_seconds",
      "Duration of the group-commit writer's KV commits, retries included",
      { buckets: LATENCY_BUCKETS },
    );
    this.#commitWrites = histogram(
      "chat_kv_commit_batch_size",
      "Writes (messages, sign-ups, ...) merged into one KV commit",
      { buckets: BATCH_BUCKETS },
    );
    this.#lockRetries = counter(
      "chat_kv_lock_retries_total",
      'KV commits retried after "database is locked"',
    );
    if (sources.redisConnected) {
      const up = sources.redisConnected;
      gauge(
        "chat_redis_connected",
        "1 while the Redis adapter's connection is up, else 0",
        () => up() ? 1 : 0,
      );
    }
    // Known label values start at 0, so that rate() sees their first increase.
    for (const mode of ["username", "session", "token"] as const) this.#logins.inc({ mode }, 0);
    for (const mode of ["username", "token"] as const) this.#signups.inc({ mode }, 0);
    for (const limit of ["events", "signups"] as const) this.#rateLimited.inc({ limit }, 0);
    for (const limit of ["per_address", "per_user"] as const) {
      this.#connectionsRefused.inc({ limit }, 0);
    }

    // The process, from Deno and node:process (no /proc access needed).
    let cpuSeconds = 0;
    new Counter({
      name: "process_cpu_seconds_total",
      help: "User and system CPU time of the process, all threads, in seconds",
      registers,
      collect() {
        const { user, system } = process.cpuUsage();
        const now = (user + system) / 1e6;
        if (now > cpuSeconds) this.inc(now - cpuSeconds);
        cpuSeconds = Math.max(cpuSeconds, now);
      },
    });
    const startTime = Math.round(Date.now() / 1000 - performance.now() / 1000);
    gauge(
      "process_start_time_seconds",
      "When the process started, in seconds since the epoch",
      () => startTime,
    );
    gauge(
      "process_resident_memory_bytes",
      "Resident memory of the process in bytes",
      () => Deno.memoryUsage().rss,
    );
    gauge("chat_heap_used_bytes", "V8 heap in use, in bytes", () => Deno.memoryUsage().heapUsed);
    gauge(
      "chat_heap_total_bytes",
      "V8 heap reserved, in bytes",
      () => Deno.memoryUsage().heapTotal,
    );
    gauge(
      "chat_external_memory_bytes",
      "Memory of objects outside the V8 heap that JavaScript holds (buffers), in bytes",
      () => Deno.memoryUsage().external,
    );
    this.#lag = histogram(
      "chat_event_loop_lag_seconds",
      `How late a timer due every ${LAG_SAMPLE_MS} ms fired: the event loop's delay`,
      { buckets: LAG_BUCKETS },
    );
    this.#sampleLag();
  }

  /** A timer that fires late measures how long the loop was busy meanwhile. */
  #sampleLag(): void {
    const due = performance.now() + LAG_SAMPLE_MS;
    this.#lagTimer = setTimeout(() => {
      this.#lag.observe(Math.max(0, performance.now() - due) / 1000);
      this.#sampleLag();
    }, LAG_SAMPLE_MS);
    Deno.unrefTimer(this.#lagTimer);
  }

  messageReceived(): void {
    this.#received.inc();
  }

  messageStored(): void {
    this.#stored.inc();
  }

  messageDuplicate(): void {
    this.#duplicates.inc();
  }

  messageRelayed(): void {
    this.#relayed.inc();
  }

  messageRefused(code: ErrorCode): void {
    this.#refused.inc({ code });
  }

  acked(event: string, seconds: number): void {
    this.#ack.observe({ event }, seconds);
  }

  rateLimited(limit: RateLimit): void {
    this.#rateLimited.inc({ limit });
  }

  connectionRefused(limit: ConnectionLimit): void {
    this.#connectionsRefused.inc({ limit });
  }

  handshakeRefused(code: ErrorCode): void {
    this.#handshakesRefused.inc({ code });
  }

  signup(mode: Exclude<LoginMode, "session">): void {
    this.#signups.inc({ mode });
  }

  login(mode: LoginMode): void {
    this.#logins.inc({ mode });
  }

  slowConsumerDropped(): void {
    this.#slowConsumers.inc();
  }

  /** Records one commit of the group-commit writer. */
  commit(report: CommitReport): void {
    this.#commitSeconds.observe(report.seconds);
    this.#commitWrites.observe(report.writes);
    if (report.lockRetries > 0) this.#lockRetries.inc(report.lockRetries);
  }

  /** The Prometheus text format of every series, and its content type. */
  async render(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }

  /** Stops the lag monitor. */
  close(): void {
    clearTimeout(this.#lagTimer);
  }
}
