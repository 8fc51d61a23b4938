import assert from "node:assert/strict";
import { isPresenceNotices, presenceDelay } from "../../server/transport/presence_notices.ts";

Deno.test("presenceDelay() grows with the sockets between its bounds", () => {
  const delay = { delayMs: 25, writesPerSecond: 50_000, maxDelayMs: 250 };
  assert.equal(presenceDelay(0, delay), 25);
  assert.equal(presenceDelay(1_250, delay), 25);
  assert.equal(presenceDelay(5_000, delay), 100);
  assert.equal(presenceDelay(12_500, delay), 250);
  assert.equal(presenceDelay(1_000_000, delay), 250);
});

Deno.test("isPresenceNotices() accepts only well-formed bursts from other nodes", () => {
  const user = { userID: "u1", username: "Ann", connected: true, messages: [] };
  assert.ok(isPresenceNotices([]));
  assert.ok(isPresenceNotices([
    { except: "s1", event: "user connected", payload: user },
    { except: null, event: "user disconnected", payload: "u1" },
  ]));
  for (
    const bad of [
      null,
      "x",
      [null],
      [{ except: "s1", event: "user connected", payload: null }],
      [{ except: "s1", event: "user connected", payload: { userID: 1, username: "Ann" } }],
      [{ except: null, event: "user connected", payload: user }],
      [{ except: null, event: "user disconnected", payload: 42 }],
      [{ except: null, event: "private message", payload: "u1" }],
    ]
  ) assert.equal(isPresenceNotices(bad), false, JSON.stringify(bad));
});
