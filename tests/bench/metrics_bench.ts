/**
 * What counting costs the server per message and per scrape:
 * `deno bench tests/bench/metrics_bench.ts`. The `metrics` scenario measures
 * the same under load, end to end.
 */

import { ServerMetrics } from "../../server/metrics.ts";

// Its lag monitor's timer is unref'd: it does not hold the bench open.
const metrics = new ServerMetrics({ sockets: () => 200, users: () => 200 });
const codes = ["unknown_recipient", "content_empty", "rate_limited"] as const;
let i = 0;

Deno.bench("one stored message: received, stored, relayed, acked, half a commit", () => {
  const arrived = performance.now();
  metrics.messageReceived();
  metrics.messageStored();
  metrics.messageRelayed();
  metrics.acked("private message", (performance.now() - arrived) / 1000);
  if (i++ % 2 === 0) metrics.commit({ seconds: 0.0005, writes: 2, lockRetries: 0 });
});

Deno.bench("one refused message: received, refused by code, acked", () => {
  metrics.messageReceived();
  metrics.messageRefused(codes[i++ % codes.length]);
  metrics.acked("private message", 0.0002);
});

Deno.bench("a scrape: every series in the text format", async () => {
  await metrics.render();
});
