/**
 * One load-generator worker (a Deno Worker, so its own thread and event loop):
 * it owns a share of the simulated users, each a real socket.io-client
 * connection speaking the wire protocol, and records every send, ack and arrival.
 * The main thread (`load.ts`) drives it with the commands below.
 *
 * It speaks one of two protocols. `widget` is what the widget sends: presence
 * in bursts (`batchPresence`), every message with an ack, a `clientId` and
 * `retry: false`. `guide` is only what the Socket.IO guide's client sends, so
 * that the guide's own server can be measured too: auth `{ username }` or
 * `{ sessionID }`, and `private message { content, to }` without an ack.
 */

/// <reference lib="deno.worker" />

import { io, type Socket } from "socket.io-client";
import type { HandshakeAuth, Message, SessionInfo, UserEntry } from "../../server/protocol.ts";

/** What the simulated clients send: the widget's protocol, or only the guide's client's. */
export type LoadProtocol = "widget" | "guide";

/** A user to connect: its global index and its handshake auth. */
export interface UserSpec {
  index: number;
  auth: HandshakeAuth;
  /** Server to connect to, when not the worker's default (cluster runs). */
  url?: string;
}

/** What a connected user reports back. */
export interface ConnectedUser {
  index: number;
  userID: string;
  sessionID: string;
  /** ms from opening the socket to receiving `users`. */
  ms: number;
  /** Size of the `users` payload as JSON, bytes (when asked for). */
  usersBytes: number;
  usersEntries: number;
  usersMessages: number;
}

/** Commands from the main thread. */
export type WorkerCommand =
  | { type: "init"; url: string; worker: number; protocol: LoadProtocol; chatter: boolean }
  | { type: "connect"; id: number; users: UserSpec[]; concurrency: number; measurePayload: boolean }
  | { type: "peers"; id: number; userIDs: string[] }
  | {
    type: "send";
    id: number;
    senders: number[];
    perUser: number;
    /** Messages per second this worker sends in total; 0 = unpaced (all at once). */
    rate: number;
    /** Stop starting new sends after this long. */
    durationMs: number;
    /** Closed loop: at most this many unacknowledged sends per sender (flooding); 0 = open loop. */
    window: number;
    /** Give up waiting for acks after this long past the last send. */
    ackTimeoutMs: number;
    /** Send only to users whose index has the other parity (cross-node in cluster runs). */
    crossParity: boolean;
    /** False for background traffic (the flooder): recipients do not record its arrivals. */
    tracked: boolean;
  }
  | { type: "collect"; id: number }
  | { type: "received"; id: number }
  | { type: "load"; id: number; index: number; peers: string[]; requests: number; limit: number }
  | { type: "close"; id: number };

type ClientSocket = Socket;

const sockets = new Map<number, ClientSocket>();
let url = "";
let protocol: LoadProtocol = "widget";
// Every client also says `typing` before each message and `messages delivered` after each arrival.
let chatter = false;
let peers: string[] = [];

// Arrivals since the last `collect`: global message index and latency (ms).
let arrivedIdx = new Uint32Array(1 << 16);
let arrivedLat = new Float64Array(1 << 16);
let arrived = 0;
let firstArrival = Infinity;
let lastArrival = 0;

/** Wall-clock ms with sub-ms precision, comparable across workers of one process. */
function now(): number {
  return performance.timeOrigin + performance.now();
}

function recordArrival(message: Message): void {
  const content = message.content;
  if (typeof content !== "string" || !content.startsWith("b ")) return;
  const space = content.indexOf(" ", 2);
  const index = Number(content.slice(2, space));
  const sentAt = Number(content.slice(space + 1));
  const t = now();
  if (arrived === arrivedIdx.length) {
    const idx = new Uint32Array(arrivedIdx.length * 2);
    idx.set(arrivedIdx);
    arrivedIdx = idx;
    const lat = new Float64Array(arrivedLat.length * 2);
    lat.set(arrivedLat);
    arrivedLat = lat;
  }
  arrivedIdx[arrived] = index;
  arrivedLat[arrived] = t - sentAt;
  arrived++;
  if (t < firstArrival) firstArrival = t;
  if (t > lastArrival) lastArrival = t;
}

/** The handshake's auth as the protocol's client sends it. */
function handshakeAuth(auth: HandshakeAuth): HandshakeAuth {
  // The guide's client offers its stored session, or else the name typed in.
  if (protocol === "guide") {
    return auth.sessionID ? { sessionID: auth.sessionID } : { username: auth.username };
  }
  // Like the widget: presence as one event per burst.
  return { ...auth, batchPresence: true };
}

function connectOne(spec: UserSpec, measurePayload: boolean): Promise<ConnectedUser> {
  const started = now();
  const socket = io(spec.url ?? url, {
    auth: handshakeAuth(spec.auth),
    transports: ["websocket"],
    reconnection: false,
    forceNew: true,
    timeout: 20_000,
  });
  return new Promise((resolve, reject) => {
    let session: Pick<SessionInfo, "sessionID" | "userID"> | undefined;
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error(`user ${spec.index}: no "users" within 30 s`));
    }, 30_000);
    socket.once("connect_error", (error: Error) => {
      clearTimeout(timer);
      socket.close();
      reject(new Error(`user ${spec.index}: connect_error ${error.message}`));
    });
    // The guide's session has no username, and its `users` entries carry only
    // userID, username, connected and messages: nothing else is read here.
    socket.once("session", (s: Pick<SessionInfo, "sessionID" | "userID">) => (session = s));
    socket.once("users", (users: UserEntry[]) => {
      clearTimeout(timer);
      const ms = now() - started;
      if (!session) {
        reject(new Error(`user ${spec.index}: "users" came before "session"`));
        return;
      }
      let usersBytes = 0;
      let usersMessages = 0;
      if (measurePayload) {
        usersBytes = new TextEncoder().encode(JSON.stringify(users)).length;
        for (const u of users) usersMessages += u.messages.length;
      }
      socket.on("private message", recordArrival);
      if (chatter) {
        socket.on("private message", (m: Message) => {
          socket.emit("messages delivered", { with: m.from, upTo: m.id });
        });
      }
      sockets.set(spec.index, socket);
      resolve({
        index: spec.index,
        userID: session.userID,
        sessionID: session.sessionID,
        ms,
        usersBytes,
        usersEntries: users.length,
        usersMessages,
      });
    });
  });
}

async function connectAll(
  users: UserSpec[],
  { concurrency, measurePayload }: { concurrency: number; measurePayload: boolean },
): Promise<{ users: ConnectedUser[]; errors: string[]; ms: number }> {
  const started = now();
  const done: ConnectedUser[] = [];
  const errors: string[] = [];
  let next = 0;
  const lane = async () => {
    while (next < users.length) {
      const spec = users[next++];
      try {
        done.push(await connectOne(spec, measurePayload));
      } catch (error) {
        errors.push(error instanceof Error ? error.message : String(error));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, lane));
  return { users: done, errors, ms: now() - started };
}

interface SendResult {
  sent: number;
  acked: number;
  failed: Record<string, number>;
  /** Global indices that must arrive: those acknowledged with ok, or every one sent without acks. */
  expectedIdx: Uint32Array;
  /** Send -> ack, ms, of each message acknowledged with ok. */
  ackLat: Float64Array;
  firstSend: number;
  lastSend: number;
  lastAck: number;
}

function randomPeer(self: number, crossParity: boolean): string {
  if (crossParity && peers.length >= 2) {
    // Indices of the other parity: 1, 3, 5, ... for an even sender; 0, 2, 4, ... for an odd one.
    const count = Math.floor((peers.length - (self % 2 === 0 ? 1 : 0)) / 2);
    return peers[2 * Math.floor(Math.random() * count) + (self % 2 === 0 ? 1 : 0)];
  }
  if (peers.length < 2) return peers[0];
  let i = Math.floor(Math.random() * (peers.length - 1));
  if (i >= self) i++;
  return peers[i];
}

function send(command: Extract<WorkerCommand, { type: "send" }>): Promise<SendResult> {
  const { senders, perUser, rate, durationMs, window, ackTimeoutMs, crossParity, tracked } =
    command;
  const tag = tracked ? "b" : "u";
  const total = senders.length * perUser;
  const expectedIdx = new Uint32Array(total);
  const ackLat = new Float64Array(total);
  const failed: Record<string, number> = {};
  const seq = new Array<number>(senders.length).fill(0);
  const outstanding = new Array<number>(senders.length).fill(0);
  let sent = 0;
  let acked = 0;
  let expected = 0;
  let answered = 0;
  let firstSend = 0;
  let lastSend = 0;
  let lastAck = 0;
  let stopSending = false;
  const started = now();

  return new Promise((resolve) => {
    let finished = false;
    let ackTimer: ReturnType<typeof setTimeout> | undefined;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(ackTimer);
      resolve({
        sent,
        acked,
        failed,
        expectedIdx: expectedIdx.slice(0, expected),
        ackLat: ackLat.slice(0, acked),
        firstSend,
        lastSend,
        lastAck,
      });
    };
    const maybeDone = () => {
      if (stopSending && answered === sent) finish();
    };
    const stop = () => {
      if (stopSending) return;
      stopSending = true;
      ackTimer = setTimeout(finish, ackTimeoutMs);
      maybeDone();
    };
    // Sends the next message of sender slot `s`; false when it has sent all of its share.
    const sendFrom = (s: number): boolean => {
      if (seq[s] >= perUser) return false;
      const index = senders[s];
      const socket = sockets.get(index);
      if (!socket) return false;
      const global = index * perUser + seq[s]++;
      const t = now();
      if (sent === 0) firstSend = t;
      lastSend = t;
      sent++;
      const request = {
        content: `${tag} ${global} ${t.toFixed(3)}`,
        to: randomPeer(index, crossParity),
      };
      if (chatter) socket.emit("typing", { to: request.to });
      if (protocol === "guide") {
        // No ack to wait for: every message sent must arrive.
        socket.emit("private message", request);
        expectedIdx[expected++] = global;
        answered++;
        return true;
      }
      outstanding[s]++;
      socket.emit(
        "private message",
        // Like the widget, every message carries an idempotency key.
        {
          ...request,
          clientId: crypto.randomUUID(),
          // A first send, as the widget marks the send it makes when a message is written.
          retry: false,
        },
        (ack: { ok: boolean; error?: { code: string } }) => {
          const at = now();
          answered++;
          outstanding[s]--;
          if (ack?.ok) {
            expectedIdx[expected++] = global;
            ackLat[acked] = at - t;
            acked++;
            lastAck = at;
          } else {
            const code = ack?.error?.code ?? "no_ack";
            failed[code] = (failed[code] ?? 0) + 1;
          }
          if (window > 0 && !stopSending) {
            if (now() - started > durationMs || !sendFrom(s)) {
              if (outstanding.every((o) => o === 0)) stop();
            }
          }
          maybeDone();
        },
      );
      return true;
    };

    if (window > 0) {
      // Closed loop: each sender keeps `window` requests in flight.
      let any = false;
      for (let s = 0; s < senders.length; s++) {
        for (let w = 0; w < window; w++) any = sendFrom(s) || any;
      }
      if (!any) stop();
      setTimeout(() => stop(), durationMs);
    } else if (rate <= 0) {
      // Unpaced: everything at once, senders interleaved.
      for (let round = 0; round < perUser; round++) {
        for (let s = 0; s < senders.length; s++) sendFrom(s);
      }
      stop();
    } else {
      let rr = 0;
      const tick = () => {
        const elapsed = now() - started;
        const due = Math.min(total, Math.floor((elapsed * rate) / 1000));
        while (sent < due) {
          let tries = 0;
          while (!sendFrom(rr) && tries < senders.length) {
            rr = (rr + 1) % senders.length;
            tries++;
          }
          rr = (rr + 1) % senders.length;
          if (tries >= senders.length) break;
        }
        if (sent >= total || elapsed >= durationMs) stop();
        else setTimeout(tick, 1);
      };
      tick();
    }
  });
}

async function loadHistory(
  command: Extract<WorkerCommand, { type: "load" }>,
): Promise<{ latencies: Float64Array; messages: number; errors: number }> {
  const socket = sockets.get(command.index);
  const latencies = new Float64Array(command.requests);
  let messages = 0;
  let errors = 0;
  if (!socket) return { latencies: latencies.slice(0, 0), messages, errors: command.requests };
  const cursors = new Map<string, string | undefined>();
  for (let i = 0; i < command.requests; i++) {
    const peer = command.peers[i % command.peers.length];
    const before = cursors.get(peer);
    const t = now();
    const ack = await socket.timeout(10_000).emitWithAck("load messages", {
      with: peer,
      before,
      limit: command.limit,
    }).catch(() => null) as { ok: boolean; messages: Message[]; hasMore: boolean } | null;
    latencies[i] = now() - t;
    if (!ack?.ok) {
      errors++;
      continue;
    }
    messages += ack.messages.length;
    // Page back; start again from the newest page when the conversation is exhausted.
    cursors.set(peer, ack.hasMore && ack.messages.length > 0 ? ack.messages[0].id : undefined);
  }
  return { latencies, messages, errors };
}

self.onmessage = async (event: MessageEvent<WorkerCommand>) => {
  const command = event.data;
  switch (command.type) {
    case "init":
      url = command.url;
      protocol = command.protocol;
      chatter = command.chatter;
      break;
    case "connect": {
      const result = await connectAll(command.users, command);
      self.postMessage({ id: command.id, ...result });
      break;
    }
    case "peers":
      peers = command.userIDs;
      self.postMessage({ id: command.id });
      break;
    case "send": {
      const result = await send(command);
      self.postMessage({ id: command.id, ...result }, [
        result.expectedIdx.buffer as ArrayBuffer,
        result.ackLat.buffer as ArrayBuffer,
      ]);
      break;
    }
    case "received":
      self.postMessage({ id: command.id, received: arrived });
      break;
    case "collect": {
      const indices = arrivedIdx.slice(0, arrived);
      const latencies = arrivedLat.slice(0, arrived);
      self.postMessage(
        { id: command.id, indices, latencies, firstArrival, lastArrival },
        [indices.buffer as ArrayBuffer, latencies.buffer as ArrayBuffer],
      );
      arrived = 0;
      firstArrival = Infinity;
      lastArrival = 0;
      break;
    }
    case "load": {
      const result = await loadHistory(command);
      self.postMessage({ id: command.id, ...result }, [result.latencies.buffer as ArrayBuffer]);
      break;
    }
    case "close": {
      for (const socket of sockets.values()) socket.close();
      sockets.clear();
      // Let the close frames go out before the worker is terminated.
      await new Promise((r) => setTimeout(r, 50));
      self.postMessage({ id: command.id });
      break;
    }
  }
};
