import { css } from "lit";
import { baseStyles, themeStyles } from "./shared.styles.ts";

/** The element's frame: title bar, banner, and the list and conversation side by side. */
export const chatWidgetStyles = [
  themeStyles,
  baseStyles,
  css`
    :host {
      display: block;
      height: 520px;
      min-width: 280px;
      contain: content;
    }
    /* Launcher mode: nothing until the launcher's chunk is there (its styles show it). */
    :host([mode="launcher"]) {
      display: none;
    }
    .root {
      position: relative;
      display: flex;
      flex-direction: column;
      height: 100%;
      overflow: hidden;
      background: var(--_bg);
      border: 1px solid var(--_border);
      border-radius: var(--_radius);
      text-align: start;
    }
    .header {
      display: flex;
      align-items: center;
      gap: 8px;
      padding: 8px 12px;
      min-height: 52px;
      border-bottom: 1px solid var(--_border);
      background: var(--_panel);
    }
    h2 {
      margin: 0;
      font-size: 16px;
      font-weight: 700;
    }
    .me {
      margin-inline-start: auto;
      color: var(--_muted);
      font-size: 13px;
      overflow: hidden;
      text-overflow: ellipsis;
      white-space: nowrap;
      min-width: 0;
    }
    .header button {
      flex: none;
      padding: 4px 10px;
      min-height: 32px;
      font-size: 13px;
    }
    .header .icon {
      min-width: 32px;
      padding: 2px 6px;
      font-size: 17px;
      line-height: 1;
    }
    chat-settings {
      position: absolute;
      z-index: 2;
      top: 56px;
      inset-inline-end: 8px;
      width: min(320px, calc(100% - 16px));
    }
    .banner {
      padding: 8px 12px;
      background: var(--_warn-bg);
      color: var(--_warn-fg);
      font-size: 14px;
      border-bottom: 1px solid var(--_border);
    }
    .banner:empty {
      display: none;
    }
    .body {
      flex: 1;
      display: flex;
      min-height: 0;
    }
    chat-login,
    .auth {
      flex: 1;
    }
    .auth {
      display: flex;
      flex-direction: column;
      align-items: center;
      justify-content: center;
      gap: 12px;
      padding: 24px 16px;
      text-align: center;
    }
    .auth p {
      margin: 0;
      max-width: 340px;
      font-size: 16px;
    }
    .auth [role="alert"] {
      padding: 10px 14px;
      border-radius: 8px;
      background: var(--_warn-bg);
      color: var(--_warn-fg);
      font-weight: 600;
    }
    chat-user-list {
      flex: 0 0 272px;
      border-inline-end: 1px solid var(--_border);
    }
    chat-conversation {
      flex: 1;
    }
    .empty {
      flex: 1;
      margin: auto;
      padding: 24px;
      text-align: center;
      color: var(--_muted);
    }
    .narrow chat-user-list {
      flex: 1;
      border: 0;
    }
  `,
];
