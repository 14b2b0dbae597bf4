import { describe, it } from 'vitest'
import { hubOutage } from './support/hub-outage.js'

describe('hub down for several minutes in the middle of a load, then back', () => {
  it('relays and tracks meanwhile, queues the detections, and catches up when it returns', async () => {
    const downMs = Number(process.env.FAULT_HUB_OUTAGE_MS ?? 180_000)
    await hubOutage({ messages: 5_000, downMs })
  }, 1_800_000)
})
