/**
 * Headless screenshots of the demo pages against a real server, for looking at
 * (and for docs/screenshot.png). Not a test; reports console errors and CSP violations.
 *
 *   deno run -A tests/widget/screenshots.ts [out-dir]   (default: /tmp/chat-widget-shots)
 */
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildWidget } from "../../tools/build_widget.ts";
import { HEADLESS_CHROME_ARGS } from "./chrome-args.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const outDir = Deno.args[0] ?? "/tmp/chat-widget-shots";
await Deno.mkdir(outDir, { recursive: true });
await buildWidget();

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

const port = freePort();
const base = `http://127.0.0.1:${port}`;
const server = new Deno.Command(Deno.execPath(), {
  args: ["run", "-A", "server/main.ts"],
  cwd: root,
  env: {
    PORT: String(port),
    HOST: "127.0.0.1",
    KV_PATH: ":memory:",
    CORS_ORIGINS: base,
    SIGNUP_LIMIT: "0",
  },
  stdout: "null",
  stderr: "inherit",
}).spawn();

const problems: string[] = [];

async function waitHealthy(): Promise<void> {
  for (let i = 0; i < 600; i++) {
    try {
      const res = await fetch(`${base}/health`);
      await res.body?.cancel();
      if (res.ok) return;
    } catch {
      // Not up yet.
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("Server not healthy");
}

async function open(browser: Browser, path: string, width: number, height: number): Promise<Page> {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  await page.setViewport({ width, height, deviceScaleFactor: 1 });
  page.on("console", (m) => {
    if (
      (m.type() === "error" || m.type() === "warn") && !m.location().url?.endsWith("favicon.ico")
    ) problems.push(`${path}: ${m.type()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`${path}: pageerror: ${e}`));
  await page.evaluateOnNewDocument(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  await page.goto(`${base}/${path}`, { waitUntil: "load" });
  await page.waitForFunction(() => customElements.get("chat-widget"));
  return page;
}

/** Runs inside the page: drives widget number `index` through its shadow DOM. */
async function act(page: Page, index: number, action: string, arg = ""): Promise<void> {
  await page.waitForFunction(
    (index: number, action: string, arg: string) => {
      // deno-lint-ignore no-explicit-any
      const el = document.querySelectorAll("chat-widget")[index] as any;
      const q = (...sel: string[]) => {
        let n = el;
        for (const s of sel) n = n?.shadowRoot?.querySelector(s);
        return n;
      };
      if (action === "login") {
        const input = q("chat-login", "input");
        if (!input) return el.connectionState === "connected";
        input.value = arg;
        input.dispatchEvent(new Event("input"));
        q("chat-login", "button[type=submit]").click();
        return false;
      }
      if (action === "open") {
        const user = el.users.find((u: { username: string }) => u.username === arg);
        if (!user) return false;
        q("chat-user-list", `button[data-id="${user.userID}"]`)?.click();
        return !!q("chat-conversation", "chat-composer", "textarea");
      }
      if (action === "send") {
        const area = q("chat-conversation", "chat-composer", "textarea");
        area.value = arg;
        area.dispatchEvent(new InputEvent("input"));
        setTimeout(() => area.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter" })), 50);
        return true;
      }
      if (action === "sent") {
        return [...q("chat-conversation").shadowRoot.querySelectorAll(".msg")].every((
          m: HTMLElement,
        ) => m.dataset.state === "sent");
      }
      return true;
    },
    { timeout: 30_000, polling: 100 },
    index,
    action,
    arg,
  );
}

const settle = (page: Page) => page.evaluate(() => new Promise((r) => setTimeout(r, 400)));

try {
  await waitHealthy();
  const browser = await puppeteer.launch({
    executablePath: Deno.env.get("CHROME_PATH") || "/usr/bin/chromium",
    headless: true,
    args: [
      ...HEADLESS_CHROME_ARGS,
      "--font-render-hinting=none",
    ],
  });

  // A third person who was here once and is now offline.
  const priya = await open(browser, "index.html", 1280, 900);
  await act(priya, 0, "login", "Priya");
  await priya.close();

  // Jonas writes from a second browser; he stays online.
  const jonas = await open(browser, "index.html", 1280, 900);
  await act(jonas, 0, "login", "Jonas");

  const maya = await open(browser, "index.html", 1280, 900);
  await act(maya, 0, "login", "Maya (workshop)");
  await act(jonas, 0, "open", "Maya (workshop)");
  await act(jonas, 0, "send", "Hi! My rear brake squeals when it is wet. Is that normal?");
  await act(jonas, 0, "sent");
  await act(maya, 0, "open", "Jonas");
  await act(
    maya,
    0,
    "send",
    "Hi Jonas, a little noise in the wet is normal.\nIf it squeals when dry too, the pads may be glazed.",
  );
  await act(maya, 0, "sent");
  await act(jonas, 0, "send", "Only in the wet. Thanks, that helps!");
  await act(jonas, 0, "sent");
  await act(jonas, 0, "send", "<script>alert('this is text, not code')</script>");
  await act(jonas, 0, "sent");
  await settle(maya);
  await maya.screenshot({ path: join(outDir, "light.png") });

  await maya.select(".controls select[name=theme]", "dark");
  await settle(maya);
  await maya.screenshot({ path: join(outDir, "dark.png") });

  await maya.select(".controls select[name=theme]", "light");
  await maya.select(".controls select[name=lang]", "ar");
  await settle(maya);
  await maya.screenshot({ path: join(outDir, "rtl.png") });
  await maya.select(".controls select[name=lang]", "en");

  // A common phone, then the narrowest width the layout supports.
  await maya.setViewport({ width: 375, height: 720, deviceScaleFactor: 1 });
  await settle(maya);
  await maya.evaluate(() => document.querySelector("chat-widget")!.scrollIntoView());
  await maya.screenshot({ path: join(outDir, "phone-conversation.png") });
  await maya.setViewport({ width: 320, height: 640, deviceScaleFactor: 1 });
  await settle(maya);
  await maya.evaluate(() => document.querySelector("chat-widget")!.scrollIntoView());
  await maya.screenshot({ path: join(outDir, "narrow-conversation.png") });
  await maya.evaluate(() => {
    // deno-lint-ignore no-explicit-any
    (document.querySelector("chat-widget") as any).closeConversation();
  });
  await settle(maya);
  await maya.screenshot({ path: join(outDir, "narrow-list.png") });
  await maya.select(".controls select[name=lang]", "ar");
  await maya.evaluate(() => {
    // deno-lint-ignore no-explicit-any
    const w = document.querySelector("chat-widget") as any;
    w.openConversation(w.users.find((u: { username: string }) => u.username === "Jonas").userID);
  });
  await settle(maya);
  await maya.evaluate(() => document.querySelector("chat-widget")!.scrollIntoView());
  await maya.screenshot({ path: join(outDir, "narrow-rtl.png") });

  const login = await open(browser, "index.html?lang=de", 1280, 900);
  await settle(login);
  await login.screenshot({ path: join(outDir, "login-de.png") });

  const two = await open(browser, "two.html", 1280, 900);
  await act(two, 0, "login", "Left");
  await act(two, 1, "login", "Right");
  await act(two, 0, "open", "Right");
  await act(two, 0, "send", "Hello from the left window");
  await act(two, 0, "sent");
  await settle(two);
  await two.screenshot({ path: join(outDir, "two.png") });

  // The server goes away: banner, and a message waiting in the outbox.
  server.kill("SIGTERM");
  await server.status;
  await two.waitForFunction(
    // deno-lint-ignore no-explicit-any
    () => (document.querySelector("chat-widget") as any).connectionState !== "connected",
    { timeout: 30_000, polling: 100 },
  );
  await act(two, 0, "send", "Written while the server is down");
  await settle(two);
  await two.screenshot({ path: join(outDir, "offline.png") });

  await browser.close();
  console.log(`Screenshots in ${outDir}`);
  // The offline scenario's failed connection attempts are expected console errors.
  const real = problems.filter((p) =>
    !p.includes("ERR_CONNECTION_REFUSED") && !p.includes("WebSocket")
  );
  if (real.length) console.log(`Console problems:\n${real.join("\n")}`);
  else console.log("No console errors or CSP violations");
} finally {
  try {
    server.kill("SIGTERM");
  } catch {
    // Already stopped by the offline scenario.
  }
  await server.status;
}
