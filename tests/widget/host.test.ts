/// <reference lib="dom" />
import { expect } from "@open-wc/testing";
import type { ChatWidget } from "../../widget/mod.ts";
import {
  cleanup,
  deep,
  hostModeServer,
  mount,
  restartHostModeServer,
  signToken,
  uniqueKey,
  uniqueName,
  waitFor,
} from "./helpers.ts";

afterEach(cleanup);

/** Every `chat-error` the page hears, until `stop()`. */
function hearErrors(): { codes: string[]; details: { code: string; message: string }[] } & {
  stop(): void;
} {
  const details: { code: string; message: string }[] = [];
  const hear = (e: CustomEvent<{ code: string; message: string }>) => details.push(e.detail);
  document.addEventListener("chat-error", hear);
  return {
    details,
    get codes() {
      return details.map((d) => d.code);
    },
    stop: () => document.removeEventListener("chat-error", hear),
  };
}

/** The visible reason a host-mode widget is not signed in. */
async function shownReason(el: ChatWidget): Promise<string> {
  const alert = await waitFor(
    () => deep(el, "[part=auth-status] [role=alert]"),
    "the reason in the widget",
  );
  return alert.textContent!.trim();
}

describe("<chat-widget> host mode", () => {
  it("with a token, signs in as the site's user: no username form, no Log out, nothing stored", async () => {
    const server = await hostModeServer();
    const key = uniqueKey();
    const name = `Ada ${uniqueName("L")}`;
    const sessions: string[] = [];
    document.addEventListener("chat-session", (e) => sessions.push(e.detail.username));
    const el = await mount({
      server,
      storageKey: key,
      token: await signToken({ sub: uniqueName("site-user-"), name }),
    });
    expect(deep(el, "chat-login")).to.equal(null);
    await waitFor(() => el.connectionState === "connected", "the connection");
    expect(el.user!.username).to.equal(name);
    expect(sessions).to.include(name);
    expect(deep(el, ".me")!.textContent).to.equal(name);
    expect(deep(el, "[part=logout-button]")).to.equal(null);
    expect(deep(el, "chat-login")).to.equal(null);
    expect(localStorage.getItem(key)).to.equal(null);
    expect(localStorage.getItem(`${key}:outbox`)).to.equal(null);
  });

  it("a bad token fires chat-error and the widget says the sign-in could not be verified", async () => {
    const errors = hearErrors();
    try {
      const el = await mount({ server: await hostModeServer(), token: "not-a-token" });
      expect(await shownReason(el)).to.equal("Your sign-in could not be verified");
      expect(errors.codes).to.deep.equal(["invalid_token"]);
      expect(errors.details[0].message).to.not.contain("not-a-token");
      expect(el.connectionState).to.equal("signed-out");
      expect(deep(el, "chat-login")).to.equal(null);
      // A static token cannot be renewed by the widget: nothing to try again.
      expect(deep(el, "[part=auth-status] button")).to.equal(null);
      await expect(el).to.be.accessible();
    } finally {
      errors.stop();
    }
  });

  it("without a token, the username form on a host-mode server says to sign in on the site", async () => {
    const errors = hearErrors();
    try {
      const el = await mount({ server: await hostModeServer() });
      const input = deep<HTMLInputElement>(el, "chat-login", "input")!;
      input.value = uniqueName("anon");
      input.dispatchEvent(new Event("input"));
      deep<HTMLButtonElement>(el, "chat-login", "button[type=submit]")!.click();
      await waitFor(
        () =>
          deep(el, "chat-login", "[part=error]")!.textContent!.trim() ===
            "Sign in on the site to chat",
        () =>
          `the auth_required text, got "${deep(el, "chat-login", "[part=error]")!.textContent}"`,
      );
      expect(errors.codes).to.deep.equal(["auth_required"]);
    } finally {
      errors.stop();
    }
  });

  it("tokenProvider: after token_expired it is asked once more, and the fresh token connects", async () => {
    const server = await hostModeServer();
    const sub = uniqueName("site-user-");
    const name = `Grace ${uniqueName("H")}`;
    let calls = 0;
    const errors = hearErrors();
    try {
      const el = await mount({
        server,
        // The first token the site hands out has already expired (a stale cached one).
        tokenProvider: () =>
          signToken({ sub, name, expiresInSeconds: ++calls === 1 ? -3600 : 600 }),
      });
      await waitFor(() => el.connectionState === "connected", "the connection");
      expect(calls).to.equal(2);
      expect(el.user!.username).to.equal(name);
      expect(errors.codes).to.deep.equal([]);
    } finally {
      errors.stop();
    }
  });

  it("tokenProvider: expired twice in a row, the widget stops and says the sign-in has expired", async () => {
    const server = await hostModeServer();
    let calls = 0;
    const errors = hearErrors();
    try {
      const el = await mount({
        server,
        tokenProvider: () => {
          calls++;
          return signToken({ sub: "always-late", name: "Late", expiresInSeconds: -3600 });
        },
      });
      expect(await shownReason(el)).to.equal("Your sign-in has expired");
      expect(errors.codes).to.deep.equal(["token_expired"]);
      await new Promise((r) => setTimeout(r, 1_000));
      expect(calls).to.equal(2);
      expect(el.connectionState).to.equal("signed-out");
      // A provider can give another token: the person may try again.
      deep<HTMLButtonElement>(el, "[part=auth-status] button")!.click();
      await waitFor(() => calls === 4 && errors.codes.length === 2, "a second bounded try");
    } finally {
      errors.stop();
    }
  });

  it("tokenProvider that fails: chat-error token_unavailable and a visible reason", async () => {
    const errors = hearErrors();
    try {
      const el = await mount({
        server: await hostModeServer(),
        tokenProvider: () => Promise.reject(new Error("The site's session ended")),
      });
      expect(await shownReason(el)).to.equal("Your sign-in could not be fetched from the site");
      expect(errors.codes).to.deep.equal(["token_unavailable"]);
      expect(errors.details[0].message).to.contain("The site's session ended");
      expect(deep(el, "chat-login")).to.equal(null);
    } finally {
      errors.stop();
    }
  });

  it("tokenProvider is asked again when the connection comes back", async () => {
    const server = await hostModeServer();
    const sub = uniqueName("site-user-");
    let calls = 0;
    const el = await mount({
      server,
      tokenProvider: () => {
        calls++;
        return signToken({ sub, name: "Returning" });
      },
    });
    await waitFor(() => el.connectionState === "connected", "the connection");
    expect(calls).to.equal(1);
    const states: string[] = [];
    el.addEventListener("chat-connection-change", (e) => states.push(e.detail.state));
    await restartHostModeServer();
    await waitFor(
      () => states.includes("reconnecting") && el.connectionState === "connected",
      "the reconnection",
      60_000,
    );
    expect(calls).to.be.at.least(2);
    expect(el.user!.username).to.equal("Returning");
  });

  it("a new display name in the site's token reaches everyone as user updated", async () => {
    const server = await hostModeServer();
    const [subA, subB] = [uniqueName("site-a-"), uniqueName("site-b-")];
    const [before, after] = [`Lin ${uniqueName("B")}`, `Lin ${uniqueName("A")}`];
    const a = await mount({ server, token: await signToken({ sub: subA, name: before }) });
    const b = await mount({ server, token: await signToken({ sub: subB, name: "Observer" }) });
    await waitFor(() => a.connectionState === "connected", "A's connection");
    const aID = a.user!.userID;
    await waitFor(
      () => b.users.find((u) => u.userID === aID)?.username === before,
      "A in B's list",
    );
    b.openConversation(aID);
    // The site renamed its user: the next token carries the new name.
    a.token = await signToken({ sub: subA, name: after });
    await waitFor(() => a.user?.username === after, "A's own new name");
    expect(a.user!.userID).to.equal(aID);
    await waitFor(
      () => b.users.find((u) => u.userID === aID)?.username === after,
      "the new name in B's list",
    );
    await waitFor(
      () => deep(b, "chat-conversation", "h3")!.textContent!.includes(after),
      "the new name in B's open conversation",
    );
  });
});
