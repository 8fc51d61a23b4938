/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { css } from "lit";

/**
 * Theme tokens. Hosts set the public `--chat-*` properties; the private `--_*`
 * ones resolve them per theme (`light-dark()` picks by `color-scheme`) and
 * inherit into every sub-element's shadow root.
 * Sizes are px so a host's `html { font-size }` cannot shrink the widget.
 */
export const themeStyles = css`
  :host {
    color-scheme: light dark;
    --_font: var(
      --chat-font-family,
      system-ui,
      -apple-system,
      "Segoe UI",
      Roboto,
      "Noto Sans",
      sans-serif
    );
    --_size: var(--chat-font-size, 15px);
    --_radius: var(--chat-radius, 12px);
    --_bg: var(--chat-background, light-dark(#ffffff, #16181c));
    --_panel: var(--chat-panel-background, light-dark(#f5f6f8, #1e2127));
    --_fg: var(--chat-color, light-dark(#1b1f24, #e8eaed));
    --_muted: var(--chat-muted-color, light-dark(#5b6470, #a4abb6));
    --_border: var(--chat-border-color, light-dark(#d9dde3, #343943));
    --_accent: var(--chat-accent-color, light-dark(#2f5fd0, #7aa2ff));
    --_accent-fg: var(--chat-accent-text-color, light-dark(#ffffff, #0b1530));
    --_in: var(--chat-bubble-in-background, light-dark(#eceff3, #2a2e36));
    --_in-fg: var(--chat-bubble-in-color, var(--_fg));
    --_out: var(--chat-bubble-out-background, var(--_accent));
    --_out-fg: var(--chat-bubble-out-color, var(--_accent-fg));
    --_online: var(--chat-online-color, light-dark(#1f8a4c, #4cc281));
    --_danger: var(--chat-danger-color, light-dark(#b3261e, #ff8a80));
    --_warn-bg: var(--chat-banner-background, light-dark(#fff4d6, #3b3220));
    --_warn-fg: var(--chat-banner-color, light-dark(#5a4300, #ffe2a0));
    --_focus: var(--chat-focus-ring-color, light-dark(#2f5fd0, #9dbbff));
  }
  /* light-dark() follows color-scheme: "auto" keeps both, the others pin one. */
  :host([theme="light"]) {
    color-scheme: light;
  }
  :host([theme="dark"]) {
    color-scheme: dark;
  }
`;

/**
 * Shared by every part: a reset against host page CSS, buttons, focus ring, hidden text. The
 * reset is set again on the widget's outer boxes, `.root` and any other with class `reset`
 * (the launcher's): a host rule like `* { font-family: serif !important }` matches the host
 * element and wins over `:host`, but never reaches inside, where everything inherits from them.
 */
export const baseStyles = css`
  :host,
  .root,
  .reset {
    box-sizing: border-box;
    font-family: var(--_font);
    font-size: var(--_size);
    font-style: normal;
    font-weight: 400;
    line-height: 1.4;
    letter-spacing: normal;
    word-spacing: normal;
    text-transform: none;
    text-indent: 0;
    text-shadow: none;
    white-space: normal;
    color: var(--_fg);
  }
  /* Not inherit: a host page's global reset sets content-box on the host element. */
  *,
  *::before,
  *::after {
    box-sizing: border-box;
  }
  [hidden] {
    display: none !important;
  }
  button,
  input,
  textarea {
    font: inherit;
    color: inherit;
    margin: 0;
    letter-spacing: normal;
    text-transform: none;
  }
  button {
    cursor: pointer;
    border: 1px solid var(--_border);
    background: var(--_bg);
    border-radius: 8px;
    padding: 6px 12px;
    min-height: 36px;
  }
  button:hover {
    border-color: var(--_muted);
  }
  button:disabled {
    cursor: not-allowed;
    opacity: 0.55;
  }
  button.primary {
    background: var(--_accent);
    border-color: var(--_accent);
    color: var(--_accent-fg);
    font-weight: 600;
  }
  button.link {
    border: 0;
    background: none;
    padding: 2px 4px;
    min-height: 0;
    color: var(--_accent);
    text-decoration: underline;
  }
  :focus-visible {
    outline: 2px solid var(--_focus);
    outline-offset: 2px;
  }
  .sr-only {
    position: absolute;
    width: 1px;
    height: 1px;
    padding: 0;
    margin: -1px;
    overflow: hidden;
    clip-path: inset(50%);
    white-space: nowrap;
    border: 0;
  }
  .badge {
    display: inline-block;
    min-width: 20px;
    padding: 1px 6px;
    border-radius: 10px;
    background: var(--_accent);
    color: var(--_accent-fg);
    font-size: 12px;
    font-weight: 700;
    line-height: 18px;
    text-align: center;
  }
  .dot {
    display: inline-block;
    flex: none;
    width: 10px;
    height: 10px;
    border-radius: 50%;
    border: 2px solid var(--_muted);
  }
  .dot.on {
    background: var(--_online);
    border-color: var(--_online);
  }
  /* Disconnected: nobody's presence is known. */
  .dot.unknown {
    border-style: dashed;
    opacity: 0.6;
  }
`;
