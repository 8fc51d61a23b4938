/// <reference lib="dom" />
// The people list: its sections and their order, search, a refused origin, and host styles.
import { expect } from "@open-wc/testing";
import { io } from "socket.io-client";
import type { ChatWidget } from "../../widget/mod.ts";
import {
  cleanup,
  deep,
  deepAll,
  login,
  mount,
  openWith,
  refusingServer,
  searchServer,
  send,
  shownMessages,
  uniqueName,
  userIdOf,
  waitFor,
} from "./helpers.ts";

afterEach(cleanup);

/** The names in each section of `el`'s list, top to bottom, by the section's heading. */
function sections(el: ChatWidget): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const list of deepAll(el, "chat-user-list", "ul[aria-labelledby]")) {
    const heading = list.getRootNode() as ShadowRoot;
    const title = heading.getElementById(list.getAttribute("aria-labelledby")!)!.textContent!;
    out[title] = [...list.querySelectorAll(".name bdi")].map((n) => n.textContent!);
  }
  return out;
}

function row(el: ChatWidget, userID: string): HTMLButtonElement | null {
  return deep<HTMLButtonElement>(el, "chat-user-list", `button[data-id="${userID}"]`) ??
    deep<HTMLButtonElement>(
      el,
      "chat-user-list",
      `chat-search-results button[data-id="${userID}"]`,
    );
}

/** Types into the list's search box as a person does: focus first, then the text. */
function search(el: ChatWidget, text: string): HTMLInputElement {
  const input = deep<HTMLInputElement>(el, "chat-user-list", "[part=search]")!;
  input.focus();
  input.value = text;
  input.dispatchEvent(new InputEvent("input", { bubbles: true, composed: true }));
  return input;
}

/** Rows shown while searching, by name. */
function results(el: ChatWidget): string[] {
  return deepAll(el, "chat-user-list", "chat-search-results .name bdi").map((n) => n.textContent!);
}

/** Signs up `username` on `server` with a bare Socket.IO client and leaves again. */
async function signUp(server: string, username: string, stay = false) {
  const socket = io(server, { auth: { username }, forceNew: true, transports: ["websocket"] });
  await new Promise<void>((resolve, reject) => {
    socket.once("session", () => resolve());
    socket.once("connect_error", reject);
  });
  if (!stay) socket.disconnect();
  return socket;
}

describe("<chat-widget> people list", () => {
  it("lists conversations first, the newest on top, with their last message, time and unread count", async () => {
    const [a, b, c, d] = [await mount(), await mount(), await mount(), await mount()];
    const [alice, bob, carol, dave] = ["alice", "bob", "carol", "dave"].map((n) => uniqueName(n));
    for (const [el, name] of [[a, alice], [b, bob], [c, carol], [d, dave]] as const) {
      await login(el, name);
    }
    await openWith(b, alice);
    await send(b, "hello from bob");
    await openWith(c, alice);
    await send(c, "hi from carol\nsecond line");
    const [bobId, carolId] = [await userIdOf(a, bob), await userIdOf(a, carol)];
    await waitFor(() => a.unreadTotal === 2, "two unread messages");
    await a.updateComplete;
    const shown = sections(a);
    expect(shown["Conversations"]).to.deep.equal([carol, bob]);
    expect(shown["People"][0]).to.equal(alice, "you first among the others");
    expect(shown["People"]).to.include(dave);
    const carolRow = row(a, carolId)!;
    expect(carolRow.querySelector("[part=preview]")!.textContent!.trim()).to.equal(
      "hi from carol second line",
    );
    const time = carolRow.querySelector<HTMLTimeElement>("[part=time]")!;
    expect(Math.abs(Date.parse(time.dateTime) - Date.now())).to.be.below(60_000);
    expect(time.textContent!.trim()).to.match(/\d/);
    expect(carolRow.querySelector("[part=badge]")!.textContent).to.contain("1");

    // Answering Bob moves him to the top, with "You: " before the preview.
    await openWith(a, bob);
    await send(a, "hi bob");
    await waitFor(() => sections(a)["Conversations"][0] === bob, "Bob to move up");
    expect(row(a, bobId)!.querySelector("[part=preview]")!.textContent!.trim()).to.equal(
      "You: hi bob",
    );
    expect(row(a, bobId)!.querySelector("[part=badge]")).to.equal(null, "read once opened");
    // A message arriving moves its conversation up as well.
    await send(c, "carol again");
    await waitFor(() => sections(a)["Conversations"][0] === carol, "Carol to move up");
    expect(sections(a)["Conversations"]).to.deep.equal([carol, bob]);
  });

  it("search filters the list at once, pages through the server's answers and opens a found person", async () => {
    const server = await searchServer();
    const stem = uniqueName("find");
    // 25 people called stem-00 … stem-24, all offline but one; the list holds only 4 people.
    const names = Array.from({ length: 25 }, (_, i) => `${stem}-${String(i).padStart(2, "0")}`);
    for (const name of names.slice(1)) await signUp(server, name);
    const online = await signUp(server, names[0], true);
    try {
      const el = await mount({ server });
      await login(el, uniqueName("seeker"));
      await userIdOf(el, names[0]);
      const list = deep<HTMLElement & { updateComplete: Promise<boolean> }>(el, "chat-user-list")!;
      expect(deepAll(el, "chat-user-list", "button[data-id]").length).to.be.at.most(4);

      // The search results come with their chunk, fetched as the box is reached for.
      search(el, stem.toUpperCase());
      await waitFor(() => customElements.get("chat-search-results"), "the search chunk");
      await list.updateComplete;
      // The people listed already who match, from the first render.
      expect(results(el)).to.include(names[0]);
      const status = deep(el, "chat-user-list", "chat-search-results [role=status]")!;
      // The server's first page: 20 names in order, after those listed already.
      await waitFor(
        () => / found$/.test(status.textContent!),
        () => `the first page: ${status.textContent} ${results(el).join()}`,
      );
      const shown = results(el);
      expect(shown.length).to.be.within(20, 23);
      expect(status.textContent).to.equal(`${shown.length} people found`);
      for (const name of names.slice(0, 20)) expect(shown).to.include(name);
      await expect(el).to.be.accessible();

      deep<HTMLButtonElement>(el, "chat-user-list", "[part=search-more]")!.click();
      await waitFor(() => results(el).length === 25, "the second page");
      expect([...results(el)].sort()).to.deep.equal(names);
      expect(deep(el, "chat-user-list", "[part=search-more]")).to.equal(null);

      // Opening someone the list did not hold starts a conversation with them.
      const last = names[24];
      const found = deepAll<HTMLButtonElement>(el, "chat-user-list", "chat-search-results button")
        .find((b) => b.querySelector(".name bdi")?.textContent === last)!;
      found.click();
      await waitFor(() => deep(el, "chat-conversation", "chat-composer", "textarea"), "composer");
      expect(deep(el, "chat-conversation", "[part=header]")!.textContent).to.contain(last);
      await send(el, "found you");
      await waitFor(
        () => shownMessages(el).some((m) => m.text === "found you" && m.state === "sent"),
        "the message to be stored",
      );

      // Nobody is called that.
      search(el, `${stem}-99`);
      await waitFor(
        () => status.isConnected && status.textContent === `No one found for “${stem}-99”`,
        "no one found",
      );
      // Escape clears the box and brings the sections back, the new conversation among them.
      const input = deep<HTMLInputElement>(el, "chat-user-list", "[part=search]")!;
      input.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
      await waitFor(() => sections(el)["Conversations"]?.[0] === last, "the sections again");
      expect(input.value).to.equal("");
    } finally {
      online.disconnect();
    }
  });

  it("tells a page the server does not accept why, and stops trying", async () => {
    const el = await mount({ server: await refusingServer() });
    const errors: string[] = [];
    el.addEventListener("chat-error", (e) => errors.push(e.detail.code));
    const input = await waitFor(() => deep<HTMLInputElement>(el, "chat-login", "input"), "form");
    input.value = uniqueName("refused");
    input.dispatchEvent(new InputEvent("input"));
    deep<HTMLButtonElement>(el, "chat-login", "button[type=submit]")!.click();
    const error = await waitFor(
      () => deep(el, "chat-login", "[part=error]")?.textContent?.trim(),
      "the reason in the form",
    );
    expect(error).to.equal("This site is not allowed to use the chat server");
    expect(errors).to.deep.equal(["origin_not_allowed"]);
    expect(el.connectionState).to.equal("signed-out");
    // No retrying: nothing more happens.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(el.connectionState).to.equal("signed-out");
    expect(errors).to.deep.equal(["origin_not_allowed"]);
  });

  it("keeps the host page's styles out, even with !important", async () => {
    const style = document.createElement("style");
    style.textContent =
      "* { font-family: serif !important; color: rgb(255, 0, 0) !important; letter-spacing: 9px !important; text-transform: uppercase !important }";
    document.head.append(style);
    try {
      const [el, other] = [await mount(), await mount()];
      const me = uniqueName("styled");
      await login(el, me);
      await login(other, uniqueName("other"));
      await userIdOf(el, other.user!.username);
      const inside = [
        deep(el, "[part=title]")!,
        deep(el, ".me")!,
        deep(el, "[part=logout-button]")!,
        deep(el, "[part=banner]")!,
        deep(el, "chat-user-list", "[part=search]")!,
        deep(el, "chat-user-list", ".name")!,
      ];
      for (const node of inside) {
        const css = getComputedStyle(node);
        expect(css.fontFamily, node.outerHTML.slice(0, 60)).to.not.match(/^serif/);
        expect(css.color, node.outerHTML.slice(0, 60)).to.not.equal("rgb(255, 0, 0)");
        expect(css.letterSpacing, node.outerHTML.slice(0, 60)).to.not.equal("9px");
        expect(css.textTransform, node.outerHTML.slice(0, 60)).to.equal("none");
      }
      expect(deep(el, ".me")!.textContent).to.equal(me);
    } finally {
      style.remove();
    }
  });
});
