import assert from "node:assert/strict";
import {
  eventFrame,
  eventFrames,
  joinBytes,
  presenceFrame,
} from "../../server/transport/ws_frames.ts";
import type { PresenceChange } from "../../server/protocol.ts";

// Reads one unmasked frame back: FIN/opcode, payload length, payload text.
function readFrame(frame: Uint8Array): { first: number; text: string } {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  assert.equal(frame[1] & 0x80, 0, "server frames are unmasked");
  let length = frame[1] & 0x7f;
  let at = 2;
  if (length === 126) {
    length = view.getUint16(2);
    at = 4;
  } else if (length === 127) {
    length = Number(view.getBigUint64(2));
    at = 10;
  }
  assert.equal(frame.length, at + length, "the frame holds exactly its payload");
  return { first: frame[0], text: new TextDecoder().decode(frame.subarray(at)) };
}

Deno.test("eventFrame() encodes an event as engine.io would, at every WebSocket length form", () => {
  for (const size of [0, 100, 125, 126, 65_535, 65_536, 200_000]) {
    const payload = { userID: "u", username: "ü".repeat(size) };
    const { first, text } = readFrame(eventFrame("user connected", payload));
    assert.equal(first, 0x81, "FIN and text opcode");
    assert.equal(text, "42" + JSON.stringify(["user connected", payload]));
  }
});

Deno.test("eventFrames() writes the frames eventFrame() makes, back to back, ASCII or not", () => {
  const cases: unknown[][] = [
    [{ by: "b", delivered: "01" }],
    [{ by: "b", delivered: "01" }, { by: "c", seen: "02" }, { by: "d".repeat(200) }],
    [{ by: "b" }, { by: "ç" }],
    [{ by: "x".repeat(70_000) }],
    [],
  ];
  for (const payloads of cases) {
    assert.deepEqual(
      eventFrames("receipts", payloads),
      joinBytes(payloads.map((p) => eventFrame("receipts", p))),
    );
  }
});

Deno.test("presenceFrame() holds the burst's changes as one event, leaving out the skipped one", () => {
  const changes: PresenceChange[] = [
    { userID: "a", username: "A", connected: true },
    { userID: "b", connected: false },
    { userID: "c", username: "Ç", connected: true },
  ];
  const bytes = changes.map((c) => new TextEncoder().encode(JSON.stringify(c)));
  for (const skip of [-1, 0, 1, 2]) {
    const { first, text } = readFrame(presenceFrame(bytes, skip));
    assert.equal(first, 0x81);
    const kept = changes.filter((_, i) => i !== skip);
    assert.equal(text, "42" + JSON.stringify(["presence", kept]));
  }
  assert.equal(readFrame(presenceFrame([])).text, '42["presence",[]]');
});
