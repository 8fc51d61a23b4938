import assert from "node:assert/strict";
import { basename, join } from "node:path";
import * as esbuild from "esbuild";
import ts from "typescript";
import { buildWidget } from "../../tools/build_widget.ts";
import { WIDGET_PACKAGE, writeWidgetPackage } from "../../tools/widget_package.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

/** Builds the bundle and the package into a temporary folder, removed when disposed. */
async function builtPackage(): Promise<{ dir: string } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "chat-widget-package-" });
  const info = await buildWidget({ outfile: join(dir, "chat-widget.js") });
  await esbuild.stop();
  await writeWidgetPackage(dir, info.written);
  return {
    dir,
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

/** What docs/widget.md documents for `<chat-widget>`, by kind, read from its tables. */
function documented(markdown: string): Record<string, Set<string>> {
  const names: Record<string, Set<string>> = {
    attribute: new Set(),
    property: new Set(),
    method: new Set(),
    event: new Set(),
    part: new Set(),
    cssProperty: new Set(),
  };
  let section = "";
  let columns: string[] = [];
  for (const line of markdown.split("\n")) {
    if (line.startsWith("## ")) section = line.slice(3).trim();
    if (!line.startsWith("|")) {
      columns = [];
      continue;
    }
    const cells = line.split("|").slice(1, -1).map((c) => c.trim());
    if (/^-+$/.test(cells[0])) continue;
    if (columns.length === 0) {
      columns = cells;
      continue;
    }
    cells.forEach((cell, i) => {
      const kind = {
        Attribute: "attribute",
        Property: section === "Styling" ? "cssProperty" : "property",
        Method: "method",
        Event: "event",
        Part: "part",
      }[columns[i]];
      if (!kind) return;
      for (const [, token] of cell.matchAll(/`([^`]+)`/g)) {
        const name = token.replace(/^ChatWidget\./, "").replace(/\(.*$/, "");
        if (kind === "cssProperty" && !name.startsWith("--")) continue;
        names[kind].add(name);
      }
    });
  }
  return names;
}

Deno.test("the manifest lists everything docs/widget.md documents for <chat-widget>", async () => {
  await using built = await builtPackage();
  const manifest = JSON.parse(await Deno.readTextFile(join(built.dir, "custom-elements.json")));
  const widget = manifest.modules.flatMap((m: { declarations: unknown[] }) => m.declarations)
    .find((d: { tagName?: string }) => d.tagName === "chat-widget");
  assert.ok(widget, "a declaration with tagName chat-widget");
  const listed = (items: { name: string }[] | undefined) => new Set(items?.map((i) => i.name));
  const members = widget.members as { name: string; kind: string }[];
  const inManifest: Record<string, Set<string>> = {
    attribute: listed(widget.attributes),
    property: listed(members.filter((m) => m.kind === "field")),
    method: listed(members.filter((m) => m.kind === "method")),
    event: listed(widget.events),
    part: listed(widget.cssParts),
    cssProperty: listed(widget.cssProperties),
  };
  const docs = documented(await Deno.readTextFile(join(ROOT, "docs", "widget.md")));
  for (const [kind, names] of Object.entries(docs)) {
    assert.ok(names.size > 0, `docs/widget.md documents some ${kind}`);
    const missing = [...names].filter((name) => !inManifest[kind].has(name));
    assert.deepEqual(missing, [], `documented ${kind}s missing from the manifest`);
  }
  assert.equal(widget.slots, undefined, "the widget has no slots");
});

Deno.test("npm pack ships the bundle, its chunks, the types, the manifest and package.json", async () => {
  await using built = await builtPackage();
  const out = await new Deno.Command("npm", {
    args: ["pack", "--dry-run", "--json", built.dir],
    cwd: built.dir,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const [pack] = JSON.parse(new TextDecoder().decode(out.stdout));
  assert.equal(pack.name, WIDGET_PACKAGE.name);
  assert.equal(pack.version, WIDGET_PACKAGE.version);
  const files = (pack.files as { path: string }[]).map((f) => f.path).sort();
  for (
    const name of [
      "package.json",
      "chat-widget.js",
      "chat-widget.js.map",
      "chat-widget.d.ts",
      "custom-elements.json",
      "types/widget/mod.d.ts",
      "types/widget/chat-widget.d.ts",
      "types/server/protocol.d.ts",
    ]
  ) {
    assert.ok(files.includes(name), `${name} in ${files.join(", ")}`);
  }
  const chunks = (await Array.fromAsync(Deno.readDir(built.dir)))
    .map((e) => e.name).filter((n) => /^chat-widget-.+\.js$/.test(n));
  assert.deepEqual(
    chunks.map((n) => n.replace(/-[A-Z0-9]+\.js$/, "")).sort(),
    [
      "chat-widget-ar",
      "chat-widget-conversation",
      "chat-widget-de",
      "chat-widget-dialogs",
      "chat-widget-launcher",
      "chat-widget-search",
    ],
    "the German and Arabic chunks, the conversation's, the dialogs', the launcher's and the search's",
  );
  for (const chunk of chunks) assert.ok(files.includes(chunk), `${chunk} is shipped`);
  const pkg = JSON.parse(await Deno.readTextFile(join(built.dir, "package.json")));
  assert.equal(pkg.type, "module");
  assert.deepEqual(pkg.exports["."], { types: "./chat-widget.d.ts", default: "./chat-widget.js" });
  assert.equal(pkg.customElements, "custom-elements.json");
  assert.match(pkg.dependencies.lit, /^\^3\./);
});

/** Installs the packed package and Lit into `dir/node_modules`, as npm would for a host. */
async function install(packageDir: string, dir: string): Promise<void> {
  const packed = await new Deno.Command("npm", {
    args: ["pack", "--json", "--pack-destination", dir, packageDir],
    cwd: dir,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(packed.code, 0, new TextDecoder().decode(packed.stderr));
  const [{ filename }] = JSON.parse(new TextDecoder().decode(packed.stdout));
  const target = join(dir, "node_modules", WIDGET_PACKAGE.name);
  await Deno.mkdir(target, { recursive: true });
  const untar = await new Deno.Command("tar", {
    args: ["-xzf", join(dir, basename(filename)), "-C", target, "--strip-components=1"],
  }).output();
  assert.equal(untar.code, 0, new TextDecoder().decode(untar.stderr));
  // Lit as the dependency would bring it: the copy this project builds with.
  await Deno.symlink(
    await Deno.realPath(join(ROOT, "node_modules", "lit")),
    join(dir, "node_modules", "lit"),
  );
}

/** TypeScript's complaints about `source` as a host's module that imports the package. */
function typeErrors(dir: string, source: string): string[] {
  const file = join(dir, "host.ts");
  Deno.writeTextFileSync(file, source);
  const program = ts.createProgram([file], {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ["lib.es2022.d.ts", "lib.dom.d.ts", "lib.dom.iterable.d.ts"],
    types: [],
  });
  return ts.getPreEmitDiagnostics(program).map((d) =>
    `${d.file ? basename(d.file.fileName) : ""}: ${
      ts.flattenDiagnosticMessageText(d.messageText, "\n")
    }`
  );
}

Deno.test("a host's TypeScript type-checks against the installed package's types", async () => {
  await using built = await builtPackage();
  const dir = await Deno.makeTempDir({ prefix: "chat-widget-host-" });
  try {
    await install(built.dir, dir);
    const host = `
      import { ChatWidget, defineChatWidget, en, type ChatStrings } from "chat-widget";
      type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2)
        ? true : false;
      const chat = document.querySelector("chat-widget");
      const exact: Equal<typeof chat, ChatWidget | null> = true;
      chat?.addEventListener("chat-message", (e) => {
        const content: string = e.detail.message.content;
        const from: string = e.detail.user.username;
        console.log(content, from, exact);
      });
      chat?.addEventListener("chat-connection-change", (e) => console.log(e.detail.state));
      const strings: ChatStrings = { title: en.title };
      if (chat) chat.strings = strings;
      defineChatWidget();
      const total: number | undefined = chat?.unreadTotal;
      console.log(total, chat?.openConversation("someone"));
    `;
    assert.deepEqual(typeErrors(dir, host), []);
    // The check is real: a wrong detail and a misspelt string key are errors.
    const wrong = typeErrors(
      dir,
      `import type { ChatStrings } from "chat-widget";
      document.querySelector("chat-widget")?.addEventListener("chat-message", (e) => {
        const n: number = e.detail.message.content;
        console.log(n);
      });
      const s: ChatStrings = { titel: "x" };
      console.log(s);`,
    );
    assert.equal(wrong.length, 2, wrong.join("\n"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
