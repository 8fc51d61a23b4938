/**
 * Builds the widget bundle: widget/mod.ts -> dist/chat-widget.js, one minified
 * ES module, and prints its raw and gzipped size.
 *
 *   deno run -A widget/build.ts [--outfile=dist/chat-widget.js] [--watch]
 */
import * as esbuild from "esbuild";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

/** Lit's browser builds touch `document` and `HTMLElement` at import time; its node builds guard them. */
const LIT_NODE_BUILD = /^(lit-html|@lit\/reactive-element)(\/.*)?$/;

/**
 * Makes the bundle importable where `window` is missing by using Lit's guarded
 * (node) builds, with its DOM shim replaced by a stub that prefers the real
 * globals, so browsers run the same code as before and nothing is polyfilled.
 */
function domlessImportPlugin(): esbuild.Plugin {
  return {
    name: "domless-import",
    setup(build) {
      build.onResolve({ filter: LIT_NODE_BUILD }, async (args) => {
        if (args.pluginData?.domless) return undefined;
        const resolved = await build.resolve(args.path, {
          kind: args.kind,
          resolveDir: args.resolveDir,
          importer: args.importer,
          pluginData: { domless: true },
        });
        if (resolved.errors.length) return { errors: resolved.errors };
        const pkg = args.path.startsWith("@lit/") ? "/@lit/reactive-element/" : "/lit-html/";
        const at = resolved.path.lastIndexOf(pkg);
        if (at < 0) return resolved;
        const candidate = resolved.path.slice(0, at + pkg.length) + "node/" +
          resolved.path.slice(at + pkg.length);
        try {
          await Deno.stat(candidate);
          return { path: candidate };
        } catch {
          return resolved;
        }
      });
      // The server speaks WebSocket and long-polling only; WebTransport would never be used.
      build.onResolve(
        { filter: /\/webtransport\.js$/ },
        (args) =>
          args.importer.includes("engine.io-client")
            ? { path: "webtransport", namespace: "domless" }
            : undefined,
      );
      build.onResolve({ filter: /^@lit-labs\/ssr-dom-shim$/ }, () => ({
        path: "ssr-dom-shim",
        namespace: "domless",
      }));
      build.onLoad({ filter: /.*/, namespace: "domless" }, (args) => ({
        contents: args.path === "webtransport"
          ? "export const WT = undefined;\n"
          : "export const HTMLElement = globalThis.HTMLElement ?? class {};\n" +
            "export const customElements = globalThis.customElements;\n",
        loader: "js",
      }));
    },
  };
}

/** Collapses whitespace and comments inside css`...` templates (esbuild leaves template text alone). */
function minifyCssPlugin(): esbuild.Plugin {
  return {
    name: "minify-css-templates",
    setup(build) {
      build.onLoad({ filter: /widget[\\/].*\.ts$/ }, async (args) => {
        const source = await Deno.readTextFile(args.path);
        const contents = source.replace(/css`([^`]*)`/g, (_, body: string) =>
          "css`" +
          body.replace(/\/\*[\s\S]*?\*\//g, "")
            .replace(/\s+/g, " ")
            .replace(/\s*([{};,>])\s*/g, "$1")
            .replace(/:\s+/g, ":")
            .replace(/;}/g, "}")
            .trim() +
          "`");
        return { contents, loader: "ts" };
      });
    },
  };
}

/** Builds the bundle; returns its raw and gzipped byte counts. */
export async function buildWidget(
  options: { outfile?: string; minify?: boolean } = {},
): Promise<{ outfile: string; raw: number; gzip: number }> {
  const root = join(dirname(fileURLToPath(import.meta.url)), "..");
  const outfile = options.outfile ?? join(root, "dist", "chat-widget.js");
  const result = await esbuild.build({
    entryPoints: [join(root, "widget", "mod.ts")],
    outfile,
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    minify: options.minify ?? true,
    legalComments: "none",
    sourcemap: "linked",
    metafile: true,
    // socket.io-client: "production" picks builds without the `debug` package.
    conditions: ["production"],
    define: { "process.env.NODE_ENV": '"production"' },
    plugins: [domlessImportPlugin(), minifyCssPlugin()],
    logLevel: "warning",
  });
  if (result.errors.length) throw new Error(`Cannot build "${outfile}": ${result.errors[0].text}`);
  const bytes = await Deno.readFile(outfile);
  return { outfile, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
}

if (import.meta.main) {
  const outArg = Deno.args.find((a) => a.startsWith("--outfile="));
  const info = await buildWidget({ outfile: outArg?.slice("--outfile=".length) });
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
  console.log(`${info.outfile}: ${kb(info.raw)} raw, ${kb(info.gzip)} gzipped`);
  await esbuild.stop();
}
