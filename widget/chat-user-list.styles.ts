import { css } from "lit";
import { baseStyles } from "./shared.styles.ts";

/** The list of people. */
export const chatUserListStyles = [
  baseStyles,
  css`
    :host {
      display: block;
      overflow-y: auto;
      background: var(--_panel);
    }
    h3 {
      margin: 0;
      padding: 12px 16px 6px;
      font-size: 13px;
      font-weight: 700;
      color: var(--_muted);
      text-transform: uppercase;
      letter-spacing: 0.04em;
    }
    ul {
      list-style: none;
      margin: 0;
      padding: 4px 8px 12px;
    }
    li + li {
      margin-top: 2px;
    }
    button {
      display: flex;
      align-items: center;
      gap: 10px;
      width: 100%;
      min-height: 52px;
      padding: 8px 10px;
      border: 0;
      border-inline-start: 3px solid transparent;
      border-radius: 10px;
      background: transparent;
      text-align: start;
    }
    button:hover {
      background: var(--_in);
    }
    button[aria-current="true"] {
      background: var(--_bg);
      border-inline-start: 3px solid var(--_accent);
    }
    .text {
      display: grid;
      flex: 1;
      min-width: 0;
    }
    /* A long name is cut, "(you)" never is. */
    .name {
      display: flex;
      gap: 4px;
      font-weight: 600;
      white-space: nowrap;
    }
    .name bdi {
      overflow: hidden;
      text-overflow: ellipsis;
    }
    .you {
      flex: none;
      font-weight: 400;
      color: var(--_muted);
    }
    .gone .name {
      font-weight: 400;
      font-style: italic;
      color: var(--_muted);
    }
    .dot.gone {
      visibility: hidden;
    }
    .status {
      font-size: 13px;
      color: var(--_muted);
      overflow: hidden;
      text-overflow: ellipsis;
      white-space: nowrap;
    }
    .typing {
      color: var(--_accent);
      font-style: italic;
    }
    .empty {
      padding: 8px 16px;
      color: var(--_muted);
    }
  `,
];
