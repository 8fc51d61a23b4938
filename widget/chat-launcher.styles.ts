import { css } from "lit";

/**
 * Launcher mode, adopted into the widget's shadow root when the launcher's chunk loads: the
 * round button, the panel above it (the whole screen below 560 px), the preview bubble, and
 * the notification settings inside the settings panel. Sides are logical, so RTL mirrors them.
 */
export const launcherStyles = css`
  /* No box: the button and the panel are fixed to the viewport, and nothing may contain them. */
  :host([mode="launcher"]) {
    display: contents;
  }
  /* Nor has the wrapper: in a host's flex or grid it is no item, its children are all fixed. */
  .launcher {
    display: contents;
  }
  .launcher .sr-only {
    position: fixed;
  }
  /* Above the host page: the element itself has no box to stack. */
  .fab,
  .panel,
  .preview {
    z-index: 2147483000;
  }
  .fab {
    position: fixed;
    bottom: 20px;
    inset-inline-end: 20px;
    display: grid;
    place-items: center;
    width: 56px;
    height: 56px;
    min-height: 0;
    padding: 0;
    border: 0;
    border-radius: 50%;
    background: var(--_accent);
    color: var(--_accent-fg);
    box-shadow: 0 6px 20px rgb(0 0 0 / 0.28);
  }
  .fab:hover {
    box-shadow: 0 8px 26px rgb(0 0 0 / 0.36);
  }
  .fab:focus-visible {
    outline-offset: 3px;
  }
  /* The speech bubble's tail points to the button's own side. */
  [dir="rtl"] .chat-icon {
    transform: scaleX(-1);
  }
  .fab .badge {
    position: absolute;
    top: -4px;
    inset-inline-end: -4px;
    min-width: 24px;
    border: 2px solid var(--_bg);
    border-radius: 12px;
    background: var(--_danger);
    color: light-dark(#ffffff, #1d0b09);
    font-family: var(--_font);
  }
  .panel {
    position: fixed;
    bottom: 88px;
    inset-inline-end: 20px;
    width: min(380px, calc(100vw - 40px));
    height: min(600px, calc(100vh - 108px));
    border-radius: var(--_radius);
    box-shadow: 0 12px 40px rgb(0 0 0 / 0.25);
  }
  .panel .header {
    padding-inline-end: 52px;
  }
  .close,
  .preview-close {
    display: grid;
    place-items: center;
    flex: none;
    width: 32px;
    height: 32px;
    min-height: 0;
    padding: 0;
    border-color: transparent;
    background: transparent;
    color: var(--_muted);
  }
  .close {
    position: absolute;
    z-index: 3;
    top: 10px;
    inset-inline-end: 10px;
  }
  .close:hover,
  .preview-close:hover {
    border-color: var(--_border);
    color: var(--_fg);
  }
  .preview {
    position: fixed;
    bottom: 20px;
    inset-inline-end: 88px;
    display: flex;
    align-items: flex-start;
    gap: 2px;
    width: max-content;
    max-width: min(300px, calc(100vw - 108px));
    padding: 4px;
    border: 1px solid var(--_border);
    border-radius: 14px;
    background: var(--_bg);
    box-shadow: 0 6px 24px rgb(0 0 0 / 0.2);
  }
  .preview-open {
    display: flex;
    flex-direction: column;
    gap: 2px;
    min-width: 0;
    padding: 6px 8px;
    border: 0;
    border-radius: 10px;
    background: none;
    text-align: start;
  }
  .preview-open strong {
    font-size: 14px;
    font-weight: 700;
    overflow-wrap: anywhere;
  }
  .preview-text {
    display: -webkit-box;
    -webkit-box-orient: vertical;
    -webkit-line-clamp: 3;
    overflow: hidden;
    font-size: 14px;
    overflow-wrap: anywhere;
  }
  .start .fab,
  .start .panel {
    inset-inline: 20px auto;
  }
  .start .preview {
    inset-inline: 88px auto;
  }
  @media (prefers-reduced-motion: no-preference) {
    .preview {
      animation: chat-preview-in 160ms ease-out;
    }
    @keyframes chat-preview-in {
      from {
        opacity: 0;
        transform: translateY(8px);
      }
    }
  }
  /* Phones: the chat takes the whole screen, and the panel's close button replaces the launcher. */
  @media (max-width: 559.98px) {
    .launcher .panel {
      inset: 0;
      width: auto;
      height: auto;
      border-radius: 0;
      box-shadow: none;
    }
    .panel .root {
      border: 0;
      border-radius: 0;
    }
    .open .fab {
      display: none;
    }
  }
  .notify-settings {
    display: grid;
    gap: 10px;
    margin-top: 12px;
    padding-top: 12px;
    border-top: 1px solid var(--_border);
  }
  .notify-settings label {
    display: flex;
    align-items: center;
    gap: 8px;
    font-weight: 600;
  }
  .notify-settings input {
    width: 18px;
    height: 18px;
    margin: 0;
    accent-color: var(--_accent);
  }
  .notify-settings .desktop {
    display: flex;
    align-items: center;
    gap: 10px;
    font-size: 13px;
    color: var(--_muted);
  }
  .notify-settings .desktop button {
    flex: none;
    margin-inline-start: auto;
    min-height: 32px;
    padding: 4px 10px;
    color: var(--_fg);
  }
`;
