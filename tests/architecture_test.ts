/**
 * The house rules of the layout (README "Layout"), read off the real module graph
 * (`deno info --json`): arrows one way, no circles, the widget apart.
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** Each project file (path from the root) and the project files it imports. */
type Graph = Map<string, Set<string>>;

type Layer =
  | "main"
  | "app"
  | "config"
  | "protocol"
  | "log"
  | "metrics"
  | "chat"
  | "auth"
  | "store"
  | "transport"
  | "http"
  | "widget"
  | "tools";

/** The layers each layer may import besides itself; `tools` may import any but `main`. */
const MAY_IMPORT: Record<Exclude<Layer, "tools">, readonly Layer[]> = {
  main: ["app", "config", "log", "protocol", "store"],
  app: ["chat", "auth", "store", "transport", "http", "config", "log", "metrics", "protocol"],
  config: ["log", "protocol"],
  // The metrics (prom-client) are counted by the transport; the chat domain and
  // the store know nothing of them (the store reports commits through a callback).
  metrics: ["protocol"],
  transport: ["chat", "log", "metrics", "protocol"],
  store: ["chat", "log", "protocol"],
  auth: ["chat", "log", "protocol"],
  http: ["log", "protocol"],
  chat: ["log", "protocol"],
  protocol: [],
  log: [],
  widget: ["protocol"],
};

/** The layer of a project file, or null for files outside the house (tests, demo). */
export function layerOf(path: string): Layer | null {
  const single: Record<string, Layer> = {
    "server/main.ts": "main",
    "server/app.ts": "app",
    "server/config.ts": "config",
    "server/protocol.ts": "protocol",
    "server/log.ts": "log",
    "server/metrics.ts": "metrics",
  };
  if (path in single) return single[path];
  const folder = /^server\/(chat|auth|store|transport|http)\//.exec(path)?.[1] as Layer | undefined;
  if (folder) return folder;
  if (path.startsWith("widget/")) return "widget";
  if (path.startsWith("tools/")) return "tools";
  return null;
}

/** Every import of the graph that breaks a rule, and every circle, one line each. */
export function houseViolations(graph: Graph): string[] {
  const problems: string[] = [];
  for (const [from, targets] of graph) {
    const layer = layerOf(from);
    if (layer === null && from.startsWith("server/")) {
      problems.push(`${from} is in no layer of the server`);
    }
    for (const to of targets) {
      if (to === "server/main.ts") {
        problems.push(`${from} imports server/main.ts, which nothing may import`);
        continue;
      }
      const target = layerOf(to);
      if (layer === null || layer === "tools" || target === null || target === layer) continue;
      if (!MAY_IMPORT[layer].includes(target)) {
        problems.push(`${from} (${layer}) imports ${to} (${target})`);
      }
    }
  }
  for (const circle of circles(graph)) problems.push(`circle of ${circle.join(", ")}`);
  return problems;
}

/** The strongly connected components of more than one file, and files importing themselves. */
export function circles(graph: Graph): string[][] {
  // Tarjan's algorithm.
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string) => {
    index.set(node, next);
    low.set(node, next);
    next++;
    stack.push(node);
    onStack.add(node);
    for (const to of graph.get(node) ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(node, Math.min(low.get(node)!, low.get(to)!));
      } else if (onStack.has(to)) {
        low.set(node, Math.min(low.get(node)!, index.get(to)!));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1 || graph.get(node)?.has(node)) found.push(component.sort());
    }
  };
  for (const node of [...graph.keys()].sort()) if (!index.has(node)) visit(node);
  return found;
}

interface InfoModule {
  specifier: string;
  dependencies?: { code?: { specifier?: string }; type?: { specifier?: string } }[];
}

/**
 * The project's own files reachable from `roots`, with their imports (static,
 * dynamic and type-only): project files by path, npm packages as `npm:name`.
 */
async function moduleGraph(roots: string[]): Promise<Graph> {
  const graph: Graph = new Map();
  // "npm:/@scope/name@1.2.3/path" -> "npm:@scope/name"
  const packageName = (specifier: string) =>
    `npm:${/^(@[^/]+\/)?[^/@]+/.exec(specifier.slice(4).replace(/^\//, ""))![0]}`;
  const local = (specifier: string | undefined) =>
    specifier?.startsWith("file://")
      ? fileURLToPath(specifier).slice(ROOT.length)
      : specifier?.startsWith("npm:")
      ? packageName(specifier)
      : null;
  for (const root of roots) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", root],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, `deno info ${root}: ${new TextDecoder().decode(out.stderr)}`);
    const info = JSON.parse(new TextDecoder().decode(out.stdout)) as { modules: InfoModule[] };
    for (const module of info.modules) {
      const from = local(module.specifier);
      if (from === null || from.includes("node_modules/")) continue;
      const targets = graph.get(from) ?? new Set<string>();
      for (const dep of module.dependencies ?? []) {
        for (const specifier of [dep.code?.specifier, dep.type?.specifier]) {
          const to = local(specifier);
          if (to !== null) targets.add(to);
        }
      }
      graph.set(from, targets);
    }
  }
  return graph;
}

async function houseRoots(): Promise<string[]> {
  const roots = ["server/main.ts"];
  for (const dir of ["widget", "tools"]) {
    for await (const entry of Deno.readDir(`${ROOT}${dir}`)) {
      if (entry.isFile && entry.name.endsWith(".ts")) roots.push(`${dir}/${entry.name}`);
    }
  }
  return roots.sort();
}

Deno.test("the module graph keeps the house rules: arrows one way, no circles", async () => {
  const graph = await moduleGraph(await houseRoots());
  for (const file of ["server/main.ts", "server/chat/service.ts", "server/transport/socket.ts"]) {
    assert.ok(graph.has(file), `the graph holds ${file}`);
  }
  assert.ok([...graph.keys()].some((f) => f.startsWith("widget/")), "the graph holds the widget");
  assert.deepEqual(houseViolations(graph), []);
  // The chat domain counts nothing itself: only server/metrics.ts knows prom-client.
  const promClient = [...graph].filter(([, targets]) => targets.has("npm:prom-client"));
  assert.deepEqual(promClient.map(([file]) => file), ["server/metrics.ts"]);
});

Deno.test("houseViolations() names forbidden imports and circles", () => {
  const graph: Graph = new Map([
    [
      "server/chat/service.ts",
      new Set(["server/store/kv_store.ts", "server/protocol.ts", "server/chat/errors.ts"]),
    ],
    ["server/store/kv_store.ts", new Set(["server/transport/types.ts", "server/chat/ports.ts"])],
    ["server/transport/types.ts", new Set(["server/protocol.ts"])],
    ["server/http/routes.ts", new Set(["server/chat/errors.ts"])],
    ["server/chat/errors.ts", new Set(["server/chat/service.ts"])],
    ["widget/chat-widget.ts", new Set(["server/chat/ids.ts", "server/protocol.ts"])],
    ["tools/build_widget.ts", new Set(["server/main.ts", "widget/chat-widget.ts"])],
    ["server/log.ts", new Set(["server/log.ts"])],
    ["server/chat/ports.ts", new Set(["server/protocol.ts"])],
    ["server/helpers.ts", new Set(["server/protocol.ts"])],
  ]);
  assert.deepEqual(houseViolations(graph).sort(), [
    "circle of server/chat/errors.ts, server/chat/service.ts",
    "circle of server/log.ts",
    "server/chat/service.ts (chat) imports server/store/kv_store.ts (store)",
    "server/helpers.ts is in no layer of the server",
    "server/http/routes.ts (http) imports server/chat/errors.ts (chat)",
    "server/store/kv_store.ts (store) imports server/transport/types.ts (transport)",
    "tools/build_widget.ts imports server/main.ts, which nothing may import",
    "widget/chat-widget.ts (widget) imports server/chat/ids.ts (chat)",
  ]);
});

Deno.test("layerOf() places every server file in its layer and leaves tests outside", () => {
  assert.equal(layerOf("server/transport/socket.ts"), "transport");
  assert.equal(layerOf("server/store/keys.ts"), "store");
  assert.equal(layerOf("server/log.ts"), "log");
  assert.equal(layerOf("server/metrics.ts"), "metrics");
  assert.equal(layerOf("widget/locales/en.ts"), "widget");
  assert.equal(layerOf("tests/server/helpers.ts"), null);
  assert.equal(layerOf("server/unknown.ts"), null);
});
