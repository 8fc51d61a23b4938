import { css } from "lit";
import { dialogStyles } from "./dialog.styles.ts";

/** The log-out dialog: two choices, each with what it does, and Cancel. */
export const chatLogoutDialogStyles = [
  dialogStyles,
  css`
    .choice {
      display: grid;
      gap: 6px;
      margin-bottom: 14px;
    }
    .choice button {
      justify-self: start;
      min-height: 40px;
      font-weight: 600;
    }
  `,
];
