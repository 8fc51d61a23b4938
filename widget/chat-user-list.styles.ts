import { css } from "lit";
import { baseStyles } from "./shared.styles.ts";

/** The list of people. */
export const chatUserListStyles = [
  baseStyles,
  css`
    :host {
      display: flex;
      flex-direction: column;
      min-height: 0;
      background: var(--_panel);
    }
    input {
      flex: none;
      margin: 10px 12px 2px;
      padding: 7px 12px;
      min-height: 36px;
      border: 1px solid var(--_border);
      border-radius: 18px;
      background: var(--_bg);
    }
    input::placeholder {
      color: var(--_muted);
      opacity: 1;
    }
    .lists {
      flex: 1;
      min-height: 0;
      overflow-y: auto;
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
    .top {
      display: flex;
      align-items: baseline;
      gap: 8px;
      min-width: 0;
    }
    .top .name {
      flex: 1;
      min-width: 0;
    }
    time {
      flex: none;
      font-size: 12px;
      color: var(--_muted);
      font-variant-numeric: tabular-nums;
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
      margin: 0;
      padding: 8px 16px;
      color: var(--_muted);
    }
    .empty:empty {
      padding: 0;
    }
    .more {
      margin: 0 16px 12px;
    }
  `,
];
