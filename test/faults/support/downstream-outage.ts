import { expect } from 'vitest'
import { tempDir, waitFor } from '@postern/testkit'
import { gatewayConfigFile, relayTo, metricValue, startGatewayProcess } from './gateway-process.js'
import { CountingDownstream, startLoad } from './load.js'

/** Most delivery attempts a message can make in `elapsedMs` with this exponential backoff. */
export function maxAttempts(elapsedMs: number, initialMs: number, maxMs: number): number {
  let attempts = 1
  let at = 0
  let delay = initialMs
  while (at + delay <= elapsedMs) {
    at += delay
    attempts++
    delay = Math.min(delay * 2, maxMs)
  }
  return attempts
}

/**
 * The downstream MTA is down (connection refused) for at least `downMs` while mail is accepted;
 * then it comes back on the same address. Every message is delivered exactly once, each was
 * retried while it was down, and never more often than the configured backoff allows.
 */
export async function downstreamOutage(options: {
  messages: number
  downMs: number
  retry: { initialMs: number; maxMs: number }
}): Promise<void> {
  const downstream = await CountingDownstream.start()
  const dir = tempDir('postern-outage-')
  const config = gatewayConfigFile(dir.path, {
    database: 'sqlite',
    ...relayTo(downstream.port),
    queue: {
      retry: { initialDelay: `${options.retry.initialMs}ms`, maxDelay: `${options.retry.maxMs}ms` },
    },
  })
  const gw = await startGatewayProcess(config)
  try {
    await downstream.down()
    const downAt = Date.now()
    const load = startLoad({ port: () => gw.smtpPort, sessions: 4, total: options.messages })
    await load.done
    expect(load.result.acked.size).toBe(options.messages)
    // Down for the whole outage and until every message was deferred at least twice.
    await waitFor(
      async () =>
        Date.now() - downAt >= options.downMs &&
        metricValue(await gw.metrics(), 'postern_delivery_results_total', { result: 'deferred' }) >=
          2 * options.messages,
      { timeoutMs: options.downMs + 600_000, what: 'two deferrals of every message' },
    )
    const deferred = metricValue(await gw.metrics(), 'postern_delivery_results_total', {
      result: 'deferred',
    })
    await downstream.up()
    const upAt = Date.now()
    await waitFor(() => downstream.delivered === options.messages, {
      timeoutMs: 600_000,
      what: 'every message delivered after the outage',
    })
    const elapsed = Date.now() - downAt
    expect(downstream.duplicates).toBe(0)
    const metrics = await gw.metrics()
    expect(metricValue(metrics, 'postern_delivery_results_total', { result: 'delivered' })).toBe(
      options.messages,
    )
    expect(metricValue(metrics, 'postern_delivery_results_total', { result: 'bounced' })).toBe(0)
    // Retries follow the configured schedule: never more attempts than it allows.
    const bound = maxAttempts(elapsed, options.retry.initialMs, options.retry.maxMs)
    expect(deferred).toBeLessThanOrEqual(options.messages * bound)
    console.info(
      `downstream outage: ${options.messages} messages, ${deferred} deferrals while down ` +
        `(${Math.round((upAt - downAt) / 1000)} s), all delivered once, at most ${bound} attempts each`,
    )
  } finally {
    await gw.proc.stop()
    await downstream.down()
    dir.remove()
  }
}
