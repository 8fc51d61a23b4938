/** A token bucket: `rate` tokens a second, at most `burst` saved up. */
export class TokenBucket {
  #rate: number;
  #burst: number;
  #tokens: number;
  #last: number;
  #now: () => number;

  constructor(options: { rate: number; burst: number; now?: () => number }) {
    this.#rate = options.rate;
    this.#burst = options.burst;
    this.#tokens = options.burst;
    this.#now = options.now ?? (() => performance.now());
    this.#last = this.#now();
  }

  /** True when the bucket has refilled to its burst: forgetting it changes nothing. */
  get full(): boolean {
    if (this.#rate === 0) return true;
    const elapsed = (this.#now() - this.#last) / 1000;
    return this.#tokens + elapsed * this.#rate >= this.#burst;
  }

  /** Takes one token; false when none is left (the caller is over its rate). */
  take(): boolean {
    if (this.#rate === 0) return true;
    const now = this.#now();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#last) / 1000) * this.#rate);
    this.#last = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
