import assert from "node:assert/strict";
import { kvFolder, serverArgs } from "../../tools/serve.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

Deno.test("serverArgs() scopes reads and writes to ./data and the folder of KV_PATH", () => {
  assert.deepEqual(serverArgs({}).slice(0, 7), [
    "run",
    "--no-prompt",
    "--allow-net",
    "--allow-read=.,./data",
    "--allow-write=./data",
    "--allow-env",
    "--allow-sys=hostname",
  ]);
  const elsewhere = serverArgs({ KV_PATH: "/var/lib/chat/chat.kv" }, ["--help"]);
  assert.ok(elsewhere.includes("--allow-write=./data,/var/lib/chat"), elsewhere.join(" "));
  assert.ok(elsewhere.includes("--allow-read=.,./data,/var/lib/chat"));
  assert.deepEqual(elsewhere.slice(-2), ["server/main.ts", "--help"]);
  assert.equal(kvFolder(":memory:"), null);
  assert.equal(kvFolder("https://api.deno.com/databases/x/connect"), null);
  assert.ok(serverArgs({ KV_PATH: ":memory:" }).includes("--allow-write=./data"));
});

Deno.test("the launcher serves with KV_PATH outside the project, and passes SIGTERM on", async () => {
  const dir = await Deno.makeTempDir({ prefix: "chat-launcher-" });
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", "--allow-read", "--allow-env", "--allow-run", "tools/serve.ts"],
    cwd: ROOT,
    env: {
      PORT: String(port),
      HOST: "127.0.0.1",
      KV_PATH: `${dir}/nested/chat.kv`,
      LOG_FORMAT: "json",
    },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  try {
    let ready: { status: string } | undefined;
    for (let i = 0; i < 200 && !ready; i++) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/readyz`);
        ready = await res.json();
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    assert.equal(ready?.status, "ready");
    assert.ok((await Deno.stat(`${dir}/nested/chat.kv`)).isFile);
    child.kill("SIGTERM");
    const { code } = await child.status;
    assert.equal(code, 0, "the server drained and exited 0");
  } finally {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
    await child.stdout.cancel().catch(() => {});
    await child.stderr.cancel().catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
});
