/**
 * Flags for headless Chromium in this sandbox: no sandbox as root, no GPU, and
 * none of the background network traffic that a closed network refuses.
 */
export const HEADLESS_CHROME_ARGS: readonly string[] = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
