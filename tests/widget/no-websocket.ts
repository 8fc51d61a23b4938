/// <reference lib="dom" />
// Imported before the bundle: engine.io-client reads `WebSocket` when the bundle is
// evaluated. Every WebSocket to a Socket.IO server fails as one blocked by a proxy or
// firewall does (an error, then a close), so the widget has to fall back to HTTP
// long-polling. Others (the test runner's own) are real.

/** Counts the attempts, so a test can tell that WebSocket was tried and refused. */
export const blocked = { attempts: 0 };

class BlockedWebSocket extends EventTarget {
  readyState = 0;
  binaryType = "blob";
  onopen: ((event: Event) => void) | null = null;
  onerror: ((event: Event) => void) | null = null;
  onclose: ((event: CloseEvent) => void) | null = null;
  onmessage: ((event: MessageEvent) => void) | null = null;

  constructor(readonly url: string) {
    super();
    blocked.attempts++;
    setTimeout(() => {
      this.readyState = 3;
      this.onerror?.(new Event("error"));
      this.onclose?.(new CloseEvent("close", { code: 1006 }));
    }, 10);
  }

  send(): void {
    throw new DOMException("WebSocket is closed", "InvalidStateError");
  }

  close(): void {
    this.readyState = 3;
  }
}

globalThis.WebSocket = new Proxy(globalThis.WebSocket, {
  construct(target, args: ConstructorParameters<typeof WebSocket>) {
    return String(args[0]).includes("/socket.io/")
      ? new BlockedWebSocket(String(args[0]))
      : new target(...args);
  },
});
