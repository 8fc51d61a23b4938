import assert from "node:assert/strict";
import { collect, connect, nextEvent, startTestServer, waitFor } from "./helpers.ts";
import { eventFrame } from "../../server/transport/ws_frames.ts";
import { idleFrameSender } from "../../server/transport/ws_internals.ts";
import type { ChatSocket } from "../../server/transport/types.ts";

// The tests fail, rather than the server silently taking its slow path, when an
// upgrade of engine.io or ws moves the fields ws_internals.ts reads.

function serverSocket(
  server: { io: { of(n: string): { sockets: Map<string, ChatSocket> } } },
  id: string,
) {
  const socket = server.io.of("/").sockets.get(id);
  assert.ok(socket, `the server holds socket ${id}`);
  return socket;
}

Deno.test("idleFrameSender() writes ready-made frames to an idle WebSocket, and none to long-polling", async () => {
  const server = await startTestServer();
  const ws = await connect(server.url, { username: "ws" }, ["websocket"]);
  const polling = await connect(server.url, { username: "poll" }, ["polling"]);
  try {
    const sender = idleFrameSender(serverSocket(server, ws.socket.id!));
    assert.ok(sender, "an idle WebSocket takes frames");
    assert.equal(idleFrameSender(serverSocket(server, polling.socket.id!)), undefined);
    const heard = nextEvent<string>(ws.socket, "user disconnected");
    sender.sendFrame([eventFrame("user disconnected", "someone")]);
    assert.equal(await heard, "someone", "the client decodes the frame as an event");
  } finally {
    ws.socket.close();
    polling.socket.close();
    await server.close();
  }
});

Deno.test("idleFrameSender() gives none while engine.io still holds packets to write", async () => {
  const server = await startTestServer();
  const a = await connect(server.url, { username: "a" }, ["websocket"]);
  try {
    const socket = serverSocket(server, a.socket.id!);
    // deno-lint-ignore no-explicit-any
    const conn = socket.conn as any;
    assert.ok(Array.isArray(conn.writeBuffer), "engine.io keeps unwritten packets in writeBuffer");
    conn.writeBuffer.push({ type: "noop" });
    assert.equal(idleFrameSender(socket), undefined, "a frame must not overtake queued packets");
    conn.writeBuffer.pop();
    assert.ok(idleFrameSender(socket));
  } finally {
    a.socket.close();
    await server.close();
  }
});

Deno.test("corkWebSocketBatches() wraps every WebSocket, also one upgraded from polling", async () => {
  const server = await startTestServer({ MESSAGE_RATE: "0" });
  const upgraded = await connect(server.url, { username: "up" }, ["polling", "websocket"]);
  const b = await connect(server.url, { username: "b" }, ["websocket"]);
  try {
    await waitFor(() => upgraded.socket.io.engine.transport.name === "websocket", "the upgrade");
    const socket = serverSocket(server, upgraded.socket.id!);
    // deno-lint-ignore no-explicit-any
    await waitFor(() => (socket.conn as any).transport.name === "websocket", "the server side");
    // deno-lint-ignore no-explicit-any
    assert.equal((socket.conn as any).transport.corksBatches, true);
    // deno-lint-ignore no-explicit-any
    assert.equal((serverSocket(server, b.socket.id!).conn as any).transport.corksBatches, true);
    // A batch of packets written together still arrives whole and in order.
    const got = collect<{ content: string }>(upgraded.socket, "private message");
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        b.socket.emitWithAck("private message", {
          content: `m${i}`,
          to: upgraded.session.userID,
        })),
    );
    await waitFor(() => got.length === 20, "20 relays");
    assert.deepEqual(got.map((m) => m.content), Array.from({ length: 20 }, (_, i) => `m${i}`));
  } finally {
    upgraded.socket.close();
    b.socket.close();
    await server.close();
  }
});
