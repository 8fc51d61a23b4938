/// <reference lib="dom" />
import { expect } from "@open-wc/testing";
import { LIMITS } from "../../server/protocol.ts";
import type { ChatUserList } from "../../widget/chat-user-list.ts";
import {
  cleanup,
  deep,
  deepAll,
  login,
  mount,
  openWith,
  send,
  shownMessages,
  smallLimitServer,
  uniqueKey,
  uniqueName,
  userIdOf,
  waitFor,
} from "./helpers.ts";

afterEach(cleanup);

describe("<chat-widget> messaging", () => {
  it("two widgets exchange messages both ways", async () => {
    const [a, b] = [await mount(), await mount()];
    const [alice, bob] = [uniqueName("alice"), uniqueName("bob")];
    await login(a, alice);
    await login(b, bob);
    const received: string[] = [];
    b.addEventListener("chat-message", (e) => received.push(e.detail.message.content));

    await openWith(a, bob);
    await send(a, "Hello Bob");
    await waitFor(
      () => shownMessages(a).some((m) => m.text === "Hello Bob" && m.state === "sent"),
      () => `A's message to be sent: ${JSON.stringify(shownMessages(a))}`,
    );

    await openWith(b, alice);
    await waitFor(
      () => shownMessages(b).some((m) => m.text === "Hello Bob" && !m.out),
      "B to show A's message",
    );
    await send(b, "Hi Alice\nsecond line");
    await waitFor(
      () => shownMessages(a).some((m) => m.text === "Hi Alice\nsecond line" && !m.out),
      "A to receive B's reply",
    );
    expect(received).to.deep.equal(["Hello Bob"]);
    expect(shownMessages(a).map((m) => [m.text, m.out])).to.deep.equal([
      ["Hello Bob", true],
      ["Hi Alice\nsecond line", false],
    ]);
    expect(shownMessages(b).map((m) => [m.text, m.out])).to.deep.equal([
      ["Hello Bob", false],
      ["Hi Alice\nsecond line", true],
    ]);

    // Parts reach through the nested shadow roots.
    const style = document.createElement("style");
    style.textContent = "chat-widget::part(message-out) { outline: 3px solid rgb(255, 0, 0); }";
    document.head.append(style);
    try {
      const out = deep(a, "chat-conversation", ".msg.out")!;
      expect(getComputedStyle(out).outlineColor).to.equal("rgb(255, 0, 0)");
      expect(getComputedStyle(deep(a, "chat-conversation", ".msg.in")!).outlineStyle).to.equal(
        "none",
      );
    } finally {
      style.remove();
    }
  });

  it("unread badges count per user and in total, and clear when the conversation is opened", async () => {
    const [a, b] = [await mount(), await mount()];
    const [alice, bob] = [uniqueName("alice"), uniqueName("bob")];
    await login(a, alice);
    await login(b, bob);
    const totals: number[] = [];
    b.addEventListener("chat-unread-change", (e) => totals.push(e.detail.total));

    await openWith(a, bob);
    await send(a, "one");
    await send(a, "two");
    const aliceId = await userIdOf(b, alice);
    const badge = () => deep(b, "chat-user-list", `button[data-id="${aliceId}"] [part=badge]`);
    await waitFor(() => badge()?.textContent?.includes("2"), "a badge of 2 on Alice");
    expect(badge()!.textContent).to.contain("2 unread messages");
    expect(deep(b, "[part=total-badge]")!.textContent!.trim()).to.equal("2");
    expect(b.unreadTotal).to.equal(2);

    await openWith(b, alice);
    await waitFor(() => !badge() && !deep(b, "[part=total-badge]"), "the badges to clear");
    expect(b.unreadTotal).to.equal(0);
    expect(totals).to.deep.equal([1, 2, 0]);

    // A message arriving in the open conversation is read at once.
    await send(a, "three");
    await waitFor(
      () => shownMessages(b).some((m) => m.text === "three"),
      "B to show the third message",
    );
    expect(b.unreadTotal).to.equal(0);
    expect(badge()).to.equal(null);
  });

  it("script-looking content and usernames render as text", async () => {
    const [a, b] = [await mount(), await mount()];
    const evilName = `<img src=x onerror=__pwned=1>${uniqueName("").slice(-3)}`;
    const bob = uniqueName("bob");
    await login(a, evilName);
    await login(b, bob);
    await openWith(a, bob);
    const evil =
      `<script>window.__pwned = 2</script><b>bold?</b><img src=x onerror="window.__pwned=3">`;
    await send(a, evil);
    await openWith(b, evilName);
    await waitFor(
      () => shownMessages(b).some((m) => m.text === evil),
      "the script-looking message as text",
    );

    // deno-lint-ignore no-explicit-any
    expect((window as any).__pwned).to.equal(undefined);
    for (const el of [a, b]) {
      const conversation = deep(el, "chat-conversation")!.shadowRoot!;
      expect(conversation.querySelectorAll("script, img, b").length).to.equal(0);
    }
    const entry = deep(b, "chat-user-list", `button[data-id="${await userIdOf(b, evilName)}"]`)!;
    expect(entry.textContent).to.contain(evilName);
    expect(entry.querySelectorAll("img").length).to.equal(0);
    expect(deep(b, "chat-conversation", "h3")!.textContent).to.equal(evilName);

    // Web addresses become links; nothing else does.
    const linky = "see https://example.com/a?b=1. not javascript:alert(1) or <a href=x>x</a>";
    await send(b, linky);
    await waitFor(
      () => shownMessages(a).some((m) => m.text === linky),
      "A to show the links message",
    );
    const links = deepAll<HTMLAnchorElement>(a, "chat-conversation", ".bubble a");
    expect(links.map((l) => l.getAttribute("href"))).to.deep.equal(["https://example.com/a?b=1"]);
    expect(links[0].rel).to.equal("noopener noreferrer nofollow");
  });

  it("the composer refuses whitespace-only content and counts down near the limit", async () => {
    const [a, b] = [await mount(), await mount()];
    const bob = uniqueName("bob");
    await login(a, uniqueName("alice"));
    await login(b, bob);
    await openWith(a, bob);
    const area = deep<HTMLTextAreaElement>(a, "chat-conversation", "chat-composer", "textarea")!;
    const button = () =>
      deep<HTMLButtonElement>(a, "chat-conversation", "chat-composer", "button")!;
    const composer = deep<HTMLElement & { updateComplete: Promise<boolean> }>(
      a,
      "chat-conversation",
      "chat-composer",
    )!;

    area.value = "   \n  ";
    area.dispatchEvent(new InputEvent("input"));
    await composer.updateComplete;
    expect(button().disabled).to.equal(true);
    area.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter" }));
    await composer.updateComplete;
    expect(shownMessages(a)).to.deep.equal([]);

    const counter = () => deep(a, "chat-conversation", "chat-composer", "[part=counter]")!;
    area.value = "x".repeat(9_990);
    area.dispatchEvent(new InputEvent("input"));
    await composer.updateComplete;
    expect(counter().hidden).to.equal(false);
    expect(counter().textContent!.trim()).to.equal("10 characters left");
    expect(button().disabled).to.equal(false);

    area.value = "x".repeat(10_003);
    area.dispatchEvent(new InputEvent("input"));
    await composer.updateComplete;
    expect(counter().textContent!.trim()).to.equal("3 characters too many");
    expect(button().disabled).to.equal(true);

    area.value = "short";
    area.dispatchEvent(new InputEvent("input"));
    await composer.updateComplete;
    expect(counter().hidden).to.equal(true);

    // Shift+Enter is a newline, not a send.
    area.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", shiftKey: true }));
    await composer.updateComplete;
    expect(shownMessages(a)).to.deep.equal([]);
  });

  it("the composer counts down from the limit the server announces", async () => {
    const { url, maxContentLength: max } = await smallLimitServer();
    expect(max).to.be.lessThan(LIMITS.maxContentLength);
    const [a, b] = [await mount({ server: url }), await mount({ server: url })];
    const bob = uniqueName("bob");
    await login(a, uniqueName("alice"));
    await login(b, bob);
    await openWith(a, bob);
    const area = deep<HTMLTextAreaElement>(a, "chat-conversation", "chat-composer", "textarea")!;
    const button = () =>
      deep<HTMLButtonElement>(a, "chat-conversation", "chat-composer", "button")!;
    const counter = () => deep(a, "chat-conversation", "chat-composer", "[part=counter]")!;
    const composer = deep<HTMLElement & { updateComplete: Promise<boolean> }>(
      a,
      "chat-conversation",
      "chat-composer",
    )!;
    const type = async (text: string) => {
      area.value = text;
      area.dispatchEvent(new InputEvent("input"));
      await composer.updateComplete;
    };

    await type("x".repeat(max - 3));
    expect(counter().textContent!.trim()).to.equal("3 characters left");
    await type("x".repeat(max + 2));
    expect(counter().textContent!.trim()).to.equal("2 characters too many");
    expect(button().disabled).to.equal(true);
    area.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter" }));
    await composer.updateComplete;
    expect(shownMessages(a)).to.deep.equal([]);

    // Exactly the limit is fine, and the server agrees.
    const text = "y".repeat(max);
    await send(a, text);
    await waitFor(
      () => shownMessages(a).some((m) => m.text === text && m.state === "sent"),
      "the message at the limit to be sent",
    );
  });

  it("a new message shows a pill instead of scrolling when the reader has scrolled up", async () => {
    const [a, b] = [await mount(), await mount()];
    const [alice, bob] = [uniqueName("alice"), uniqueName("bob")];
    await login(a, alice);
    await login(b, bob);
    await openWith(a, bob);
    for (let i = 0; i < 25; i++) await send(a, `filler ${i}\nwith a second line`);
    await openWith(b, alice);
    await waitFor(() => shownMessages(b).length === 25, "B to show 25 messages");
    const log = deep(b, "chat-conversation", "[part=log]")!;
    await waitFor(
      () => log.scrollHeight - log.scrollTop - log.clientHeight < 50,
      "B to be at the bottom",
    );
    log.scrollTop = 0;
    log.dispatchEvent(new Event("scroll"));
    await send(a, "while you were away");
    await waitFor(() => deep(b, "chat-conversation", "[part=pill]"), "the new messages pill");
    expect(log.scrollTop).to.be.lessThan(log.scrollHeight - log.clientHeight - 100);
    deep<HTMLButtonElement>(b, "chat-conversation", "[part=pill]")!.click();
    await waitFor(() => !deep(b, "chat-conversation", "[part=pill]"), "the pill to go");
    await waitFor(
      () => log.scrollHeight - log.scrollTop - log.clientHeight < 50,
      "B scrolled to the bottom",
    );
    expect(deepAll(b, "chat-conversation", ".msg").length).to.equal(26);
  });

  it("a second tab of the same user shows sent messages and agrees on unread counts", async () => {
    const key = uniqueKey();
    const tab1 = await mount({ storageKey: key });
    const b = await mount();
    const [alice, bob] = [uniqueName("alice"), uniqueName("bob")];
    await login(tab1, alice);
    await login(b, bob);
    const tab2 = await mount({ storageKey: key });
    await waitFor(
      () => tab2.connectionState === "connected",
      "the second tab to restore the session",
    );
    expect(tab2.user!.userID).to.equal(tab1.user!.userID);

    await openWith(tab1, bob);
    await send(tab1, "from tab one");
    await openWith(tab2, bob);
    await waitFor(
      () =>
        shownMessages(tab2).some((m) => m.text === "from tab one" && m.out && m.state === "sent"),
      "tab two to show tab one's message as its own",
    );

    tab1.closeConversation();
    tab2.closeConversation();
    await openWith(b, alice);
    await send(b, "to both tabs");
    await waitFor(() => tab1.unreadTotal === 1 && tab2.unreadTotal === 1, "one unread in each tab");
    await openWith(tab1, bob);
    await waitFor(() => tab2.unreadTotal === 0, "tab two to learn the message was read");
  });

  it("the list keeps you first, online people next, by name; nobody moves under the pointer", async () => {
    const stem = uniqueName("s");
    const el = await mount();
    await login(el, `${stem}-m`);
    const later = await mount();
    await login(later, `${stem}-z`);
    const earlier = await mount();
    await login(earlier, `${stem}-a`);
    const names = () =>
      deepAll(el, "chat-user-list", "button[data-id] .name bdi").map((n) => n.textContent!).filter((
        n,
      ) => n.startsWith(stem));
    await waitFor(() => names().length === 3, "three of this test's users");
    expect(names()).to.deep.equal([`${stem}-m`, `${stem}-a`, `${stem}-z`]);
    const earlierId = earlier.user!.userID;
    const gone = () => el.users.find((u) => u.userID === earlierId)?.connected === false;

    // While the pointer is over the list, the one who leaves keeps their place.
    const list = deep<ChatUserList>(el, "chat-user-list")!;
    const lists = deep(el, "chat-user-list", ".lists")!;
    lists.dispatchEvent(new PointerEvent("pointerenter"));
    await earlier.logout();
    await waitFor(gone, "the one who left to show as offline");
    await el.updateComplete;
    await list.updateComplete;
    const status = deep(el, "chat-user-list", `button[data-id="${earlierId}"] .status`)!;
    // Just left: offline since a moment ago.
    expect(status.textContent).to.equal("last seen just now");
    expect(names()).to.deep.equal([`${stem}-m`, `${stem}-a`, `${stem}-z`]);

    // Once the pointer leaves, offline people go after online ones.
    lists.dispatchEvent(new PointerEvent("pointerleave"));
    await waitFor(
      () => names().join() === [`${stem}-m`, `${stem}-z`, `${stem}-a`].join(),
      "the list to catch up",
    );
  });
});
