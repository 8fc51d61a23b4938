/**
 * Makes the built bundle an npm package: beside `dist/chat-widget.js` it writes
 * `custom-elements.json` (by @custom-elements-manifest/analyzer), the types
 * (`chat-widget.d.ts` and `types/`, by TypeScript's declaration emit) and a
 * `package.json`, so that `npm pack dist` gives a package a host can `npm install`.
 */
import * as analyzer from "@custom-elements-manifest/analyzer";
import { litPlugin } from "@custom-elements-manifest/analyzer/src/features/framework-plugins/lit/lit.js";
import ts from "typescript";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

// The analyzer's index.d.ts types its plugin interface; its module exports these two (`ts` is
// its own TypeScript, which parses what `create` reads).
const { create, ts: analyzerTs } = analyzer as unknown as {
  create(options: { modules: ts.SourceFile[]; plugins: unknown[] }): unknown;
  ts: typeof ts;
};

/** The package's name, version and license, as `package.json` states them. */
export const WIDGET_PACKAGE = {
  name: "chat-widget",
  version: "0.1.0",
  // No license has been chosen for the project yet; npm's word for "none granted".
  license: "UNLICENSED",
} as const;

/** The modules that define the widget's elements, one element each. */
const ELEMENT_MODULES = [
  "widget/chat-widget.ts",
  "widget/chat-conversation.ts",
  "widget/chat-composer.ts",
  "widget/chat-login.ts",
  "widget/chat-user-list.ts",
];

/**
 * Of those, the modules of a chunk the bundle loads on demand (`widget/conversation.ts`): the
 * bundle defines their elements when it loads the chunk, and exports only their types.
 */
const ON_DEMAND_MODULES = new Set(["widget/chat-conversation.ts", "widget/chat-composer.ts"]);

/** The bundle's types: what `widget/mod.ts` exports, and `defineChatWidget`. */
const TYPES_ENTRY = 'export * from "./types/widget/mod.js";\n' +
  'export { defineChatWidget } from "./types/widget/define.js";\n';

/** A manifest member or attribute, as far as this file reads them. */
interface Named {
  name: string;
  privacy?: string;
  kind?: string;
}

/** A manifest declaration, as far as this file reads it. */
interface Declaration {
  name: string;
  kind: string;
  tagName?: string;
  customElement?: boolean;
  members?: Named[];
  attributes?: Named[];
}

/** A manifest module, as far as this file reads it. */
interface ManifestModule {
  kind: string;
  path: string;
  declarations: Declaration[];
  exports?: { kind: string; name: string; declaration: { name: string; module?: string } }[];
}

/**
 * Lit's internal state (`_x` with `state: true`) and `#private` members are not the
 * elements' interface: the analyzer lists them, the manifest leaves them out.
 */
function isPublic(item: Named): boolean {
  return !item.name.startsWith("_") && !item.name.startsWith("#") && item.privacy !== "private";
}

/**
 * The custom elements manifest of the widget's elements, as one module: the bundle
 * (`module`), which defines them all.
 */
export function widgetManifest(module = "chat-widget.js"): {
  schemaVersion: string;
  modules: ManifestModule[];
} {
  const sources = ELEMENT_MODULES.map((path) =>
    analyzerTs.createSourceFile(
      path,
      Deno.readTextFileSync(join(ROOT, path)),
      analyzerTs.ScriptTarget.ES2022,
      true,
    )
  );
  const analyzed = create({ modules: sources, plugins: [...litPlugin()] }) as {
    schemaVersion: string;
    modules: ManifestModule[];
  };
  const declarations: Declaration[] = [];
  const onDemand = new Set<string>();
  for (const source of analyzed.modules) {
    for (const declaration of source.declarations) {
      if (!declaration.customElement) continue;
      if (ON_DEMAND_MODULES.has(source.path)) onDemand.add(declaration.name);
      declarations.push({
        ...declaration,
        members: declaration.members?.filter(isPublic),
        attributes: declaration.attributes?.filter(isPublic),
      });
    }
  }
  const exports = declarations.flatMap((d) => [
    ...(onDemand.has(d.name)
      ? []
      : [{ kind: "js", name: d.name, declaration: { name: d.name, module } }]),
    { kind: "custom-element-definition", name: d.tagName!, declaration: { name: d.name, module } },
  ]);
  return {
    schemaVersion: analyzed.schemaVersion,
    modules: [{ kind: "javascript-module", path: module, declarations, exports }],
  };
}

/** `from "./x.ts"` and `import("./x.ts")` in emitted declarations, to rewrite to `.js`. */
const RELATIVE_TS = /((?:from|import)\s*\(?\s*["']\.{1,2}\/[^"']*)\.ts(["'])/g;

/**
 * Writes the declarations of `widget/mod.ts` and `widget/define.ts` (and of what they import)
 * under `outdir/types/`, and `outdir/chat-widget.d.ts`, which re-exports them. Throws with
 * TypeScript's messages when the widget does not type-check.
 */
export function writeWidgetTypes(outdir: string): string[] {
  const written: string[] = [];
  const options: ts.CompilerOptions = {
    declaration: true,
    emitDeclarationOnly: true,
    allowImportingTsExtensions: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ["lib.esnext.d.ts", "lib.dom.d.ts", "lib.dom.iterable.d.ts"],
    strict: true,
    skipLibCheck: true,
    types: [],
    rootDir: ROOT,
    outDir: join(outdir, "types"),
  };
  const host = ts.createCompilerHost(options);
  // Relative imports in the declarations name `.js` files, as a package's must.
  host.writeFile = (path, text) => {
    Deno.mkdirSync(dirname(path), { recursive: true });
    Deno.writeTextFileSync(path, text.replace(RELATIVE_TS, "$1.js$2"));
    written.push(path);
  };
  const program = ts.createProgram(
    [join(ROOT, "widget", "mod.ts"), join(ROOT, "widget", "define.ts")],
    options,
    host,
  );
  const result = program.emit();
  const problems = [...ts.getPreEmitDiagnostics(program), ...result.diagnostics];
  if (problems.length) {
    throw new Error(
      `Cannot write the widget's types: ${
        ts.formatDiagnostics(problems, {
          getCanonicalFileName: (f) => f,
          getCurrentDirectory: () => ROOT,
          getNewLine: () => "\n",
        })
      }`,
    );
  }
  const entry = join(outdir, "chat-widget.d.ts");
  Deno.writeTextFileSync(entry, TYPES_ENTRY);
  return [entry, ...written];
}

/** The exact `lit` version the widget is built with, from deno.json. */
function litVersion(): string {
  const config = JSON.parse(Deno.readTextFileSync(join(ROOT, "deno.json")));
  const match = /^npm:lit@(\d[^/]*)$/.exec(config.imports?.lit ?? "");
  if (!match) {
    throw new TypeError(`Cannot read the lit version in deno.json "${config.imports?.lit}"`);
  }
  return match[1];
}

/** The package's `package.json`; `files` are what it ships, relative to its folder. */
export function widgetPackageJson(files: string[]): Record<string, unknown> {
  return {
    ...WIDGET_PACKAGE,
    description: "<chat-widget>: private one-to-one chat as one custom element",
    type: "module",
    main: "./chat-widget.js",
    module: "./chat-widget.js",
    types: "./chat-widget.d.ts",
    exports: {
      ".": { types: "./chat-widget.d.ts", default: "./chat-widget.js" },
      "./custom-elements.json": "./custom-elements.json",
      "./package.json": "./package.json",
    },
    customElements: "custom-elements.json",
    // Importing the bundle registers the elements.
    sideEffects: ["./chat-widget.js"],
    files,
    // The bundle contains Lit; its types refer to Lit's.
    dependencies: { lit: `^${litVersion()}` },
  };
}

/**
 * Writes the manifest, the types and `package.json` into `outdir`, beside a bundle that
 * `buildWidget()` wrote there (`bundleFiles`: the paths of its files, chunks and maps).
 */
export async function writeWidgetPackage(outdir: string, bundleFiles: string[]): Promise<void> {
  const manifest = join(outdir, "custom-elements.json");
  await Deno.remove(join(outdir, "types"), { recursive: true }).catch((error) => {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  });
  await Deno.writeTextFile(manifest, JSON.stringify(widgetManifest(), null, 2) + "\n");
  const types = writeWidgetTypes(outdir);
  const files = [...bundleFiles, manifest, ...types].map((f) => relative(outdir, f));
  const shipped = [...new Set(files.map((f) => f.startsWith("types/") ? "types/" : f))].sort();
  await Deno.writeTextFile(
    join(outdir, "package.json"),
    JSON.stringify(widgetPackageJson(shipped), null, 2) + "\n",
  );
}
