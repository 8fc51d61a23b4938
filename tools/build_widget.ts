/**
 * Builds the widget bundle: widget/mod.ts and widget/define.ts -> dist/chat-widget.js, one minified
 * ES module, plus the chunks it imports on demand (`chat-widget-<name>-<hash>.js`
 * beside it: the German and Arabic strings, and the dialogs). Prints what a page loads by default
 * (the entry and anything it imports statically) and each lazy chunk, raw and gzipped.
 * Run as a program, it also makes the folder an npm package (see widget_package.ts).
 *
 *   deno run -A tools/build_widget.ts [--outfile=dist/chat-widget.js]
 */
import * as esbuild from "esbuild";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import { minifyHTMLLiteralsPlugin } from "esbuild-plugin-minify-html-literals";
import { writeWidgetPackage } from "./widget_package.ts";

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

/**
 * Minifies the text of the widget's css`...` and html`...` templates (esbuild minifies code,
 * never template text). Only the widget's own modules: Lit's and socket.io-client's builds
 * are minified already.
 */
function minifyTemplatesPlugin(): esbuild.Plugin {
  return minifyHTMLLiteralsPlugin({ filter: /[\\/]widget[\\/](locales[\\/])?[\w.-]+\.ts$/ });
}

/** One JavaScript file the build wrote, and whether a page loads it by default. */
export interface BuiltFile {
  path: string;
  raw: number;
  gzip: number;
  /** Imported on demand only (a dynamic `import()`), e.g. the strings of one language. */
  lazy: boolean;
}

/** What the build wrote; `raw` and `gzip` count what a default (English) page loads: the entry. */
export interface BuildInfo {
  outfile: string;
  raw: number;
  gzip: number;
  files: BuiltFile[];
  /** Every file written: the bundle, the chunks and their source maps. */
  written: string[];
  /** The bundle's build. */
  metafile: esbuild.Metafile;
  /** The build of the chunks of elements (the dialogs). */
  chunksMetafile: esbuild.Metafile;
}

/** Chunks from earlier builds: their names carry a content hash, so they would pile up. */
async function removeOldChunks(dir: string, stem: string): Promise<void> {
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isFile && entry.name.startsWith(`${stem}-`) && /\.js(\.map)?$/.test(entry.name)) {
        await Deno.remove(join(dir, entry.name));
      }
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}

/**
 * The bundle: everything `widget/mod.ts` exports, and `widget/define.ts`, which registers the
 * elements on load and exports `defineChatWidget`; and, as `chunkImports`, what its chunks of
 * elements take from it (see `chunk-imports.ts`).
 */
export const BUNDLE_ENTRY = 'export * from "./mod.ts";\n' +
  'export { defineChatWidget } from "./define.ts";\n' +
  'export * as chunkImports from "./chunk-imports.ts";\n';

/** The strings in the bundle itself: the fallback of every other language. */
const BUNDLED_LOCALE = "en.ts";

/** Modules of `widget/` that are chunks of elements, which the bundle imports on demand. */
const ELEMENT_CHUNKS = ["conversation.ts", "dialogs.ts", "launcher.ts", "search.ts"];

/** The modules a chunk of elements takes from the bundle, and the names it takes, from `chunk-imports.ts`. */
async function chunkImports(widgetDir: string): Promise<{ modules: Set<string>; names: string[] }> {
  const source = await Deno.readTextFile(join(widgetDir, "chunk-imports.ts"));
  const modules = new Set<string>();
  const names: string[] = [];
  for (const [, list, from] of source.matchAll(/export\s*\{([^}]+)\}\s*from\s*"([^"]+)"/g)) {
    modules.add(from.startsWith(".") ? resolve(widgetDir, from) : from);
    names.push(...list.split(",").map((name) => name.trim()).filter(Boolean));
  }
  return { modules, names };
}

/** Options both builds share. */
const COMMON: esbuild.BuildOptions = {
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  legalComments: "none",
  // Module scripts are always decoded as UTF-8; escaping non-ASCII text would only add bytes.
  charset: "utf8",
  // Library and widget internals named `_x` are renamed (quoted uses too, as socket.io-client
  // reads `io["_reconnecting"]`); Lit's `_$x` names stay, as Lit versions share them.
  mangleProps: /^_[^$]/,
  mangleQuoted: true,
  sourcemap: "linked",
  metafile: true,
  // socket.io-client: "production" picks builds without the `debug` package.
  conditions: ["production"],
  define: { "process.env.NODE_ENV": '"production"' },
  logLevel: "warning",
};

/**
 * Builds the bundle and its on-demand chunks; returns their raw and gzipped byte counts.
 *
 * Separate builds rather than esbuild's code splitting: with splitting, esbuild moves Lit and
 * its runtime helpers into a shared chunk that the entry imports statically, which would cost
 * every page a second request. Here each language table is a standalone module; a chunk of
 * elements (the dialogs) imports Lit and the shared styles from the bundle itself
 * (`import { chunkImports } from "./chat-widget.js"`), as a chunk of a Rollup build would; and
 * the entry's `import("./locales/<lang>.ts")` or `import("./dialogs.ts")` becomes
 * `import("./chat-widget-<name>-<hash>.js")`, resolved against the bundle's own URL, so it
 * works cross-origin too.
 */
export async function buildWidget(
  options: { outfile?: string; minify?: boolean } = {},
): Promise<BuildInfo> {
  const root = join(dirname(fileURLToPath(import.meta.url)), "..");
  const outfile = resolve(options.outfile ?? join(root, "dist", "chat-widget.js"));
  const outdir = dirname(outfile);
  const stem = basename(outfile).replace(/\.js$/, "");
  const minify = options.minify ?? true;
  await removeOldChunks(outdir, stem);
  const localeDir = join(root, "widget", "locales");
  const localeFiles: string[] = [];
  for await (const entry of Deno.readDir(localeDir)) {
    // English is bundled, and its parts for the chunks of elements go with them.
    if (entry.isFile && entry.name.endsWith(".ts") && !/^en[.-]/.test(entry.name)) {
      localeFiles.push(join(localeDir, entry.name));
    }
  }
  const locales = await esbuild.build({
    ...COMMON,
    entryPoints: localeFiles.sort(),
    outdir,
    // The server serves `chat-widget-*.js` beside the bundle, with CORS like the bundle.
    entryNames: `${stem}-[name]-[hash]`,
    minify,
  });
  const shared = await chunkImports(join(root, "widget"));
  const elements = await esbuild.build({
    ...COMMON,
    entryPoints: ELEMENT_CHUNKS.map((name) => join(root, "widget", name)),
    outdir,
    entryNames: `${stem}-[name]-[hash]`,
    minify,
    plugins: [fromBundlePlugin(`./${basename(outfile)}`, shared), minifyTemplatesPlugin()],
  });
  const chunkOf = new Map<string, string>();
  // Modules a chunk carries: the bundle must not carry them too.
  const inChunks = new Set<string>();
  for (const build of [locales, elements]) {
    for (const [path, output] of Object.entries(build.metafile!.outputs)) {
      if (!output.entryPoint) continue;
      chunkOf.set(resolve(output.entryPoint), basename(path));
      for (const input of Object.keys(output.inputs)) {
        if (!input.includes(":")) inChunks.add(resolve(input));
      }
    }
  }
  const result = await esbuild.build({
    ...COMMON,
    stdin: { contents: BUNDLE_ENTRY, resolveDir: join(root, "widget"), loader: "ts" },
    outfile,
    minify,
    plugins: [domlessImportPlugin(), lazyChunksPlugin(chunkOf, inChunks), minifyTemplatesPlugin()],
  });
  if (result.errors.length) throw new Error(`Cannot build "${outfile}": ${result.errors[0].text}`);
  const files: BuiltFile[] = [];
  const builds = [result, locales, elements];
  const outputs = builds.flatMap((b) => Object.keys(b.metafile!.outputs))
    .filter((path) => path.endsWith(".js"));
  for (const path of outputs) {
    // Metafile paths are relative to the working directory.
    const bytes = await Deno.readFile(resolve(path));
    files.push({
      path: resolve(path),
      raw: bytes.length,
      gzip: gzipSync(bytes, { level: 9 }).length,
      lazy: resolve(path) !== outfile,
    });
  }
  const entry = files.find((f) => !f.lazy)!;
  const written = builds.flatMap((b) => Object.keys(b.metafile!.outputs))
    .map((path) => resolve(path));
  return {
    outfile,
    raw: entry.raw,
    gzip: entry.gzip,
    files,
    written,
    metafile: result.metafile!,
    chunksMetafile: elements.metafile!,
  };
}

/**
 * Points the bundle's `import("./locales/<lang>.ts")` and `import("./dialogs.ts")` at the
 * chunks built for them (English is bundled); a static import of a chunk's module is an error.
 */
function lazyChunksPlugin(chunkOf: Map<string, string>, inChunks: Set<string>): esbuild.Plugin {
  return {
    name: "lazy-chunks",
    setup(build) {
      build.onResolve({ filter: /^\.\.?\// }, (args) => {
        const path = resolve(args.resolveDir, args.path);
        if (basename(path) === BUNDLED_LOCALE) return undefined;
        const chunk = chunkOf.get(path);
        if (chunk && args.kind === "dynamic-import") return { path: `./${chunk}`, external: true };
        if (chunk || inChunks.has(path)) {
          return {
            errors: [{
              text: `Import "${args.path}" lazily, with import(): it belongs to an on-demand chunk`,
            }],
          };
        }
        return undefined;
      });
    },
  };
}

/**
 * In a chunk of elements, imports of Lit and of the widget's shared modules come from the
 * bundle (`bundle`, its `chunkImports` export): a virtual module that re-exports its names.
 * Any other package would be a second copy on the page, so it is an error.
 */
function fromBundlePlugin(
  bundle: string,
  shared: { modules: Set<string>; names: string[] },
): esbuild.Plugin {
  return {
    name: "from-bundle",
    setup(build) {
      build.onResolve({ filter: /.*/ }, (args) => {
        if (args.namespace === "from-bundle") return { path: bundle, external: true };
        if (args.kind === "entry-point") return undefined;
        const path = args.path.startsWith(".") ? resolve(args.resolveDir, args.path) : args.path;
        if (shared.modules.has(path)) return { path: "chunk-imports", namespace: "from-bundle" };
        if (!args.path.startsWith(".")) {
          return {
            errors: [{
              text: `"${args.path}" in a chunk of elements: add it to widget/chunk-imports.ts`,
            }],
          };
        }
        return undefined;
      });
      build.onLoad({ filter: /.*/, namespace: "from-bundle" }, () => ({
        contents: `import { chunkImports } from ${JSON.stringify(bundle)};\n` +
          `export const { ${shared.names.join(", ")} } = chunkImports;\n`,
        loader: "js",
      }));
    },
  };
}

/** Reads the command line; an unknown flag or a stray argument is an error. */
function parseCommandLine(args: string[]): { outfile?: string } {
  try {
    const { values } = parseArgs({
      args,
      options: { outfile: { type: "string" } },
      strict: true,
      allowPositionals: false,
    });
    return { outfile: values.outfile };
  } catch (error) {
    throw new TypeError(
      `Cannot read the arguments ${JSON.stringify(args.join(" "))}: ${
        (error as Error).message
      }\nUsage: deno run -A tools/build_widget.ts [--outfile=dist/chat-widget.js]`,
    );
  }
}

if (import.meta.main) {
  let options: { outfile?: string };
  try {
    options = parseCommandLine(Deno.args);
  } catch (error) {
    console.error((error as Error).message);
    Deno.exit(2);
  }
  const info = await buildWidget(options);
  await esbuild.stop();
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
  for (const file of info.files) {
    console.log(
      `${file.lazy ? "on demand" : "loaded   "} ${relative(Deno.cwd(), file.path)}: ${
        kb(file.raw)
      } raw, ${kb(file.gzip)} gzipped`,
    );
  }
  console.log(`A default page loads ${kb(info.raw)} raw, ${kb(info.gzip)} gzipped`);
  const outdir = dirname(info.outfile);
  await writeWidgetPackage(outdir, info.written);
  console.log(
    `The package: ${relative(Deno.cwd(), outdir)}/package.json, custom-elements.json, ` +
      "chat-widget.d.ts and types/ (npm pack " + relative(Deno.cwd(), outdir) + ")",
  );
}
