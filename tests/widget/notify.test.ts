/// <reference lib="dom" />
import { expect } from "@open-wc/testing";
import type { ChatWidget } from "../../widget/mod.ts";
import {
  cleanup,
  deep,
  login,
  mount,
  openWith,
  send,
  setNotificationPermission,
  setPageHidden,
  uniqueName,
  unmount,
  userIdOf,
  waitFor,
} from "./helpers.ts";

afterEach(cleanup);

/** A second, inline widget signed in as someone new, with its conversation with `el`'s user open. */
async function writer(el: ChatWidget): Promise<ChatWidget> {
  const other = await mount();
  await login(other, uniqueName("writer"));
  await openWith(other, el.user!.username);
  return other;
}

/** Waits until `el` has the message `text` from `from`. */
async function received(el: ChatWidget, from: ChatWidget, text: string): Promise<void> {
  const id = await userIdOf(el, from.user!.username);
  await waitFor(
    () => el.users.find((u) => u.userID === id)?.messages.some((m) => m.content === text),
    `"${text}" to arrive`,
  );
}

/** The raw text of the page's <title>: `document.title` collapses white space. */
function titleText(): string | undefined {
  return document.querySelector("title")?.textContent ?? undefined;
}

/** Opens `el`'s settings panel and gives its notification settings. */
async function notifySettings(el: ChatWidget): Promise<HTMLElement> {
  if (!deep(el, "chat-settings")) deep<HTMLButtonElement>(el, "[part=settings-button]")!.click();
  return await waitFor(() => deep(el, "chat-settings [part=notify-settings]"), "the settings");
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Longer than the shortest time between two tones. */
const CHIME_GAP = 1100;

describe("<chat-widget notify>", () => {
  it("title: puts the unread count before the page's title and restores it exactly", async () => {
    const had = document.querySelector("title");
    const title = had ?? document.head.appendChild(document.createElement("title"));
    const before = title.textContent;
    const original = "  Trailhead   Cycles — Help ";
    title.textContent = original;
    try {
      const el = await mount({ attributes: { notify: "title" } });
      await login(el, uniqueName("title"));
      expect(titleText()).to.equal(original);
      const other = await writer(el);
      await send(other, "One");
      await waitFor(() => titleText() === `(1) ${original}`, "the prefix (1)");
      await send(other, "Two");
      await waitFor(() => titleText() === `(2) ${original}`, "the prefix (2)");
      // The host changes its title meanwhile: that is the new base, and it is kept.
      document.title = "Checkout";
      await waitFor(() => titleText() === "(2) Checkout", "the prefix on the host's new title");
      el.openConversation(await userIdOf(el, other.user!.username));
      await waitFor(() => el.unreadTotal === 0, "the messages read");
      await el.updateComplete;
      expect(titleText()).to.equal("Checkout");
      // Removed from the page, a widget gives the title back too.
      title.textContent = original;
      const leaving = await mount({ attributes: { notify: "title" } });
      await login(leaving, uniqueName("leaving"));
      await send(await writer(leaving), "Three");
      await waitFor(() => titleText() === `(1) ${original}`, "the prefix again");
      unmount(leaving);
      expect(titleText()).to.equal(original);
      // Without the token, nothing is touched.
      const plain = await mount();
      await login(plain, uniqueName("plain"));
      const writer2 = await writer(plain);
      await send(writer2, "Untitled");
      await received(plain, writer2, "Untitled");
      expect(plain.unreadTotal).to.equal(1);
      expect(titleText()).to.equal(original);
    } finally {
      if (had) title.textContent = before;
      else title.remove();
    }
  });

  it("desktop: a notification while the page is hidden, none while it is seen; clicking opens the conversation", async () => {
    const shown: Notification[] = [];
    const Original = globalThis.Notification;
    // Records each notification; the real API shows it.
    class Recording extends Original {
      constructor(title: string, options?: NotificationOptions) {
        super(title, options);
        shown.push(this);
      }
    }
    globalThis.Notification = Recording;
    await setNotificationPermission("granted");
    try {
      expect(Notification.permission).to.equal("granted");
      const el = await mount({ attributes: { notify: "desktop" } });
      await login(el, uniqueName("desktop"));
      const other = await writer(el);
      await send(other, "While you look");
      await received(el, other, "While you look");
      expect(shown, "the page is visible").to.have.length(0);
      // Granted already: no button asks for it.
      deep<HTMLButtonElement>(el, "[part=settings-button]")!.click();
      await waitFor(() => deep(el, "chat-settings"), "the settings");
      expect(deep(el, "chat-settings [part=notify-settings]")).to.equal(null);
      deep<HTMLButtonElement>(el, "[part=settings-button]")!.click();

      await setPageHidden(true);
      await send(other, "Are you there?");
      await waitFor(() => shown.length === 1, "a notification");
      const [notification] = shown;
      expect(notification.title).to.equal(`New message from ${other.user!.username}`);
      expect(notification.body).to.equal("Are you there?");
      const otherId = await userIdOf(el, other.user!.username);
      const message = el.users.find((u) => u.userID === otherId)!.messages.at(-1)!;
      expect(notification.tag, "one per message, across tabs").to.equal(message.id);
      await setPageHidden(false);
      notification.dispatchEvent(new Event("click"));
      await waitFor(() => el.activeConversation === otherId, "the conversation opened");
      await waitFor(() => el.unreadTotal === 0, "read");
      await waitFor(
        () => deep(el, "chat-conversation", "chat-composer", "textarea"),
        "the message box",
      );
      // Open and seen: nothing more, not even with the page hidden a moment later.
      await send(other, "Seen at once");
      await received(el, other, "Seen at once");
      expect(shown).to.have.length(1);
    } finally {
      globalThis.Notification = Original;
      await setPageHidden(false);
      await setNotificationPermission("denied");
    }
  });

  it("desktop: asks for permission only from its button, shown while the answer is 'default'", async () => {
    const asked: string[] = [];
    const request = Notification.requestPermission;
    Notification.requestPermission = function (...args) {
      asked.push("asked");
      return request.apply(Notification, args);
    };
    await setNotificationPermission("prompt");
    try {
      expect(Notification.permission).to.equal("default");
      const el = await mount({ attributes: { notify: "desktop" } });
      await login(el, uniqueName("ask"));
      expect(asked, "nothing asked on its own").to.deep.equal([]);
      const settings = await notifySettings(el);
      const button = settings.querySelector<HTMLButtonElement>("button")!;
      expect(button.textContent!.trim()).to.equal("Turn on");
      expect(settings.querySelector("input"), "no sound switch without the token").to.equal(null);
      await expect(el).to.be.accessible();
      button.click();
      await waitFor(() => asked.length === 1, "the browser asked");
    } finally {
      Notification.requestPermission = request;
      await setNotificationPermission("denied");
    }
  });

  it("sound: a tone for a message from someone else, none while muted or while it is read", async () => {
    const tones: AudioContextState[] = [];
    const start = OscillatorNode.prototype.start;
    // Records each tone started; Web Audio plays it.
    OscillatorNode.prototype.start = function (this: OscillatorNode, when?: number) {
      tones.push(this.context.state);
      return start.call(this, when);
    };
    try {
      const el = await mount({ attributes: { notify: "sound" } });
      await login(el, uniqueName("sound"));
      const other = await writer(el);
      await send(other, "Ding");
      await waitFor(() => tones.length > 0, "a tone");
      expect(tones.every((state) => state === "running"), "the context plays").to.equal(true);
      const heard = tones.length;

      const settings = await notifySettings(el);
      const sound = settings.querySelector<HTMLInputElement>("input[type=checkbox]")!;
      expect(sound.checked).to.equal(true);
      sound.click();
      expect(localStorage.getItem(`${el.storageKey}:sound`)).to.equal("off");
      await pause(CHIME_GAP);
      await send(other, "Muted");
      await received(el, other, "Muted");
      expect(tones, "muted").to.have.length(heard);

      // The switch is kept for the next page load.
      const again = await mount({ storageKey: el.storageKey, attributes: { notify: "sound" } });
      await waitFor(() => again.connectionState === "connected", "the reloaded widget");
      const kept = await notifySettings(again);
      expect(kept.querySelector<HTMLInputElement>("input[type=checkbox]")!.checked).to.equal(false);
      unmount(again);

      const switched = (await notifySettings(el)).querySelector<HTMLInputElement>("input")!;
      expect(switched.checked).to.equal(false);
      switched.click();
      expect(localStorage.getItem(`${el.storageKey}:sound`)).to.equal(null);
      await pause(CHIME_GAP);
      await send(other, "Unmuted");
      await waitFor(() => tones.length > heard, "a tone again");

      // The open conversation, in view: read as it arrives, no tone.
      el.openConversation(await userIdOf(el, other.user!.username));
      await waitFor(() => el.unreadTotal === 0, "read");
      const before = tones.length;
      await pause(CHIME_GAP);
      await send(other, "Seen");
      await received(el, other, "Seen");
      expect(tones).to.have.length(before);
      // Your own messages, from another tab of yours, never ring.
      el.closeConversation();
      const tab = await mount({ storageKey: el.storageKey });
      await waitFor(() => tab.connectionState === "connected", "the other tab");
      await openWith(tab, other.user!.username);
      await pause(CHIME_GAP);
      await send(tab, "From my other tab");
      const otherId = await userIdOf(el, other.user!.username);
      await waitFor(
        () =>
          el.users.find((u) => u.userID === otherId)?.messages.some((m) =>
            m.content === "From my other tab"
          ),
        "the other tab's message",
      );
      expect(tones).to.have.length(before);
    } finally {
      OscillatorNode.prototype.start = start;
    }
  });
});
