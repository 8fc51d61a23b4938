import assert from "node:assert/strict";
import { loadConfig } from "../../server/config.ts";

Deno.test("loadConfig() reads the cluster settings with defaults", () => {
  const d = loadConfig({});
  assert.equal(d.redisUrl, "");
  assert.equal(d.redisStreamName, "chat-widget");
  assert.equal(d.redisStreamMaxLen, 10_000);
  assert.equal(d.presenceTtlSeconds, 15);
  const c = loadConfig({
    REDIS_URL: "redis://:secret@127.0.0.1:6379/0",
    REDIS_STREAM_NAME: "chat:prod-1",
    REDIS_STREAM_MAX_LEN: "5000",
    PRESENCE_TTL_SECONDS: "3",
  });
  assert.equal(c.redisStreamName, "chat:prod-1");
  assert.equal(c.redisStreamMaxLen, 5000);
  assert.equal(c.presenceTtlSeconds, 3);
});

Deno.test("loadConfig() refuses bad cluster settings, naming the variable and its value", () => {
  assert.throws(() => loadConfig({ PRESENCE_TTL_SECONDS: "1" }), {
    name: "RangeError",
    message: 'Cannot use PRESENCE_TTL_SECONDS "1": must be between 2 and 3600',
  });
  assert.throws(() => loadConfig({ PRESENCE_TTL_SECONDS: "5s" }), {
    name: "TypeError",
    message: 'Cannot parse PRESENCE_TTL_SECONDS "5s": not a whole number',
  });
  assert.throws(() => loadConfig({ REDIS_STREAM_MAX_LEN: "10" }), RangeError);
  assert.throws(() => loadConfig({ REDIS_STREAM_NAME: "chat widget" }), {
    name: "TypeError",
    message:
      'Cannot use REDIS_STREAM_NAME "chat widget": use up to 100 letters, digits and _ . : -',
  });
  assert.throws(() => loadConfig({ REDIS_URL: "http://127.0.0.1:6379" }), TypeError);
});
