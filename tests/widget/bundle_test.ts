import assert from "node:assert/strict";
import { join } from "node:path";
import { buildWidget } from "../../widget/build.ts";
import * as esbuild from "esbuild";

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
    // Lit and socket.io-client alone are about 19.7 KB gzipped; this catches accidental growth.
    assert.ok(info.gzip < 36 * 1024, `bundle is ${info.gzip} bytes gzipped`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
