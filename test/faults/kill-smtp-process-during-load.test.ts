import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { tempDir, waitFor } from '@postern/testkit'
import { startMultiProcessGateway, waitForSmtpProcesses } from '../gateway/support/multi-process.js'
import { gatewayConfigFile, relayTo } from './support/gateway-process.js'
import { CountingDownstream, startLoad } from './support/load.js'
import { seededRandom } from './support/random.js'

const PROCESSES = 2

/**
 * Issue 2's durability promise with `smtpProcesses: 2`: SIGKILLs of one SMTP process (chosen
 * at random) at random points of a load. The primary restarts it on its own spool, the other
 * process keeps accepting meanwhile, and every message that got a 250 — from whichever
 * process — arrives downstream; anything else that arrives was in flight when its process died.
 */
describe('kill -9 of an SMTP process of several during a load', () => {
  it('delivers every message that got a 250 across 3 kills (sqlite)', async () => {
    const seed = Number(process.env.FAULT_SEED ?? Date.now() % 1_000_000)
    const random = seededRandom(seed)
    console.info(`kill -9 of an SMTP process: seed ${seed} (FAULT_SEED to replay)`)
    const cleanup: (() => Promise<void> | void)[] = []
    try {
      const downstream = await CountingDownstream.start()
      cleanup.push(() => downstream.down())
      const dir = tempDir('postern-kill-proc-')
      cleanup.push(() => dir.remove())
      const config = gatewayConfigFile(dir.path, {
        ...relayTo(downstream.port),
        smtpProcesses: PROCESSES,
        queue: { retry: { initialDelay: '200ms', maxDelay: '1s' } },
      })
      const gateway = await startMultiProcessGateway(config, join(dir.path, 'data'), PROCESSES)
      cleanup.push(() => gateway.proc.kill9())

      const messages = 1_000
      const points = Array.from({ length: 3 }, () => Math.floor(random() * messages * 0.9)).sort(
        (a, b) => a - b,
      )
      const load = startLoad({ port: () => gateway.smtpPort, sessions: 8, total: messages })
      for (const point of points) {
        await waitFor(() => load.result.acked.size >= point || load.attempted() >= messages, {
          timeoutMs: 600_000,
          what: `${point} acknowledged messages`,
        })
        const pids = await waitForSmtpProcesses(gateway, PROCESSES)
        const slot = 1 + Math.floor(random() * PROCESSES)
        process.kill(pids.get(slot) as number, 'SIGKILL')
      }
      await load.done
      const { acked, inFlight } = load.result
      expect(acked.size).toBeGreaterThan(0)
      await waitFor(() => [...acked].every((id) => downstream.copies.has(id)), {
        timeoutMs: 600_000,
        what: 'every acknowledged message downstream',
      })
      for (const id of downstream.copies.keys()) {
        expect(acked.has(id) || inFlight.has(id)).toBe(true)
      }
      // Both processes are back, and the primary never stopped serving the API.
      await waitForSmtpProcesses(gateway, PROCESSES)
      console.info(
        `kill -9 of an SMTP process: ${JSON.stringify({ seed, acked: acked.size, delivered: downstream.delivered, duplicates: downstream.duplicates })}`,
      )
    } finally {
      for (const fn of cleanup.reverse()) await fn()
    }
  }, 600_000)
})
