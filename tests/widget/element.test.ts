/// <reference lib="dom" />
import { expect } from "@open-wc/testing";
import type { ChatWidget } from "../../widget/mod.ts";
import {
  cleanup,
  deep,
  deepAll,
  login,
  mount,
  openWith,
  send,
  sendToNewPeer,
  shownMessages,
  uniqueName,
  waitFor,
} from "./helpers.ts";

afterEach(() => {
  cleanup();
  document.documentElement.style.fontSize = "";
});

function background(el: ChatWidget): string {
  return getComputedStyle(deep(el, "[part=base]")!).backgroundColor;
}

describe("<chat-widget> element", () => {
  it("setting a property re-renders", async () => {
    const el = await mount();
    expect(deep(el, "[part=title]")!.textContent).to.equal("Chat");
    el.strings = { title: "Workshop chat" };
    await el.updateComplete;
    expect(deep(el, "[part=title]")!.textContent).to.equal("Workshop chat");
    el.lang = "de";
    await el.updateComplete;
    await deep<HTMLElement & { updateComplete: Promise<boolean> }>(el, "chat-login")!
      .updateComplete;
    expect(deep(el, "chat-login", "h3")!.textContent).to.equal("Chat starten");
    el.setAttribute("storage-key", "chat-test-other-key");
    expect(el.storageKey).to.equal("chat-test-other-key");
  });

  it("switches between light and dark themes", async () => {
    const el = await mount({ theme: "light" });
    const light = background(el);
    el.theme = "dark";
    await el.updateComplete;
    expect(el.getAttribute("theme")).to.equal("dark");
    const dark = background(el);
    expect(dark).to.not.equal(light);
    el.setAttribute("theme", "light");
    await el.updateComplete;
    expect(el.theme).to.equal("light");
    expect(background(el)).to.equal(light);
    // Hosts restyle through custom properties.
    el.style.setProperty("--chat-background", "rgb(1, 2, 3)");
    expect(background(el)).to.equal("rgb(1, 2, 3)");
  });

  it("takes its strings from the lang table, falls back to English, and accepts host locales", async () => {
    const el = await mount({ lang: "de" });
    expect(deep(el, "chat-login", "button[type=submit]")!.textContent!.trim()).to.equal(
      "Beitreten",
    );
    const ChatWidgetClass = customElements.get("chat-widget") as unknown as typeof ChatWidget;
    ChatWidgetClass.registerLocale("fr", { loginTitle: "Commencer à discuter" });
    el.lang = "fr-CA";
    await el.updateComplete;
    await deep<HTMLElement & { updateComplete: Promise<boolean> }>(el, "chat-login")!
      .updateComplete;
    expect(deep(el, "chat-login", "h3")!.textContent).to.equal("Commencer à discuter");
    expect(deep(el, "chat-login", "button[type=submit]")!.textContent!.trim()).to.equal("Join");
  });

  it("lays out right to left for Arabic", async () => {
    const [el, other] = [await mount({ lang: "ar" }), await mount()];
    const otherName = uniqueName("other");
    await login(el, uniqueName("rtl"));
    await login(other, otherName);
    await openWith(el, otherName);
    const base = deep(el, "[part=base]")!;
    expect(base.getAttribute("dir")).to.equal("rtl");
    expect(getComputedStyle(base).direction).to.equal("rtl");
    const list = deep(el, "chat-user-list")!.getBoundingClientRect();
    const conversation = deep(el, "chat-conversation")!.getBoundingClientRect();
    expect(list.left).to.be.greaterThan(conversation.left);
    expect(deep(el, "chat-conversation", "chat-composer", "textarea")!.getAttribute("placeholder"))
      .to.equal("اكتب رسالة");
    await send(el, "Hello in an RTL layout");
    await waitFor(
      () => shownMessages(el).some((m) => m.state === "sent"),
      "the message to be sent",
    );
    const bubble = deep(el, "chat-conversation", ".msg.out .bubble")!.getBoundingClientRect();
    // Own messages sit at the end of the line, which is the left in RTL.
    expect(bubble.left - conversation.left).to.be.lessThan(conversation.right - bubble.right);
  });

  it("is usable at 320 px: list and conversation are two views with a back button", async () => {
    const [el, other] = [await mount({ width: 320 }), await mount()];
    const otherName = uniqueName("other");
    await login(el, uniqueName("narrow"));
    await login(other, otherName);
    await waitFor(() => el.users.length >= 2, "the other user in the list");
    expect(deep(el, "chat-user-list")!.hidden).to.equal(false);
    expect(deep(el, "chat-conversation")!.hidden).to.equal(true);
    await openWith(el, otherName);
    expect(deep(el, "chat-user-list")!.hidden).to.equal(true);
    expect(deep(el, "chat-conversation")!.hidden).to.equal(false);
    const composer = deep(el, "chat-conversation", "chat-composer")!.getBoundingClientRect();
    expect(composer.right).to.be.at.most(el.getBoundingClientRect().right + 0.5);
    expect(getComputedStyle(deep(el, "chat-conversation", "chat-composer", "textarea")!).fontSize)
      .to.equal("16px");
    deep<HTMLButtonElement>(el, "chat-conversation", "[part=back-button]")!.click();
    await waitFor(() => !deep(el, "chat-user-list")!.hidden, "the list view");
    expect(el.activeConversation).to.equal(undefined);
    await waitFor(
      () => deep(el, "chat-user-list")!.shadowRoot!.activeElement?.textContent?.includes(otherName),
      "focus back on the person",
    );
    // Escape works like the back button.
    await openWith(el, otherName);
    deep(el, "chat-conversation", "chat-composer", "textarea")!.dispatchEvent(
      new KeyboardEvent("keydown", { key: "Escape", bubbles: true, composed: true }),
    );
    await waitFor(() => !deep(el, "chat-user-list")!.hidden, "the list view after Escape");
  });

  it("the user list is keyboard navigable with one tab stop", async () => {
    const el = await mount();
    const names = [uniqueName("b"), uniqueName("c")];
    const others = [await mount(), await mount()];
    await login(el, uniqueName("a"));
    for (let i = 0; i < 2; i++) await login(others[i], names[i]);
    await waitFor(() => el.users.length >= 3, "three users listed");
    const buttons = () => deepAll<HTMLButtonElement>(el, "chat-user-list", "button[data-id]");
    await waitFor(() => buttons().length >= 3, "three buttons");
    expect(buttons().filter((b) => b.tabIndex === 0).length).to.equal(1);
    buttons()[0].focus();
    const list = deep(el, "chat-user-list", "ul")!;
    list.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowDown", bubbles: true }));
    expect(deep(el, "chat-user-list")!.shadowRoot!.activeElement).to.equal(buttons()[1]);
    list.dispatchEvent(new KeyboardEvent("keydown", { key: "End", bubbles: true }));
    expect(deep(el, "chat-user-list")!.shadowRoot!.activeElement).to.equal(buttons().at(-1));
    list.dispatchEvent(new KeyboardEvent("keydown", { key: "Home", bubbles: true }));
    expect(deep(el, "chat-user-list")!.shadowRoot!.activeElement).to.equal(buttons()[0]);
    expect(buttons()[0].textContent).to.contain("(you)");
  });

  it("keeps its px sizes when the host page sets html { font-size: 10px }", async () => {
    document.documentElement.style.fontSize = "10px";
    const el = await mount();
    expect(getComputedStyle(deep(el, "chat-login", "input")!).fontSize).to.equal("16px");
    expect(getComputedStyle(deep(el, "[part=title]")!).fontSize).to.equal("16px");
  });

  it("passes an axe accessibility check in the form, the conversation and the dark theme", async () => {
    const [el, other] = [await mount(), await mount()];
    await expect(el).to.be.accessible();
    await sendToNewPeer(el, other, { prefix: "a11y", text: "Accessible message" });
    await openWith(other, el.user!.username);
    await send(other, "Reply");
    await waitFor(() => shownMessages(el).length === 2, "the reply");
    await expect(el).to.be.accessible();
    el.theme = "dark";
    await el.updateComplete;
    await expect(el).to.be.accessible();
    const log = deep(el, "chat-conversation", "[part=log]")!;
    expect(log.getAttribute("role")).to.equal("log");
  });

  it("inner events end in the widget: the page hears only the public chat-* events", async () => {
    const inner = [
      "chat-sign-in",
      "chat-select",
      "chat-send",
      "chat-back",
      "chat-retry",
      "chat-discard",
    ];
    const outer = [
      "chat-session",
      "chat-connection-change",
      "chat-conversation-change",
      "chat-message-sent",
    ];
    const heard: string[] = [];
    const hear = (event: Event) => heard.push(event.type);
    for (const type of [...inner, ...outer]) document.addEventListener(type, hear);
    try {
      const [el, other] = [await mount({ width: 320 }), await mount()];
      await sendToNewPeer(el, other, { prefix: "events", text: "Does the page hear this?" });
      deep<HTMLButtonElement>(el, "chat-conversation", "[part=back-button]")!.click();
      await waitFor(() => !deep(el, "chat-user-list")!.hidden, "the list view");
      // Signing in, choosing, sending and going back all worked, so each inner event fired.
      expect(heard.filter((type) => inner.includes(type))).to.deep.equal([]);
      for (const type of outer) expect(heard).to.include(type);
    } finally {
      for (const type of [...inner, ...outer]) document.removeEventListener(type, hear);
    }
  });

  it("moving the element in the page reconnects it with the same session", async () => {
    const el = await mount();
    const name = uniqueName("mover");
    await login(el, name);
    const states: string[] = [];
    el.addEventListener("chat-connection-change", (e) => states.push(e.detail.state));
    const box = document.createElement("div");
    document.body.append(box);
    box.append(el);
    await waitFor(() => states.includes("connected"), "a new connection");
    expect(el.user!.username).to.equal(name);
    expect(el.connectionState).to.equal("connected");
    box.remove();
  });
});
