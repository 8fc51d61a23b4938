/**
 * Headless screenshots of the demo pages against a real server (and one in host mode), for
 * looking at (and for docs/screenshot.png). Not a test; reports console errors and CSP
 * violations.
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

/** A chat server on a free loopback port with an in-memory KV, serving the demo pages too. */
function startServer(env: Record<string, string> = {}): { base: string; child: Deno.ChildProcess } {
  const port = freePort();
  const base = `http://127.0.0.1:${port}`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "server/main.ts"],
    cwd: root,
    env: {
      PORT: String(port),
      HOST: "127.0.0.1",
      KV_PATH: ":memory:",
      CORS_ORIGINS: base,
      SIGNUP_LIMIT: "0",
      ...env,
    },
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  return { base, child };
}

const { base, child: server } = startServer();
// Host mode: it takes only tokens signed by the host site; its demo page gets them from /demo-token.
const { base: hostBase, child: hostServer } = startServer({
  DEMO_AUTH: "1",
  AUTH_SECRET: [...crypto.getRandomValues(new Uint8Array(32))]
    .map((b) => b.toString(16).padStart(2, "0")).join(""),
});

const problems: string[] = [];

async function waitHealthy(base: string): Promise<void> {
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

async function open(
  browser: Browser,
  path: string,
  width: number,
  height: number,
  origin = base,
): Promise<Page> {
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
  await page.goto(`${origin}/${path}`, { waitUntil: "load" });
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
      if (action === "search") {
        // Types `arg` into the list's search box; done once the server's answer shows.
        const input = q("chat-user-list", "[part=search]");
        if (!input) return false;
        if (input.value !== arg) {
          input.value = arg;
          input.dispatchEvent(new InputEvent("input", { bubbles: true, composed: true }));
          return false;
        }
        const status = q("chat-user-list", "chat-search-results [role=status]");
        return !arg || / found$/.test(status?.textContent ?? "");
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
      if (action === "logout-dialog" || action === "delete") {
        if (action === "delete" && el.connectionState === "signed-out") return true;
        // The dialog comes with its chunk, on the first press of Log out.
        const dialog = q("chat-logout-dialog", "dialog");
        if (!dialog?.open) {
          q("[part=logout-button]")?.click();
          return false;
        }
        if (action === "delete") q("chat-logout-dialog", "button[aria-describedby=delete]").click();
        return action === "logout-dialog";
      }
      if (action === "type") {
        // Typing without sending: the other side sees "… is typing".
        const area = q("chat-conversation", "chat-composer", "textarea");
        area.value = arg;
        area.dispatchEvent(new InputEvent("input"));
        return true;
      }
      if (action === "typing-shown") {
        return !!q("chat-conversation", "[part=typing]")?.textContent.trim();
      }
      if (action === "seen" || action === "delivered") {
        const mine = [...q("chat-conversation").shadowRoot.querySelectorAll(".msg.out")];
        return mine.length > 0 && mine.every((m: HTMLElement) => m.dataset.receipt === action);
      }
      if (action === "menu") {
        // The ⋯ menu of the own message `arg`.
        const msg = [...q("chat-conversation").shadowRoot.querySelectorAll(".msg.out")].find((
          m: HTMLElement,
        ) => m.querySelector(".bubble")!.textContent === arg) as HTMLElement | undefined;
        if (!msg) return false;
        if (msg.querySelector("[part=message-menu]")) return true;
        msg.querySelector<HTMLButtonElement>("[part=message-menu-button]")?.click();
        return false;
      }
      if (action === "menu-item") {
        const item = [...q("chat-conversation").shadowRoot.querySelectorAll("[role=menuitem]")]
          .find((i: HTMLElement) => i.textContent!.trim() === arg) as HTMLElement | undefined;
        item?.click();
        return !!item;
      }
      if (action === "editing") return !!q("chat-conversation", "chat-composer", "[part=edit-bar]");
      if (action === "save") {
        const area = q("chat-conversation", "chat-composer", "textarea");
        area.value = arg;
        area.dispatchEvent(new InputEvent("input"));
        setTimeout(() => area.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter" })), 50);
        return true;
      }
      if (action === "shown") {
        return [...q("chat-conversation").shadowRoot.querySelectorAll(".bubble")].some((
          b: HTMLElement,
        ) => b.textContent === arg);
      }
      if (action === "confirm-open") {
        return !!q("chat-conversation", "chat-confirm-dialog", "dialog[open]");
      }
      if (action === "confirm") {
        q("chat-conversation", "chat-confirm-dialog", "[part~=confirm-button]")?.click();
        return !q("chat-conversation", "chat-confirm-dialog", "dialog[open]");
      }
      if (action === "block-button") {
        const button = q("chat-conversation", "[part=block-button]");
        if (button?.textContent.trim() !== arg) return false;
        button.focus();
        button.click();
        return true;
      }
      if (action === "settings") {
        if (q("chat-settings")) return true;
        q("[part=settings-button]").click();
        return false;
      }
      if (action === "failed") {
        return !!q("chat-conversation").shadowRoot.querySelector(".msg.failed [role=alert]");
      }
      if (action === "connected") return el.connectionState === "connected";
      if (action === "launcher") {
        // Launcher mode: press the round button (once its chunk has drawn it).
        const button = q("[part=launcher]");
        button?.click();
        return !!button;
      }
      if (action === "preview") return !!q("[part=message-preview]");
      if (action === "badge") return q("[part=launcher-badge]")?.textContent === arg;
      if (action === "host-error") {
        return !!q("[part=auth-status] [role=alert]");
      }
      if (action === "sent") {
        // An empty box: the message was sent, not still waiting for its Enter.
        return !q("chat-conversation", "chat-composer", "textarea").value &&
          [...q("chat-conversation").shadowRoot.querySelectorAll(".msg")].every((
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

const lang = ".controls select[name=lang]";

// Closed at the end, and its process killed as well: under Deno, closing does not always end it.
let browser: Awaited<ReturnType<typeof puppeteer.launch>> | undefined;
try {
  await Promise.all([waitHealthy(base), waitHealthy(hostBase)]);
  browser = await puppeteer.launch({
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
  await act(maya, 0, "search", "j");
  await settle(maya);
  await maya.screenshot({ path: join(outDir, "search.png") });
  await act(maya, 0, "search", "");

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
  await maya.setViewport({ width: 375, height: 720, deviceScaleFactor: 1 });
  await settle(maya);
  await maya.evaluate(() => document.querySelector("chat-widget")!.scrollIntoView());
  await maya.screenshot({ path: join(outDir, "phone-list.png") });
  await act(maya, 0, "search", "P");
  await settle(maya);
  await maya.screenshot({ path: join(outDir, "phone-search.png") });
  await act(maya, 0, "search", "");
  await maya.setViewport({ width: 320, height: 640, deviceScaleFactor: 1 });
  await settle(maya);
  await maya.select(".controls select[name=lang]", "ar");
  await maya.evaluate(() => {
    // deno-lint-ignore no-explicit-any
    const w = document.querySelector("chat-widget") as any;
    w.openConversation(w.users.find((u: { username: string }) => u.username === "Jonas").userID);
  });
  await settle(maya);
  await maya.evaluate(() => document.querySelector("chat-widget")!.scrollIntoView());
  await maya.screenshot({ path: join(outDir, "narrow-rtl.png") });

  // The log-out dialog, wide and on a phone, left to right and right to left.
  await maya.select(lang, "en");
  await maya.setViewport({ width: 1280, height: 900, deviceScaleFactor: 1 });
  await act(maya, 0, "logout-dialog");
  await settle(maya);
  await maya.screenshot({ path: join(outDir, "logout-dialog.png") });
  await maya.select(lang, "ar");
  await settle(maya);
  await maya.screenshot({ path: join(outDir, "logout-dialog-rtl.png") });
  await maya.setViewport({ width: 375, height: 720, deviceScaleFactor: 1 });
  await settle(maya);
  await maya.screenshot({ path: join(outDir, "phone-logout-dialog-rtl.png") });
  await maya.select(lang, "de");
  await settle(maya);
  await maya.screenshot({ path: join(outDir, "phone-logout-dialog-de.png") });
  await maya.keyboard.press("Escape");
  await maya.select(lang, "en");

  // Receipts and typing: Jonas has read everything and is writing again.
  await maya.select(lang, "en");
  await maya.setViewport({ width: 1280, height: 900, deviceScaleFactor: 1 });
  await maya.evaluate(() => scrollTo(0, 0));
  await act(maya, 0, "seen");
  await act(jonas, 0, "type", "Is the front one");
  await act(maya, 0, "typing-shown");
  await maya.screenshot({ path: join(outDir, "typing-seen.png") });
  await maya.select(lang, "ar");
  await act(jonas, 0, "type", "Is the front one the same?");
  await act(maya, 0, "typing-shown");
  await maya.screenshot({ path: join(outDir, "typing-seen-rtl.png") });
  await maya.select(lang, "en");
  await maya.setViewport({ width: 375, height: 720, deviceScaleFactor: 1 });
  await act(jonas, 0, "type", "Is the front one the same, too?");
  await act(maya, 0, "typing-shown");
  await maya.evaluate(() => document.querySelector("chat-widget")!.scrollIntoView());
  await maya.screenshot({ path: join(outDir, "phone-typing-seen.png") });
  await act(jonas, 0, "type", "");

  // Maya's menu on her message, editing it, deleting another.
  await maya.setViewport({ width: 1280, height: 900, deviceScaleFactor: 1 });
  await maya.evaluate(() => scrollTo(0, 0));
  await act(maya, 0, "send", "Bring it in on Friday, we can look at it.");
  await act(maya, 0, "sent");
  await act(maya, 0, "send", "Bring the bike on Friday");
  await act(maya, 0, "sent");
  const first =
    "Hi Jonas, a little noise in the wet is normal.\nIf it squeals when dry too, the pads may be glazed.";
  await act(maya, 0, "menu", first);
  await settle(maya);
  await maya.screenshot({ path: join(outDir, "message-menu.png") });
  await maya.select(lang, "ar");
  await act(maya, 0, "menu", first);
  await settle(maya);
  await maya.screenshot({ path: join(outDir, "message-menu-rtl.png") });
  await maya.select(lang, "en");
  await act(maya, 0, "menu", "Bring the bike on Friday");
  await act(maya, 0, "menu-item", "Edit");
  await act(maya, 0, "editing");
  await settle(maya);
  await maya.screenshot({ path: join(outDir, "editing.png") });
  await maya.setViewport({ width: 375, height: 720, deviceScaleFactor: 1 });
  await settle(maya);
  await maya.evaluate(() => document.querySelector("chat-widget")!.scrollIntoView());
  await maya.screenshot({ path: join(outDir, "phone-editing.png") });
  await maya.setViewport({ width: 1280, height: 900, deviceScaleFactor: 1 });
  await maya.evaluate(() => scrollTo(0, 0));
  await act(maya, 0, "save", "Bring the bike on Friday morning, please.");
  await act(maya, 0, "shown", "Bring the bike on Friday morning, please.");
  await act(maya, 0, "menu", "Bring it in on Friday, we can look at it.");
  await act(maya, 0, "menu-item", "Delete");
  await act(maya, 0, "confirm-open");
  await settle(maya);
  await maya.screenshot({ path: join(outDir, "delete-dialog.png") });
  await act(maya, 0, "confirm");
  await settle(maya);
  await maya.screenshot({ path: join(outDir, "edited-deleted.png") });
  await maya.select(lang, "ar");
  await settle(maya);
  await maya.screenshot({ path: join(outDir, "edited-deleted-rtl.png") });
  await maya.select(lang, "en");
  await maya.setViewport({ width: 375, height: 720, deviceScaleFactor: 1 });
  await settle(maya);
  await maya.evaluate(() => document.querySelector("chat-widget")!.scrollIntoView());
  await maya.screenshot({ path: join(outDir, "phone-edited-deleted.png") });

  // The settings: read receipts.
  await maya.setViewport({ width: 1280, height: 900, deviceScaleFactor: 1 });
  await maya.evaluate(() => scrollTo(0, 0));
  await act(maya, 0, "settings");
  await settle(maya);
  await maya.screenshot({ path: join(outDir, "settings.png") });
  await maya.select(lang, "ar");
  await act(maya, 0, "settings");
  await settle(maya);
  await maya.screenshot({ path: join(outDir, "settings-rtl.png") });
  await maya.keyboard.press("Escape");
  await maya.select(lang, "en");

  // Maya blocks Jonas: the confirmation, her disabled box, and his message that is refused.
  await act(maya, 0, "block-button", "Block");
  await act(maya, 0, "confirm-open");
  await settle(maya);
  await maya.screenshot({ path: join(outDir, "block-dialog.png") });
  await maya.select(lang, "ar");
  await settle(maya);
  await maya.screenshot({ path: join(outDir, "block-dialog-rtl.png") });
  await maya.setViewport({ width: 375, height: 720, deviceScaleFactor: 1 });
  await settle(maya);
  await maya.screenshot({ path: join(outDir, "phone-block-dialog-rtl.png") });
  await maya.select(lang, "en");
  await maya.setViewport({ width: 1280, height: 900, deviceScaleFactor: 1 });
  await act(maya, 0, "confirm");
  await settle(maya);
  await maya.screenshot({ path: join(outDir, "blocked.png") });
  await maya.select(lang, "ar");
  await settle(maya);
  await maya.screenshot({ path: join(outDir, "blocked-rtl.png") });
  await maya.select(lang, "en");
  await act(jonas, 0, "send", "Hello? Did you get this?");
  await act(jonas, 0, "failed");
  await settle(jonas);
  await jonas.screenshot({ path: join(outDir, "blocked-sender.png") });
  await jonas.setViewport({ width: 375, height: 720, deviceScaleFactor: 1 });
  await settle(jonas);
  await jonas.evaluate(() => document.querySelector("chat-widget")!.scrollIntoView());
  await jonas.screenshot({ path: join(outDir, "phone-blocked-sender.png") });
  await act(maya, 0, "block-button", "Unblock");

  // Priya, offline since the start, was last seen a while ago.
  await maya.evaluate(() => {
    // deno-lint-ignore no-explicit-any
    (document.querySelector("chat-widget") as any).closeConversation();
  });
  await maya.setViewport({ width: 375, height: 720, deviceScaleFactor: 1 });
  await settle(maya);
  await maya.evaluate(() => document.querySelector("chat-widget")!.scrollIntoView());
  await maya.screenshot({ path: join(outDir, "phone-last-seen.png") });
  await maya.select(lang, "de");
  await settle(maya);
  await maya.screenshot({ path: join(outDir, "phone-last-seen-de.png") });
  await maya.select(lang, "en");
  await maya.evaluate(() => {
    // deno-lint-ignore no-explicit-any
    const w = document.querySelector("chat-widget") as any;
    w.openConversation(w.users.find((u: { username: string }) => u.username === "Jonas").userID);
  });

  // Jonas deletes his account: Maya sees a deleted user, his messages as tombstones.
  await act(jonas, 0, "delete");
  await maya.setViewport({ width: 1280, height: 900, deviceScaleFactor: 1 });
  await settle(maya);
  await maya.evaluate(() => scrollTo(0, 0));
  await maya.screenshot({ path: join(outDir, "deleted-user.png") });
  await maya.select(lang, "ar");
  await settle(maya);
  await maya.screenshot({ path: join(outDir, "deleted-user-rtl.png") });
  await maya.select(lang, "en");
  await maya.setViewport({ width: 375, height: 720, deviceScaleFactor: 1 });
  await settle(maya);
  await maya.evaluate(() => document.querySelector("chat-widget")!.scrollIntoView());
  await maya.screenshot({ path: join(outDir, "phone-deleted-user.png") });

  // Launcher mode on the support page: Sam asks, Lena from the workshop answers while the chat
  // is closed (badge, preview), then Sam opens it; on a phone, and right to left.
  const sam = await open(browser, "support.html", 1280, 900);
  await act(sam, 0, "launcher");
  await act(sam, 0, "login", "Sam");
  const lena = await open(browser, "index.html", 1280, 900);
  await act(lena, 0, "login", "Lena (workshop)");
  await act(sam, 0, "open", "Lena (workshop)");
  await act(sam, 0, "send", "Hi! Can I book the free first service for Saturday?");
  await act(sam, 0, "sent");
  await act(sam, 0, "launcher");
  await act(lena, 0, "open", "Sam");
  await act(lena, 0, "send", "Hi Sam, Saturday at 10:00 works.");
  await act(lena, 0, "sent");
  await act(lena, 0, "send", "Bring the bike and its receipt, we will have it ready by noon.");
  await act(lena, 0, "sent");
  await act(sam, 0, "badge", "2");
  await act(sam, 0, "preview");
  await settle(sam);
  await sam.screenshot({ path: join(outDir, "launcher-preview.png") });
  await sam.setViewport({ width: 375, height: 720, deviceScaleFactor: 1 });
  await settle(sam);
  await sam.screenshot({ path: join(outDir, "phone-launcher-preview.png") });
  await sam.setViewport({ width: 1280, height: 900, deviceScaleFactor: 1 });
  await sam.keyboard.press("Escape");
  await sam.evaluate(() => {
    // deno-lint-ignore no-explicit-any
    (document.querySelector("chat-widget") as any).shadowRoot
      .querySelector("[part=preview-close]")?.click();
  });
  await settle(sam);
  await sam.screenshot({ path: join(outDir, "launcher-closed.png") });
  await act(sam, 0, "launcher");
  await act(sam, 0, "shown", "Bring the bike and its receipt, we will have it ready by noon.");
  await settle(sam);
  await sam.screenshot({ path: join(outDir, "launcher-open.png") });
  await act(sam, 0, "settings");
  await settle(sam);
  await sam.screenshot({ path: join(outDir, "launcher-settings.png") });
  await sam.keyboard.press("Escape");
  await sam.setViewport({ width: 375, height: 720, deviceScaleFactor: 1 });
  await settle(sam);
  await sam.screenshot({ path: join(outDir, "phone-launcher-open.png") });
  await sam.select(lang, "ar");
  await settle(sam);
  await sam.screenshot({ path: join(outDir, "phone-launcher-open-rtl.png") });
  await sam.setViewport({ width: 1280, height: 900, deviceScaleFactor: 1 });
  await settle(sam);
  await sam.screenshot({ path: join(outDir, "launcher-open-rtl.png") });
  await act(sam, 0, "launcher");
  await act(lena, 0, "send", "See you on Saturday!");
  await act(sam, 0, "preview");
  await settle(sam);
  await sam.screenshot({ path: join(outDir, "launcher-rtl.png") });
  await sam.select(".controls select[name=theme]", "dark");
  await sam.select(lang, "en");
  await act(sam, 0, "launcher");
  await settle(sam);
  await sam.screenshot({ path: join(outDir, "launcher-open-dark.png") });
  await lena.close();
  await sam.close();

  // Host mode: Ada and Grace, signed in by the site, talk.
  const ada = await open(browser, "signed-in.html?user=ada", 1280, 900, hostBase);
  await act(ada, 0, "connected");
  const grace = await open(browser, "signed-in.html?user=grace", 1280, 900, hostBase);
  await act(grace, 0, "connected");
  await act(ada, 0, "open", "Grace Hopper");
  await act(ada, 0, "send", "Hi Grace, is my order ready for pick-up?");
  await act(ada, 0, "sent");
  await act(grace, 0, "open", "Ada Lovelace");
  await act(grace, 0, "send", "Yes, from 10:00 at the workshop counter.");
  await act(grace, 0, "sent");
  await settle(ada);
  await ada.screenshot({ path: join(outDir, "signed-in.png") });
  await grace.close();
  await ada.close();

  // Host mode with a token the server cannot verify.
  const host = await open(browser, "index.html", 1280, 900, hostBase);
  await host.evaluate(() => {
    // deno-lint-ignore no-explicit-any
    (document.querySelector("chat-widget") as any).token = "not-a-token";
  });
  await act(host, 0, "host-error");
  await settle(host);
  await host.screenshot({ path: join(outDir, "host-error.png") });
  await host.select(lang, "ar");
  await settle(host);
  await host.screenshot({ path: join(outDir, "host-error-rtl.png") });
  await host.select(lang, "en");
  // A provider that fails offers another try.
  await host.evaluate(() => {
    // deno-lint-ignore no-explicit-any
    (document.querySelector("chat-widget") as any).tokenProvider = () =>
      Promise.reject(new Error("signed out"));
  });
  await act(host, 0, "host-error");
  await host.setViewport({ width: 375, height: 720, deviceScaleFactor: 1 });
  await settle(host);
  await host.evaluate(() => document.querySelector("chat-widget")!.scrollIntoView());
  await host.screenshot({ path: join(outDir, "phone-host-error.png") });

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
    browser?.process()?.kill("SIGKILL");
  } catch {
    // Already gone.
  }
  try {
    server.kill("SIGTERM");
  } catch {
    // Already stopped by the offline scenario.
  }
  hostServer.kill("SIGTERM");
  await Promise.all([server.status, hostServer.status]);
}
