/// <reference lib="dom" />
import { expect } from "@open-wc/testing";
import {
  cleanup,
  deep,
  leave,
  login,
  mount,
  openWith,
  send,
  shownMessages,
  uniqueKey,
  uniqueName,
  unmount,
  waitFor,
} from "./helpers.ts";

afterEach(cleanup);

describe("<chat-widget> sessions", () => {
  it("a reload restores the session and the history", async () => {
    const key = uniqueKey();
    const [a, b] = [await mount({ storageKey: key }), await mount()];
    const [alice, bob] = [uniqueName("alice"), uniqueName("bob")];
    const sessions: string[] = [];
    document.addEventListener("chat-session", (e) => sessions.push(e.detail.username));
    await login(a, alice);
    await login(b, bob);
    await openWith(a, bob);
    await send(a, "before reload");
    await waitFor(() => shownMessages(a).some((m) => m.state === "sent"), "the message to be sent");
    const userID = a.user!.userID;
    const stored = JSON.parse(localStorage.getItem(key)!);
    expect(stored.userID).to.equal(userID);
    expect(stored.sessionID).to.be.a("string");

    unmount(a);
    const again = await mount({ storageKey: key });
    await waitFor(() => again.connectionState === "connected", "the restored widget to connect");
    expect(again.user).to.deep.equal({ userID, username: alice });
    expect(deep(again, "chat-login")).to.equal(null);
    await openWith(again, bob);
    await waitFor(() => shownMessages(again).length === 1, "the history");
    expect(shownMessages(again)[0]).to.include({ text: "before reload", state: "sent", out: true });
    expect(sessions.filter((s) => s === alice).length).to.equal(2);
  });

  it("an unknown session returns to the form and clears the stale key", async () => {
    const key = uniqueKey();
    localStorage.setItem(
      key,
      JSON.stringify({ sessionID: "no-such-session", userID: "nobody", username: "ghost" }),
    );
    const errors: string[] = [];
    document.addEventListener("chat-error", (e) => errors.push(e.detail.code));
    const el = await mount({ storageKey: key });
    await waitFor(() => deep(el, "chat-login", "[role=status]"), "the session-expired notice");
    expect(deep(el, "chat-login", "[role=status]")!.textContent).to.contain("session has ended");
    expect(localStorage.getItem(key)).to.equal(null);
    expect(el.connectionState).to.equal("signed-out");
    expect(el.user).to.equal(undefined);
    expect(errors.length).to.equal(1);
    await login(el, uniqueName("fresh"));
  });

  it("the server's validation messages show inline in the form", async () => {
    const taken = uniqueName("taken");
    const first = await mount();
    await login(first, taken);
    const el = await mount();
    const input = deep<HTMLInputElement>(el, "chat-login", "input")!;
    const error = () => deep(el, "chat-login", "[part=error]")!;

    // Empty: refused without asking the server.
    deep<HTMLButtonElement>(el, "chat-login", "button[type=submit]")!.click();
    await waitFor(
      () => error().textContent!.trim() === "Please enter a username",
      "the required message",
    );
    expect(input.getAttribute("aria-invalid")).to.equal("true");

    input.value = taken.toUpperCase();
    input.dispatchEvent(new Event("input"));
    deep<HTMLButtonElement>(el, "chat-login", "button[type=submit]")!.click();
    await waitFor(
      () => /taken/i.test(error().textContent!),
      () => `a "taken" message, got "${error().textContent}"`,
    );
    expect(el.connectionState).to.equal("signed-out");

    input.value = "x".repeat(40);
    input.dispatchEvent(new Event("input"));
    deep<HTMLButtonElement>(el, "chat-login", "button[type=submit]")!.click();
    await waitFor(
      () => /too long/i.test(error().textContent!),
      () => `a "too long" message, got "${error().textContent}"`,
    );

    await login(el, uniqueName("ok"));
    expect(deep(el, "chat-login")).to.equal(null);
  });

  it("logout() forgets the session and shows the form; the old session no longer works", async () => {
    const key = uniqueKey();
    const el = await mount({ storageKey: key });
    await login(el, uniqueName("leaving"));
    const stored = localStorage.getItem(key)!;
    let loggedOut = 0;
    el.addEventListener("chat-logout", () => loggedOut++);
    await leave(el, "device");
    await waitFor(() => deep(el, "chat-login", "input"), "the username form");
    expect(localStorage.getItem(key)).to.equal(null);
    expect(el.user).to.equal(undefined);
    expect(loggedOut).to.equal(1);

    // logout() also ends the session on the server: restoring it fails.
    const key2 = uniqueKey();
    const other = await mount({ storageKey: key2 });
    await login(other, uniqueName("leaving"));
    const stored2 = localStorage.getItem(key2)!;
    await other.logout();
    expect(localStorage.getItem(key2)).to.equal(null);
    unmount(other);
    unmount(el);
    localStorage.setItem(key2, stored2);
    const again = await mount({ storageKey: key2 });
    await waitFor(() => deep(again, "chat-login", "[role=status]"), "the session-expired notice");
    expect(localStorage.getItem(key2)).to.equal(null);
    void stored;
  });

  it("says clearly when the server cannot be reached at all", async () => {
    const el = await mount();
    // Nothing listens on the discard port.
    el.server = "http://127.0.0.1:9";
    await el.updateComplete;
    const states: string[] = [];
    el.addEventListener("chat-connection-change", (e) => states.push(e.detail.state));
    const input = deep<HTMLInputElement>(el, "chat-login", "input")!;
    input.value = uniqueName("lonely");
    input.dispatchEvent(new Event("input"));
    deep<HTMLButtonElement>(el, "chat-login", "button[type=submit]")!.click();
    await waitFor(() => el.connectionState === "unreachable", "the unreachable state", 60_000);
    expect(deep(el, "[part=banner]")!.textContent).to.contain(
      "Cannot reach the chat server at http://127.0.0.1:9",
    );
    // The form is usable again: the person can retry or pick another name.
    await waitFor(
      () => !deep<HTMLButtonElement>(el, "chat-login", "button[type=submit]")!.disabled,
      "the form to be enabled again",
    );
    expect(states).to.deep.equal(["connecting", "unreachable"]);
  });

  it("focus follows the person: the list after sign-in, the composer on opening, the form after log out", async () => {
    const [el, other] = [await mount(), await mount()];
    const otherName = uniqueName("other");
    await login(other, otherName);
    await login(el, uniqueName("focus"));
    const list = deep(el, "chat-user-list")!;
    await waitFor(
      () => list.shadowRoot!.activeElement?.matches("button[data-id]"),
      "focus in the list",
    );
    await openWith(el, otherName);
    const composer = deep(el, "chat-conversation", "chat-composer")!;
    await waitFor(
      () => composer.shadowRoot!.activeElement?.matches("textarea"),
      "focus in the composer",
    );
    await leave(el, "device");
    const form = await waitFor(() => deep(el, "chat-login"), "the form");
    await waitFor(
      () => form.shadowRoot!.activeElement?.matches("input"),
      "focus in the username field",
    );
  });

  it("logging out in one tab signs out the other tabs of that session", async () => {
    const key = uniqueKey();
    const tab1 = await mount({ storageKey: key });
    await login(tab1, uniqueName("twotabs"));
    const tab2 = await mount({ storageKey: key });
    await waitFor(
      () => tab2.connectionState === "connected",
      "the second tab to restore the session",
    );
    await tab1.logout();
    await waitFor(() => deep(tab2, "chat-login", "input"), "the form in the second tab", 60_000);
    expect(tab2.user).to.equal(undefined);
  });
});
