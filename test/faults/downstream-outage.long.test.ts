import { describe, it } from 'vitest'
import { downstreamOutage } from './support/downstream-outage.js'

describe('downstream MTA down for several minutes, then back', () => {
  it('delivers everything once after the outage, retrying as configured', async () => {
    const downMs = Number(process.env.FAULT_OUTAGE_MS ?? 180_000)
    await downstreamOutage({ messages: 2_000, downMs, retry: { initialMs: 2_000, maxMs: 20_000 } })
  }, 1_800_000)
})
