import { css } from "lit";
import { baseStyles } from "./shared.styles.ts";

/** One conversation: its header, the message log, day separators, bubbles and the pill. */
export const chatConversationStyles = [
  baseStyles,
  css`
    :host {
      display: flex;
      flex-direction: column;
      min-height: 0;
      min-width: 0;
      background: var(--_bg);
      position: relative;
    }
    .header {
      display: flex;
      align-items: center;
      gap: 10px;
      padding: 8px 12px;
      min-height: 52px;
      border-bottom: 1px solid var(--_border);
    }
    .who {
      display: grid;
      flex: 1;
      min-width: 0;
    }
    /* At the start of the bar's direction, whatever the name's own. */
    .who > * {
      justify-self: start;
      max-width: 100%;
    }
    .header h3 {
      margin: 0;
      font-size: 16px;
      font-weight: 650;
      line-height: 1.25;
      overflow: hidden;
      text-overflow: ellipsis;
      white-space: nowrap;
    }
    .header .status {
      color: var(--_muted);
      font-size: 13px;
      line-height: 1.25;
      overflow: hidden;
      text-overflow: ellipsis;
      white-space: nowrap;
    }
    .block {
      flex: none;
      padding: 4px 10px;
      min-height: 32px;
      font-size: 13px;
    }
    .back {
      padding: 4px 10px;
      font-size: 18px;
      line-height: 1;
    }
    .back span {
      display: inline-block;
    }
    :host(:dir(rtl)) .back span {
      transform: scaleX(-1);
    }
    .stage {
      position: relative;
      flex: 1;
      display: flex;
      flex-direction: column;
      min-height: 0;
    }
    .log {
      position: relative;
      flex: 1;
      overflow-y: auto;
      overflow-anchor: none;
      /* Room at the end for "… is typing" without covering the newest message. */
      padding: 8px 12px 30px;
      overscroll-behavior: contain;
    }
    /* One height for the button, "loading" and "beginning": the view must not move when it changes. */
    .top {
      display: flex;
      align-items: center;
      justify-content: center;
      min-height: 40px;
      text-align: center;
      color: var(--_muted);
      font-size: 13px;
    }
    .day {
      display: flex;
      align-items: center;
      gap: 8px;
      margin: 14px 0 6px;
      color: var(--_muted);
      font-size: 12px;
      font-weight: 600;
    }
    .day::before,
    .day::after {
      content: "";
      flex: 1;
      border-top: 1px solid var(--_border);
    }
    .msg {
      display: flex;
      flex-direction: column;
      align-items: flex-start;
      margin-top: 2px;
    }
    .msg.out {
      align-items: flex-end;
    }
    .sender {
      font-size: 13px;
      font-weight: 600;
      color: var(--_muted);
      margin: 10px 6px 2px;
    }
    .line {
      display: flex;
      align-items: center;
      gap: 4px;
      width: 100%;
    }
    .out .line {
      justify-content: flex-end;
    }
    .bubble {
      max-width: min(80%, 560px);
      padding: 7px 11px;
      border-radius: var(--_radius);
      background: var(--_in);
      color: var(--_in-fg);
      white-space: pre-wrap;
      overflow-wrap: anywhere;
      margin: 0;
    }
    .out .bubble {
      background: var(--_out);
      color: var(--_out-fg);
    }
    .bubble a {
      color: inherit;
      text-decoration: underline;
      text-underline-offset: 2px;
    }
    .deleted .bubble,
    .header .gone {
      font-style: italic;
      color: var(--_muted);
    }
    .deleted .bubble {
      background: transparent;
      border: 1px dashed var(--_border);
    }
    .tick {
      color: var(--_online);
      font-size: 13px;
      font-weight: 700;
      letter-spacing: -0.25em;
      padding-inline-end: 0.25em;
    }
    .tick.seen {
      color: var(--_accent);
    }
    .edited {
      font-style: italic;
    }
    .editing .bubble {
      outline: 2px dashed var(--_accent);
      outline-offset: 2px;
    }
    /* Shown on hover and focus; always where there is no hover (touch screens). */
    .more {
      flex: none;
      min-height: 28px;
      min-width: 28px;
      padding: 0 4px;
      border-color: transparent;
      background: transparent;
      color: var(--_muted);
      font-size: 18px;
      line-height: 1;
      opacity: 0;
    }
    .msg:hover .more,
    .more:focus-visible,
    .more[aria-expanded="true"] {
      opacity: 1;
    }
    @media (hover: none) {
      .more {
        opacity: 0.7;
      }
    }
    .menu {
      display: flex;
      gap: 6px;
      margin: 4px 6px 2px;
    }
    .menu button {
      min-height: 32px;
      padding: 4px 12px;
      font-size: 13px;
    }
    .menu .danger {
      color: var(--_danger);
    }
    .typing {
      position: absolute;
      inset-inline-start: 12px;
      bottom: 6px;
      max-width: calc(100% - 24px);
      pointer-events: none;
    }
    .typing span {
      display: block;
      padding: 2px 10px;
      border-radius: 10px;
      background: var(--_panel);
      border: 1px solid var(--_border);
      color: var(--_muted);
      font-size: 13px;
      font-style: italic;
      overflow: hidden;
      text-overflow: ellipsis;
      white-space: nowrap;
    }
    .out.pending .bubble {
      opacity: 0.7;
    }
    .out.failed .bubble {
      background: transparent;
      color: var(--_fg);
      border: 1px dashed var(--_danger);
    }
    .meta {
      display: flex;
      align-items: center;
      gap: 6px;
      font-size: 12px;
      color: var(--_muted);
      margin: 2px 6px 0;
    }
    .meta time {
      flex: none;
      white-space: nowrap;
    }
    .failed .meta {
      color: var(--_danger);
    }
    .meta button {
      font-size: 12px;
      color: inherit;
    }
    .empty {
      margin: auto;
      padding: 24px;
      text-align: center;
      color: var(--_muted);
    }
    .pill {
      position: absolute;
      inset-inline-start: 50%;
      translate: -50% 0;
      bottom: 36px;
      border-radius: 18px;
      box-shadow: 0 2px 8px rgb(0 0 0 / 0.2);
    }
    :host(:dir(rtl)) .pill {
      translate: 50% 0;
    }
  `,
];
