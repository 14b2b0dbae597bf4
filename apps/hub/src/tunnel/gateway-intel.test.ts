import { describe, expect, it } from 'vitest'
import { silentLogger } from '@postern/core'
import type { DevicesRepo } from '@postern/store'
import type { GatewayEventOutcome } from '../incidents/gateway-events.js'
import type { DeviceConnection, DeviceTunnel } from './device-tunnel.js'
import { GatewayIntel } from './gateway-intel.js'

const DEVICE: DeviceConnection = {
  deviceId: 'gw-1',
  orgId: 'org-a',
  name: 'gw-1',
  region: 'nam',
  remoteIp: null,
}

/** The `intel.events` side only: block pushes and watchlists are covered by test/intel. */
function intelHandling(costMs: number) {
  const handled: unknown[] = []
  const intel = new GatewayIntel({
    tunnel: {} as DeviceTunnel,
    devices: {} as DevicesRepo,
    logger: silentLogger(),
    watched: async () => [],
    handleEvent: async (_device, body): Promise<GatewayEventOutcome> => {
      const until = performance.now() + costMs
      while (performance.now() < until);
      handled.push(body)
      return { ok: true, kind: 'message_observed', sightings: 0 }
    },
    recordLost: async () => undefined,
  })
  return { intel, handled }
}

const batch = (n: number) => ({ events: Array.from({ length: n }, (_, i) => ({ n: i })) })

describe('GatewayIntel.events: time budget per request', () => {
  it('answers for every event when they fit in the budget', async () => {
    const { intel, handled } = intelHandling(0)
    const { results } = await intel.events(batch(5), DEVICE, Number.POSITIVE_INFINITY)
    expect(results).toHaveLength(5)
    expect(handled).toEqual(batch(5).events)
  })

  it.each([
    // [events, cost of each (ms), budget (ms), most results possible]
    [5, 5, 0, 1],
    [20, 5, 12, 3],
  ])(
    '%i events of %i ms under a %i ms budget: answers for at most the first %i, in order',
    async (events, costMs, budgetMs, most) => {
      const { intel, handled } = intelHandling(costMs)
      const { results } = await intel.events(batch(events), DEVICE, budgetMs)
      // At least one event per request whatever the budget, so a gateway always progresses.
      expect(results.length).toBeGreaterThanOrEqual(1)
      expect(results.length).toBeLessThanOrEqual(most)
      expect(results.every((r) => r.ok && !r.retry)).toBe(true)
      expect(handled).toEqual(batch(events).events.slice(0, results.length))
    },
  )
})
