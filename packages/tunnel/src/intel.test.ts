import { describe, expect, it } from 'vitest'
import { INTEL_EVENTS_BATCH, intelEventsPush } from './intel.js'

const event = { kind: 'detection' }
const lost = { count: 4, firstDroppedAt: 1, lastDroppedAt: 2 }

describe('intel.events request body', () => {
  it.each([
    ['events alone', { events: [event] }, true],
    ['a loss report alone (everything queued was dropped)', { events: [], lost }, true],
    ['events with a loss report', { events: [event], lost }, true],
    ['neither events nor a loss report', { events: [] }, false],
    ['a loss of nothing', { events: [event], lost: { ...lost, count: 0 } }, false],
    ['a fractional count', { events: [event], lost: { ...lost, count: 1.5 } }, false],
    ['an unknown key in the loss report', { events: [event], lost: { ...lost, org: 'x' } }, false],
    ['an unknown key', { events: [event], orgId: 'other' }, false],
    ['more than a batch', { events: Array(INTEL_EVENTS_BATCH + 1).fill(event) }, false],
  ])('%s: accepted %s', (_name, body, ok) => {
    expect(intelEventsPush.safeParse(body).success).toBe(ok)
  })
})
