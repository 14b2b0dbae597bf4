import { describe, it } from 'vitest'
import { downstreamOutage } from './support/downstream-outage.js'

// Short variant; `npm run test:faults` keeps the downstream down for minutes.
describe('downstream MTA down, then back (short)', () => {
  it('delivers everything once after the outage, retrying as configured', async () => {
    await downstreamOutage({
      messages: 100,
      downMs: 5_000,
      retry: { initialMs: 500, maxMs: 2_000 },
    })
  }, 300_000)
})
