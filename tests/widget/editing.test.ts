/// <reference lib="dom" />
import { expect } from "@open-wc/testing";
import type { ChatWidget } from "../../widget/mod.ts";
import {
  cleanup,
  deep,
  deepAll,
  login,
  messageWith,
  mount,
  openWith,
  press,
  reload,
  send,
  shownMessages,
  typeInto,
  uniqueName,
  waitFor,
} from "./helpers.ts";

afterEach(cleanup);

function composer(el: ChatWidget): HTMLTextAreaElement {
  return deep<HTMLTextAreaElement>(el, "chat-conversation", "chat-composer", "textarea")!;
}

function editBar(el: ChatWidget): HTMLElement | null {
  return deep(el, "chat-conversation", "chat-composer", "[part=edit-bar]");
}

/** Opens the menu of one's own message `text` with its ⋯ button; returns the menu. */
async function openMenu(el: ChatWidget, text: string): Promise<HTMLElement> {
  const button = await waitFor(
    () => messageWith(el, text)?.querySelector<HTMLButtonElement>("[part=message-menu-button]"),
    `the menu button of "${text}"`,
  );
  expect(button.getAttribute("aria-haspopup")).to.equal("menu");
  button.click();
  return await waitFor(
    () => messageWith(el, text)?.querySelector<HTMLElement>("[part=message-menu]"),
    `the menu of "${text}"`,
  );
}

/** Two people in a conversation, Alice having sent `texts`. */
async function conversation(...texts: string[]) {
  const [a, b] = [await mount(), await mount()];
  const [alice, bob] = [uniqueName("alice"), uniqueName("bob")];
  await login(a, alice);
  await login(b, bob);
  await openWith(a, bob);
  for (const text of texts) {
    await send(a, text);
    await waitFor(() => messageWith(a, text)?.dataset.state === "sent", `"${text}" stored`);
  }
  await openWith(b, alice);
  await waitFor(() => shownMessages(b).length === texts.length, "Bob to have them");
  return { a, b, alice, bob };
}

describe("<chat-widget> editing and deleting", () => {
  it("the message menu edits: both sides show the new text and edited; a reload keeps it", async () => {
    const { a, b } = await conversation("Hello wrld");
    // Only one's own messages have a menu.
    expect(messageWith(b, "Hello wrld")!.querySelector("[part=message-menu-button]")).to.equal(
      null,
    );
    await typeInto(a, "a draft");
    const menu = await openMenu(a, "Hello wrld");
    expect(menu.getAttribute("role")).to.equal("menu");
    const items = [...menu.querySelectorAll<HTMLButtonElement>("[role=menuitem]")];
    expect(items.map((i) => i.textContent!.trim())).to.deep.equal(["Edit", "Delete"]);
    const root = deep(a, "chat-conversation")!.shadowRoot!;
    await waitFor(() => root.activeElement === items[0], "focus on Edit");
    await expect(a).to.be.accessible();
    // Arrow keys move between the items; Escape closes and gives focus back to ⋯.
    press(items[0], "ArrowRight");
    expect(root.activeElement === items[1]).to.equal(true, "focus on Delete");
    press(items[1], "ArrowRight");
    expect(root.activeElement === items[0]).to.equal(true, "focus back on Edit");
    press(items[0], "Escape");
    await waitFor(
      () => !messageWith(a, "Hello wrld")!.querySelector("[part=message-menu]"),
      "closed",
    );
    const more = messageWith(a, "Hello wrld")!.querySelector("[part=message-menu-button]");
    expect(root.activeElement === more).to.equal(true, "focus back on the menu button");

    (await openMenu(a, "Hello wrld")).querySelector<HTMLButtonElement>("[role=menuitem]")!.click();
    await waitFor(() => editBar(a), "the editing bar");
    expect(editBar(a)!.textContent).to.contain("Editing message");
    expect(composer(a).value).to.equal("Hello wrld");
    expect(deep(a, "chat-conversation", "chat-composer", "[part=send-button]")!.textContent).to
      .equal("Save");
    await typeInto(a, "Hello world");
    press(composer(a), "Enter");
    await waitFor(() => messageWith(b, "Hello world"), "Bob to see the edit");
    await waitFor(() => !editBar(a) && messageWith(a, "Hello world"), "Alice's edit saved");
    expect(composer(a).value).to.equal("a draft", "the draft comes back");
    for (const el of [a, b]) {
      const edited = messageWith(el, "Hello world")!.querySelector("[part=edited]");
      expect(edited?.textContent).to.equal("edited");
    }
    expect(shownMessages(b).length).to.equal(1);

    const again = await reload(b);
    await openWith(again, a.user!.username);
    await waitFor(() => messageWith(again, "Hello world"), "the edit after a reload");
    expect(messageWith(again, "Hello world")!.querySelector("[part=edited]")).to.not.equal(null);
  });

  it("Up in the empty box edits the last message; Escape cancels and changes nothing", async () => {
    const { a, b } = await conversation("first", "second");
    const events: string[] = [];
    a.addEventListener("chat-message-updated", (e) => events.push(e.detail.message.content));
    composer(a).focus();
    press(composer(a), "ArrowUp");
    await waitFor(() => editBar(a), "the editing bar");
    expect(composer(a).value).to.equal("second");
    expect(messageWith(a, "second")!.classList.contains("editing")).to.equal(true);
    const escape = press(composer(a), "Escape");
    expect(escape.defaultPrevented).to.equal(true);
    await waitFor(() => !editBar(a), "editing to end");
    expect(composer(a).value).to.equal("");
    expect(shownMessages(a).map((m) => m.text)).to.deep.equal(["first", "second"]);
    // Cancel does the same; Up with text in the box is just a key.
    press(composer(a), "ArrowUp");
    await waitFor(() => editBar(a), "editing again");
    deep<HTMLButtonElement>(a, "chat-conversation", "chat-composer", "[part=edit-cancel]")!.click();
    await waitFor(() => !editBar(a), "Cancel to end editing");
    await typeInto(a, "text");
    press(composer(a), "ArrowUp");
    await new Promise((r) => setTimeout(r, 200));
    expect(editBar(a)).to.equal(null);
    await typeInto(a, "");

    press(composer(a), "ArrowUp");
    await waitFor(() => editBar(a), "editing the last one");
    await typeInto(a, "second, better");
    press(composer(a), "Enter");
    await waitFor(() => messageWith(b, "second, better"), "Bob to see it");
    expect(events).to.deep.equal(["second, better"]);
  });

  it("Delete asks first, then both sides show Message deleted; paging and a reload keep it", async () => {
    const { a, b } = await conversation("keep me", "oops");
    const menu = await openMenu(a, "oops");
    menu.querySelectorAll<HTMLButtonElement>("[role=menuitem]")[1].click();
    const dialog = await waitFor(
      () => deep<HTMLDialogElement>(a, "chat-conversation", "chat-confirm-dialog", "dialog[open]"),
      "the confirmation",
    );
    expect(dialog.querySelector("h3")!.textContent).to.equal("Delete this message?");
    await expect(a).to.be.accessible();
    // Cancel first: nothing happens.
    dialog.querySelector<HTMLButtonElement>(".end button:not(.danger)")!.click();
    await waitFor(() => !dialog.open, "the dialog to close");
    expect(messageWith(a, "oops")).to.not.equal(undefined);

    (await openMenu(a, "oops")).querySelectorAll<HTMLButtonElement>("[role=menuitem]")[1].click();
    await waitFor(() => dialog.open, "the confirmation again");
    dialog.querySelector<HTMLButtonElement>("[part~=confirm-button]")!.click();
    for (const el of [a, b]) {
      await waitFor(
        () => deepAll(el, "chat-conversation", ".msg [part~=deleted]").length === 1,
        "a tombstone on each side",
      );
      const gone = deep(el, "chat-conversation", ".msg.deleted")!;
      expect(gone.querySelector(".bubble")!.textContent).to.equal("Message deleted");
      expect(gone.getAttribute("part")).to.contain("message-deleted");
      expect(gone.querySelector("[part=message-menu-button], .tick")).to.equal(null);
    }
    expect(messageWith(b, "keep me")).to.not.equal(undefined);
    await waitFor(() => !dialog.open, "the dialog to close");

    const again = await reload(b);
    await openWith(again, a.user!.username);
    await waitFor(() => shownMessages(again).length === 2, "the history after a reload");
    expect(shownMessages(again).map((m) => m.text)).to.deep.equal(["keep me", "Message deleted"]);
  });

  it("an older page brings edited and deleted messages as they are now", async () => {
    const { a, b } = await conversation(...Array.from({ length: 53 }, (_, i) => `m${i}`));
    // Two of the oldest three, which the first page of a fresh load leaves out.
    for (const [text, action] of [["m0", "edit"], ["m1", "delete"]] as const) {
      await waitFor(() => messageWith(a, text), `${text} on Alice's side`);
      const items = (await openMenu(a, text)).querySelectorAll<HTMLButtonElement>(
        "[role=menuitem]",
      );
      items[action === "edit" ? 0 : 1].click();
      if (action === "edit") {
        await waitFor(() => editBar(a), "editing m0");
        await typeInto(a, "m0 (edited)");
        press(composer(a), "Enter");
        await waitFor(() => messageWith(a, "m0 (edited)"), "m0 edited");
      } else {
        const dialog = await waitFor(
          () =>
            deep<HTMLDialogElement>(a, "chat-conversation", "chat-confirm-dialog", "dialog[open]"),
          "the confirmation",
        );
        dialog.querySelector<HTMLButtonElement>("[part~=confirm-button]")!.click();
        await waitFor(() => !messageWith(a, "m1"), "m1 deleted");
      }
    }
    const again = await reload(b);
    await openWith(again, a.user!.username);
    const log = deep(again, "chat-conversation", "[part=log]")!;
    await waitFor(() => {
      log.scrollTop = 0;
      log.dispatchEvent(new Event("scroll"));
      return messageWith(again, "m0 (edited)");
    }, "the older page with the edit");
    expect(messageWith(again, "m0 (edited)")!.querySelector("[part=edited]")).to.not.equal(null);
    expect(messageWith(again, "m1")).to.equal(undefined);
    expect(shownMessages(again)[1].text).to.equal("Message deleted");
  });
});
