/**
 * Abuse: what one address or one user can still do with the default limits,
 * each part on a server of its own: a sign-up flood from one address, one user
 * sending from as many sockets as it may open, and readers that stop reading
 * while others write to them (the server's RSS before, at the peak, and once
 * they are dropped).
 */

import { io, type Socket } from "socket.io-client";
import { stalledReader } from "../../server/stalled_reader.ts";
import type { Run, ScenarioOptions, ScenarioResult, ScenarioTools } from "../results.ts";
import { Samples } from "../results.ts";
import { readProc } from "../server_process.ts";
import { fmt } from "../stats.ts";
import { measured, target, TARGETS } from "../targets.ts";

const SIGNUP_ATTEMPTS = 5000;
const USER_SOCKETS = 20;
const USER_MESSAGES = 3000;
const RATE = 20;
const BURST = 100;
const STALLED = 25;
const STORM = 300;
// Per stalled reader: 10,000-character messages, 4 MB in all, far past the 1 MB bound.
const FLOOD_PER_READER = 2000;

interface Opened {
  socket: Socket;
  session?: { sessionID: string; userID: string };
  code?: string;
}

function open(url: string, auth: Record<string, unknown>): Promise<Opened> {
  return new Promise((resolve) => {
    const socket = io(url, {
      auth,
      transports: ["websocket"],
      reconnection: false,
      forceNew: true,
    });
    socket.once(
      "session",
      (session: { sessionID: string; userID: string }) => resolve({ socket, session }),
    );
    socket.once("connect_error", (e: Error & { data?: { code: string } }) => {
      socket.close();
      resolve({ socket, code: e.data?.code ?? e.message });
    });
  });
}

function rssMB(pid: number): number {
  return (readProc(pid)?.rssKB ?? NaN) / 1024;
}

/** The lowest RSS over `ms`, sampled twice a second: where memory settles. */
async function settledRssMB(pid: number, ms: number): Promise<number> {
  const deadline = performance.now() + ms;
  let low = rssMB(pid);
  while (performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500));
    low = Math.min(low, rssMB(pid));
  }
  return low;
}

/** The limits under attack, with the server's default settings. */
export async function abuse(
  { runs, quick }: ScenarioOptions,
  { runner, progress }: ScenarioTools,
): Promise<ScenarioResult> {
  const samples = new Samples();
  const records: Run[] = [];
  const defaults = {
    SIGNUP_LIMIT: "20",
    CONNECTIONS_PER_IP: "50",
    CONNECTIONS_PER_USER: String(USER_SOCKETS),
    MESSAGE_RATE: String(RATE),
    MESSAGE_BURST: String(BURST),
    MAX_BUFFERED_BYTES: String(1024 * 1024),
  };
  for (let rep = 1; rep <= runs; rep++) {
    const figures: Record<string, number> = {};
    const record = (name: string, value: number) => {
      samples.push(name, value);
      figures[name] = value;
    };

    // 1. Sign-ups from one address, 50 in flight.
    await runner.withServer({ ...defaults, KV_PATH: await runner.tempKv("abuse") }, async (run) => {
      const attempts = quick ? 1000 : SIGNUP_ATTEMPTS;
      let accepted = 0;
      let refused = 0;
      const started = performance.now();
      for (let i = 0; i < attempts; i += 50) {
        const batch = await Promise.all(
          Array.from(
            { length: Math.min(50, attempts - i) },
            (_, j) => open(run.server.url, { username: `s${i + j}` }),
          ),
        );
        for (const r of batch) {
          if (r.session) accepted++;
          else if (r.code === "rate_limited") refused++;
          r.socket.close();
        }
      }
      const seconds = (performance.now() - started) / 1000;
      record("sign-ups accepted", accepted);
      record("sign-ups refused", refused);
      record("sign-up flood s", seconds);
      progress.line(
        `abuse ${rep}/${runs}: ${attempts} sign-ups from one address in ${
          fmt(seconds)
        } s: ${accepted} accepted, ${refused} refused`,
      );
    });

    // 2. One user on every socket it may open, every message at once.
    await runner.withServer({
      ...defaults,
      SIGNUP_LIMIT: "0",
      KV_PATH: await runner.tempKv("abuse"),
    }, async (run) => {
      const url = run.server.url;
      const recipient = await open(url, { username: "recipient" });
      const sender = await open(url, { username: "sender" });
      const opened = [sender];
      for (let i = 1; i < USER_SOCKETS; i++) {
        opened.push(await open(url, { sessionID: sender.session!.sessionID }));
      }
      const tooMany = await open(url, { sessionID: sender.session!.sessionID });
      record("one user, socket past the limit refused", tooMany.code === "rate_limited" ? 1 : 0);
      tooMany.socket.close();
      const sockets = opened.filter((o) => o.session).map((o) => o.socket);
      const started = performance.now();
      const acks = await Promise.all(
        Array.from(
          { length: USER_MESSAGES },
          (_, i) =>
            sockets[i % sockets.length].emitWithAck("private message", {
              content: `m${i}`,
              to: recipient.session!.userID,
            }) as Promise<{ ok: boolean }>,
        ),
      );
      const seconds = (performance.now() - started) / 1000;
      const ok = acks.filter((a) => a.ok).length;
      record("one user, sockets", sockets.length);
      record("one user, messages accepted", ok);
      record("one user, seconds", seconds);
      record("one user, accepted / allowance", ok / (BURST + RATE * seconds));
      progress.line(
        `abuse ${rep}/${runs}: one user on ${sockets.length} sockets: ${ok} of ${USER_MESSAGES} accepted in ${
          fmt(seconds)
        } s (allowance ${fmt(BURST + RATE * seconds)})`,
      );
      for (const o of [recipient, ...opened]) o.socket.close();
    });

    // 3. Readers that stop reading, written to until the server drops them.
    await runner.withServer({
      ...defaults,
      SIGNUP_LIMIT: "0",
      MESSAGE_RATE: "0",
      KV_PATH: await runner.tempKv("abuse"),
    }, async (run) => {
      const { url, pid } = run.server;
      run.begin();
      const readers = [];
      for (let i = 0; i < STALLED; i++) readers.push(await stalledReader(url, `stalled-${i}`));
      const writer = await open(url, { username: "writer" });
      const watcher = await open(url, { username: "watcher" });
      // The readers' IDs, from the users list the watcher got.
      const ids = await new Promise<string[]>((resolve) => {
        const reconnect = io(url, {
          auth: { sessionID: watcher.session!.sessionID },
          transports: ["websocket"],
          forceNew: true,
          reconnection: false,
        });
        reconnect.once("users", (users: { userID: string; username: string }[]) => {
          reconnect.close();
          resolve(users.filter((u) => u.username.startsWith("stalled-")).map((u) => u.userID));
        });
      });
      const heap = async () =>
        ((await run.server.health()) as { memory?: { heapUsed: number } }).memory?.heapUsed ?? NaN;
      const before = await settledRssMB(pid, 3000);
      const heapBefore = await heap();
      let peak = before;
      const content = "x".repeat(10_000);
      let sent = 0;
      for (let round = 0; round < FLOOD_PER_READER; round++) {
        await Promise.all(
          ids.map((to) => writer.socket.emitWithAck("private message", { content, to })),
        );
        sent += ids.length;
        peak = Math.max(peak, rssMB(pid));
        const health = await run.server.health() as { sockets?: number };
        // Only the writer and the watcher left: every stalled reader was dropped.
        if (health.sockets === 2) break;
      }
      const heapPeak = await heap();
      // V8 gives back the heap a burst grew once the process has been idle a while.
      const after = await settledRssMB(pid, 45_000);
      const heapAfter = await heap();
      record("heap before MB", heapBefore / 1048576);
      record("heap at the drop MB", heapPeak / 1048576);
      record("heap after MB", heapAfter / 1048576);
      record("heap after / before", heapAfter / heapBefore);
      const health = await run.server.health() as { sockets?: number };
      record("stalled readers dropped", STALLED - ((health.sockets ?? 2) - 2));
      record("MB written to stalled readers", (sent * content.length) / 1e6);
      record("RSS before MB", before);
      record("RSS peak MB", peak);
      record("RSS after MB", after);
      record("RSS after / before", after / before);
      progress.line(
        `abuse ${rep}/${runs}: ${STALLED} stalled readers, ${
          fmt((sent * content.length) / 1e6)
        } MB written to them: RSS ${fmt(before)} -> peak ${fmt(peak)} -> ${fmt(after)} MB`,
      );
      for (const r of readers) r.close();
      writer.socket.close();
      watcher.socket.close();
      records.push({
        scenario: "abuse",
        variant: "limits",
        rep,
        figures,
        resources: await run.end(),
      });
    });

    // 4. A reconnect storm: 300 sockets drop without a goodbye and come straight back, three times.
    await runner.withServer({
      ...defaults,
      SIGNUP_LIMIT: "0",
      CONNECTIONS_PER_IP: "0",
      KV_PATH: await runner.tempKv("abuse"),
    }, async (run) => {
      const { url, pid } = run.server;
      const heap = async () =>
        ((await run.server.health()) as { memory?: { heapUsed: number } }).memory?.heapUsed ?? NaN;
      const first = await Promise.all(
        Array.from({ length: STORM }, (_, i) => open(url, { username: `storm-${i}` })),
      );
      const sessions = first.map((o) => o.session!.sessionID);
      for (const o of first) o.socket.close();
      const before = await settledRssMB(pid, 3000);
      const heapBefore = await heap();
      let peak = before;
      let clients: Opened[] = [];
      const started = performance.now();
      for (let round = 0; round < 3; round++) {
        clients = await Promise.all(sessions.map((sessionID) => open(url, { sessionID })));
        peak = Math.max(peak, rssMB(pid));
        // deno-lint-ignore no-explicit-any
        for (const c of clients) (c.socket.io as any).engine.close();
      }
      clients = await Promise.all(sessions.map((sessionID) => open(url, { sessionID })));
      const seconds = (performance.now() - started) / 1000;
      const back = clients.filter((c) => c.session).length;
      for (const c of clients) c.socket.close();
      const after = await settledRssMB(pid, 45_000);
      const heapAfter = await heap();
      record("storm reconnects/s", (STORM * 4) / seconds);
      record("storm sockets back", back);
      record("storm RSS before MB", before);
      record("storm RSS peak MB", peak);
      record("storm RSS after MB", after);
      record("storm heap after / before", heapAfter / heapBefore);
      progress.line(
        `abuse ${rep}/${runs}: reconnect storm of ${STORM} sockets x 4 in ${
          fmt(seconds)
        } s, ${back} back; RSS ${fmt(before)} -> peak ${fmt(peak)} -> ${
          fmt(after)
        } MB, heap after / before ${fmt(heapAfter / heapBefore)}`,
      );
    });
  }
  const f = samples.spreads();
  return {
    runs: records,
    figures: f,
    targets: [
      target(TARGETS.signupFlood, measured(f["sign-ups accepted"])),
      target(TARGETS.oneUserManySockets, measured(f["one user, accepted / allowance"])),
      target(TARGETS.stormMemory, measured(f["storm heap after / before"]), {
        detail: `RSS ${fmt(f["storm RSS before MB"].median)} -> peak ${
          fmt(f["storm RSS peak MB"].median)
        } -> ${fmt(f["storm RSS after MB"].median)} MB`,
      }),
      target(TARGETS.slowConsumerMemory, measured(f["heap after / before"]), {
        detail: `RSS ${fmt(f["RSS before MB"].median)} -> peak ${fmt(f["RSS peak MB"].median)} -> ${
          fmt(f["RSS after MB"].median)
        } MB`,
      }),
    ],
    skipped: {},
  };
}
