/** The logger handed to every part of the server. */

/** Where problems are reported. */
export interface Logger {
  warn(message: string): void;
  error(message: string, error?: unknown): void;
}
