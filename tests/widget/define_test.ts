import assert from "node:assert/strict";

/**
 * Imports `modules` in a fresh Deno process that has a custom element registry (Deno has none
 * of its own), calls `call` (the name of a function every one of them exports) twice if given,
 * and returns the tags defined in it.
 */
async function definedAfterImporting(modules: string[], call?: string): Promise<string[]> {
  const imports = modules.map((m) =>
    `{ const m = await import(${JSON.stringify(import.meta.resolve(m))});` +
    (call ? ` m.${call}(); m.${call}();` : "") + " }"
  );
  const script = `
    const defined = [];
    globalThis.customElements = {
      get: (tag) => defined.includes(tag) ? class {} : undefined,
      define: (tag) => void defined.push(tag),
    };
    ${imports.join("\n")}
    console.log(JSON.stringify(defined));
  `;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", script],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

Deno.test("widget/mod.ts exports the elements and registers none of them", async () => {
  assert.deepEqual(await definedAfterImporting(["../../widget/mod.ts"]), []);
});

Deno.test("widget/define.ts registers every element of the widget once", async () => {
  assert.deepEqual(
    await definedAfterImporting(["../../widget/mod.ts", "../../widget/define.ts"]),
    ["chat-login", "chat-user-list", "chat-widget"],
  );
});

Deno.test("the chunks' defineElements() registers their elements once: the conversation, the dialogs, the search results", async () => {
  assert.deepEqual(
    await definedAfterImporting(["../../widget/conversation.ts"], "defineElements"),
    ["chat-composer", "chat-confirm-dialog", "chat-conversation"],
  );
  assert.deepEqual(
    await definedAfterImporting(["../../widget/dialogs.ts"], "defineElements"),
    ["chat-logout-dialog", "chat-settings"],
  );
  assert.deepEqual(
    await definedAfterImporting(["../../widget/search.ts"], "defineElements"),
    ["chat-search-results"],
  );
});
