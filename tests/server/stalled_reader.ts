/** A client that stops reading: for the tests and the benchmark of slow consumers. */

/**
 * A WebSocket client over raw TCP that signs up, then reads nothing more, while
 * still sending a pong now and then, as a stalled reader whose connection
 * looks alive would.
 */
export async function stalledReader(url: string, username: string) {
  const { hostname, port } = new URL(url);
  const conn = await Deno.connect({ hostname, port: Number(port) });
  const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
  await conn.write(new TextEncoder().encode(
    `GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: ${hostname}:${port}\r\n` +
      `Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\n` +
      `Sec-WebSocket-Version: 13\r\n\r\n`,
  ));
  const frame = (text: string) => {
    const payload = new TextEncoder().encode(text);
    const mask = crypto.getRandomValues(new Uint8Array(4));
    const header = payload.length < 126
      ? [0x81, 0x80 | payload.length]
      : [0x81, 0x80 | 126, payload.length >> 8, payload.length & 0xff];
    const out = new Uint8Array(header.length + 4 + payload.length);
    out.set(header);
    out.set(mask, header.length);
    payload.forEach((b, i) => (out[header.length + 4 + i] = b ^ mask[i % 4]));
    return out;
  };
  // Read the upgrade and engine.io's open packet, then nothing more.
  const buffer = new Uint8Array(4096);
  let seen = "";
  while (!seen.includes("\r\n\r\n") || !seen.includes("sid")) {
    const n = await conn.read(buffer);
    if (n === null) throw new Error("closed during the handshake");
    seen += new TextDecoder().decode(buffer.subarray(0, n));
  }
  await conn.write(frame(`40${JSON.stringify({ username })}`));
  const pongs = setInterval(() => conn.write(frame("3")).catch(() => {}), 1000);
  let closed = false;
  return {
    /** Reads (and drops) until the server closes the connection. */
    async drainUntilClosed(): Promise<void> {
      while ((await conn.read(buffer)) !== null) { /* drop */ }
      closed = true;
    },
    get closed() {
      return closed;
    },
    close() {
      clearInterval(pongs);
      try {
        conn.close();
      } catch {
        // already closed
      }
    },
  };
}
