import { expect } from 'vitest'
import { createTestDatabase, type TestDatabase } from '@postern/store/testing'
import type { Dialect } from '@postern/store'
import { tempDir, waitFor } from '@postern/testkit'
import {
  gatewayConfigFile,
  relayTo,
  startGatewayProcess,
  type GatewayProcess,
} from './gateway-process.js'
import { CountingDownstream, startLoad } from './load.js'
import { seededRandom } from './random.js'

export interface KillReport {
  seed: number
  acked: number
  delivered: number
  duplicates: number
  unacknowledgedDelivered: number
}

/**
 * Issue 2's durability promise under repeated crashes: `kills` SIGKILLs of the gateway at
 * random points of a `messages`-message load, each followed by a restart on the same spool.
 * Every message that got a 250 must arrive downstream; anything else that arrives must have
 * been in flight when the process died. Duplicates (a crash between delivery and its done
 * record) are counted and reported, not hidden.
 */
export async function killDuringLoad(options: {
  dialect: Dialect
  messages: number
  kills: number
  sessions: number
}): Promise<KillReport> {
  const seed = Number(process.env.FAULT_SEED ?? Date.now() % 1_000_000)
  const random = seededRandom(seed)
  console.info(`kill -9 fault suite (${options.dialect}): seed ${seed} (FAULT_SEED to replay)`)
  const cleanup: (() => Promise<void> | void)[] = []
  try {
    const downstream = await CountingDownstream.start()
    cleanup.push(() => downstream.down())
    const dir = tempDir('postern-kill-')
    cleanup.push(() => dir.remove())
    let database = 'sqlite'
    if (options.dialect === 'postgres') {
      const db: TestDatabase = await createTestDatabase('postgres')
      cleanup.push(() => db.drop())
      database = db.configValue
    }
    const config = gatewayConfigFile(dir.path, {
      database,
      ...relayTo(downstream.port),
      queue: { retry: { initialDelay: '200ms', maxDelay: '1s' } },
    })
    let gw: GatewayProcess = await startGatewayProcess(config)
    cleanup.push(() => gw.proc.kill9())

    // Kill points: distinct random counts of accepted messages across the load.
    const points = Array.from({ length: options.kills }, () =>
      Math.floor(random() * options.messages * 0.9),
    ).sort((a, b) => a - b)
    const load = startLoad({
      port: () => gw.smtpPort,
      sessions: options.sessions,
      total: options.messages,
    })
    for (const point of points) {
      await waitFor(() => load.result.acked.size >= point || load.attempted() >= options.messages, {
        timeoutMs: 600_000,
        what: `${point} acknowledged messages`,
      })
      await gw.proc.kill9()
      gw = await startGatewayProcess(config)
    }
    await load.done
    const { acked, inFlight } = load.result
    await waitFor(() => [...acked].every((id) => downstream.copies.has(id)), {
      timeoutMs: 600_000,
      what: 'every acknowledged message downstream',
    })
    for (const id of downstream.copies.keys()) expect(acked.has(id) || inFlight.has(id)).toBe(true)
    const unacknowledgedDelivered = [...downstream.copies.keys()].filter((id) => !acked.has(id))
    const report: KillReport = {
      seed,
      acked: acked.size,
      delivered: downstream.delivered,
      duplicates: downstream.duplicates,
      unacknowledgedDelivered: unacknowledgedDelivered.length,
    }
    console.info(`kill -9 fault suite (${options.dialect}): ${JSON.stringify(report)}`)
    return report
  } finally {
    for (const fn of cleanup.reverse()) await fn()
  }
}
