import { describe, expect, it } from 'vitest'
import { GatewayMetrics } from './metrics.js'

const valueOf = (body: string, name: string): number | undefined => {
  const line = body.split('\n').find((l) => l.startsWith(`${name} `))
  return line === undefined ? undefined : Number(line.slice(name.length + 1))
}

describe('GatewayMetrics', () => {
  it('reads sampled gauges at each scrape, so a state that drains without an event is not stale', async () => {
    const metrics = new GatewayMetrics()
    let pending = 120
    metrics.sampleOnScrape(() => metrics.trackingPendingRows.set(pending))
    expect(valueOf((await metrics.render()).body, 'postern_tracking_pending_rows')).toBe(120)
    pending = 0
    expect(valueOf((await metrics.render()).body, 'postern_tracking_pending_rows')).toBe(0)
  })
})
