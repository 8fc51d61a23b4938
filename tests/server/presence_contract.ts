/** The contract every `Presence` keeps, as one suite run against each implementation. */

import assert from "node:assert/strict";
import type { Presence } from "../../server/chat/ports.ts";

/** Opens a fresh, empty presence; disposing it closes whatever it opened. */
export type OpenPresence = () => Promise<{ presence: Presence } & AsyncDisposable>;

/** Registers the contract's tests for the implementation `name`. */
export function presenceContract(name: string, open: OpenPresence): void {
  Deno.test(`${name}.add() and remove() report a user's first and last socket`, async () => {
    await using fixture = await open();
    const p = fixture.presence;
    assert.equal(await p.add("u1"), true);
    assert.equal(await p.add("u1"), false);
    assert.equal(await p.add("u2"), true);
    assert.deepEqual([...await p.onlineAmong(["u1", "u2", "u3"])].sort(), ["u1", "u2"]);
    assert.equal(await p.remove("u1"), false);
    assert.equal(await p.remove("u1"), true);
    assert.equal(await p.remove("u1"), false, "an extra remove is not a second last");
    assert.deepEqual(await p.list(10), ["u2"]);
    assert.equal(await p.add("u1"), true, "back after leaving is a first socket again");
  });

  Deno.test(`${name}.remove() of a user never added reports nothing`, async () => {
    await using fixture = await open();
    assert.equal(await fixture.presence.remove("ghost"), false);
    assert.deepEqual(await fixture.presence.list(10), []);
  });

  Deno.test(`${name}.onlineAmong() answers for many users at once, unknown ones excluded`, async () => {
    await using fixture = await open();
    const p = fixture.presence;
    const users = Array.from({ length: 35 }, (_, i) => `user${String(i).padStart(2, "0")}`);
    for (const u of users.filter((_, i) => i % 3 === 0)) await p.add(u);
    const asked = [...users, "nobody"];
    assert.deepEqual(
      [...await p.onlineAmong(asked)].sort(),
      users.filter((_, i) => i % 3 === 0),
    );
    assert.equal((await p.onlineAmong([])).size, 0);
  });

  Deno.test(`${name}.list() returns at most limit online users, each once`, async () => {
    await using fixture = await open();
    const p = fixture.presence;
    for (const u of ["a", "b", "c", "d"]) {
      await p.add(u);
      await p.add(u);
    }
    const some = await p.list(3);
    assert.equal(some.length, 3);
    assert.equal(new Set(some).size, 3);
    assert.deepEqual((await p.list(10)).sort(), ["a", "b", "c", "d"]);
    for (const u of ["a", "b", "c", "d"]) {
      await p.remove(u);
      await p.remove(u);
    }
    assert.deepEqual(await p.list(10), []);
  });

  Deno.test(`${name} keeps one user's adds and removes in the order they were made`, async () => {
    await using fixture = await open();
    const p = fixture.presence;
    // Tabs opening and closing at once: exactly one first, and one last at the end.
    const results = await Promise.all([
      p.add("u"),
      p.add("u"),
      p.remove("u"),
      p.add("u"),
      p.remove("u"),
      p.remove("u"),
    ]);
    assert.deepEqual(results, [true, false, false, false, false, true]);
    assert.equal((await p.onlineAmong(["u"])).size, 0);
  });
}
