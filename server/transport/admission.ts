/**
 * Who may hold how many sockets: the client's address (through trusted
 * proxies only), the limits per address and per user on this node, and the
 * per-user event rate shared by all of a user's sockets here.
 */

import type { IncomingHttpHeaders } from "node:http";
import { TokenBucket } from "./rate_limit.ts";

/**
 * The client's address: the socket's peer, or, behind `trustProxy` proxies,
 * the address the outermost trusted one appended to `X-Forwarded-For`. Entries
 * further left are the client's own claims and are never used.
 */
export function clientAddress(
  handshake: { address: string; headers: IncomingHttpHeaders },
  trustProxy: number,
): string {
  const peer = handshake.address;
  if (trustProxy === 0) return normalizeAddress(peer);
  const header = handshake.headers["x-forwarded-for"];
  const forwarded = (Array.isArray(header) ? header.join(",") : header ?? "")
    .split(",").map((s) => s.trim()).filter((s) => s !== "");
  const hops = [...forwarded, peer];
  return normalizeAddress(hops[Math.max(0, hops.length - 1 - trustProxy)]);
}

/** `::ffff:1.2.3.4` as `1.2.3.4`; anything else as it is, lower case. */
function normalizeAddress(address: string): string {
  const lower = address.toLowerCase();
  return lower.startsWith("::ffff:") && lower.includes(".") ? lower.slice(7) : lower;
}

/**
 * What limits count an address as: an IPv4 address itself, an IPv6 address by
 * its /64, which one subscriber usually holds whole.
 */
export function addressGroup(address: string): string {
  if (!address.includes(":")) return address;
  const [head] = address.split("%");
  const halves = head.split("::");
  const left = halves[0] ? halves[0].split(":") : [];
  const right = halves.length > 1 && halves[1] ? halves[1].split(":") : [];
  const groups = halves.length > 1
    ? [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill("0"), ...right]
    : left;
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, "")).join(":")}::/64`;
}

/** The limits of `ConnectionLimits`; 0 turns one off. */
export interface ConnectionLimitOptions {
  perAddress: number;
  perUser: number;
}

/** Counts this node's sockets by address group and by user. */
export class ConnectionLimits {
  #options: ConnectionLimitOptions;
  #byAddress = new Map<string, number>();
  #byUser = new Map<string, number>();

  constructor(options: ConnectionLimitOptions) {
    this.#options = options;
  }

  /** Why a new socket from `group` would be refused, or null when it may connect. */
  refuseAddress(group: string): string | null {
    const limit = this.#options.perAddress;
    if (limit > 0 && (this.#byAddress.get(group) ?? 0) >= limit) {
      return `Too many connections from your address: at most ${limit} at once; close a tab, or try again when one has closed`;
    }
    return null;
  }

  /** Why another socket of `userID` would be refused, or null. */
  refuseUser(userID: string): string | null {
    const limit = this.#options.perUser;
    if (limit > 0 && (this.#byUser.get(userID) ?? 0) >= limit) {
      return `Too many open chats for this account: at most ${limit} at once; close one, or try again when one has closed`;
    }
    return null;
  }

  /** Counts a socket; the returned function uncounts it, once, however often it is called. */
  hold(group: string, userID: string): () => void {
    const add = (map: Map<string, number>, key: string, by: number) => {
      const next = (map.get(key) ?? 0) + by;
      if (next <= 0) map.delete(key);
      else map.set(key, next);
    };
    add(this.#byAddress, group, 1);
    add(this.#byUser, userID, 1);
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      add(this.#byAddress, group, -1);
      add(this.#byUser, userID, -1);
    };
  }

  /** Sockets counted, for tests and `/health`. */
  get counts(): { addresses: number; users: number } {
    return { addresses: this.#byAddress.size, users: this.#byUser.size };
  }
}

/**
 * One token bucket per user, shared by all of the user's sockets on this
 * node, so that opening more tabs does not raise the user's rate. A bucket
 * outlives the user's last socket until it has refilled (`prune()`), so
 * reconnecting does not refill it either.
 */
export class UserRateLimits {
  #rate: number;
  #burst: number;
  #buckets = new Map<string, { bucket: TokenBucket; sockets: number }>();

  constructor(options: { rate: number; burst: number }) {
    this.#rate = options.rate;
    this.#burst = options.burst;
  }

  /** The bucket of `userID`, held until the returned release is called. */
  hold(userID: string): { bucket: TokenBucket; release(): void } {
    let entry = this.#buckets.get(userID);
    if (!entry) {
      entry = { bucket: new TokenBucket({ rate: this.#rate, burst: this.#burst }), sockets: 0 };
      this.#buckets.set(userID, entry);
    }
    entry.sockets++;
    const held = entry;
    let released = false;
    return {
      bucket: held.bucket,
      release: () => {
        if (released) return;
        released = true;
        held.sockets--;
      },
    };
  }

  /** Forgets the buckets of users with no socket whose bucket is full again. */
  prune(): void {
    for (const [userID, entry] of this.#buckets) {
      if (entry.sockets === 0 && entry.bucket.full) this.#buckets.delete(userID);
    }
  }

  /** Users with a bucket. */
  get size(): number {
    return this.#buckets.size;
  }
}

/**
 * Sign-ups per address group in a sliding hour, on this node: each attempt
 * that reaches the store takes a slot, whether or not its name was free.
 */
export class SignupLimits {
  #limit: number;
  #windowMs: number;
  #now: () => number;
  #attempts = new Map<string, number[]>();

  constructor(options: { limit: number; windowMs?: number; now?: () => number }) {
    this.#limit = options.limit;
    this.#windowMs = options.windowMs ?? 60 * 60 * 1000;
    this.#now = options.now ?? Date.now;
  }

  /** Takes a slot for `group`; returns why not when its hour is full, else null. */
  take(group: string): string | null {
    if (this.#limit === 0) return null;
    const now = this.#now();
    const since = now - this.#windowMs;
    const times = (this.#attempts.get(group) ?? []).filter((t) => t > since);
    if (times.length >= this.#limit) {
      this.#attempts.set(group, times);
      const minutes = Math.max(1, Math.ceil((times[0] + this.#windowMs - now) / 60_000));
      return `Too many sign-ups from your address: at most ${this.#limit} an hour; try again in ${minutes} minute${
        minutes === 1 ? "" : "s"
      }`;
    }
    times.push(now);
    this.#attempts.set(group, times);
    return null;
  }

  /** Forgets groups whose every attempt is older than the window. */
  prune(): void {
    const since = this.#now() - this.#windowMs;
    for (const [group, times] of this.#attempts) {
      if (times.at(-1)! <= since) this.#attempts.delete(group);
    }
  }
}
