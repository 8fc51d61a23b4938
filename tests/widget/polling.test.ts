/// <reference lib="dom" />
// Must come first: it blocks WebSocket before helpers.ts loads the bundle.
import { blocked } from "./no-websocket.ts";
import { expect } from "@open-wc/testing";
import {
  cleanup,
  login,
  mount,
  openWith,
  send,
  shownMessages,
  uniqueName,
  waitFor,
} from "./helpers.ts";

afterEach(cleanup);

describe("<chat-widget> without WebSocket", () => {
  it("falls back to long-polling: signs in, and messages go both ways", async () => {
    const [a, b] = [await mount(), await mount()];
    const [alice, bob] = [uniqueName("alice"), uniqueName("bob")];
    await login(a, alice);
    await login(b, bob);
    expect(blocked.attempts).to.be.greaterThan(0);
    await openWith(a, bob);
    await send(a, "over long-polling");
    await waitFor(
      () => shownMessages(a).some((m) => m.text === "over long-polling" && m.state === "sent"),
      "alice's message to be sent",
    );
    await openWith(b, alice);
    await waitFor(
      () => shownMessages(b).some((m) => m.text === "over long-polling" && !m.out),
      "bob to receive it",
    );
    await send(b, "and back");
    await waitFor(
      () => shownMessages(a).some((m) => m.text === "and back" && !m.out),
      "alice to receive the answer",
    );
  });
});
