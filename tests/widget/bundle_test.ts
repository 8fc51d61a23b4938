import assert from "node:assert/strict";
import { basename, join } from "node:path";
import { buildWidget } from "../../tools/build_widget.ts";
import * as esbuild from "esbuild";

/**
 * What a default (English) page may load, gzipped: the requirement is 33 KB (33.0 KB now, of
 * which Lit and socket.io-client are about 18 KB; docs/widget.md says where the bytes go). The
 * conversation (with its confirmations), the dialogs, the search results and the launcher are
 * chunks loaded on demand, each with its own ceiling below.
 */
const DEFAULT_LOAD_CEILING = 33 * 1024;

/**
 * The chunks of elements, gzipped: loaded when a conversation opens, or a dialog or the settings,
 * when the search box is reached for, or (the launcher and the notifications) for
 * `mode="launcher"` or `notify`.
 */
const CHUNK_CEILINGS: Record<string, number> = {
  conversation: 9 * 1024,
  dialogs: 3 * 1024,
  launcher: 5 * 1024,
  search: 2 * 1024,
};

Deno.test("buildWidget() makes one ES module that imports where window is missing", async () => {
  const dir = await Deno.makeTempDir({ prefix: "chat-widget-bundle-" });
  try {
    const info = await buildWidget({ outfile: join(dir, "chat-widget.js") });
    await esbuild.stop();
    const source = await Deno.readTextFile(info.outfile);
    assert.doesNotMatch(source, /^\s*import\s/m, "the bundle has no imports of its own");
    // A fresh process without DOM globals, so nothing this test runner defines can help.
    const script = `
      const hadWindow = typeof window, hadDocument = typeof document, hadHTMLElement = typeof HTMLElement;
      const m = await import(${JSON.stringify(new URL(`file://${info.outfile}`).href)});
      console.log(JSON.stringify({ exports: Object.keys(m).sort(), hadWindow, hadDocument, hadHTMLElement,
        windowAfter: typeof window, documentAfter: typeof document, defined: typeof m.ChatWidget }));
    `;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--no-config", "--no-lock", "--ext=js", script],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, stderr);
    const result = JSON.parse(new TextDecoder().decode(out.stdout));
    assert.equal(result.hadDocument, "undefined");
    assert.equal(result.documentAfter, "undefined", "importing must not define a document");
    assert.equal(result.defined, "function");
    assert.ok(result.exports.includes("defineChatWidget"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("buildWidget() keeps a default page to one file under the size ceiling, other languages, the conversation, the dialogs and the launcher lazy", async () => {
  const dir = await Deno.makeTempDir({ prefix: "chat-widget-bundle-" });
  try {
    const info = await buildWidget({ outfile: join(dir, "chat-widget.js") });
    await esbuild.stop();
    const entry = Object.values(info.metafile.outputs).find((o) => o.entryPoint);
    assert.ok(entry);
    // One request: the entry imports nothing statically, only the language chunks on demand.
    assert.deepEqual(entry.imports.filter((i) => i.kind !== "dynamic-import"), []);
    const lazy = info.files.filter((f) => f.lazy).map((f) => basename(f.path)).sort();
    assert.deepEqual(
      entry.imports.map((i) => i.path.replace(/^\.\//, "")).sort(),
      lazy,
      "every dynamic import names a chunk the build wrote",
    );
    for (const name of lazy) {
      // The server serves exactly these names beside the bundle, with CORS.
      assert.match(name, /^chat-widget-[A-Za-z0-9_-]+\.js$/);
    }
    for (const chunk of ["de", "ar", "conversation", "dialogs", "launcher", "search"]) {
      assert.ok(lazy.some((name) => name.startsWith(`chat-widget-${chunk}-`)), `a ${chunk} chunk`);
    }
    const de = lazy.find((name) => name.startsWith("chat-widget-de-"));
    assert.ok(de, `a German chunk among ${lazy.join(", ")}`);
    const strings = await import(new URL(`file://${join(dir, de)}`).href);
    assert.equal(strings.de.loginButton, "Beitreten");
    assert.equal(info.gzip, info.files.find((f) => !f.lazy)!.gzip, "the entry is all a page loads");
    assert.ok(
      info.gzip <= DEFAULT_LOAD_CEILING,
      `a default page loads ${info.gzip} bytes gzipped, over the ${DEFAULT_LOAD_CEILING} ceiling`,
    );
    for (const [chunk, ceiling] of Object.entries(CHUNK_CEILINGS)) {
      const file = info.files.find((f) => basename(f.path).startsWith(`chat-widget-${chunk}-`))!;
      assert.ok(file.gzip <= ceiling, `the ${chunk} chunk is ${file.gzip} bytes, over ${ceiling}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("buildWidget() makes chunks of elements that take Lit and the shared modules from the bundle", async () => {
  const dir = await Deno.makeTempDir({ prefix: "chat-widget-bundle-" });
  try {
    const info = await buildWidget({ outfile: join(dir, "chat-widget.js") });
    await esbuild.stop();
    const entryInputs = new Set(
      Object.keys(Object.values(info.metafile.outputs).find((o) => o.entryPoint)!.inputs),
    );
    const chunks = Object.entries(info.chunksMetafile.outputs).filter(([path]) =>
      path.endsWith(".js")
    );
    assert.equal(
      chunks.length,
      4,
      "the conversation's, the dialogs', the launcher's and the search's",
    );
    for (const [path, chunk] of chunks) {
      // One static import: the bundle, by the name it is served under, beside the chunk.
      assert.deepEqual(chunk.imports.map((i) => [i.path, i.kind]), [
        ["./chat-widget.js", "import-statement"],
      ]);
      const inputs = Object.keys(chunk.inputs);
      assert.deepEqual(
        inputs.filter((input) => input.includes("node_modules")),
        [],
        `${basename(path)} carries no library: the page holds one Lit`,
      );
      assert.deepEqual(
        inputs.filter((input) => entryInputs.has(input)),
        [],
        `${basename(path)} carries no module the bundle carries`,
      );
    }
    // Where window is missing, a chunk imports and its elements extend the bundle's LitElement.
    const conversation = chunks.find(([path]) => path.includes("-conversation-"))![0];
    const script = `
      const bundle = await import(${JSON.stringify(new URL(`file://${info.outfile}`).href)});
      const chunk = await import(${
      JSON.stringify(new URL(`file://${join(dir, basename(conversation))}`).href)
    });
      console.log(JSON.stringify({
        shared: Object.getPrototypeOf(chunk.ChatConversation) === bundle.chunkImports.LitElement,
        strings: chunk.strings.send,
      }));
    `;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--no-config", "--no-lock", "--ext=js", script],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    assert.deepEqual(JSON.parse(new TextDecoder().decode(out.stdout)), {
      shared: true,
      strings: "Send",
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
