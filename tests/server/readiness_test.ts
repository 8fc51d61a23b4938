/**
 * `/readyz` turns to 503 when the server cannot serve: KV does not take a write
 * in time (another process holds the file's lock), and from the moment a
 * shutdown begins, while it goes on serving for `DRAIN_SECONDS`. (KV closed:
 * http_test.ts; Redis stopped: tests/cluster/readiness_test.ts.)
 */

import assert from "node:assert/strict";
import type { SendMessageAck } from "../../server/protocol.ts";
import { ServerNode } from "../cluster/helpers.ts";
import { connect, nextEvent, startTestServer, tempDir } from "./helpers.ts";

async function readyz(url: string): Promise<{ status: number; body: unknown; ms: number }> {
  const start = performance.now();
  const res = await fetch(`${url}/readyz`);
  return { status: res.status, body: await res.json(), ms: performance.now() - start };
}

/** Another process holding the KV file's write lock (SQLite's), until released. */
async function lockFile(path: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `import { DatabaseSync } from "node:sqlite";
       const db = new DatabaseSync(${JSON.stringify(path)});
       db.exec("BEGIN EXCLUSIVE");
       console.log("locked");
       await new Response(Deno.stdin.readable).text();
       db.exec("COMMIT");
       db.close();`,
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const { value } = await reader.read();
  assert.equal(value?.trim(), "locked");
  let released = false;
  const release = async () => {
    if (released) return;
    released = true;
    await child.stdin.close();
    await child.status;
    reader.releaseLock();
    await child.stdout.cancel().catch(() => {});
  };
  return {
    release,
    async [Symbol.asyncDispose]() {
      if (!released) child.kill("SIGKILL");
      await release().catch(() => {});
    },
  };
}

Deno.test("/readyz says not ready within 2 s while another process holds the KV file locked, and ready once it lets go", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/chat.kv`;
  await using server = await startTestServer({ KV_PATH: path });
  assert.equal((await readyz(server.url)).status, 200);
  {
    await using lock = await lockFile(path);
    // Two at once share one probe.
    const [first, second] = await Promise.all([readyz(server.url), readyz(server.url)]);
    for (const answer of [first, second]) {
      assert.deepEqual(
        { status: answer.status, body: answer.body },
        {
          status: 503,
          body: { status: "not ready", checks: { kv: "not writable: no answer within 2000 ms" } },
        },
      );
      // A locked file makes a commit wait 5 s before it fails: the probe does not wait that long.
      assert.ok(answer.ms < 4000, `answered in ${Math.round(answer.ms)} ms`);
    }
    await lock.release();
  }
  const deadline = Date.now() + 10_000;
  let answer = await readyz(server.url);
  while (answer.status !== 200 && Date.now() < deadline) answer = await readyz(server.url);
  assert.deepEqual(answer.body, { status: "ready", checks: { kv: "ok" } });
});

Deno.test("close() turns /readyz to 503 at once and serves on for DRAIN_SECONDS, then disconnects its clients", async () => {
  await using server = await startTestServer({ DRAIN_SECONDS: "1" });
  const alice = await server.connect({ username: "alice" });
  const bob = await server.connect({ username: "bob" });
  assert.equal((await readyz(server.url)).status, 200);
  const started = performance.now();
  const disconnected = nextEvent<string>(alice.socket, "disconnect", 5000);
  const closed = server.close();
  const draining = await readyz(server.url);
  assert.deepEqual([draining.status, draining.body], [503, {
    status: "not ready",
    checks: { server: "shutting down", kv: "ok" },
  }]);
  assert.equal((await fetch(`${server.url}/healthz`)).status, 200, "alive while draining");
  // Connected clients are still served meanwhile.
  const ack = await alice.socket.emitWithAck("private message", {
    to: bob.session.userID,
    content: "still here",
  }) as SendMessageAck;
  assert.ok(ack.ok);
  // Closed, not told to go: a client reconnects by itself, through the load balancer elsewhere.
  assert.equal(await disconnected, "transport close");
  const drained = performance.now() - started;
  assert.ok(drained >= 950, `disconnected after ${Math.round(drained)} ms`);
  await closed;
  await assert.rejects(fetch(`${server.url}/readyz`), "no longer listening");
});

Deno.test("SIGTERM: the process answers 503 on /readyz for DRAIN_SECONDS, then disconnects its clients and exits 0", async () => {
  await using dir = await tempDir();
  const node = await ServerNode.start({ KV_PATH: `${dir.path}/chat.kv`, DRAIN_SECONDS: "2" });
  try {
    const alice = await connect(node.url, { username: "alice" });
    try {
      const gone = nextEvent<string>(alice.socket, "disconnect", 10_000);
      const stopped = node.stop();
      let answer = await readyz(node.url);
      for (let i = 0; i < 50 && answer.status === 200; i++) answer = await readyz(node.url);
      assert.deepEqual([answer.status, answer.body], [503, {
        status: "not ready",
        checks: { server: "shutting down", kv: "ok" },
      }]);
      assert.equal(alice.socket.connected, true, "still connected while draining");
      assert.equal(await gone, "transport close");
      assert.equal((await stopped).code, 0, node.output);
    } finally {
      alice.socket.close();
    }
  } finally {
    await node.stop();
  }
});
