import { describe, expect, it } from 'vitest'
import { Backoff } from './backoff.js'

describe('Backoff', () => {
  it('grows exponentially up to the cap, with the jitter drawn from [0, ceiling)', () => {
    const draws: number[] = []
    const backoff = new Backoff({ initialMs: 100, maxMs: 1_000, random: () => 0.999 })
    for (let i = 0; i < 6; i++) draws.push(backoff.next())
    expect(draws).toEqual([100, 200, 400, 799, 999, 999])
  })

  it('never waits less than a tenth of the initial delay, and resets', () => {
    const backoff = new Backoff({ initialMs: 100, maxMs: 1_000, random: () => 0 })
    expect(backoff.next()).toBe(10)
    backoff.next()
    expect(backoff.attempts).toBe(2)
    backoff.reset()
    expect(backoff.attempts).toBe(0)
  })
})
