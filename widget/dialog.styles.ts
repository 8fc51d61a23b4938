import { css } from "lit";
import { baseStyles } from "./shared.styles.ts";

/** What the widget's modal dialogs share: the box, its backdrop, the title, texts and buttons. */
export const dialogStyles = [
  baseStyles,
  css`
    :host {
      display: contents;
    }
    dialog {
      width: min(440px, calc(100vw - 32px));
      max-height: calc(100dvh - 32px);
      overflow: auto;
      padding: 20px;
      border: 1px solid var(--_border);
      border-radius: var(--_radius);
      background: var(--_bg);
      color: var(--_fg);
      box-shadow: 0 8px 32px rgb(0 0 0 / 0.25);
    }
    dialog::backdrop {
      background: rgb(0 0 0 / 0.4);
    }
    h3 {
      margin: 0 0 14px;
      font-size: 18px;
      line-height: 1.3;
      overflow-wrap: anywhere;
    }
    p {
      margin: 0;
      color: var(--_muted);
      font-size: 14px;
    }
    button.danger {
      background: var(--_danger);
      border-color: var(--_danger);
      color: var(--_accent-fg);
    }
    .error {
      color: var(--_danger);
      font-weight: 500;
    }
    .error:empty {
      display: none;
    }
    .end {
      display: flex;
      flex-wrap: wrap;
      justify-content: flex-end;
      gap: 8px;
      margin-top: 6px;
    }
  `,
];
