import type { Clock } from '@postern/core'
import type { LoginFailuresRepo } from '@postern/store'

/**
 * Counts failed logins per (client address, account) in a sliding window and refuses further
 * attempts once `maxFailures` is reached, until the window has passed. The failures live in the
 * database, so every hub node behind a load balancer enforces the same limit.
 */
export class LoginThrottle {
  private lastPrune = 0

  constructor(
    private readonly repo: LoginFailuresRepo,
    private readonly maxFailures: number,
    private readonly windowMs: number,
    private readonly clock: Clock,
  ) {}

  async isLocked(key: string): Promise<boolean> {
    const since = this.clock.now() - this.windowMs
    return (await this.repo.countSince(key, since)) >= this.maxFailures
  }

  async fail(key: string): Promise<void> {
    const now = this.clock.now()
    await this.repo.record(key, now)
    // Old failures count for nothing; forget them now and then rather than on every login.
    if (now - this.lastPrune > this.windowMs) {
      this.lastPrune = now
      await this.repo.prune(now - this.windowMs)
    }
  }

  async succeed(key: string): Promise<void> {
    await this.repo.clear(key)
  }
}
