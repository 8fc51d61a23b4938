/**
 * `deno task test`: makes sure what the tests need is installed (Chromium and
 * redis-server), runs the Deno tests and the browser tests, and ends with one
 * line `N passed, M failed` summed over both runners.
 */

const ROOT = new URL("..", import.meta.url).pathname;
const DENO = Deno.execPath();

interface Counts {
  passed: number;
  failed: number;
}

async function which(name: string): Promise<string | null> {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (dir === "") continue;
    const path = `${dir}/${name}`;
    try {
      const info = await Deno.stat(path);
      if (info.isFile && info.mode !== null && (info.mode & 0o111) !== 0) return path;
    } catch {
      // not in this folder
    }
  }
  return null;
}

async function run(cmd: string, args: string[], env: Record<string, string> = {}): Promise<number> {
  const child = new Deno.Command(cmd, {
    args,
    cwd: ROOT,
    env,
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  return (await child.status).code;
}

let aptUpdated = false;

/** Finds a program, installing its Debian package when running as root; null if neither works. */
async function ensure(names: string[], debianPackage: string): Promise<string | null> {
  for (const name of names) {
    const found = await which(name);
    if (found) return found;
  }
  if (Deno.uid() !== 0 || (await which("apt-get")) === null) return null;
  console.log(`Installing ${debianPackage} with apt-get...`);
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  if (!aptUpdated) {
    await run("apt-get", ["update", "-qq"], env);
    aptUpdated = true;
  }
  if (await run("apt-get", ["install", "-y", "-qq", debianPackage], env) !== 0) return null;
  for (const name of names) {
    const found = await which(name);
    if (found) return found;
  }
  return null;
}

function countJunit(xml: string): Counts {
  let passed = 0;
  let failed = 0;
  for (const match of xml.matchAll(/<testcase\b[^>]*?(\/>|>([\s\S]*?)<\/testcase>)/g)) {
    const body = match[2] ?? "";
    if (/<(failure|error)\b/.test(body)) failed++;
    else if (!/<skipped\b/.test(body)) passed++;
  }
  return { passed, failed };
}

const chrome = Deno.env.get("CHROME_PATH") ||
  await ensure(["chromium", "chromium-browser", "google-chrome"], "chromium");
const redis = await ensure(["redis-server"], "redis-server");
const missing = [
  chrome ? null : "Chromium (Debian: apt-get install chromium, or set CHROME_PATH)",
  redis ? null : "redis-server (Debian: apt-get install redis-server)",
].filter((x) => x !== null);
if (missing.length > 0) {
  console.error(`Cannot run the tests: install ${missing.join(" and ")}, then run again`);
  console.log("0 passed, 1 failed");
  Deno.exit(1);
}

const tmp = await Deno.makeTempDir({ prefix: "chat-widget-test-" });
const filter = Deno.args;
const totals: Record<string, Counts> = {};

// 1. Deno tests: domain, store, Socket.IO integration, cluster, bundle.
const junit = `${tmp}/deno.xml`;
const denoCode = await run(DENO, ["test", "-A", `--junit-path=${junit}`, ...filter], {
  CHROME_PATH: chrome!,
});
try {
  totals.deno = countJunit(await Deno.readTextFile(junit));
} catch {
  totals.deno = { passed: 0, failed: 1 };
}
if (denoCode !== 0 && totals.deno.failed === 0) totals.deno.failed = 1;

// 2. Browser tests in Chromium against a real server.
const config = `${ROOT}tests/widget/web-test-runner.config.mjs`;
try {
  await Deno.stat(config);
  const summary = `${tmp}/wtr.json`;
  const code = await run(DENO, ["task", "test:widget"], {
    CHROME_PATH: chrome!,
    WTR_SUMMARY_FILE: summary,
  });
  try {
    totals.browser = JSON.parse(await Deno.readTextFile(summary)) as Counts;
  } catch {
    totals.browser = { passed: 0, failed: 1 };
  }
  if (code !== 0 && totals.browser.failed === 0) totals.browser.failed = 1;
} catch (error) {
  if (!(error instanceof Deno.errors.NotFound)) throw error;
}

await Deno.remove(tmp, { recursive: true });
let passed = 0;
let failed = 0;
for (const [runner, counts] of Object.entries(totals)) {
  console.log(`${runner}: ${counts.passed} passed, ${counts.failed} failed`);
  passed += counts.passed;
  failed += counts.failed;
}
if (passed === 0 && failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed`);
Deno.exit(failed === 0 ? 0 : 1);
