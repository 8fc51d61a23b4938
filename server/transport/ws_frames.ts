/**
 * WebSocket frames built by hand (RFC 6455 section 5.2): a presence burst is
 * encoded once and the same bytes are written to every idle WebSocket, instead
 * of engine.io encoding and framing it again for each socket.
 */

const encoder = new TextEncoder();

/** `parts` joined into one array. */
export function joinBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

// The header's size of a text frame of `n` payload bytes.
function headerSize(n: number): number {
  return n < 126 ? 2 : n < 65_536 ? 4 : 10;
}

// Writes the header of an unmasked, unfragmented text frame of `n` payload bytes at `at`.
function writeHeader(out: Uint8Array, at: number, n: number): number {
  out[at] = 0x81; // FIN, text
  if (n < 126) {
    out[at + 1] = n;
    return at + 2;
  }
  const view = new DataView(out.buffer, out.byteOffset + at);
  if (n < 65_536) {
    out[at + 1] = 126;
    view.setUint16(2, n);
    return at + 4;
  }
  out[at + 1] = 127;
  view.setBigUint64(2, BigInt(n));
  return at + 10;
}

// An unmasked, unfragmented text frame holding `parts` joined.
function textFrame(parts: readonly Uint8Array[]): Uint8Array {
  const n = parts.reduce((sum, p) => sum + p.length, 0);
  const header = new Uint8Array(headerSize(n));
  writeHeader(header, 0, n);
  return joinBytes([header, ...parts]);
}

/**
 * An unmasked, unfragmented WebSocket text frame holding the Socket.IO event
 * packet `[event, payload]` of namespace "/" in an engine.io message packet:
 * what engine.io would write for `emit(event, payload)`.
 */
export function eventFrame(event: string, payload: unknown): Uint8Array {
  return textFrame([encoder.encode("42" + JSON.stringify([event, payload]))]);
}

/**
 * The frames of one `event` per payload, back to back in one array, as
 * `eventFrame()` makes them. Payloads whose JSON is ASCII (IDs, as receipts
 * are) are written straight into the one array.
 */
export function eventFrames(event: string, payloads: readonly unknown[]): Uint8Array {
  const texts = payloads.map((p) => "42" + JSON.stringify([event, p]));
  let size = 0;
  for (const text of texts) size += headerSize(text.length) + text.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const text of texts) {
    at = writeHeader(out, at, text.length);
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      // Not ASCII: its UTF-8 takes more bytes than the string has characters.
      if (c > 0x7f) return joinBytes(payloads.map((p) => eventFrame(event, p)));
      out[at++] = c;
    }
  }
  return out;
}

const PRESENCE_OPEN = encoder.encode('42["presence",[');
const PRESENCE_CLOSE = encoder.encode("]]");
const COMMA = encoder.encode(",");

/**
 * The frame of a `presence` event holding `changes`, each given as its JSON
 * bytes, but the one at index `skip`: per-socket variants of one burst cost a
 * copy, not a new encoding.
 */
export function presenceFrame(changes: readonly Uint8Array[], skip = -1): Uint8Array {
  const parts: Uint8Array[] = [PRESENCE_OPEN];
  for (let i = 0; i < changes.length; i++) {
    if (i === skip) continue;
    if (parts.length > 1) parts.push(COMMA);
    parts.push(changes[i]);
  }
  parts.push(PRESENCE_CLOSE);
  return textFrame(parts);
}
