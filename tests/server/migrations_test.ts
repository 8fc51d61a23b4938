import assert from "node:assert/strict";
import { formatKey, userKey } from "../../server/store/keys.ts";
import { FORMAT_VERSION, migrate, type Migration } from "../../server/store/migrations.ts";
import { memoryLogger, tempDir } from "./helpers.ts";

Deno.test("migrate() stamps an empty KV with the current format", async () => {
  using kv = await Deno.openKv(":memory:");
  assert.deepEqual(await migrate(kv, { logger: memoryLogger() }), {
    from: null,
    to: FORMAT_VERSION,
  });
  assert.equal((await kv.get(formatKey())).value, FORMAT_VERSION);
  assert.deepEqual(await migrate(kv, { logger: memoryLogger() }), {
    from: FORMAT_VERSION,
    to: FORMAT_VERSION,
  });
});

Deno.test("migrate() takes a KV written before formats were versioned as format 1", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/old.kv`;
  {
    using old = await Deno.openKv(path);
    await old.set(userKey("u1"), { userID: "u1", username: "Ann", createdAt: 1 });
  }
  using kv = await Deno.openKv(path);
  const steps: number[] = [];
  const migrations: Migration[] = [{
    from: 1,
    description: "test step",
    run: async (db) => {
      steps.push(1);
      await db.set(["migrated"], true);
    },
  }];
  const logger = memoryLogger();
  assert.deepEqual(await migrate(kv, { logger, version: 2, migrations }), { from: 1, to: 2 });
  assert.deepEqual(steps, [1]);
  assert.equal((await kv.get(formatKey())).value, 2);
  assert.equal((await kv.get(["migrated"])).value, true);
  assert.ok(logger.entries().some((e) => e.event === "migration" && e.from === 1 && e.to === 2));
  await migrate(kv, { logger, version: 2, migrations });
  assert.deepEqual(steps, [1], "a migrated KV is not migrated again");
});

Deno.test("migrate() refuses a newer format, an unknown one and a missing step, writing nothing", async () => {
  using kv = await Deno.openKv(":memory:");
  await kv.set(formatKey(), FORMAT_VERSION + 1);
  await assert.rejects(
    migrate(kv, { logger: memoryLogger() }),
    (e: unknown) =>
      e instanceof RangeError &&
      e.message === `Cannot use storage format ${FORMAT_VERSION + 1}: this server knows formats ` +
          `up to ${FORMAT_VERSION}; run a newer server`,
  );
  assert.equal((await kv.get(formatKey())).value, FORMAT_VERSION + 1);
  await kv.set(formatKey(), "one");
  await assert.rejects(migrate(kv, { logger: memoryLogger() }), {
    name: "TypeError",
    message: 'Cannot read storage format "one": not a format version',
  });
  await kv.set(formatKey(), 1);
  await assert.rejects(migrate(kv, { logger: memoryLogger(), version: 3, migrations: [] }), {
    name: "RangeError",
    message: "Cannot migrate storage format 1: no migration to 2",
  });
  assert.equal((await kv.get(formatKey())).value, 1);
});
