// Browser tests of <chat-widget> in headless Chromium against a real chat server.
//
//   deno task test:widget
//   deno run -A npm:@web/test-runner@1.0.0 --config tests/widget/web-test-runner.config.mjs
//
// The config builds the bundle (the tests exercise what ships), starts one server
// process on a free loopback port with a temporary KV file, lets tests stop and
// start it again through server commands (and start, on demand, a second one with a short
// MAX_CONTENT_LENGTH and a third in host mode, whose tokens a command signs), stops them by
// PID at the end, and writes {"passed": N, "failed": M} to $WTR_SUMMARY_FILE when that is set.
// Two browser commands set the page's notification permission and hide or show the page.

import { defaultReporter, summaryReporter } from "@web/test-runner";
import { chromeLauncher } from "@web/test-runner-chrome";
import { esbuildPlugin } from "@web/dev-server-esbuild";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { SignJWT } from "jose";
import { buildWidget } from "../../tools/build_widget.ts";
import { HEADLESS_CHROME_ARGS } from "./chrome-args.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

function freePort() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}

/** One chat server process that can be stopped and started again on the same port and KV file. */
function createChatServer({ port, kvPath, corsOrigins, env = {} }) {
  let child = null;
  let exited = null;
  const url = `http://127.0.0.1:${port}`;

  async function healthy() {
    try {
      const res = await fetch(`${url}/health`);
      await res.body?.cancel();
      return res.ok;
    } catch {
      return false;
    }
  }

  return {
    url,
    get pid() {
      return child?.pid ?? null;
    },
    async start() {
      if (child) return;
      const command = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", join(root, "server", "main.ts")],
        cwd: root,
        env: {
          PORT: String(port),
          HOST: "127.0.0.1",
          KV_PATH: kvPath,
          CORS_ORIGINS: corsOrigins,
          // The paging test seeds 200 messages at once.
          MESSAGE_RATE: "0",
          // Every test page comes from 127.0.0.1 and signs up many users.
          SIGNUP_LIMIT: "0",
          CONNECTIONS_PER_IP: "0",
          ...env,
        },
        stdout: "piped",
        stderr: "piped",
      });
      child = command.spawn();
      const logs = [];
      const drain = async (stream) => {
        for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
          logs.push(chunk);
          if (Deno.env.get("WTR_SERVER_LOGS")) console.error(`[chat-server] ${chunk.trimEnd()}`);
        }
      };
      drain(child.stdout).catch(() => {});
      drain(child.stderr).catch(() => {});
      exited = child.status;
      const deadline = Date.now() + 60_000;
      while (!(await healthy())) {
        const done = await Promise.race([
          exited.then(() => true),
          new Promise((r) => setTimeout(() => r(false), 100)),
        ]);
        if (done) {
          child = null;
          throw new Error(`Chat server exited during startup:\n${logs.join("")}`);
        }
        if (Date.now() > deadline) {
          throw new Error(`Chat server not healthy after 60 s:\n${logs.join("")}`);
        }
      }
    },
    /** Freezes (SIGSTOP) or thaws (SIGCONT) the process: connections stay open, nothing is answered. */
    signal(name) {
      child?.kill(name);
    },
    async stop() {
      if (!child) return;
      const current = child;
      child = null;
      try {
        current.kill("SIGCONT");
        current.kill("SIGTERM");
      } catch {
        // Already gone.
      }
      const timer = setTimeout(() => {
        try {
          current.kill("SIGKILL");
        } catch {
          // Already gone.
        }
      }, 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * A token as the host site would sign it for its user: `sub`, `name`, and `exp` that many
 * seconds from now (negative: already expired).
 */
function signToken({ sub, name, expiresInSeconds = 600 }) {
  const now = Math.floor(Date.now() / 1000);
  const exp = now + expiresInSeconds;
  return new SignJWT({ name })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(sub)
    .setIssuedAt(Math.min(now, exp - 1))
    .setExpirationTime(exp)
    .sign(new TextEncoder().encode(AUTH_SECRET));
}

/**
 * Server commands for the tests: where the server is, and stopping/starting it. `small` is a
 * second server with a short MAX_CONTENT_LENGTH, `host` a third that takes only host-signed
 * tokens (AUTH_SECRET), `search` one that lists few people (USER_LIST_LIMIT), so search is
 * how the rest are found, and `refusing` one whose CORS_ORIGINS leave the test page out; each
 * is started the first time a test asks for it.
 */
function chatServerPlugin(server, small, host, search, refusing, kvDir) {
  return {
    name: "chat-server",
    async serverStart() {
      await server.start();
    },
    async serverStop() {
      await Promise.all([server, small, host, search, refusing].map((s) => s.stop()));
      await Deno.remove(kvDir, { recursive: true }).catch(() => {});
    },
    async executeCommand({ command, payload }) {
      if (command === "chat-server-url") return server.url;
      if (command === "chat-server-small") {
        await small.start();
        return { url: small.url, maxContentLength: SMALL_MAX_CONTENT_LENGTH };
      }
      if (command === "chat-server-host") {
        await host.start();
        return host.url;
      }
      if (command === "chat-server-host-restart") {
        await host.stop();
        await host.start();
        return true;
      }
      if (command === "chat-server-search") {
        await search.start();
        return search.url;
      }
      if (command === "chat-server-refusing") {
        await refusing.start();
        return refusing.url;
      }
      if (command === "chat-token") return await signToken(payload);
      if (command === "chat-server-stop") {
        await server.stop();
        return true;
      }
      if (command === "chat-server-pause") {
        server.signal("SIGSTOP");
        return true;
      }
      if (command === "chat-server-resume") {
        server.signal("SIGCONT");
        return true;
      }
      if (command === "chat-server-start") {
        await server.start();
        return true;
      }
      return undefined;
    },
  };
}

/**
 * Browser commands for the notification tests, on the test's own page: `notifications-permission`
 * sets the page origin's permission (`granted` through puppeteer's overridePermissions, which is
 * CDP's Browser.grantPermissions; `prompt` or `denied` through Browser.setPermission), and
 * `page-visibility` hides the page (`{ hidden: true }` minimizes its window) or shows it again.
 */
function browserPlugin() {
  return {
    name: "chat-browser",
    async executeCommand({ command, payload, session }) {
      if (command !== "notifications-permission" && command !== "page-visibility") return undefined;
      if (session.browser.type !== "puppeteer") {
        throw new Error(`Cannot run ${command} in ${session.browser.type}: puppeteer only`);
      }
      const page = session.browser.getPage(session.id);
      if (command === "notifications-permission") {
        const origin = new URL(page.url()).origin;
        const context = page.browserContext();
        if (payload?.setting === "granted") {
          await context.overridePermissions(origin, ["notifications"]);
        } else {
          await context.setPermission(origin, {
            permission: { name: "notifications" },
            state: payload?.setting === "prompt" ? "prompt" : "denied",
          });
        }
        return true;
      }
      const cdp = await page.createCDPSession();
      try {
        const { windowId } = await cdp.send("Browser.getWindowForTarget");
        await cdp.send("Browser.setWindowBounds", {
          windowId,
          bounds: { windowState: payload?.hidden ? "minimized" : "normal" },
        });
        return true;
      } finally {
        await cdp.detach();
      }
    },
  };
}

/** Counts individual test cases; a file that failed to load counts as one failure. */
function summaryFileReporter(path) {
  return {
    onTestRunFinished({ sessions }) {
      let passed = 0;
      let failed = 0;
      const walk = (suite) => {
        for (const test of suite.tests ?? []) {
          if (test.skipped) continue;
          if (test.passed) passed++;
          else failed++;
        }
        for (const child of suite.suites ?? []) walk(child);
      };
      for (const session of sessions) {
        if (session.testResults) walk(session.testResults);
        if (
          session.errors?.length ||
          (!session.passed && !session.testResults?.tests?.length &&
            !session.testResults?.suites?.length)
        ) {
          failed++;
        }
      }
      if (path) Deno.writeTextFileSync(path, JSON.stringify({ passed, failed }) + "\n");
    },
  };
}

const wtrPort = freePort();
const kvDir = await Deno.makeTempDir({ prefix: "chat-widget-test-" });
const corsOrigins = `http://localhost:${wtrPort},http://127.0.0.1:${wtrPort}`;
const server = createChatServer({ port: freePort(), kvPath: join(kvDir, "chat.kv"), corsOrigins });
/** Its limit is announced in `session`; the composer must count down from it. */
const SMALL_MAX_CONTENT_LENGTH = 40;
const small = createChatServer({
  port: freePort(),
  kvPath: join(kvDir, "small.kv"),
  corsOrigins,
  env: { MAX_CONTENT_LENGTH: String(SMALL_MAX_CONTENT_LENGTH) },
});

/** Host mode: the server verifies tokens signed with this (HS256, at least 32 characters). */
const AUTH_SECRET = [...crypto.getRandomValues(new Uint8Array(32))]
  .map((b) => b.toString(16).padStart(2, "0")).join("");
const host = createChatServer({
  port: freePort(),
  kvPath: join(kvDir, "host.kv"),
  corsOrigins,
  env: { AUTH_SECRET },
});

const search = createChatServer({
  port: freePort(),
  kvPath: join(kvDir, "search.kv"),
  corsOrigins,
  env: { USER_LIST_LIMIT: "4" },
});
const refusing = createChatServer({
  port: freePort(),
  kvPath: join(kvDir, "refusing.kv"),
  corsOrigins: "https://elsewhere.example",
});

const bundle = await buildWidget({ outfile: join(root, "dist", "chat-widget.js") });
console.log(
  `Bundle (what a default page loads): ${(bundle.raw / 1024).toFixed(1)} KB raw, ${
    (bundle.gzip / 1024).toFixed(1)
  } KB gzipped`,
);

const chromePath = Deno.env.get("CHROME_PATH") || "/usr/bin/chromium";

export default {
  rootDir: root,
  port: wtrPort,
  hostname: "localhost",
  files: ["tests/widget/**/*.test.ts"],
  concurrency: 1,
  concurrentBrowsers: 1,
  nodeResolve: { browser: true, exportConditions: ["browser", "production"] },
  testsFinishTimeout: 600_000,
  browserStartTimeout: 120_000,
  testFramework: { config: { timeout: 90_000 } },
  plugins: [
    esbuildPlugin({ ts: true, target: "es2022" }),
    chatServerPlugin(server, small, host, search, refusing, kvDir),
    browserPlugin(),
  ],
  reporters: [
    defaultReporter(),
    summaryReporter({ flatten: false }),
    summaryFileReporter(Deno.env.get("WTR_SUMMARY_FILE")),
  ],
  browsers: [
    chromeLauncher({
      launchOptions: {
        executablePath: chromePath,
        headless: true,
        args: [
          ...HEADLESS_CHROME_ARGS,
          // Background tabs must not throttle timers: the tests wait on socket events.
          "--disable-background-timer-throttling",
          "--disable-renderer-backgrounding",
          "--disable-backgrounding-occluded-windows",
          // The sound tests hear the widget's tone without a click on the page first.
          "--autoplay-policy=no-user-gesture-required",
        ],
      },
    }),
  ],
};
