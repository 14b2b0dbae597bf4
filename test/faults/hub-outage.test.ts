import { describe, it } from 'vitest'
import { hubOutage } from './support/hub-outage.js'

// Short variant; `npm run test:faults` keeps the hub down for minutes.
describe('hub killed mid-load, then back (short)', () => {
  it('relays and tracks meanwhile, queues the detections, and catches up when it returns', async () => {
    await hubOutage({ messages: 300, downMs: 5_000 })
  }, 600_000)
})
