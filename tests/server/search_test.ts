import assert from "node:assert/strict";
import type { SearchUsersAck, UserEntry } from "../../server/protocol.ts";
import { signToken } from "../../server/auth/tokens.ts";
import { searchKey } from "../../server/store/keys.ts";
import { migrate } from "../../server/store/migrations.ts";
import { memoryLogger, startTestServer } from "./helpers.ts";

type Page = { ok: true; users: UserEntry[]; next?: string };

Deno.test("search users finds names by folded prefix, in name order, a page at a time", async () => {
  await using server = await startTestServer();
  const me = await server.connect({ username: "Alfred" });
  for (const name of ["Alice", "alicia", "Ａｌｂｅｒｔ", "Bob", "Alina", "Émile"]) {
    await server.connect({ username: name });
  }
  const search = async (payload: unknown) =>
    await me.socket.emitWithAck("search users", payload as never) as SearchUsersAck;
  const names = (ack: SearchUsersAck) => (ack as Page).users.map((u) => u.username);
  assert.deepEqual(names(await search({ query: "AL" })), [
    "Ａｌｂｅｒｔ",
    "Alice",
    "alicia",
    "Alina",
  ], "the caller is left out");
  assert.deepEqual(names(await search({ query: "ali" })), ["Alice", "alicia", "Alina"]);
  assert.deepEqual(names(await search({ query: "é" })), ["Émile"]);
  assert.deepEqual(names(await search({ query: "zed" })), []);
  // Pages follow each other without overlap.
  const first = await search({ query: "al", limit: 2 }) as Page;
  assert.equal(first.users.length, 2);
  assert.ok(first.next);
  const second = await search({ query: "al", limit: 2, after: first.next }) as Page;
  const third = second.next
    ? await search({ query: "al", limit: 2, after: second.next }) as Page
    : { users: [] };
  assert.deepEqual(
    [...first.users, ...second.users, ...third.users].map((u) => u.username).filter((n) =>
      n !== "Alfred"
    ),
    ["Ａｌｂｅｒｔ", "Alice", "alicia", "Alina"],
  );
  const entry = first.users[0];
  assert.equal(entry.connected, true);
  assert.deepEqual(entry.messages, []);
  // Bad requests are refused with a reason.
  for (
    const [payload, message] of [
      [{ query: "" }, 'Field "query" must be 1 to 32 characters'],
      [{ query: "a", limit: 500 }, 'Field "limit" must be a whole number from 1 to 50'],
      [{ query: "a", after: "not-a-cursor" }, `Field "after" is not a cursor this server gave`],
      [{ query: 5 }, 'Field "query" must be text, got a number'],
    ] as const
  ) {
    assert.deepEqual(await search(payload), {
      ok: false,
      error: { code: "invalid_payload", message },
    });
  }
});

Deno.test("search users never finds a deleted account, and follows a host user's rename", async () => {
  await using anonymous = await startTestServer();
  const me = await anonymous.connect({ username: "seeker" });
  const gone = await anonymous.connect({ username: "ghost" });
  await gone.socket.emitWithAck("delete account", {});
  const found = await me.socket.emitWithAck("search users", { query: "gh" }) as Page;
  assert.deepEqual(found.users, []);

  const secret = "a search test secret, more than thirty-two characters";
  await using host = await startTestServer({ AUTH_SECRET: secret });
  const token = (sub: string, name: string) =>
    signToken({ secret, sub, name, expiresInSeconds: 60 });
  const ada = await host.connect({ token: await token("ada", "Ada") });
  await host.connect({ token: await token("grace", "Grace") });
  await host.connect({ token: await token("grace", "Rear Admiral Hopper") });
  const byOld = await ada.socket.emitWithAck("search users", { query: "gra" }) as Page;
  const byNew = await ada.socket.emitWithAck("search users", { query: "rear" }) as Page;
  assert.deepEqual(byOld.users, []);
  assert.deepEqual(byNew.users.map((u) => u.username), ["Rear Admiral Hopper"]);
});

Deno.test("migrate() from format 4 gives every live user a search entry", async () => {
  using kv = await Deno.openKv(":memory:");
  await kv.set(["meta", "format"], 4);
  const live = { userID: "a".repeat(32), username: "Zoë", createdAt: 1 };
  const host = { userID: "b".repeat(32), username: "Grace", createdAt: 2, host: true };
  const dead = { userID: "c".repeat(32), username: "", createdAt: 3, deleted: true };
  for (const user of [live, host, dead]) await kv.set(["users", user.userID], user);
  assert.deepEqual(await migrate(kv, { logger: memoryLogger() }), { from: 4, to: 5 });
  assert.deepEqual(
    await Array.fromAsync(kv.list({ prefix: ["user_search"] }), (e) => e.key),
    [searchKey("grace", host.userID), searchKey("zoë", live.userID)],
  );
});
