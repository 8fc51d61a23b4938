import assert from "node:assert/strict";
import { io } from "socket.io-client";
import { nextEvent, startTestServer, waitFor } from "./helpers.ts";
import { resolveInside } from "../../server/http/static_files.ts";
import type { Message, UserEntry } from "../../server/protocol.ts";

/** A demo folder and a bundle in a temporary folder, removed when disposed. */
async function fixtureDirs(): Promise<
  { demoDir: string; bundlePath: string; root: string } & AsyncDisposable
> {
  const root = await Deno.makeTempDir();
  await Deno.mkdir(`${root}/demo`);
  await Deno.writeTextFile(`${root}/demo/index.html`, "<!doctype html><title>demo</title>");
  await Deno.writeTextFile(`${root}/demo/site.css`, "body{}");
  await Deno.writeTextFile(`${root}/secret.txt`, "secret");
  await Deno.writeTextFile(`${root}/chat-widget.js`, "export {};");
  return {
    demoDir: `${root}/demo`,
    bundlePath: `${root}/chat-widget.js`,
    root,
    [Symbol.asyncDispose]: () => Deno.remove(root, { recursive: true }),
  };
}

/** Asserts that each of `paths` is 404 and that no body shows `leak`. */
async function assertNotServed(url: string, paths: string[], leak: RegExp): Promise<void> {
  for (const path of paths) {
    const res = await fetch(`${url}${path}`);
    assert.equal(res.status, 404, path);
    assert.doesNotMatch(await res.text(), leak, path);
  }
}

Deno.test("GET / serves the demo under a strict CSP, and the bundle with CORS", async () => {
  await using dirs = await fixtureDirs();
  await using server = await startTestServer({
    DEMO_DIR: dirs.demoDir,
    BUNDLE_PATH: dirs.bundlePath,
  });
  const page = await fetch(`${server.url}/`);
  assert.equal(page.status, 200);
  assert.equal(page.headers.get("content-type"), "text/html; charset=utf-8");
  const csp = page.headers.get("content-security-policy") ?? "";
  assert.match(csp, /script-src 'self'/);
  assert.match(csp, /style-src 'self'(;|$)/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  assert.match(await page.text(), /<title>demo<\/title>/);
  const css = await fetch(`${server.url}/site.css`);
  assert.equal(css.headers.get("content-type"), "text/css; charset=utf-8");
  await css.text();
  const bundle = await fetch(`${server.url}/chat-widget.js`);
  assert.equal(bundle.status, 200);
  assert.equal(bundle.headers.get("access-control-allow-origin"), "*");
  assert.equal(bundle.headers.get("content-type"), "text/javascript; charset=utf-8");
  const etag = bundle.headers.get("etag")!;
  await Deno.writeTextFile(`${dirs.root}/chat-widget-de-X1.js`, "export const de = {};");
  const chunk = await fetch(`${server.url}/chat-widget-de-X1.js`);
  assert.equal(chunk.status, 200, "chunks loaded on demand sit beside the bundle");
  assert.equal(chunk.headers.get("access-control-allow-origin"), "*");
  assert.equal(await chunk.text(), "export const de = {};");
  for (const bad of ["/chat-widget-..%2fsecret.txt", "/chat-widget-x.txt", "/chat-widget-.js"]) {
    const res = await fetch(`${server.url}${bad}`);
    assert.equal(res.status, 404, bad);
    await res.text();
  }
  await bundle.text();
  const again = await fetch(`${server.url}/chat-widget.js`, { headers: { "If-None-Match": etag } });
  assert.equal(again.status, 304);
  await again.text();
  const head = await fetch(`${server.url}/`, { method: "HEAD" });
  assert.equal(head.status, 200);
  await head.text();
});

Deno.test("GET /health says only its status without METRICS_TOKEN, and everything with it", async () => {
  const token = "a-metrics-token-for-the-test";
  await using server = await startTestServer({ METRICS_TOKEN: token });
  for (const authorization of [undefined, "Bearer wrong-token-of-some-length", `Basic ${token}`]) {
    const res = await fetch(`${server.url}/health`, {
      headers: authorization ? { Authorization: authorization } : {},
    });
    assert.deepEqual(await res.json(), { status: "ok" }, String(authorization));
  }
  await using plain = await startTestServer();
  const open = await fetch(`${plain.url}/health`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  assert.deepEqual(await open.json(), { status: "ok" }, "no token set: nothing more to unlock");
  const res = await fetch(`${server.url}/health`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.equal(body.status, "ok");
  assert.equal(typeof body.uptimeSeconds, "number");
  assert.equal(body.sockets, 0);
  assert.deepEqual(Object.keys(body.writes).sort(), [
    "commitP50Ms",
    "commitP99Ms",
    "commits",
    "largestBatch",
    "laterLost",
    "laterPending",
    "laterWritten",
    "lockRetries",
    "mutations",
    "pending",
    "writes",
  ]);
});

Deno.test("the HTTP routes refuse traversal, unknown files and other methods", async () => {
  await using dirs = await fixtureDirs();
  await using server = await startTestServer({
    DEMO_DIR: dirs.demoDir,
    BUNDLE_PATH: `${dirs.root}/missing.js`,
  });
  await assertNotServed(server.url, [
    "/../secret.txt",
    "/%2e%2e/secret.txt",
    "/..%2fsecret.txt",
    "/.hidden",
    "/nope.html",
    "/%E0%A4%A",
  ], /secret/);
  const missing = await fetch(`${server.url}/chat-widget.js`);
  assert.equal(missing.status, 404);
  assert.match(await missing.text(), /deno task build/);
  const post = await fetch(`${server.url}/`, { method: "POST", body: "x" });
  assert.equal(post.status, 405);
  assert.equal(post.headers.get("allow"), "GET, HEAD");
  await post.text();
  assert.equal(resolveInside("/srv/demo", "/a/../../etc/passwd"), null);
  assert.equal(resolveInside("/srv/demo", "/ok.html"), "/srv/demo/ok.html");
});

Deno.test("static files never follow a symlink out of their folder", async () => {
  await using dirs = await fixtureDirs();
  await using outside = await fixtureDirs();
  await Deno.symlink("/etc/passwd", `${dirs.demoDir}/link`);
  await Deno.symlink(`${dirs.root}/secret.txt`, `${dirs.demoDir}/secret.txt`);
  await Deno.symlink(dirs.root, `${dirs.demoDir}/up`);
  await Deno.symlink(`${outside.root}/chat-widget.js`, `${dirs.root}/chat-widget-evil.js`);
  // Links that stay inside are served like the files they point to.
  await Deno.symlink(`${dirs.demoDir}/site.css`, `${dirs.demoDir}/alias.css`);
  await using server = await startTestServer({
    DEMO_DIR: dirs.demoDir,
    BUNDLE_PATH: dirs.bundlePath,
  });
  await assertNotServed(
    server.url,
    ["/link", "/secret.txt", "/up/secret.txt", "/chat-widget-evil.js"],
    /root:|secret|export/,
  );
  const alias = await fetch(`${server.url}/alias.css`);
  assert.equal(alias.status, 200);
  assert.equal(await alias.text(), "body{}");
});

Deno.test("connections from foreign origins are refused unless CORS_ORIGINS allows them", async () => {
  await using strict = await startTestServer();
  const handshake = (url: string, origin: string) =>
    fetch(`${url}/socket.io/?EIO=4&transport=polling`, { headers: { Origin: origin } });
  const foreign = await handshake(strict.url, "https://evil.example");
  assert.equal(foreign.status, 403);
  await foreign.text();
  const same = await handshake(strict.url, strict.url);
  assert.equal(same.status, 200);
  await same.text();
  await strict.close();

  await using open = await startTestServer({ CORS_ORIGINS: "http://localhost:8080" });
  const allowed = await handshake(open.url, "http://localhost:8080");
  assert.equal(allowed.status, 200);
  assert.equal(allowed.headers.get("access-control-allow-origin"), "http://localhost:8080");
  await allowed.text();
  const other = await handshake(open.url, "http://localhost:9999");
  assert.equal(other.status, 403);
  await other.text();
  await open.close();
});

Deno.test("a WebSocket from a foreign origin is told origin_not_allowed; an allowed one connects", async () => {
  await using server = await startTestServer({ CORS_ORIGINS: "http://localhost:8080" });
  const connect = (origin: string) => {
    const socket = io(server.url, {
      auth: { username: `ws${crypto.randomUUID().slice(0, 8)}` },
      transports: ["websocket"],
      extraHeaders: { Origin: origin },
      reconnection: false,
      forceNew: true,
    });
    return new Promise<{ ok: boolean; code?: string; active: boolean }>((resolve) => {
      socket.once("session", () => {
        resolve({ ok: true, active: socket.active });
        socket.disconnect();
      });
      socket.once("connect_error", (err: Error & { data?: { code?: string } }) => {
        resolve({ ok: false, code: err.data?.code, active: socket.active });
        socket.disconnect();
      });
    });
  };
  const refused = await connect("https://evil.example");
  assert.deepEqual(refused, { ok: false, code: "origin_not_allowed", active: false });
  assert.equal((await connect("http://localhost:8080")).ok, true);
});

// The guide's Vue client (Part III), reduced to its socket calls: it connects with
// autoConnect false and auth {username}, stores the session, reconnects with
// auth {sessionID}, lists `users`, and sends `private message` without an ack.
Deno.test("the guide's client flow works unchanged over polling from an allowed origin", async () => {
  const origin = "http://localhost:8080";
  await using server = await startTestServer({ CORS_ORIGINS: origin });
  const guideClient = () =>
    io(server.url, {
      autoConnect: false,
      reconnection: false,
      forceNew: true,
      extraHeaders: { Origin: origin },
    });
  const alice = guideClient();
  alice.auth = { username: "alice" };
  const aliceSession = nextEvent<{ sessionID: string; userID: string }>(alice as never, "session");
  alice.connect();
  const { sessionID, userID } = await aliceSession;
  alice.auth = { sessionID };

  const bob = guideClient();
  bob.auth = { username: "bob" };
  const bobUsers = nextEvent<UserEntry[]>(bob as never, "users");
  const aliceSawBob = nextEvent<UserEntry>(alice as never, "user connected");
  bob.connect();
  const users = await bobUsers;
  for (const user of users) {
    assert.equal(typeof user.userID, "string");
    assert.equal(typeof user.username, "string");
    assert.equal(typeof user.connected, "boolean");
    assert.ok(Array.isArray(user.messages));
  }
  assert.ok(users.some((u) => u.userID === userID && u.connected));
  const bobUser = await aliceSawBob;
  assert.equal(bobUser.username, "bob");

  const got = nextEvent<Message>(bob as never, "private message");
  alice.emit("private message", { content: "hello from the guide", to: bobUser.userID });
  const message = await got;
  assert.equal(message.content, "hello from the guide");
  assert.equal(message.from, userID);
  assert.equal(message.to, bobUser.userID);

  // Reload: the guide reconnects with the stored session and finds the message in `users`.
  bob.disconnect();
  alice.disconnect();
  const reloaded = guideClient();
  reloaded.auth = { sessionID };
  const reloadedUsers = nextEvent<UserEntry[]>(reloaded as never, "users");
  reloaded.connect();
  const bobEntry = (await reloadedUsers).find((u) => u.username === "bob")!;
  assert.deepEqual(bobEntry.messages.map((m) => m.content), ["hello from the guide"]);
  assert.equal(bobEntry.connected, false);
  await waitFor(
    () => reloaded.io.engine?.transport.name === "websocket",
    "the upgrade to websocket",
  );
  reloaded.disconnect();
});

Deno.test("helpers: connect() fails fast on a refused handshake", async () => {
  await using server = await startTestServer();
  await assert.rejects(server.connect({}), /invalid username/);
});

Deno.test("every demo page names its icon, which is served, so a browser asks for no /favicon.ico", async () => {
  await using server = await startTestServer();
  for (const page of ["index.html", "support.html", "two.html", "signed-in.html"]) {
    const html = await (await fetch(`${server.url}/${page}`)).text();
    assert.match(html, /<link rel="icon" href="favicon.svg" type="image\/svg\+xml">/, page);
  }
  const icon = await fetch(`${server.url}/favicon.svg`);
  assert.equal(icon.status, 200);
  assert.equal(icon.headers.get("content-type"), "image/svg+xml");
  assert.match(await icon.text(), /^<svg /);
});

Deno.test("/healthz says the process is up; /readyz says whether KV takes writes, and 503 when it does not", async () => {
  const kv = await Deno.openKv(":memory:");
  await using server = await startTestServer({}, { kv });
  const healthz = await fetch(`${server.url}/healthz`);
  assert.equal(healthz.status, 200);
  assert.deepEqual(await healthz.json(), { status: "ok" });
  const ready = await fetch(`${server.url}/readyz`);
  assert.equal(ready.status, 200);
  assert.deepEqual(await ready.json(), { status: "ready", checks: { kv: "ok" } });
  kv.close();
  const broken = await fetch(`${server.url}/readyz`);
  assert.equal(broken.status, 503);
  const body = await broken.json();
  assert.equal(body.status, "not ready");
  assert.match(body.checks.kv, /^not writable: /);
  assert.equal((await fetch(`${server.url}/healthz`)).status, 200, "up, though not ready");
});
