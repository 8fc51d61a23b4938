/// <reference lib="dom" />
import { expect } from "@open-wc/testing";
import type { ChatWidget } from "../../widget/mod.ts";
import {
  cleanup,
  deep,
  login,
  messageWith,
  mount,
  openWith,
  send,
  shownMessages,
  typeInto,
  uniqueKey,
  uniqueName,
  userIdOf,
  waitFor,
} from "./helpers.ts";

afterEach(cleanup);

function blockButton(el: ChatWidget): HTMLButtonElement {
  return deep<HTMLButtonElement>(el, "chat-conversation", "[part=block-button]")!;
}

/** Presses Block and waits for the confirmation; returns its dialog. */
async function askToBlock(el: ChatWidget): Promise<HTMLDialogElement> {
  // As a real click does: focus, then click.
  blockButton(el).focus();
  blockButton(el).click();
  return await waitFor(
    () => deep<HTMLDialogElement>(el, "chat-conversation", "chat-confirm-dialog", "dialog[open]"),
    "the block confirmation",
  );
}

describe("<chat-widget> blocking", () => {
  it("Block asks first; then the composer is off, the list says blocked, and their messages do not arrive", async () => {
    const key = uniqueKey();
    const [a, b] = [await mount({ storageKey: key }), await mount()];
    const [alice, bob] = [uniqueName("alice"), uniqueName("bob")];
    await login(a, alice);
    await login(b, bob);
    const second = await mount({ storageKey: key });
    await waitFor(() => second.connectionState === "connected", "Alice's second tab");
    const changes: boolean[] = [];
    a.addEventListener("chat-block-change", (e) => changes.push(e.detail.blocked));
    await openWith(a, bob);
    await openWith(b, alice);
    expect(blockButton(a).textContent!.trim()).to.equal("Block");
    expect(blockButton(a).getAttribute("aria-haspopup")).to.equal("dialog");

    // Cancel changes nothing, and focus goes back to Block.
    let dialog = await askToBlock(a);
    expect(dialog.querySelector("h3")!.textContent).to.equal(`Block \u2068${bob}\u2069?`);
    await expect(a).to.be.accessible();
    dialog.querySelector<HTMLButtonElement>(".end button:not(.danger)")!.click();
    await waitFor(() => !dialog.open, "the dialog to close");
    expect(deep(a, "chat-conversation")!.shadowRoot!.activeElement === blockButton(a)).to.equal(
      true,
      "focus back on Block",
    );
    expect(changes).to.deep.equal([]);

    dialog = await askToBlock(a);
    dialog.querySelector<HTMLButtonElement>("[part~=confirm-button]")!.click();
    await waitFor(() => !dialog.open, "the dialog to close after blocking");
    await waitFor(() => blockButton(a).textContent!.trim() === "Unblock", "Unblock");
    expect(changes).to.deep.equal([true]);
    const area = deep<HTMLTextAreaElement>(a, "chat-conversation", "chat-composer", "textarea")!;
    expect(area.disabled).to.equal(true);
    expect(deep(a, "chat-conversation", "chat-composer", "[part=composer-notice]")!.textContent)
      .to.equal(`You blocked \u2068${bob}\u2069. Unblock to write.`);
    const bobId = await userIdOf(a, bob);
    const row = deep(a, "chat-user-list", `button[data-id="${bobId}"] .status`)!;
    expect(row.textContent!.trim()).to.equal("blocked");
    // The other tab agrees.
    await waitFor(() => second.users.find((u) => u.userID === bobId)?.blocked, "tab two blocked");
    await expect(a).to.be.accessible();

    // Bob is told his message did not get through; Alice never gets it, nor his typing.
    await typeInto(b, "typing to nobody");
    await send(b, "are you there?");
    await waitFor(() => messageWith(b, "are you there?")?.dataset.state === "failed", "refused");
    const notice = messageWith(b, "are you there?")!.querySelector("[role=alert]")!;
    expect(notice.textContent!.trim()).to.equal(
      "Not delivered: this person doesn't accept your messages",
    );
    await new Promise((r) => setTimeout(r, 800));
    expect(shownMessages(a).some((m) => m.text === "are you there?")).to.equal(false);
    expect(deep(a, "chat-conversation", "[part=typing]")!.textContent!.trim()).to.equal("");
    expect(a.unreadTotal).to.equal(0);

    // Unblocking needs no confirmation; Bob's retry then arrives.
    blockButton(a).click();
    await waitFor(() => blockButton(a).textContent!.trim() === "Block", "Block again");
    expect(area.disabled).to.equal(false);
    expect(changes).to.deep.equal([true, false]);
    messageWith(b, "are you there?")!.querySelector<HTMLButtonElement>("[part=retry-button]")!
      .click();
    await waitFor(
      () => shownMessages(a).some((m) => m.text === "are you there?"),
      "the retried message to arrive",
    );
  });
});
