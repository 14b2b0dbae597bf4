/**
 * Reconnect delays: exponential growth capped at `maxMs`, with "full jitter" (a uniform draw
 * between 0 and the capped exponential) so that gateways cut off by the same hub restart do not
 * all come back in the same millisecond.
 */
export interface BackoffOptions {
  initialMs: number
  maxMs: number
  /** Uniform random source in [0, 1), injectable for tests. */
  random?: () => number
}

export class Backoff {
  private attempt = 0

  constructor(private readonly options: BackoffOptions) {}

  /** The delay before the next attempt; each call counts one more failure. */
  next(): number {
    const ceiling = Math.min(this.options.maxMs, this.options.initialMs * 2 ** this.attempt)
    this.attempt = Math.min(this.attempt + 1, 30)
    const random = this.options.random ?? Math.random
    // Never 0: a floor of a tenth of the initial delay keeps a flapping peer from a busy loop.
    return Math.max(Math.round(random() * ceiling), Math.ceil(this.options.initialMs / 10))
  }

  reset(): void {
    this.attempt = 0
  }

  get attempts(): number {
    return this.attempt
  }
}
