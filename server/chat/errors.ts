/** The one domain error: its `code` is the wire error code. */

import type { ErrorCode, WireError } from "../protocol.ts";

/** A refused request; `message` is shown to people, `code` read by programs. */
export class ChatError extends Error {
  /** The wire error code. */
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = "ChatError";
    this.code = code;
  }

  /** The `error` half of a failed ack. */
  toWire(): WireError {
    return { code: this.code, message: this.message };
  }
}

/** Turns anything thrown into a wire error, hiding internal details. */
export function toWireError(error: unknown): WireError {
  if (error instanceof ChatError) return error.toWire();
  return { code: "internal", message: "Internal server error" };
}
