import assert from "node:assert/strict";
import { connect, type Connected } from "./helpers.ts";
import type { LoadMessagesAck, SendMessageAck } from "../../server/protocol.ts";

const MAIN = new URL("../../server/main.ts", import.meta.url).pathname;

interface ServerProcess {
  child: Deno.ChildProcess;
  url: string;
  output: () => string;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** Starts `server/main.ts` as its own process and waits until it listens. */
async function spawnServer(env: Record<string, string>): Promise<ServerProcess> {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN],
    env: { PORT: String(port), ...env },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let text = "";
  const decoder = new TextDecoder();
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) text += decoder.decode(chunk, { stream: true });
  };
  pump(child.stdout);
  pump(child.stderr);
  const deadline = Date.now() + 20_000;
  while (!text.includes("listening on")) {
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      await child.status;
      throw new Error(`Server did not start:\n${text}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return { child, url: `http://127.0.0.1:${port}`, output: () => text };
}

Deno.test("after kill -9 every acknowledged message is there on restart", async () => {
  const dir = await Deno.makeTempDir();
  const env = { KV_PATH: `${dir}/chat.kv`, MESSAGE_RATE: "0" };
  const first = await spawnServer(env);
  const a = await connect(first.url, { username: "alice" });
  const b = await connect(first.url, { username: "bob" });
  const acked: string[] = [];
  let stop = false;
  // Keep 20 sends in flight and kill the server in the middle of it.
  const senders = Array.from({ length: 20 }, async (_, w) => {
    for (let i = 0; !stop && i < 10_000; i++) {
      try {
        const ack = await a.socket.timeout(2000).emitWithAck("private message", {
          content: `w${w}-${i}`,
          to: b.session.userID,
        }) as SendMessageAck;
        if (ack.ok) acked.push(ack.message.id);
      } catch {
        return; // no ack: the server is gone
      }
    }
  });
  while (acked.length < 300) await new Promise((r) => setTimeout(r, 5));
  first.child.kill("SIGKILL");
  await first.child.status;
  stop = true;
  await Promise.all(senders);
  a.socket.close();
  b.socket.close();

  const second = await spawnServer(env);
  let reader: Connected | undefined;
  try {
    reader = await connect(second.url, { sessionID: b.session.sessionID });
    const stored = new Set<string>();
    let before: string | undefined;
    while (true) {
      const page: LoadMessagesAck = await reader.socket.emitWithAck("load messages", {
        with: a.session.userID,
        limit: 200,
        ...(before ? { before } : {}),
      });
      assert.ok(page.ok);
      for (const m of page.messages) stored.add(m.id);
      if (!page.hasMore) break;
      before = page.messages[0].id;
    }
    const missing = acked.filter((id) => !stored.has(id));
    assert.deepEqual(
      missing,
      [],
      `${missing.length} of ${acked.length} acknowledged messages lost`,
    );
  } finally {
    reader?.socket.close();
    second.child.kill("SIGTERM");
    await second.child.status;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SIGTERM drains pending writes, closes KV and exits 0", async () => {
  const dir = await Deno.makeTempDir();
  const env = { KV_PATH: `${dir}/chat.kv`, MESSAGE_RATE: "0" };
  const server = await spawnServer(env);
  const a = await connect(server.url, { username: "alice" });
  const b = await connect(server.url, { username: "bob" });
  const acks = Array.from(
    { length: 200 },
    (_, i) =>
      a.socket.timeout(5000).emitWithAck("private message", {
        content: `${i}`,
        to: b.session.userID,
      })
        .catch(() => null) as Promise<SendMessageAck | null>,
  );
  assert.ok((await acks[0])?.ok, "the first send is acknowledged before the signal");
  server.child.kill("SIGTERM");
  const status = await server.child.status;
  assert.equal(status.code, 0, server.output());
  assert.match(server.output(), /SIGTERM received/);
  const results = await Promise.all(acks);
  a.socket.close();
  b.socket.close();
  const okIds = results.filter((r) => r?.ok).map((r) =>
    (r as { message: { id: string } }).message.id
  );
  assert.ok(okIds.length >= 1);
  const kv = await Deno.openKv(`${dir}/chat.kv`);
  try {
    for (const id of okIds) {
      let found = false;
      for await (const e of kv.list({ prefix: ["messages"] })) {
        if (e.key[2] === id) {
          found = true;
          break;
        }
      }
      assert.ok(found, `acknowledged ${id} is stored`);
    }
  } finally {
    kv.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a bad configuration stops the server at once with a clear message", async () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ PORT: "abc" }, /Configuration error: Cannot parse PORT "abc": not a whole number/],
    [{ CORS_ORIGINS: "nope" }, /Configuration error: Cannot parse CORS_ORIGINS entry "nope"/],
  ];
  for (const [env, message] of cases) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN],
      env,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 1);
    assert.match(new TextDecoder().decode(out.stderr), message);
  }
});

Deno.test("a port in use stops the server with a clear message", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN],
      env: { PORT: String((listener.addr as Deno.NetAddr).port), KV_PATH: ":memory:" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 1);
    assert.match(
      new TextDecoder().decode(out.stderr),
      /Cannot start the server: .*(in use|EADDRINUSE)/i,
    );
  } finally {
    listener.close();
  }
});

interface Sent {
  clientId: string;
  content: string;
  /** The stored message's id, once an ack said so. */
  id?: string;
}

/** Sends `count` messages from `from` to `to`, 20 at a time, each with its own idempotency key. */
function sendMany(
  from: Connected,
  to: string,
  options: { label: string; count: number; into: Sent[] },
): Promise<void>[] {
  let next = 0;
  return Array.from({ length: 20 }, async () => {
    while (next < options.count) {
      const sent: Sent = {
        clientId: `${options.label}-${next}`,
        content: `${options.label} ${next}`,
      };
      next++;
      options.into.push(sent);
      try {
        const ack = await from.socket.timeout(2000).emitWithAck("private message", {
          content: sent.content,
          to,
          clientId: sent.clientId,
          retry: false,
        }) as SendMessageAck;
        if (ack.ok) sent.id = ack.message.id;
      } catch {
        return; // no ack: the server is gone
      }
    }
  });
}

/** Every message of the conversation, by paging back through it. */
async function history(
  reader: Connected,
  peerID: string,
): Promise<{ id: string; clientId?: string }[]> {
  const all: { id: string; clientId?: string }[] = [];
  let before: string | undefined;
  while (true) {
    const page: LoadMessagesAck = await reader.socket.emitWithAck("load messages", {
      with: peerID,
      limit: 200,
      ...(before ? { before } : {}),
    });
    assert.ok(page.ok);
    all.unshift(...page.messages);
    if (!page.hasMore) return all;
    before = page.messages[0].id;
  }
}

Deno.test("kill -9 under load, three times: acked messages survive, retries never duplicate, unread stays exact", async () => {
  const dir = await Deno.makeTempDir();
  const env = { KV_PATH: `${dir}/chat.kv`, MESSAGE_RATE: "0" };
  const rounds: Sent[][] = [];
  let sessions: { alice: string; bob: string } | undefined;
  let bobID = "";
  let aliceID = "";
  try {
    for (let round = 0; round <= 3; round++) {
      const server = await spawnServer(env);
      const a = await connect(
        server.url,
        sessions ? { sessionID: sessions.alice } : { username: "alice" },
      );
      const b = await connect(
        server.url,
        sessions ? { sessionID: sessions.bob } : { username: "bob" },
      );
      sessions ??= { alice: a.session.sessionID, bob: b.session.sessionID };
      aliceID = a.session.userID;
      bobID = b.session.userID;
      try {
        // The last round's sends again, as a client retries its outbox after a reconnect: the
        // ones already stored come back with their id, the others are stored now, once.
        for (const sent of rounds.at(-1) ?? []) {
          const ack = await a.socket.emitWithAck("private message", {
            content: sent.content,
            to: bobID,
            clientId: sent.clientId,
          }) as SendMessageAck;
          assert.ok(ack.ok, sent.clientId);
          if (sent.id !== undefined) {
            assert.equal(ack.message.id, sent.id, `${sent.clientId} kept its id`);
          }
          sent.id = ack.message.id;
        }
        if (round === 3) break;
        const sent: Sent[] = [];
        rounds.push(sent);
        const senders = sendMany(a, bobID, { label: `r${round}`, count: 10_000, into: sent });
        while (sent.filter((s) => s.id).length < 200) await new Promise((r) => setTimeout(r, 5));
        server.child.kill("SIGKILL");
        await server.child.status;
        await Promise.all(senders);
      } finally {
        a.socket.close();
        b.socket.close();
        if (round === 3) {
          server.child.kill("SIGTERM");
          await server.child.status;
        }
      }
    }
    const server = await spawnServer(env);
    const reader = await connect(server.url, { sessionID: sessions!.bob });
    try {
      const stored = await history(reader, aliceID);
      const ids = new Set(stored.map((m) => m.id));
      const acked = rounds.flat().filter((s) => s.id !== undefined);
      assert.ok(acked.length >= 600, `${acked.length} acknowledged`);
      assert.deepEqual(
        acked.filter((s) => !ids.has(s.id!)).map((s) => s.clientId),
        [],
        "all acked stored",
      );
      const keys = stored.map((m) => m.clientId);
      assert.equal(new Set(keys).size, keys.length, "no idempotency key stored twice");
      const alice = reader.users.find((u) => u.userID === aliceID)!;
      assert.equal(alice.unread, stored.length, "every stored message counted unread, once");
    } finally {
      reader.socket.close();
      server.child.kill("SIGTERM");
      await server.child.status;
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
