import { describe, expect, it } from 'vitest'
import { killDuringLoad } from './support/kill-during-load.js'

// The short variant of the kill -9 suite (the 50 000-message one runs in `npm run test:faults`).
describe('kill -9 of the gateway at random moments of a load (short)', () => {
  it('delivers every message that got a 250 across 3 crashes (sqlite)', async () => {
    const report = await killDuringLoad({
      dialect: 'sqlite',
      messages: 1_000,
      kills: 3,
      sessions: 8,
    })
    expect(report.acked).toBeGreaterThan(0)
    expect(report.delivered).toBeGreaterThanOrEqual(report.acked)
  }, 300_000)
})
