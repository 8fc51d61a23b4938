/// <reference lib="dom" />
import { expect } from "@open-wc/testing";
import { io } from "socket.io-client";
import {
  chatServer,
  cleanup,
  deep,
  login,
  mount,
  openWith,
  shownMessages,
  uniqueKey,
  uniqueName,
  unmount,
  waitFor,
} from "./helpers.ts";

afterEach(cleanup);

describe("<chat-widget> history", () => {
  it("paging up through 200 messages keeps order and scroll position", async () => {
    const key = uniqueKey();
    const first = await mount({ height: 480, storageKey: key });
    const reader = uniqueName("reader");
    await login(first, reader);

    // Another user writes 200 messages through a plain Socket.IO client.
    const writer = uniqueName("writer");
    // Concurrent sends are stored in the server's order; that order (by id) is what the view must show.
    const stored: { id: string; content: string }[] = [];
    const socket = io(await chatServer(), {
      auth: { username: writer },
      forceNew: true,
      transports: ["websocket"],
    });
    try {
      const users = await new Promise<{ userID: string; username: string }[]>((resolve, reject) => {
        socket.once("users", resolve);
        socket.once("connect_error", reject);
      });
      const to = await waitFor(
        () => users.find((u) => u.username === reader)?.userID,
        "the reader in the list",
      );
      const texts = Array.from({ length: 200 }, (_, i) => `message ${String(i).padStart(3, "0")}`);
      for (let i = 0; i < texts.length; i += 25) {
        const acks = await Promise.all(
          texts.slice(i, i + 25).map((content, j) =>
            socket.timeout(30_000).emitWithAck("private message", {
              content,
              to,
              clientId: `seed-${i + j}`,
            })
          ),
        );
        expect(acks.every((a: { ok: boolean }) => a.ok)).to.equal(true);
        stored.push(...acks.map((a: { message: { id: string; content: string } }) => a.message));
      }
    } finally {
      socket.close();
    }

    // Reload, so the history comes from the server a page at a time.
    unmount(first);
    const el = await mount({ height: 480, storageKey: key });
    await waitFor(() => el.connectionState === "connected", "the reader to reconnect");
    await openWith(el, writer);
    await waitFor(() => shownMessages(el).length > 0, "the latest page");
    const log = deep(el, "chat-conversation", "[part=log]")!;
    expect(shownMessages(el).at(-1)!.id).to.equal(stored.map((m) => m.id).sort().at(-1));
    expect(shownMessages(el).length).to.be.lessThan(200);
    await waitFor(
      () => log.scrollHeight - log.scrollTop - log.clientHeight < 50,
      "the view at the bottom",
    );

    let pages = 0;
    while (!deep(el, "chat-conversation", ".top")!.textContent!.includes("beginning")) {
      const before = shownMessages(el).length;
      log.scrollTop = 0;
      const anchorId = shownMessages(el)[0].id;
      const anchor = () => deep(el, "chat-conversation", `.msg[data-id="${anchorId}"] .bubble`)!;
      const top = anchor().getBoundingClientRect().top;
      log.dispatchEvent(new Event("scroll"));
      await waitFor(
        () =>
          shownMessages(el).length > before ||
          deep(el, "chat-conversation", ".top")!.textContent!.includes("beginning"),
        "an older page",
      );
      await (deep(el, "chat-conversation") as HTMLElement & { updateComplete: Promise<boolean> })
        .updateComplete;
      // The message that was at the top is still where the reader saw it.
      expect(Math.abs(anchor().getBoundingClientRect().top - top)).to.be.lessThan(1.5);
      pages++;
      expect(pages).to.be.lessThan(20);
    }

    const shown = shownMessages(el);
    expect(shown.map((m) => m.text)).to.deep.equal(
      stored.sort((x, y) => x.id < y.id ? -1 : 1).map((m) => m.content),
    );
    const ids = shown.map((m) => m.id);
    expect([...ids].sort()).to.deep.equal(ids);
    expect(new Set(ids).size).to.equal(200);
    expect(pages).to.be.greaterThan(1);
  });
});
