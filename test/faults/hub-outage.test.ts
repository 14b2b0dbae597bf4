import { describe, it } from 'vitest'
import { hubOutage } from './support/hub-outage.js'

// Short variant; `npm run test:faults` keeps the hub down for minutes with 5 000 messages.
describe('hub killed mid-load, then back (short)', () => {
  it('relays and tracks meanwhile, queues the detections, and catches up when it returns', async () => {
    // A 1 s heartbeat: the hub must keep answering it while it takes the queued detections.
    await hubOutage({ messages: 300, downMs: 5_000, heartbeatSeconds: 1 })
  }, 600_000)
})
