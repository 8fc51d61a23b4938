import { css } from "lit";
import { baseStyles } from "./shared.styles.ts";

/** The message box, its send button and the remaining-length counter. */
export const chatComposerStyles = [
  baseStyles,
  css`
    :host {
      display: block;
      border-top: 1px solid var(--_border);
      background: var(--_bg);
      padding: 8px 10px;
    }
    form {
      display: flex;
      align-items: flex-end;
      gap: 8px;
    }
    textarea {
      flex: 1;
      min-width: 0;
      font-size: 16px;
      line-height: 22px;
      padding: 10px 12px;
      min-height: 44px;
      max-height: 160px;
      field-sizing: content;
      resize: none;
      border: 1px solid var(--_border);
      border-radius: 10px;
      background: var(--_panel);
    }
    textarea:disabled {
      cursor: not-allowed;
      opacity: 0.55;
    }
    textarea[aria-invalid="true"] {
      border-color: var(--_danger);
    }
    button {
      min-height: 44px;
      min-width: 64px;
    }
    .counter {
      margin: 4px 4px 0;
      font-size: 13px;
      color: var(--_muted);
      text-align: end;
    }
    .notice {
      margin: 6px 4px 0;
      font-size: 13px;
      color: var(--_muted);
    }
    .edit-bar {
      display: flex;
      align-items: center;
      justify-content: space-between;
      gap: 8px;
      margin: 0 4px 6px;
      padding-inline-start: 8px;
      border-inline-start: 3px solid var(--_accent);
      font-size: 13px;
      font-weight: 600;
      color: var(--_accent);
    }
    .edit-bar button {
      font-size: 13px;
    }
    .error {
      margin: 0 4px 6px;
      font-size: 13px;
      color: var(--_danger);
    }
    .counter.over {
      color: var(--_danger);
      font-weight: 600;
    }
  `,
];
