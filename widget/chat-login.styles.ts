import { css } from "lit";
import { baseStyles } from "./shared.styles.ts";

/** The username form. */
export const chatLoginStyles = [
  baseStyles,
  css`
    :host {
      display: flex;
      align-items: center;
      justify-content: center;
      padding: 24px 16px;
      overflow: auto;
    }
    form {
      width: 100%;
      max-width: 340px;
      display: grid;
      gap: 10px;
    }
    h3 {
      margin: 0;
      font-size: 20px;
      line-height: 1.3;
    }
    p {
      margin: 0;
      color: var(--_muted);
    }
    label {
      font-weight: 600;
      margin-top: 6px;
    }
    input {
      width: 100%;
      font-size: 16px;
      padding: 10px 12px;
      border: 1px solid var(--_border);
      border-radius: 8px;
      background: var(--_bg);
      min-height: 44px;
    }
    input[aria-invalid="true"] {
      border-color: var(--_danger);
    }
    .error {
      color: var(--_danger);
      font-weight: 500;
    }
    .notice {
      color: var(--_fg);
      background: var(--_warn-bg);
      border-radius: 8px;
      padding: 8px 10px;
    }
    button {
      min-height: 44px;
    }
  `,
];
