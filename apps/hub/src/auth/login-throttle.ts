import type { Clock } from '@postern/core'

/**
 * Counts failed logins per (client address, account) in a sliding window and refuses further
 * attempts once `maxFailures` is reached, until the window has passed. In memory: each hub node
 * counts for itself, which bounds guessing to nodes × maxFailures per window.
 */
export class LoginThrottle {
  private readonly failures = new Map<string, number[]>()

  constructor(
    private readonly maxFailures: number,
    private readonly windowMs: number,
    private readonly clock: Clock,
  ) {}

  isLocked(key: string): boolean {
    return this.recent(key).length >= this.maxFailures
  }

  fail(key: string): void {
    const list = this.recent(key)
    list.push(this.clock.now())
    this.failures.set(key, list)
    if (this.failures.size > 100_000) this.prune()
  }

  succeed(key: string): void {
    this.failures.delete(key)
  }

  private recent(key: string): number[] {
    const since = this.clock.now() - this.windowMs
    return (this.failures.get(key) ?? []).filter((t) => t > since)
  }

  private prune(): void {
    for (const key of this.failures.keys()) {
      if (this.recent(key).length === 0) this.failures.delete(key)
    }
  }
}
