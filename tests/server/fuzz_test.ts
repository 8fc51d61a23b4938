/**
 * Property-based fuzzing of every client event and of the handshake `auth`,
 * against a real server with real Socket.IO clients. Seeded (`FUZZ_SEED`,
 * default 1), `FUZZ_RUNS` cases per event (default 300). The invariants: the
 * server stays up, nothing invalid is stored, nothing reaches a third user who
 * was never written to, and valid traffic still works afterwards.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import type { Message, SendMessageAck } from "../../server/protocol.ts";
import { LIMITS } from "../../server/protocol.ts";
import {
  type ClientSocket,
  collect,
  connectError,
  openSocket,
  startTestServer,
  waitFor,
} from "./helpers.ts";

const RUNS = Number(Deno.env.get("FUZZ_RUNS") ?? 300);
const SEED = Number(Deno.env.get("FUZZ_SEED") ?? 1);
const settings = { numRuns: RUNS, seed: SEED, endOnFailure: true };

// Strings an attacker reaches for, mixed into everything generated below.
const NASTY = [
  "",
  " ",
  "\u0000",
  "a\uD800b",
  "\uDFFF",
  "\u202E\u2066evil",
  "\u200B",
  "👩‍👩‍👧‍👦",
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "x".repeat(10_001),
  '\n{"level":"error"}',
  "../../etc/passwd",
  "f".repeat(32),
  "0".repeat(24),
];

/** Text of every kind: any UTF-16 code unit (lone surrogates too), or a nasty one. */
const text = fc.oneof(
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) }),
  fc.string({ unit: "grapheme" }),
  fc.constantFrom(...NASTY),
);
const key = fc.oneof(
  fc.constantFrom("__proto__", "constructor", "content", "to", "from", "id"),
  text,
);
/** Any JSON-ish value, binary included. */
const anything = fc.oneof(
  fc.anything({ key, values: [text, fc.integer(), fc.double(), fc.boolean(), fc.constant(null)] }),
  fc.uint8Array({ maxLength: 64 }),
);

/** Payloads near the real shape, each field of any type or absent, plus extras. */
function shaped(fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<unknown> {
  return fc.oneof(
    anything,
    fc.tuple(fc.record(fields, { requiredKeys: [] }), fc.dictionary(key, anything, { maxKeys: 3 }))
      .map(([known, extra]) => ({ ...extra, ...known })),
  );
}

/** Sends `args` to `event` with an ack when asked; resolves when answered or after 2 s. */
function emit(
  socket: ClientSocket,
  event: string,
  args: unknown[],
  withAck: boolean,
): Promise<unknown> {
  // deno-lint-ignore no-explicit-any
  const untyped = socket as any;
  if (!withAck) {
    untyped.emit(event, ...args);
    return Promise.resolve(undefined);
  }
  return untyped.timeout(2000).emitWithAck(event, ...args).catch((error: Error) => error);
}

function validStored(m: Message, from: string, tos: Set<string>): boolean {
  const keys = Object.keys(m).sort().join(",");
  return (keys === "content,from,id,timestamp,to" ||
    keys === "clientId,content,from,id,timestamp,to") &&
    m.from === from && tos.has(m.to) && typeof m.content === "string" &&
    m.content.trim() !== "" && m.content.isWellFormed() &&
    m.content.length <= LIMITS.maxContentLength &&
    /^[0-9a-f]{24}$/.test(m.id) && Number.isFinite(m.timestamp) &&
    (m.clientId === undefined || /^[A-Za-z0-9._:-]{1,64}$/.test(m.clientId));
}

Deno.test(`fuzz: ${RUNS} cases of each event keep the server up, store nothing invalid, tell nobody else`, async () => {
  await using server = await startTestServer({ MESSAGE_RATE: "0" });
  const attacker = await server.connect({ username: "attacker" });
  const victim = await server.connect({ username: "victim" });
  const watcher = await server.connect({ username: "watcher" });
  const heard = collect<Message>(watcher.socket, "private message");
  const targets = [victim.session.userID, attacker.session.userID];
  const to = fc.oneof(fc.constantFrom(...targets), text, anything);
  const messageId = fc.oneof(
    fc.constant("0".repeat(24)),
    fc.constant("f".repeat(24)),
    text,
    anything,
  );

  const events: [string, fc.Arbitrary<unknown>][] = [
    [
      "private message",
      shaped({ content: text, to, clientId: fc.oneof(text, anything), retry: anything }),
    ],
    [
      "load messages",
      shaped({ with: to, before: messageId, limit: fc.oneof(fc.integer(), anything) }),
    ],
    ["messages read", shaped({ with: to, upTo: messageId })],
  ];
  for (const [event, payload] of events) {
    await fc.assert(
      fc.asyncProperty(
        payload,
        fc.boolean(),
        fc.array(anything, { maxLength: 2 }),
        async (p, withAck, extra) => {
          const answer = await emit(attacker.socket, event, [p, ...extra], withAck);
          if (withAck && !(answer instanceof Error) && extra.length === 0) {
            assert.equal(
              typeof (answer as { ok: unknown }).ok,
              "boolean",
              `${event} answers ok true or false`,
            );
          }
          return attacker.socket.connected;
        },
      ),
      settings,
    );
  }
  // Logout and delete account end what they are sent on: each case gets a user of its own.
  for (const event of ["logout", "delete account"]) {
    await fc.assert(
      fc.asyncProperty(fc.array(anything, { maxLength: 2 }), async (args) => {
        const user = await server.connect({
          username: `throwaway-${crypto.randomUUID().slice(0, 8)}`,
        });
        await emit(user.socket, event, args, false);
        user.socket.close();
        return true;
      }),
      { ...settings, numRuns: Math.min(RUNS, 300) },
    );
  }

  // The server is up and valid traffic flows as before.
  const health = await fetch(`${server.url}/health`);
  assert.deepEqual(await health.json(), { status: "ok" });
  const toVictim = collect<Message>(victim.socket, "private message");
  const ok = await attacker.socket.emitWithAck("private message", {
    content: "a real message",
    to: victim.session.userID,
  }) as SendMessageAck;
  assert.ok(ok.ok);
  await waitFor(() => toVictim.some((m) => m.id === ok.message.id), "the real message");
  // Nothing reached the third user, who was never a target.
  assert.deepEqual(heard, []);
  // Everything stored is a valid message from the attacker to one of its targets.
  for (const peer of targets) {
    const page = await server.store.listMessages([attacker.session.userID, peer], {
      limit: 500,
    });
    for (const m of page.messages) {
      assert.ok(
        validStored(m, attacker.session.userID, new Set(targets)),
        JSON.stringify(m).slice(0, 300),
      );
    }
  }
  const watcherPage = await server.store.listMessages(
    [attacker.session.userID, watcher.session.userID],
    { limit: 10 },
  );
  assert.deepEqual(watcherPage.messages, []);
  assert.equal(server.logger.entries().filter((e) => e.level === "error").length, 0);
});

Deno.test(`fuzz: ${RUNS} handshakes of any shape are answered, never crash, and sign up only valid names`, async () => {
  await using server = await startTestServer();
  const known = await server.connect({ username: "known" });
  const auth = fc.oneof(
    anything,
    fc.tuple(
      fc.record({
        username: fc.oneof(text, anything),
        sessionID: fc.oneof(text, anything, fc.constant(known.session.sessionID)),
        token: fc.oneof(text, anything),
        batchPresence: anything,
      }, { requiredKeys: [] }),
      fc.dictionary(key, anything, { maxKeys: 3 }),
    ).map(([fields, extra]) => ({ ...extra, ...fields })),
  );
  await fc.assert(
    fc.asyncProperty(auth, async (a) => {
      const outcome = await new Promise<string>((resolve) => {
        const socket = openSocket(server.url, a as never);
        const timer = setTimeout(() => {
          socket.close();
          resolve(`no answer in 5 s (connected: ${socket.connected})`);
        }, 5000);
        socket.once("disconnect", (reason: string) => {
          clearTimeout(timer);
          resolve(`disconnected: ${reason}`);
        });
        socket.once("session", () => {
          clearTimeout(timer);
          resolve("session");
          socket.close();
        });
        socket.once("connect_error", (e: Error & { data?: { code?: string } }) => {
          clearTimeout(timer);
          resolve(e.data?.code ?? `no code: ${e.message}`);
          socket.close();
        });
      });
      if (Deno.env.get("FUZZ_TRACE")) console.log(outcome, JSON.stringify(a)?.slice(0, 80));
      const answers = ["session", "invalid_username", "invalid_session", "username_taken"];
      // Socket.IO's parser takes only an object for the CONNECT packet: anything else
      // closes the connection before the chat sees it.
      const plain = typeof a === "object" && a !== null && !Array.isArray(a) &&
        !ArrayBuffer.isView(a);
      if (!plain) answers.push("disconnected: transport close");
      assert.ok(answers.includes(outcome), `${outcome} for ${JSON.stringify(a)?.slice(0, 200)}`);
      return true;
    }),
    settings,
  );
  assert.equal((await connectError(server.url, {})).data?.code, "invalid_username");
  for (const user of await server.store.listUsers(900)) {
    assert.ok(
      user.username.isWellFormed() && user.username.trim() === user.username,
      user.username,
    );
    assert.ok(!/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u.test(user.username), JSON.stringify(user.username));
    assert.ok(
      [...user.username].length >= 1 && [...user.username].length <= LIMITS.maxUsernameLength,
    );
  }
  assert.equal(server.logger.entries().filter((e) => e.level === "error").length, 0);
});
