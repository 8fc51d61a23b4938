/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// Shared fixtures for the browser tests: a real server, real widgets, polling waits.
import { executeServerCommand } from "@web/test-runner-commands";
import type { ChatWidget } from "../../widget/mod.ts";

// The tests exercise the shipped bundle (built by the test config), loaded at run time so
// that type checking does not depend on a build.
await import(new URL("../../dist/chat-widget.js", import.meta.url).href);

// Mocha's globals, as @web/test-runner provides them (no @types/mocha here).
declare global {
  function describe(name: string, body: () => void): void;
  function it(name: string, body: () => Promise<void> | void): void;
  function afterEach(body: () => Promise<void> | void): void;
  function beforeEach(body: () => Promise<void> | void): void;
}

let serverUrl: string | undefined;

/** The URL of the chat server this test run started. */
export async function chatServer(): Promise<string> {
  serverUrl ??= await executeServerCommand<string, undefined>("chat-server-url");
  if (!serverUrl) {
    throw new Error("No chat server: run the tests with tests/widget/web-test-runner.config.mjs");
  }
  return serverUrl;
}

/**
 * A second chat server whose MAX_CONTENT_LENGTH is short (started on first use), and that
 * limit, which it announces in `session`.
 */
export async function smallLimitServer(): Promise<{ url: string; maxContentLength: number }> {
  return await executeServerCommand<{ url: string; maxContentLength: number }, undefined>(
    "chat-server-small",
  );
}

/** A third chat server, in host mode: it takes only tokens signed with its AUTH_SECRET (started on first use). */
export async function hostModeServer(): Promise<string> {
  return await executeServerCommand<string, undefined>("chat-server-host");
}

/** A chat server that lists at most 4 people in `users` (started on first use): the rest are found by search. */
export async function searchServer(): Promise<string> {
  return await executeServerCommand<string, undefined>("chat-server-search");
}

/** A chat server whose CORS_ORIGINS do not include the test page's origin (started on first use). */
export async function refusingServer(): Promise<string> {
  return await executeServerCommand<string, undefined>("chat-server-refusing");
}

/** Stops the host-mode server and starts it again on the same port and KV file. */
export async function restartHostModeServer(): Promise<void> {
  await executeServerCommand("chat-server-host-restart");
}

/**
 * A token for the host-mode server, as a host site signs one for its user: `sub`, `name`,
 * and an expiry that many seconds from now (negative: already expired; default 600).
 */
export async function signToken(
  claims: { sub: string; name: string; expiresInSeconds?: number },
): Promise<string> {
  return await executeServerCommand<string, typeof claims>("chat-token", claims);
}

/** Stops the chat server process (its KV file stays). */
export async function stopServer(): Promise<void> {
  await executeServerCommand("chat-server-stop");
}

/** Freezes the chat server process: sockets stay open but nothing is answered. */
export async function pauseServer(): Promise<void> {
  await executeServerCommand("chat-server-pause");
}

/** Lets a paused chat server run again. */
export async function resumeServer(): Promise<void> {
  await executeServerCommand("chat-server-resume");
}

/** Starts the chat server again on the same port and KV file; resolves once it is healthy. */
export async function startServer(): Promise<void> {
  await executeServerCommand("chat-server-start");
}

/** Sets this page's notification permission in the browser (`prompt` makes it "default"). */
export async function setNotificationPermission(
  setting: "granted" | "prompt" | "denied",
): Promise<void> {
  await executeServerCommand("notifications-permission", { setting });
}

/** Hides this page (its window minimized) or shows it again; resolves once the page says so. */
export async function setPageHidden(hidden: boolean): Promise<void> {
  await executeServerCommand("page-visibility", { hidden });
  await waitFor(
    () => document.visibilityState === (hidden ? "hidden" : "visible"),
    `the page to be ${hidden ? "hidden" : "visible"}`,
  );
}

/** Polls `check` until it returns a truthy value; no fixed sleeps, generous for a noisy machine. */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  message: string | (() => string),
  timeout = 30_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeout;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      const text = typeof message === "function" ? message() : message;
      throw new Error(`Timed out waiting for ${text}${last ? ` (last error: ${last})` : ""}`);
    }
    await new Promise((r) => setTimeout(r, 40));
  }
}

let counter = 0;

/** A username no other test uses. */
export function uniqueName(prefix = "user"): string {
  return `${prefix}${Date.now().toString(36).slice(-5)}${(counter++).toString(36)}${
    Math.random().toString(36).slice(2, 5)
  }`;
}

/** A unique localStorage key, removed by `cleanup()`. */
export function uniqueKey(): string {
  const key = `chat-test-${uniqueName("k")}`;
  keys.push(key);
  return key;
}

const keys: string[] = [];
const mounted: HTMLElement[] = [];

/** Adds a widget to the page as a host would. */
export async function mount(
  options: {
    server?: string;
    storageKey?: string;
    lang?: string;
    theme?: string;
    token?: string;
    tokenProvider?: () => Promise<string>;
    width?: number;
    height?: number;
    /** Attributes set before the element is added: `mode`, `notify`, `position`, `open`, … */
    attributes?: Record<string, string>;
  } = {},
): Promise<ChatWidget> {
  const el = document.createElement("chat-widget");
  for (const [name, value] of Object.entries(options.attributes ?? {})) {
    el.setAttribute(name, value);
  }
  el.server = options.server ?? await chatServer();
  el.storageKey = options.storageKey ?? uniqueKey();
  if (options.lang) el.lang = options.lang;
  if (options.theme) el.setAttribute("theme", options.theme);
  if (options.token) el.token = options.token;
  if (options.tokenProvider) el.tokenProvider = options.tokenProvider;
  const box = document.createElement("div");
  box.style.width = `${options.width ?? 720}px`;
  if (options.height) el.style.height = `${options.height}px`;
  box.append(el);
  document.body.append(box);
  mounted.push(box);
  await el.updateComplete;
  return el;
}

/** Removes a widget as a page reload would (its socket closes, its storage stays). */
export function unmount(el: ChatWidget): void {
  el.parentElement?.remove();
}

/** Removes every widget and storage key the test made. */
export function cleanup(): void {
  for (const box of mounted.splice(0)) box.remove();
  for (const key of keys.splice(0)) {
    localStorage.removeItem(key);
    localStorage.removeItem(`${key}:outbox`);
    localStorage.removeItem(`${key}:sound`);
  }
}

/** Finds an element inside nested shadow roots: `deep(el, "chat-login", "input")`. */
export function deep<T extends Element = HTMLElement>(
  root: Element,
  ...selectors: string[]
): T | null {
  let node: Element | null = root;
  for (const selector of selectors) {
    node = node?.shadowRoot?.querySelector(selector) ?? null;
    if (!node) return null;
  }
  return node as T | null;
}

/** Like `deep`, but every match of the last selector. */
export function deepAll<T extends Element = HTMLElement>(
  root: Element,
  ...selectors: string[]
): T[] {
  const last = selectors.pop()!;
  const host = selectors.length ? deep(root, ...selectors) : root;
  return [...(host?.shadowRoot?.querySelectorAll<T>(last) ?? [])] as T[];
}

/** Signs in through the username form and waits until connected. */
export async function login(el: ChatWidget, username: string): Promise<void> {
  const input = await waitFor(
    () => deep<HTMLInputElement>(el, "chat-login", "input"),
    "the username field",
  );
  input.value = username;
  input.dispatchEvent(new Event("input"));
  deep<HTMLButtonElement>(el, "chat-login", "button[type=submit]")!.click();
  await waitFor(
    () => el.user?.username === username && el.connectionState === "connected",
    `${username} to sign in`,
  );
}

/**
 * Presses Log out and makes a choice in the dialog that opens: log out on this device, delete
 * the account, cancel, or (`open`) none yet. Returns the dialog.
 */
export async function leave(
  el: ChatWidget,
  choice: "device" | "delete" | "cancel" | "open",
): Promise<HTMLDialogElement> {
  deep<HTMLButtonElement>(el, "[part=logout-button]")!.click();
  const dialog = await waitFor(
    () => deep<HTMLDialogElement>(el, "chat-logout-dialog", "dialog[open]"),
    "the log-out dialog",
  );
  if (choice === "open") return dialog;
  const button = {
    device: "button[aria-describedby=device]",
    delete: "button[aria-describedby=delete]",
    cancel: ".end button",
  }[choice];
  await waitFor(
    () => !dialog.querySelector<HTMLButtonElement>(button)!.disabled,
    `the ${choice} button to be enabled`,
  );
  dialog.querySelector<HTMLButtonElement>(button)!.click();
  return dialog;
}

/** The userID of the person called `username` in `el`'s list, once listed. */
export async function userIdOf(el: ChatWidget, username: string): Promise<string> {
  const user = await waitFor(
    () => el.users.find((u) => u.username === username),
    `${username} in the list`,
  );
  return user.userID;
}

/** Opens the conversation with `username` by clicking their entry in the list. */
export async function openWith(el: ChatWidget, username: string): Promise<void> {
  const id = await userIdOf(el, username);
  const button = await waitFor(
    () => deep<HTMLButtonElement>(el, "chat-user-list", `button[data-id="${id}"]`),
    `${username}'s button`,
  );
  button.click();
  await waitFor(() => deep(el, "chat-conversation", "chat-composer", "textarea"), "the composer");
}

/** Types `text` into the composer and presses Enter. */
export async function send(el: ChatWidget, text: string): Promise<void> {
  const area = deep<HTMLTextAreaElement>(el, "chat-conversation", "chat-composer", "textarea")!;
  area.value = text;
  area.dispatchEvent(new InputEvent("input"));
  await deep<LitLike>(el, "chat-conversation", "chat-composer")!.updateComplete;
  area.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true, composed: true }));
}

/**
 * Signs `el` and `other` in under new names, opens `el`'s conversation with `other`, sends
 * `text` and waits until the server has stored it; returns `other`'s name.
 */
export async function sendToNewPeer(
  el: ChatWidget,
  other: ChatWidget,
  options: { prefix: string; text: string },
): Promise<string> {
  const otherName = uniqueName("other");
  await login(el, uniqueName(options.prefix));
  await login(other, otherName);
  await openWith(el, otherName);
  await send(el, options.text);
  await waitFor(
    () => shownMessages(el).some((m) => m.state === "sent"),
    "the message to be sent",
  );
  return otherName;
}

interface LitLike extends HTMLElement {
  updateComplete: Promise<boolean>;
}

/** The messages shown in the open conversation. */
export function shownMessages(
  el: ChatWidget,
): { id: string; text: string; state: string; out: boolean }[] {
  return deepAll(el, "chat-conversation", ".msg").map((m) => ({
    id: m.dataset.id!,
    text: m.querySelector(".bubble")!.textContent!,
    state: m.dataset.state!,
    out: m.classList.contains("out"),
  }));
}

/** Types `text` into the composer (an input event, as a keystroke makes), without sending. */
export async function typeInto(el: ChatWidget, text: string): Promise<void> {
  const area = deep<HTMLTextAreaElement>(el, "chat-conversation", "chat-composer", "textarea")!;
  area.value = text;
  area.dispatchEvent(new InputEvent("input"));
  await deep<LitLike>(el, "chat-conversation", "chat-composer")!.updateComplete;
}

/** Presses `key` on `target` as a keydown that bubbles out of shadow roots. */
export function press(target: Element, key: string): KeyboardEvent {
  const event = new KeyboardEvent("keydown", {
    key,
    bubbles: true,
    composed: true,
    cancelable: true,
  });
  target.dispatchEvent(event);
  return event;
}

/** The shown message whose text is `text`, as an element. */
export function messageWith(el: ChatWidget, text: string): HTMLElement | undefined {
  return deepAll(el, "chat-conversation", ".msg").find((m) =>
    m.querySelector(".bubble")!.textContent === text
  );
}

/** How far the shown message `text` got (`sent`, `delivered`, `seen`, …), or undefined. */
export function receiptOf(el: ChatWidget, text: string): string | undefined {
  return messageWith(el, text)?.dataset.receipt;
}

/** Unmounts `el` and mounts a new widget with its storage key, as a page reload does; waits until connected. */
export async function reload(el: ChatWidget): Promise<ChatWidget> {
  const { storageKey, server } = el;
  unmount(el);
  const again = await mount({ storageKey, server });
  await waitFor(() => again.connectionState === "connected", "the reloaded widget to connect");
  return again;
}
