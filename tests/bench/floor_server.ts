/**
 * The floor the chat server is measured against: Socket.IO on node:http under
 * Deno speaking the same wire protocol for the benchmark's load, with nothing
 * stored, checked or announced. A message is acked and relayed at once.
 * Started by the benchmark like `server/main.ts` (PORT, HOST); not for use.
 *
 * For testing the load generator, `FLOOR_DROP_EVERY=n` acks every n-th message
 * without relaying it, and `FLOOR_DUPLICATE_EVERY=n` relays every n-th of the
 * others twice.
 */

import { createServer } from "node:http";
import { Server } from "socket.io";
import type { Message, SessionInfo } from "../../server/protocol.ts";

const port = Number(Deno.env.get("PORT") ?? 0);
const dropEvery = Number(Deno.env.get("FLOOR_DROP_EVERY") ?? 0);
const duplicateEvery = Number(Deno.env.get("FLOOR_DUPLICATE_EVERY") ?? 0);
const host = Deno.env.get("HOST") ?? "127.0.0.1";

const http = createServer((req, res) => {
  if (req.url === "/health") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ ok: true, writes: { commits: 0 }, memory: Deno.memoryUsage() }));
    return;
  }
  res.writeHead(404).end();
});
const io = new Server(http);
let next = 0;

io.use((socket, next_) => {
  const username = String(socket.handshake.auth?.username ?? "anonymous");
  const session: SessionInfo = {
    sessionID: crypto.randomUUID(),
    userID: crypto.randomUUID(),
    username,
  };
  socket.data = session;
  next_();
});

io.on("connection", (socket) => {
  const session = socket.data as SessionInfo;
  socket.join(session.userID);
  socket.emit("session", session);
  socket.emit("users", [{ ...session, connected: true, messages: [], self: true }]);
  socket.on(
    "private message",
    (payload: { content: string; to: string; clientId?: string }, ack) => {
      const message: Message = {
        id: String(++next).padStart(12, "0"),
        from: session.userID,
        to: payload.to,
        content: payload.content,
        timestamp: Date.now(),
        ...(payload.clientId ? { clientId: payload.clientId } : {}),
      };
      if (typeof ack === "function") ack({ ok: true, message });
      if (dropEvery > 0 && next % dropEvery === 0) return;
      const relays = duplicateEvery > 0 && next % duplicateEvery === 0 ? 2 : 1;
      for (let i = 0; i < relays; i++) {
        socket.to(message.to).to(session.userID).emit("private message", message);
      }
    },
  );
});

http.listen(port, host, () => console.log(`Floor server listening on http://${host}:${port}`));
Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
Deno.addSignalListener("SIGINT", () => Deno.exit(0));
