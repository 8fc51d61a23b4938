/**
 * `deno task serve`'s launcher: starts `server/main.ts` with permissions scoped
 * to what its settings need. It reads and writes the project's `./data/` and
 * the folder of `KV_PATH`, wherever that is; reads the project folder; and uses
 * the network, the environment and the host name. The server never prompts for
 * more. SIGINT and SIGTERM are passed on, and the server's exit code is this
 * launcher's.
 */

import { dirname, relative, resolve } from "node:path";

const ROOT = resolve(new URL("..", import.meta.url).pathname);

/** The folder a `KV_PATH` keeps its file (and its -wal and -shm) in, or null for none on disk. */
export function kvFolder(kvPath: string): string | null {
  if (kvPath === ":memory:" || /^[a-z][a-z0-9+.-]*:\/\//i.test(kvPath)) return null;
  return dirname(resolve(kvPath));
}

/** The `deno run` flags and script for the server with `env`'s settings. */
export function serverArgs(
  env: Record<string, string | undefined>,
  extra: string[] = [],
): string[] {
  const data = resolve(ROOT, "data");
  const folders = new Set([data]);
  const kv = kvFolder(env.KV_PATH?.trim() || "./data/chat.kv");
  if (kv !== null) folders.add(kv);
  const writable = [...folders].map((f) => {
    const inside = relative(ROOT, f);
    return inside.startsWith("..") ? f : `./${inside}`;
  });
  return [
    "run",
    "--no-prompt",
    "--allow-net",
    `--allow-read=.,${writable.join(",")}`,
    `--allow-write=${writable.join(",")}`,
    "--allow-env",
    "--allow-sys=hostname",
    "server/main.ts",
    ...extra,
  ];
}

if (import.meta.main) {
  const child = new Deno.Command(Deno.execPath(), {
    args: serverArgs(Deno.env.toObject(), Deno.args),
    cwd: ROOT,
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => {
      try {
        child.kill(signal);
      } catch {
        // It has exited already.
      }
    });
  }
  Deno.exit((await child.status).code);
}
