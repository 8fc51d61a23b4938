/// <reference lib="dom" />
import { expect } from "@open-wc/testing";
import { sendKeys, setViewport } from "@web/test-runner-commands";
import type { ChatWidget } from "../../widget/mod.ts";
import {
  cleanup,
  deep,
  login,
  mount,
  openWith,
  receiptOf,
  send,
  uniqueName,
  userIdOf,
  waitFor,
} from "./helpers.ts";

afterEach(async () => {
  cleanup();
  await setViewport({ width: 1280, height: 800 });
});

/** A widget in launcher mode, once its chunk has drawn the button. */
async function launcher(attributes: Record<string, string> = {}): Promise<ChatWidget> {
  const el = await mount({ attributes: { mode: "launcher", ...attributes } });
  await waitFor(() => deep(el, "[part=launcher]"), "the launcher button");
  return el;
}

function rect(el: ChatWidget, part: string): DOMRect {
  return deep(el, `[part=${part}]`)!.getBoundingClientRect();
}

function panelShown(el: ChatWidget): boolean {
  const panel = deep(el, "[part=panel]");
  return !!panel && getComputedStyle(panel).display !== "none";
}

/** The element focus is on, through the widget's nested shadow roots. */
function focused(): Element | null {
  let node: Element | null = document.activeElement;
  while (node?.shadowRoot?.activeElement) node = node.shadowRoot.activeElement;
  return node;
}

/** Every chat-open and chat-close the page hears. */
function hearToggles(el: ChatWidget): string[] {
  const heard: string[] = [];
  el.addEventListener("chat-open", (e) => heard.push(e.type));
  el.addEventListener("chat-close", (e) => heard.push(e.type));
  return heard;
}

/** A second, inline widget signed in as someone new, who writes `texts` to `el`'s user. */
async function writer(el: ChatWidget, texts: string[]): Promise<ChatWidget> {
  const other = await mount();
  await login(other, uniqueName("writer"));
  await openWith(other, el.user!.username);
  for (const text of texts) await send(other, text);
  return other;
}

describe("<chat-widget mode=launcher>", () => {
  it("loads the launcher's chunk only for mode=launcher or notify", async () => {
    const loaded = () =>
      performance.getEntriesByType("resource").some((e) => e.name.includes("chat-widget-launcher"));
    const inline = await mount();
    await login(inline, uniqueName("inline"));
    expect(loaded(), "an inline widget without notify").to.equal(false);
    expect(deep(inline, "[part=launcher]")).to.equal(null);
    await launcher();
    expect(loaded()).to.equal(true);
  });

  for (const width of [1280, 375]) {
    it(`opens and closes with its button and Escape, focus moving in and back (${width} px)`, async () => {
      await setViewport({ width, height: 720 });
      const el = await launcher();
      const heard = hearToggles(el);
      const button = deep<HTMLButtonElement>(el, "[part=launcher]")!;
      expect(panelShown(el)).to.equal(false);
      expect(button.getAttribute("aria-expanded")).to.equal("false");
      expect(el.hasAttribute("open")).to.equal(false);
      button.click();
      await waitFor(() => panelShown(el), "the panel");
      expect(el.open).to.equal(true);
      expect(el.hasAttribute("open"), "open is reflected").to.equal(true);
      expect(heard).to.deep.equal(["chat-open"]);
      await waitFor(
        () => focused() === deep(el, "chat-login", "input"),
        "focus in the username field",
      );
      await sendKeys({ press: "Escape" });
      await waitFor(() => !panelShown(el), "the panel to close");
      expect(heard).to.deep.equal(["chat-open", "chat-close"]);
      expect(el.hasAttribute("open")).to.equal(false);
      await waitFor(() => focused() === button, "focus back on the launcher");
      expect(button.getAttribute("aria-expanded")).to.equal("false");
    });
  }

  it("sits bottom-right at 1280 px with the panel above it, and fills a 375 px screen", async () => {
    await setViewport({ width: 1280, height: 800 });
    const el = await launcher();
    const button = rect(el, "launcher");
    expect([button.right, button.bottom, button.width]).to.deep.equal([1260, 780, 56]);
    el.show();
    await waitFor(() => panelShown(el), "the panel");
    const panel = rect(el, "panel");
    expect([panel.right, panel.bottom, panel.width, panel.height]).to.deep.equal([
      1260,
      712,
      380,
      600,
    ]);
    await setViewport({ width: 375, height: 720 });
    await waitFor(() => rect(el, "panel").width === 375, "the panel to take the screen");
    const phone = rect(el, "panel");
    expect([phone.left, phone.top, phone.width, phone.height]).to.deep.equal([0, 0, 375, 720]);
    expect(rect(el, "launcher").width, "the panel's close button stands in").to.equal(0);
    // The narrow layout inside: the list and the conversation are two views.
    expect(deep(el, "[part=base]")!.classList.contains("narrow")).to.equal(true);
    const close = deep<HTMLButtonElement>(el, "[part=close-button]")!;
    expect(close.getBoundingClientRect().right).to.be.within(350, 375);
    close.focus();
    close.click();
    await waitFor(() => !panelShown(el), "the panel to close");
    await waitFor(() => focused() === deep(el, "[part=launcher]"), "focus back on the launcher");
    expect(rect(el, "launcher").right).to.equal(355);
  });

  it("goes bottom-left with position=left, and mirrors in RTL", async () => {
    await setViewport({ width: 1000, height: 700 });
    const left = await launcher({ position: "left" });
    expect(rect(left, "launcher").left).to.equal(20);
    const rtl = await launcher({ lang: "ar" });
    await waitFor(() => deep(rtl, "[part=launcher]")?.closest("[dir=rtl]"), "the Arabic launcher");
    expect(rect(rtl, "launcher").left, "the line's end is on the left").to.equal(20);
    const rtlLeft = await launcher({ lang: "ar", position: "left" });
    await waitFor(() => deep(rtlLeft, "[part=launcher]")?.closest("[dir=rtl]"), "RTL");
    expect(rect(rtlLeft, "launcher").right).to.equal(980);
    rtl.show();
    await waitFor(() => panelShown(rtl), "the panel");
    expect(rect(rtl, "panel").left).to.equal(20);
    expect(deep(rtl, "[part=close-button]")!.getAttribute("aria-label")).to.equal("إغلاق الدردشة");
  });

  it("show() and hide() fire chat-open and chat-close once; setting open does not", async () => {
    const el = await launcher();
    const heard = hearToggles(el);
    el.show();
    el.show();
    await el.updateComplete;
    expect(panelShown(el)).to.equal(true);
    el.hide();
    el.hide();
    await el.updateComplete;
    expect(panelShown(el)).to.equal(false);
    expect(heard).to.deep.equal(["chat-open", "chat-close"]);
    el.open = true;
    await el.updateComplete;
    expect(panelShown(el)).to.equal(true);
    el.removeAttribute("open");
    await el.updateComplete;
    expect(panelShown(el)).to.equal(false);
    expect(heard, "property and attribute changes fire nothing").to.have.length(2);
    // The page can open it from its own markup, too.
    el.setAttribute("open", "");
    await el.updateComplete;
    expect(el.open).to.equal(true);
  });

  it("counts messages from a real second client on its badge while closed, and reads them when opened", async () => {
    const el = await launcher();
    el.show();
    await login(el, uniqueName("badge"));
    el.hide();
    await el.updateComplete;
    expect(deep(el, "[part=launcher-badge]")).to.equal(null);
    const other = await writer(el, ["One", "Two"]);
    await waitFor(() => deep(el, "[part=launcher-badge]")?.textContent === "2", "a badge of 2");
    const badge = deep(el, "[part=launcher-badge]")!;
    expect(badge.getAttribute("aria-label")).to.equal("2 unread messages");
    expect(deep(el, "[part=launcher]")!.textContent).to.include("Chat");
    // Open on the conversation, then close: what arrives now is unread, not read unseen.
    el.show();
    const otherId = await userIdOf(el, other.user!.username);
    el.openConversation(otherId);
    await waitFor(() => el.unreadTotal === 0, "the conversation read");
    // The server has taken the read (its answer is on its way): what follows is new.
    await waitFor(() => receiptOf(other, "Two") === "seen", "Two seen");
    el.hide();
    await send(other, "Three");
    await waitFor(() => deep(el, "[part=launcher-badge]")?.textContent === "1", "a badge of 1");
    expect(el.unreadTotal).to.equal(1);
    el.show();
    await waitFor(() => el.unreadTotal === 0, "read once the panel shows it");
    await el.updateComplete;
    expect(deep(el, "[part=launcher-badge]")).to.equal(null);
  });

  it("shows a short-lived preview of an arriving message, as text, dismissable, never for your own", async () => {
    const el = await launcher({ notify: "preview" });
    el.show();
    await login(el, uniqueName("preview"));
    el.hide();
    const other = await writer(el, ["<b>Hi</b> there"]);
    const preview = await waitFor(() => deep(el, "[part=message-preview]"), "the preview");
    expect(preview.textContent).to.include(other.user!.username);
    expect(preview.querySelector(".preview-text")!.textContent).to.equal("<b>Hi</b> there");
    expect(preview.querySelector("b"), "text, not HTML").to.equal(null);
    expect(deep(el, "[role=status].sr-only")!.textContent).to.include(
      `New message from ${other.user!.username}`,
    );
    deep<HTMLButtonElement>(el, "[part=preview-close]")!.click();
    await waitFor(() => !deep(el, "[part=message-preview]"), "the preview dismissed");
    await waitFor(() => focused() === deep(el, "[part=launcher]"), "focus on the launcher");

    // A message of this user's own, from another tab of theirs, shows none.
    const tab = await mount({ storageKey: el.storageKey });
    await waitFor(() => tab.connectionState === "connected", "the other tab");
    await openWith(tab, other.user!.username);
    await send(tab, "From my other tab");
    const otherId = await userIdOf(el, other.user!.username);
    await waitFor(
      () =>
        el.users.find((u) => u.userID === otherId)?.messages.some((m) =>
          m.content === "From my other tab"
        ),
      "the other tab's message",
    );
    await el.updateComplete;
    expect(deep(el, "[part=message-preview]")).to.equal(null);

    // It goes by itself.
    await send(other, "Still there?");
    await waitFor(() => deep(el, "[part=message-preview]"), "a second preview");
    await waitFor(() => !deep(el, "[part=message-preview]"), "the preview to go by itself", 20_000);

    // Pressing it opens the conversation.
    await send(other, "Open me");
    await waitFor(() => deep(el, "[part=message-preview] .preview-open"), "a third preview");
    deep<HTMLButtonElement>(el, "[part=message-preview] .preview-open")!.click();
    await waitFor(() => panelShown(el) && el.activeConversation === otherId, "the conversation");
    await waitFor(
      () => focused() === deep(el, "chat-conversation", "chat-composer", "textarea"),
      "focus in the message box",
    );
    expect(deep(el, "[part=message-preview]")).to.equal(null);
  });

  it("keeps its own font under a host's '* { font-family: serif !important }'", async () => {
    const style = document.createElement("style");
    style.textContent = "* { font-family: serif !important; }";
    document.head.append(style);
    try {
      const el = await launcher({ notify: "preview sound" });
      el.show();
      await login(el, uniqueName("font"));
      el.hide();
      await writer(el, ["A serif?"]);
      await waitFor(() => deep(el, "[part=message-preview]"), "the preview");
      expect(getComputedStyle(el).fontFamily, "the host element is the page's").to.equal("serif");
      for (
        const part of ["launcher", "launcher-badge", "message-preview", "preview-close", "panel"]
      ) {
        const font = getComputedStyle(deep(el, `[part=${part}]`)!).fontFamily;
        expect(font, part).to.match(/^system-ui/);
      }
      el.show();
      await el.updateComplete;
      expect(getComputedStyle(deep(el, "[part=title]")!).fontFamily).to.match(/^system-ui/);
    } finally {
      style.remove();
    }
  });

  it("passes an axe accessibility check closed with a badge and a preview, and open", async () => {
    const el = await launcher({ notify: "preview" });
    await expect(el).to.be.accessible();
    el.show();
    await login(el, uniqueName("a11y"));
    el.hide();
    const other = await writer(el, ["Accessible?"]);
    await waitFor(() => deep(el, "[part=message-preview]"), "the preview");
    await expect(el).to.be.accessible();
    el.show();
    el.openConversation(await userIdOf(el, other.user!.username));
    await waitFor(() => deep(el, "chat-conversation", "chat-composer"), "the conversation");
    await expect(el).to.be.accessible();
    el.setAttribute("theme", "dark");
    await el.updateComplete;
    await expect(el).to.be.accessible();
    await setViewport({ width: 375, height: 720 });
    await expect(el).to.be.accessible();
  });
});
