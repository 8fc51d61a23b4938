/** The benchmark's progress lines on stderr, each stamped with the seconds since the suite began. */

/** Writes progress lines; status lines are overwritten in place on a terminal and left out elsewhere. */
export class Progress {
  #started: number;
  #terminal: boolean;
  #write: (text: string) => void;

  constructor(
    { started = performance.now(), terminal = Deno.stderr.isTerminal(), write }: {
      started?: number;
      terminal?: boolean;
      /** Where lines go; stderr by default. */
      write?: (text: string) => void;
    } = {},
  ) {
    this.#started = started;
    this.#terminal = terminal;
    const encoder = new TextEncoder();
    this.#write = write ?? ((text) => Deno.stderr.writeSync(encoder.encode(text)));
  }

  /** Seconds since the suite began. */
  get seconds(): number {
    return (performance.now() - this.#started) / 1000;
  }

  /** A line that stays. */
  line(message: string): void {
    this.#print(message, false);
  }

  /** A line the next one replaces, shown on a terminal only. */
  status(message: string): void {
    this.#print(message, true);
  }

  /** A send phase's `onProgress`: how many of `total` messages have arrived, as a status line. */
  delivered(label: string, total: number): (n: number) => void {
    return (n) =>
      this.status(
        `${label}: ${n.toLocaleString("en-US")}/${total.toLocaleString("en-US")} delivered`,
      );
  }

  #print(message: string, transient: boolean): void {
    if (transient && !this.#terminal) return;
    const line = `[${this.seconds.toFixed(0).padStart(4)}s] ${message}`;
    this.#write(this.#terminal ? `\r\x1b[K${line}${transient ? "" : "\n"}` : `${line}\n`);
  }
}
