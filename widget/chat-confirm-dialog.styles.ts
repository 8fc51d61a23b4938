import { css } from "lit";
import { dialogStyles } from "./dialog.styles.ts";

/** A confirmation: what will happen, then Cancel and the action. */
export const chatConfirmDialogStyles = [
  dialogStyles,
  css`
    #text {
      margin-bottom: 14px;
    }
    .end {
      margin-top: 14px;
    }
    .end button {
      min-height: 40px;
      font-weight: 600;
    }
  `,
];
