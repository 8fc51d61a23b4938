/// <reference lib="dom" />
import { expect } from "@open-wc/testing";
import { sendKeys } from "@web/test-runner-commands";
import {
  cleanup,
  deep,
  deepAll,
  leave,
  login,
  mount,
  openWith,
  pauseServer,
  resumeServer,
  send,
  shownMessages,
  uniqueKey,
  uniqueName,
  unmount,
  userIdOf,
  waitFor,
} from "./helpers.ts";

afterEach(cleanup);

/** Signs in under `name` through the form and resolves with the error text shown, if any. */
async function tryName(name: string): Promise<string> {
  const el = await mount();
  const input = deep<HTMLInputElement>(el, "chat-login", "input")!;
  input.value = name;
  input.dispatchEvent(new Event("input"));
  deep<HTMLButtonElement>(el, "chat-login", "button[type=submit]")!.click();
  return await waitFor(
    () =>
      el.connectionState === "connected"
        ? "connected"
        : deep(el, "chat-login", "[part=error]")?.textContent?.trim(),
    `the answer to signing in as ${name}`,
  );
}

describe("<chat-widget> log out and delete account", () => {
  it("Log out opens a dialog; Escape and Cancel close it and focus returns to Log out", async () => {
    const el = await mount();
    await login(el, uniqueName("dialog"));
    const logout = deep<HTMLButtonElement>(el, "[part=logout-button]")!;
    expect(logout.getAttribute("aria-haspopup")).to.equal("dialog");
    logout.focus();
    const dialog = await leave(el, "open");
    expect(dialog.getAttribute("role")).to.equal("alertdialog");
    const root = deep(el, "chat-logout-dialog")!.shadowRoot!;
    // Focus starts on the choice that changes nothing.
    await waitFor(() => root.activeElement?.matches(".end button"), "focus on Cancel");
    expect(dialog.textContent).to.contain("Log out on this device");
    expect(dialog.textContent).to.contain("Delete my account");
    expect(dialog.textContent).to.contain("90 days");
    await expect(el).to.be.accessible();

    await sendKeys({ press: "Escape" });
    await waitFor(() => !dialog.open, "the dialog to close on Escape");
    await waitFor(() => el.shadowRoot!.activeElement === logout, "focus back on Log out");

    await leave(el, "cancel");
    await waitFor(() => !dialog.open, "the dialog to close on Cancel");
    await waitFor(() => el.shadowRoot!.activeElement === logout, "focus back again");
    expect(el.connectionState).to.equal("connected");
    expect(el.user).to.not.equal(undefined);
  });

  it("Log out on this device ends the session and keeps the name: nobody can sign up with it", async () => {
    const key = uniqueKey();
    const el = await mount({ storageKey: key });
    const name = uniqueName("keeper");
    await login(el, name);
    const events: { deleted: boolean }[] = [];
    el.addEventListener("chat-logout", (e) => events.push(e.detail));
    // The dialog's choice is an inner event: the page hears only chat-logout.
    const heard: string[] = [];
    const hear = (event: Event) => heard.push(event.type);
    document.addEventListener("chat-leave", hear);
    let dialog: HTMLDialogElement;
    try {
      dialog = await leave(el, "device");
      await waitFor(() => deep(el, "chat-login", "input"), "the username form");
    } finally {
      document.removeEventListener("chat-leave", hear);
    }
    expect(heard).to.deep.equal([]);
    expect(dialog.open).to.equal(false);
    expect(localStorage.getItem(key)).to.equal(null);
    expect(events).to.deep.equal([{ deleted: false }]);
    expect(deep(el, "chat-login", "[role=status]")).to.equal(null);
    expect(await tryName(name)).to.match(/taken/i);
  });

  it("Delete my account frees the name at once; the other side sees a deleted user and tombstones", async () => {
    const key = uniqueKey();
    const [a, b] = [await mount({ storageKey: key }), await mount()];
    const [alice, bob] = [uniqueName("alice"), uniqueName("bob")];
    await login(a, alice);
    await login(b, bob);
    await openWith(a, bob);
    await send(a, "First from Alice https://example.com");
    await waitFor(() => shownMessages(a).at(-1)?.state === "sent", "the first message");
    await send(a, "Second from Alice");
    await waitFor(
      () => shownMessages(a).length === 2 && shownMessages(a)[1].state === "sent",
      "two",
    );
    await openWith(b, alice);
    await send(b, "Reply from Bob");
    await waitFor(() => shownMessages(b).length === 3, "three messages in Bob's view");
    const aliceID = a.user!.userID;
    const events: { deleted: boolean }[] = [];
    a.addEventListener("chat-logout", (e) => events.push(e.detail));
    const states: string[] = [];
    a.addEventListener("chat-connection-change", (e) => states.push(e.detail.state));

    await leave(a, "delete");
    const notice = await waitFor(() => deep(a, "chat-login", "[role=status]"), "the notice");
    expect(notice.textContent).to.contain("Your account was deleted");
    expect(localStorage.getItem(key)).to.equal(null);
    expect(events).to.deep.equal([{ deleted: true }]);

    // Bob: the name, the messages and the composer.
    await waitFor(
      () => b.users.find((u) => u.userID === aliceID)?.deleted,
      "Alice to be deleted in Bob's list",
    );
    const entry = deep(b, "chat-user-list", `button[data-id="${aliceID}"]`)!;
    await waitFor(() => entry.textContent!.includes("Deleted user"), "Deleted user in the list");
    expect(entry.textContent).to.not.contain(alice);
    const title = deep(b, "chat-conversation", "h3")!;
    await waitFor(() => title.textContent!.trim() === "Deleted user", "the conversation's title");
    await waitFor(
      () => shownMessages(b).filter((m) => m.text === "Message deleted").length === 2,
      () => `two tombstones, got ${JSON.stringify(shownMessages(b))}`,
    );
    expect(shownMessages(b).map((m) => m.text)).to.deep.equal([
      "Message deleted",
      "Message deleted",
      "Reply from Bob",
    ]);
    const tombs = deepAll(b, "chat-conversation", ".msg.deleted");
    expect(tombs.length).to.equal(2);
    expect(tombs[0].getAttribute("part")).to.contain("message-deleted");
    expect(tombs[0].querySelector("a")).to.equal(null);
    expect(tombs[0].querySelector("time")).to.not.equal(null);
    expect(getComputedStyle(tombs[0].querySelector(".bubble")!).fontStyle).to.equal("italic");
    const area = deep<HTMLTextAreaElement>(b, "chat-conversation", "chat-composer", "textarea")!;
    await waitFor(() => area.disabled, "the composer to be disabled");
    expect(deep(b, "chat-conversation", "chat-composer", "[part=composer-notice]")!.textContent)
      .to.contain("This account was deleted");
    await expect(b).to.be.accessible();

    // Alice's widget does not reconnect; the name is free for a new sign-up.
    await new Promise((r) => setTimeout(r, 500));
    expect(states.filter((s) => s !== "signed-out")).to.deep.equal([]);
    await login(a, alice);
    expect(a.user!.userID).to.not.equal(aliceID);
    expect(deep(a, "chat-login")).to.equal(null);
  });

  it("a failed delete says why in the dialog and keeps the session", async () => {
    const el = await mount();
    await login(el, uniqueName("stays"));
    await pauseServer();
    let dialog: HTMLDialogElement;
    try {
      dialog = await leave(el, "delete");
      await waitFor(
        () => /not deleted/.test(deep(el, "chat-logout-dialog", ".error")!.textContent!),
        "the failure in the dialog",
        40_000,
      );
    } finally {
      await resumeServer();
    }
    expect(dialog.open).to.equal(true);
    expect(el.user).to.not.equal(undefined);
    expect(deep(el, "chat-logout-dialog", "[part~=delete-button]")!.textContent!.trim()).to.equal(
      "Delete my account",
    );
    await leave(el, "cancel");
  });

  it("a queued message to someone who deleted the account fails as recipient_deleted, without Retry", async () => {
    const [a, key] = [await mount(), uniqueKey()];
    const alice = uniqueName("gone");
    await login(a, alice);
    let c = await mount({ storageKey: key });
    await login(c, uniqueName("late"));
    const aliceID = await userIdOf(c, alice);
    const me = c.user!.userID;
    unmount(c);
    await leave(a, "delete");
    await waitFor(() => deep(a, "chat-login", "[role=status]"), "Alice's account to be deleted");
    // Written while offline, before this device heard of the deletion.
    localStorage.setItem(
      `${key}:outbox`,
      JSON.stringify({
        userID: me,
        entries: [{
          clientId: crypto.randomUUID(),
          to: aliceID,
          content: "Are you still there?",
          timestamp: Date.now(),
          state: "pending",
        }],
      }),
    );
    const errors: string[] = [];
    c = await mount({ storageKey: key });
    c.addEventListener("chat-error", (e) => errors.push(e.detail.code));
    await waitFor(() => c.connectionState === "connected", "the restored session");
    c.openConversation(aliceID);
    const failed = await waitFor(
      () => deep(c, "chat-conversation", ".msg.failed"),
      "the queued message to fail",
    );
    expect(failed.textContent).to.contain("This person deleted their account");
    expect(failed.querySelector("[part=retry-button]")).to.equal(null);
    expect(errors).to.include("recipient_deleted");
    expect(c.users.find((u) => u.userID === aliceID)!.deleted).to.equal(true);
  });
});
