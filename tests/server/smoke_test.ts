import assert from "node:assert/strict";
import { connect, nextEvent, startTestServer } from "./helpers.ts";
import type { Message, SendMessageAck } from "../../server/protocol.ts";

Deno.test("smoke", async () => {
  const server = await startTestServer();
  const a = await connect(server.url, { username: "alice" });
  const b = await connect(server.url, { username: "bob" });
  const got = nextEvent<Message>(b.socket, "private message");
  const ack = await a.socket.emitWithAck("private message", { content: "hi", to: b.session.userID }) as SendMessageAck;
  assert.equal(ack.ok, true);
  assert.equal((await got).content, "hi");
  a.socket.close();
  b.socket.close();
  await server.close();
});
