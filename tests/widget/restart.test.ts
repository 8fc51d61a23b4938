/// <reference lib="dom" />
import { expect } from "@open-wc/testing";
import {
  cleanup,
  deep,
  deepAll,
  login,
  mount,
  openWith,
  pauseServer,
  resumeServer,
  send,
  shownMessages,
  startServer,
  stopServer,
  uniqueKey,
  uniqueName,
  unmount,
  userIdOf,
  waitFor,
} from "./helpers.ts";

afterEach(async () => {
  // Never leave the next test without a running server.
  await resumeServer();
  await startServer();
  cleanup();
});

describe("<chat-widget> across server restarts", () => {
  it("messages written while the server is down are pending, then sent once after reconnect", async () => {
    const keyA = uniqueKey();
    const keyB = uniqueKey();
    const [a, b] = [await mount({ storageKey: keyA }), await mount({ storageKey: keyB })];
    const [alice, bob] = [uniqueName("alice"), uniqueName("bob")];
    await login(a, alice);
    await login(b, bob);
    await openWith(a, bob);
    await openWith(b, alice);
    const states: string[] = [];
    a.addEventListener("chat-connection-change", (e) => states.push(e.detail.state));

    await stopServer();
    await waitFor(() => a.connectionState !== "connected", "A to notice the server is gone");
    await waitFor(
      () => deep(a, "[part=banner]")!.textContent!.trim() !== "",
      "the connection banner",
    );
    // Nobody's presence is known while disconnected: no dot says online or offline.
    const bobId = await userIdOf(a, bob);
    const dots = () => deepAll(a, "chat-user-list", "[part=status]");
    expect(dots().length).to.be.at.least(2);
    expect(dots().every((d) => d.classList.contains("unknown"))).to.equal(true);
    const statuses = deepAll(a, "chat-user-list", ".status").map((s) => s.textContent!.trim());
    expect(statuses.filter((s) => /online|offline|last seen/.test(s))).to.deep.equal([]);
    expect(deep(a, "chat-conversation", "[part=header] .status")!.textContent!.trim()).to.equal("");

    await send(a, "written offline 1");
    await send(a, "written offline 2");
    await waitFor(() => shownMessages(a).length === 2, "both messages shown at once");
    expect(shownMessages(a).map((m) => m.state)).to.deep.equal(["pending", "pending"]);
    expect(deep(a, "chat-conversation", "[part~=message-pending] [part=meta]")!.textContent).to
      .contain(
        "Waiting for connection",
      );
    expect(JSON.parse(localStorage.getItem(`${keyA}:outbox`)!).entries.length).to.equal(2);

    await startServer();
    await waitFor(
      () => shownMessages(a).length === 2 && shownMessages(a).every((m) => m.state === "sent"),
      () => `both messages to be sent: ${JSON.stringify(shownMessages(a))} (${a.connectionState})`,
      60_000,
    );
    expect(a.connectionState).to.equal("connected");
    expect(states).to.include("connected");
    await waitFor(
      () =>
        deep(a, "chat-user-list", `button[data-id="${bobId}"] [part=status]`)?.classList
          .contains("on"),
      "Bob online again",
    );
    expect(deep(a, "[part=banner]")!.textContent!.trim()).to.equal("");
    expect(localStorage.getItem(`${keyA}:outbox`)).to.equal(null);

    await waitFor(
      () => shownMessages(b).filter((m) => m.text.startsWith("written offline")).length === 2,
      "B to receive both",
      60_000,
    );
    // Nothing duplicated, not live and not in stored history.
    unmount(b);
    const b2 = await mount({ storageKey: keyB });
    await waitFor(() => b2.connectionState === "connected", "B to reconnect after reload");
    await openWith(b2, alice);
    await waitFor(() => shownMessages(b2).length >= 2, "B's history");
    expect(shownMessages(b2).map((m) => m.text)).to.deep.equal([
      "written offline 1",
      "written offline 2",
    ]);
    expect(shownMessages(a).map((m) => m.text)).to.deep.equal([
      "written offline 1",
      "written offline 2",
    ]);
  });

  it("the outbox survives a page reload while the server is down", async () => {
    const keyA = uniqueKey();
    const [a, b] = [await mount({ storageKey: keyA }), await mount()];
    const [alice, bob] = [uniqueName("alice"), uniqueName("bob")];
    await login(a, alice);
    await login(b, bob);
    await openWith(a, bob);

    await stopServer();
    await waitFor(() => a.connectionState !== "connected", "A to notice the server is gone");
    await send(a, "queued across a reload");
    await waitFor(() => shownMessages(a).length === 1, "the pending message");
    unmount(a);
    expect(JSON.parse(localStorage.getItem(`${keyA}:outbox`)!).entries[0].content).to.equal(
      "queued across a reload",
    );

    const a2 = await mount({ storageKey: keyA });
    await waitFor(
      () => ["connecting", "reconnecting", "unreachable"].includes(a2.connectionState),
      "A to try",
    );
    await startServer();
    await waitFor(() => a2.connectionState === "connected", "A to connect", 60_000);
    await openWith(a2, bob);
    await waitFor(
      () => shownMessages(a2).length === 1 && shownMessages(a2)[0].state === "sent",
      () => `the queued message to be sent: ${JSON.stringify(shownMessages(a2))}`,
      60_000,
    );
    await openWith(b, alice);
    await waitFor(() => shownMessages(b).length === 1, "B to receive it");
    expect(shownMessages(b)[0].text).to.equal("queued across a reload");
    expect(localStorage.getItem(`${keyA}:outbox`)).to.equal(null);
  });

  it("a message without an answer is marked failed; Retry reuses its clientId and stores it once", async () => {
    const [a, b] = [await mount(), await mount()];
    const [alice, bob] = [uniqueName("alice"), uniqueName("bob")];
    await login(a, alice);
    await login(b, bob);
    await openWith(a, bob);
    await openWith(b, alice);
    const errors: string[] = [];
    a.addEventListener("chat-error", (e) => errors.push(e.detail.source));

    await pauseServer();
    await send(a, "answer me");
    await waitFor(() => shownMessages(a)[0]?.state === "pending", "the pending message");
    // The ack times out while the connection still looks alive.
    await waitFor(() => shownMessages(a)[0]?.state === "failed", "the message to fail", 60_000);
    expect(errors).to.deep.equal(["private message"]);
    const retry = deep<HTMLButtonElement>(a, "chat-conversation", "[part=retry-button]")!;
    expect(retry.textContent!.trim()).to.equal("Retry");

    // The server was only slow: it stores the first attempt once it runs again.
    await resumeServer();
    await waitFor(() => shownMessages(b).length === 1, "B to receive the first attempt");
    retry.click();
    await waitFor(() => shownMessages(a)[0]?.state === "sent", "the retry to be acknowledged");
    expect(shownMessages(a).length).to.equal(1);

    unmount(b);
    const b2 = await mount({ storageKey: b.storageKey });
    await waitFor(() => b2.connectionState === "connected", "B to reconnect");
    await openWith(b2, alice);
    await waitFor(() => shownMessages(b2).length > 0, "B's history");
    expect(shownMessages(b2).map((m) => m.text)).to.deep.equal(["answer me"]);
  });
});
