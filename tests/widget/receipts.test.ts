/// <reference lib="dom" />
import { expect } from "@open-wc/testing";
import { LIMITS } from "../../server/protocol.ts";
import {
  cleanup,
  deep,
  login,
  messageWith,
  mount,
  openWith,
  receiptOf,
  reload,
  send,
  shownMessages,
  typeInto,
  uniqueName,
  unmount,
  userIdOf,
  waitFor,
} from "./helpers.ts";

afterEach(() => {
  cleanup();
  // A test may have made the page look hidden.
  delete (document as { visibilityState?: string }).visibilityState;
});

/** The text of B's typing indicator for the open conversation. */
function typingShown(el: HTMLElement): string {
  return deep(el, "chat-conversation", "[part=typing]")?.textContent?.trim() ?? "";
}

/** Makes the page look hidden or visible to the widget, as switching tabs does. */
function setVisibility(state: "hidden" | "visible"): void {
  Object.defineProperty(document, "visibilityState", { configurable: true, get: () => state });
  document.dispatchEvent(new Event("visibilitychange"));
}

describe("<chat-widget> typing, receipts and last seen", () => {
  it("typing shows in the conversation and the list, and clears with the message or after the timeout", async () => {
    const [a, b] = [await mount(), await mount()];
    const [alice, bob] = [uniqueName("alice"), uniqueName("bob")];
    await login(a, alice);
    await login(b, bob);
    await openWith(a, bob);
    await openWith(b, alice);
    const region = deep(b, "chat-conversation", "[part=typing]")!;
    expect(region.getAttribute("aria-live")).to.equal("polite");

    await typeInto(a, "Hel");
    await waitFor(() => typingShown(b) === `\u2068${alice}\u2069 is typing…`, "B to see A typing");
    const aliceId = await userIdOf(b, alice);
    const row = () => deep(b, "chat-user-list", `button[data-id="${aliceId}"] .status`);
    expect(row()!.textContent!.trim()).to.equal("typing…");

    // The message itself clears it at once.
    await send(a, "Hello");
    await waitFor(() => shownMessages(b).some((m) => m.text === "Hello"), "B to get the message");
    expect(typingShown(b)).to.equal("");
    // The list's row shows the conversation's last message again.
    expect(row()!.textContent!.trim()).to.equal("Hello");

    // Without a message it clears itself after typingTimeoutMs.
    await typeInto(a, "and more");
    await waitFor(() => typingShown(b) !== "", "B to see A typing again");
    const shown = Date.now();
    await waitFor(
      () => typingShown(b) === "",
      "the indicator to clear",
      LIMITS.typingTimeoutMs * 3,
    );
    expect(Date.now() - shown).to.be.greaterThan(LIMITS.typingTimeoutMs - 1_500);
  });

  it("own messages go sent → delivered → seen, and say so to screen readers; a reload keeps it", async () => {
    const bKey = `chat-test-${uniqueName("k")}`;
    const [a, b] = [await mount(), await mount({ storageKey: bKey })];
    const [alice, bob] = [uniqueName("alice"), uniqueName("bob")];
    await login(a, alice);
    await login(b, bob);
    unmount(b);
    await openWith(a, bob);
    await send(a, "while you were away");
    await waitFor(() => receiptOf(a, "while you were away") === "sent", "the message stored");
    const tick = () => messageWith(a, "while you were away")!.querySelector(".tick")!;
    expect(tick().querySelector(".sr-only")!.textContent).to.equal("Sent");
    expect(tick().querySelector("[aria-hidden=true]")!.textContent).to.equal("✓");

    // Bob's device comes back and receives it: delivered.
    const back = await mount({ storageKey: bKey });
    try {
      await waitFor(() => back.connectionState === "connected", "Bob back");
      await waitFor(() => receiptOf(a, "while you were away") === "delivered", "delivered");
      expect(tick().querySelector(".sr-only")!.textContent).to.equal("Delivered");
      expect(tick().querySelector("[aria-hidden=true]")!.textContent).to.equal("✓✓");
      expect(messageWith(a, "while you were away")!.getAttribute("part")).to.contain(
        "message-delivered",
      );
      const deliveredColor = getComputedStyle(tick()).color;
      // A message Bob gets live is delivered too.
      await send(a, "live");
      await waitFor(() => receiptOf(a, "live") === "delivered", "the live one delivered");

      // He reads them: seen, in the accent color.
      await openWith(back, alice);
      await waitFor(() => receiptOf(a, "live") === "seen", "seen");
      expect(receiptOf(a, "while you were away")).to.equal("seen");
      const seen = messageWith(a, "live")!;
      expect(seen.getAttribute("part")).to.contain("message-seen");
      expect(seen.querySelector(".tick .sr-only")!.textContent).to.equal("Seen");
      // In the accent color, the send button's; delivered was not.
      const sendButton = deep(a, "chat-conversation", "chat-composer", "[part=send-button]")!;
      const accent = getComputedStyle(sendButton).backgroundColor;
      expect(getComputedStyle(seen.querySelector(".tick")!).color).to.equal(accent);
      expect(deliveredColor).to.not.equal(accent);

      // After a reload the ticks come from the server's deliveredUpTo / seenUpTo.
      const again = await reload(a);
      await openWith(again, bob);
      await waitFor(() => receiptOf(again, "live") === "seen", "seen after the reload");
      expect(receiptOf(again, "while you were away")).to.equal("seen");
    } finally {
      localStorage.removeItem(bKey);
      localStorage.removeItem(`${bKey}:outbox`);
      unmount(back);
    }
  });

  it("with read receipts off in the settings, nobody sees seen either way", async () => {
    const [a, b] = [await mount(), await mount()];
    const [alice, bob] = [uniqueName("alice"), uniqueName("bob")];
    await login(a, alice);
    await login(b, bob);
    deep<HTMLButtonElement>(a, "[part=settings-button]")!.click();
    const box = await waitFor(
      () => deep<HTMLInputElement>(a, "chat-settings", "input[type=checkbox]"),
      "the settings panel",
    );
    expect(deep(a, "[part=settings-button]")!.getAttribute("aria-expanded")).to.equal("true");
    await waitFor(() => deep(a, "chat-settings")!.shadowRoot!.activeElement === box, "focus in");
    expect(box.checked).to.equal(true);
    await expect(a).to.be.accessible();
    box.click();
    await waitFor(() => !box.disabled && !box.checked, "receipts off");
    // Escape closes the panel and gives focus back to its button.
    box.dispatchEvent(
      new KeyboardEvent("keydown", { key: "Escape", bubbles: true, composed: true }),
    );
    await waitFor(() => !deep(a, "chat-settings"), "the panel to close");
    expect(a.shadowRoot!.activeElement === deep(a, "[part=settings-button]")).to.equal(true);

    await openWith(a, bob);
    await send(a, "from alice");
    await openWith(b, alice);
    await send(b, "from bob");
    await waitFor(() => receiptOf(a, "from alice") === "delivered", "delivered to Bob");
    await waitFor(() => receiptOf(b, "from bob") === "delivered", "delivered to Alice");
    // Both have read everything: still no seen, neither way.
    await waitFor(() => a.unreadTotal === 0 && b.unreadTotal === 0, "both read");
    await new Promise((r) => setTimeout(r, 1_000));
    expect(receiptOf(a, "from alice")).to.equal("delivered");
    expect(receiptOf(b, "from bob")).to.equal("delivered");
    // The choice is the server's: a reload keeps it.
    const again = await reload(a);
    deep<HTMLButtonElement>(again, "[part=settings-button]")!.click();
    const after = await waitFor(
      () => deep<HTMLInputElement>(again, "chat-settings", "input[type=checkbox]"),
      "the settings panel after the reload",
    );
    expect(after.checked).to.equal(false);
  });

  it("an offline person shows when they were last seen, also after a reload", async () => {
    const [a, b] = [await mount(), await mount()];
    const [alice, bob] = [uniqueName("alice"), uniqueName("bob")];
    await login(a, alice);
    await login(b, bob);
    const bobId = await userIdOf(a, bob);
    const lastSeen = () => deep(a, "chat-user-list", `button[data-id="${bobId}"] [part=last-seen]`);
    expect(lastSeen()).to.equal(null);
    unmount(b);
    await waitFor(() => lastSeen()?.textContent === "last seen just now", "last seen in the list");
    await openWith(a, bob);
    expect(deep(a, "chat-conversation", ".header [part=last-seen]")!.textContent).to.equal(
      "last seen just now",
    );
    const again = await reload(a);
    await waitFor(
      () =>
        deep(again, "chat-user-list", `button[data-id="${bobId}"] [part=last-seen]`)
          ?.textContent === "last seen just now",
      "last seen from the server's list",
    );
    expect(again.users.find((u) => u.userID === bobId)!.lastSeen).to.be.a("number");
  });

  it("a conversation opened while the page is hidden is read only once the page is visible", async () => {
    const [a, b] = [await mount(), await mount()];
    const [alice, bob] = [uniqueName("alice"), uniqueName("bob")];
    await login(a, alice);
    await login(b, bob);
    await openWith(a, bob);
    await send(a, "are you there?");
    await waitFor(() => b.unreadTotal === 1, "one unread for Bob");
    setVisibility("hidden");
    b.openConversation(await userIdOf(b, alice));
    await new Promise((r) => setTimeout(r, 600));
    expect(b.unreadTotal).to.equal(1);
    expect(receiptOf(a, "are you there?")).to.equal("delivered");
    setVisibility("visible");
    await waitFor(() => b.unreadTotal === 0, "read once visible");
    await waitFor(() => receiptOf(a, "are you there?") === "seen", "seen once visible");
  });
});
