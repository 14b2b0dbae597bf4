import { systemClock, type Clock } from '@postern/core'

/**
 * Per-IP counters of a listener: concurrent connections, and recipients per time window (a
 * sliding window approximated by the current and previous fixed windows, as rate limiters in
 * front of mail servers commonly do). Memory is bounded: idle entries are swept.
 */
export class ConnectionCounter {
  private readonly counts = new Map<string, number>()

  get total(): number {
    let n = 0
    for (const c of this.counts.values()) n += c
    return n
  }

  count(ip: string): number {
    return this.counts.get(ip) ?? 0
  }

  add(ip: string): number {
    const n = (this.counts.get(ip) ?? 0) + 1
    this.counts.set(ip, n)
    return n
  }

  remove(ip: string): void {
    const n = (this.counts.get(ip) ?? 0) - 1
    if (n <= 0) this.counts.delete(ip)
    else this.counts.set(ip, n)
  }
}

interface Window {
  start: number
  current: number
  previous: number
}

export class RecipientRate {
  private readonly windows = new Map<string, Window>()
  private sweepAt = 0

  constructor(private readonly clock: Clock = systemClock) {}

  /**
   * Counts one recipient for `key` if the rate allows it. Returns false (and counts nothing)
   * when `limit` recipients were already counted in the last `windowMs`.
   */
  take(key: string, limit: number, windowMs: number): boolean {
    const now = this.clock.now()
    this.sweep(now, windowMs)
    let w = this.windows.get(key)
    if (!w) {
      w = { start: now - (now % windowMs), current: 0, previous: 0 }
      this.windows.set(key, w)
    }
    const elapsedWindows = Math.floor((now - w.start) / windowMs)
    if (elapsedWindows >= 1) {
      w.previous = elapsedWindows === 1 ? w.current : 0
      w.current = 0
      w.start += elapsedWindows * windowMs
    }
    const weight = 1 - (now - w.start) / windowMs
    const estimate = w.previous * weight + w.current
    if (estimate + 1 > limit) return false
    w.current++
    return true
  }

  private sweep(now: number, windowMs: number): void {
    if (now < this.sweepAt) return
    this.sweepAt = now + windowMs
    for (const [key, w] of this.windows) {
      if (now - w.start >= 2 * windowMs) this.windows.delete(key)
    }
  }
}
