/// <reference lib="dom" />
/**
 * Typed events. Every event the widget's elements fire is declared in
 * `GlobalEventHandlersEventMap` as a `CustomEvent` with its detail, next to the element that
 * fires it; `emit()` and `listen()` take their detail types from there.
 */

/** The names of the widget's events (`chat-*`) in `GlobalEventHandlersEventMap`. */
export type ChatEventName = Extract<keyof GlobalEventHandlersEventMap, `chat-${string}`>;

/** The detail type of event `K`. */
export type ChatEventDetail<K extends ChatEventName> = GlobalEventHandlersEventMap[K] extends
  CustomEvent<infer D> ? D : never;

/**
 * Fires event `type` with `detail` from `target`, bubbling and composed, so it crosses shadow
 * roots like a native UI event.
 */
export function emit<K extends ChatEventName>(
  target: EventTarget,
  type: K,
  detail: ChatEventDetail<K>,
): void {
  target.dispatchEvent(new CustomEvent(type, { bubbles: true, composed: true, detail }));
}

/** Listens for event `type` on `target` (an element or a shadow root), typed by the event map. */
export function listen<K extends ChatEventName>(
  target: EventTarget,
  type: K,
  listener: (event: CustomEvent<ChatEventDetail<K>>) => void,
): void {
  target.addEventListener(type, listener as EventListener);
}
