/** `/readyz` of a server on Redis: 503 while its Redis is stopped, 200 once it is back. */

import assert from "node:assert/strict";
import { startTestServer } from "../server/helpers.ts";
import { RedisServer, until } from "./helpers.ts";

Deno.test("/readyz says not ready while Redis is stopped and ready again once it restarts", async () => {
  await using redis = await RedisServer.start();
  await using server = await startTestServer({ REDIS_URL: redis.url });
  const readyz = async () => {
    const res = await fetch(`${server.url}/readyz`);
    return [res.status, await res.json()];
  };
  assert.deepEqual(await readyz(), [200, { status: "ready", checks: { kv: "ok", redis: "ok" } }]);
  await redis.stop();
  await until(async () => (await readyz())[0] === 503, "not ready", 10_000);
  assert.deepEqual(await readyz(), [503, {
    status: "not ready",
    checks: { kv: "ok", redis: "not connected" },
  }]);
  await redis.restart();
  await until(async () => (await readyz())[0] === 200, "ready again", 30_000);
  assert.deepEqual(await readyz(), [200, { status: "ready", checks: { kv: "ok", redis: "ok" } }]);
});
