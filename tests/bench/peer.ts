/**
 * The peer: the Socket.IO guide's "Private messaging" Part III server (Node,
 * socket.io 3, sessions and messages in memory), measured beside ours under the
 * same load (the `guide` protocol of `load.ts`). Its code is not part of this
 * project: at run time it is copied from its folder into the benchmark's cache,
 * installed there with npm once per version of its files, and started with
 * node, our loopback preload (`peer_loopback.cjs`) and `PORT`.
 */

import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { sha256 } from "./cache.ts";
import { type ServerProcess, startProcess } from "./server_process.ts";

/** Where the benchmark machines keep the guide's server; `--peer-dir` names another folder. */
export const GUIDE_SERVER_DIR = "/work/shared/peers/guide-part3/server";

// Makes the peer's HTTP server listen on loopback only.
const LOOPBACK_PRELOAD = fileURLToPath(new URL("./peer_loopback.cjs", import.meta.url));

// Marks a cache entry whose install finished; an entry without it is never used.
const INSTALLED_MARK = ".bench-installed";

/** The peer ready to start from `dir`, or why it cannot run. */
export type PeerInstall =
  | { ok: true; dir: string; cached: boolean }
  | { ok: false; reason: string };

/** The programs the peer needs: node to run it, npm to install it. */
export interface PeerTools {
  /** The node program (default `node` on the PATH). */
  node?: string;
  /** The npm program (default `npm` on the PATH). */
  npm?: string;
}

/**
 * Copies the server in `source` into `cacheDir` and installs its dependencies
 * there (`npm install --no-audit --no-fund`), reusing an earlier install of the
 * same files. Never throws: a missing node or npm, a missing folder or a failed
 * install gives `ok: false` with the reason.
 */
export async function preparePeer(
  source: string,
  { cacheDir, node = "node", npm = "npm", timeoutMs = 180_000 }: PeerTools & {
    cacheDir: string;
    /** How long npm may take before it is stopped. */
    timeoutMs?: number;
  },
): Promise<PeerInstall> {
  for (const program of [node, npm]) {
    const version = await run(program, ["--version"], { cwd: cacheDir, timeoutMs: 30_000 });
    if (version.code !== 0) {
      return { ok: false, reason: `Cannot run "${program} --version": ${version.error}` };
    }
  }
  let files: Map<string, Uint8Array>;
  try {
    files = await readFiles(source);
  } catch (error) {
    return { ok: false, reason: `Cannot read the peer in "${source}": ${message(error)}` };
  }
  for (const needed of ["index.js", "package.json"]) {
    if (!files.has(needed)) {
      return { ok: false, reason: `Cannot use "${source}" as the peer: it has no ${needed}` };
    }
  }
  const decoder = new TextDecoder();
  const key = (await sha256(
    [...files].map(([path, bytes]) => `${path}\n${decoder.decode(bytes)}`).join("\n\0\n"),
  )).slice(0, 16);
  const dir = join(cacheDir, `peer-${key}`);
  if (await exists(join(dir, INSTALLED_MARK))) return { ok: true, dir, cached: true };
  await Deno.mkdir(cacheDir, { recursive: true });
  // Installed beside the entry and renamed into place, so a broken install never looks finished.
  const staging = await Deno.makeTempDir({ dir: cacheDir, prefix: `peer-${key}-installing-` });
  try {
    for (const [path, bytes] of files) {
      await Deno.mkdir(join(staging, path, ".."), { recursive: true });
      await Deno.writeFile(join(staging, path), bytes);
    }
    const install = await run(npm, ["install", "--no-audit", "--no-fund"], {
      cwd: staging,
      timeoutMs,
    });
    if (install.code !== 0) {
      return {
        ok: false,
        reason: `Cannot install the peer: "${npm} install" failed (${install.error})`,
      };
    }
    await Deno.writeTextFile(join(staging, INSTALLED_MARK), new Date().toISOString());
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    await Deno.rename(staging, dir);
    return { ok: true, dir, cached: false };
  } finally {
    await Deno.remove(staging, { recursive: true }).catch(() => {});
  }
}

/** Starts the installed peer in `dir` on a free port, ready once the port answers. */
export function startPeer(dir: string, { node = "node" }: PeerTools = {}): Promise<ServerProcess> {
  return startProcess(node, {
    args: ["-r", LOOPBACK_PRELOAD, "index.js"],
    cwd: dir,
    env: {},
    ready: "port",
    health: false,
  });
}

/** The files below `dir` by path, leaving out installed packages. */
async function readFiles(dir: string): Promise<Map<string, Uint8Array>> {
  const files = new Map<string, Uint8Array>();
  const walk = async (at: string) => {
    const entries = [];
    for await (const entry of Deno.readDir(at)) entries.push(entry);
    entries.sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const entry of entries) {
      const path = join(at, entry.name);
      if (entry.isDirectory && entry.name !== "node_modules") await walk(path);
      else if (entry.isFile) files.set(relative(dir, path), await Deno.readFile(path));
    }
  };
  await walk(dir);
  return files;
}

/** `program args` in `cwd`: its exit code, and what went wrong when it is not 0. */
async function run(
  program: string,
  args: string[],
  { cwd, timeoutMs }: { cwd: string; timeoutMs: number },
): Promise<{ code: number; error: string }> {
  await Deno.mkdir(cwd, { recursive: true });
  try {
    const out = await new Deno.Command(program, {
      args,
      cwd,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(timeoutMs),
    }).output();
    if (out.success) return { code: 0, error: "" };
    // npm says what went wrong first, then where its log is.
    const text = new TextDecoder().decode(out.stderr).split("\n").filter((line) => line.trim())
      .slice(0, 2).join(" / ");
    const how = out.signal
      ? `stopped by ${out.signal} after at most ${timeoutMs} ms`
      : `exit ${out.code}`;
    return { code: out.code || 1, error: `${how}${text ? `: ${text}` : ""}` };
  } catch (error) {
    return { code: 127, error: message(error) };
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
