import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { startProcess, tempDir, waitFor, type RunningProcess } from '@postern/testkit'
import { hubConfigFile } from '../support/postern-cli.js'
import {
  gatewayConfigFile,
  relayTo,
  metricValue,
  startGatewayProcess,
} from './support/gateway-process.js'
import { CountingDownstream, startLoad } from './support/load.js'
import { startPostgresInstance, type PostgresInstance } from './support/postgres-instance.js'

const POSTERN = new URL('../../bin/postern.js', import.meta.url).pathname

/** A request the hub answers from its database: an unknown OAuth client is a coded 4xx. */
async function hubTokenStatus(hubUrl: string): Promise<number> {
  try {
    const response = await fetch(`${hubUrl}/iroh/oauth2/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Basic ${Buffer.from('client-unknown:wrong').toString('base64')}`,
      },
      body: JSON.stringify({ grant_type: 'client_credentials' }),
    })
    await response.text()
    return response.status
  } catch {
    return 0
  }
}

const isCodedRefusal = (status: number) => status === 400 || status === 401

describe('PostgreSQL restart in the middle of a load (its own PostgreSQL instance, short)', () => {
  const cleanup: (() => Promise<void> | void)[] = []
  afterAll(async () => {
    for (const fn of cleanup.reverse()) await fn()
  })

  it('gateway and hub recover without operator action; nothing accepted is lost', async () => {
    const pg: PostgresInstance = await startPostgresInstance()
    cleanup.push(() => pg.remove())
    const dir = tempDir('postern-pgrestart-')
    cleanup.push(() => dir.remove())

    const { file: hubConfig, url: hubUrl } = await hubConfigFile(dir.path, {
      database: await pg.createDatabase('hub'),
      log: { level: 'warn' },
    })
    const hub: RunningProcess = startProcess(process.execPath, [
      POSTERN,
      'hub',
      '--config',
      hubConfig,
    ])
    cleanup.push(() => hub.stop())
    let status = 0
    await waitFor(async () => isCodedRefusal((status = await hubTokenStatus(hubUrl))), {
      timeoutMs: 60_000,
      what: 'the hub answering from its database',
    }).catch((err: Error) => {
      throw new Error(`${err.message}: last status ${status}; hub output: ${hub.output()}`)
    })

    const downstream = await CountingDownstream.start()
    cleanup.push(() => downstream.down())
    const gw = await startGatewayProcess(
      gatewayConfigFile(join(dir.path, 'gw'), {
        database: await pg.createDatabase('gateway'),
        ...relayTo(downstream.port),
        tracking: { flushInterval: '100ms' },
      }),
    )
    cleanup.push(() => gw.proc.stop())

    const load = startLoad({ port: () => gw.smtpPort, sessions: 4, total: 1_200 })
    await waitFor(() => load.result.acked.size >= 300, { timeoutMs: 120_000, what: '300 accepted' })
    await pg.crash()
    // The database is gone: the gateway keeps accepting and delivering (the spool is its
    // durable store; tracking rows wait in memory), the hub answers without crashing.
    // Mail goes on being either accepted or refused with a temporary 4xx (the block-list
    // policy fails closed while it cannot read its database), never refused for good.
    const settledAtCrash = load.attempted()
    await waitFor(() => load.attempted() >= settledAtCrash + 200, {
      timeoutMs: 120_000,
      what: '200 more messages tried while PostgreSQL is down',
    }).catch((err: Error) => {
      throw new Error(
        `${err.message}; gateway exit ${gw.proc.child.exitCode}: ${gw.proc.output().slice(-3000)}`,
      )
    })
    const duringOutage = await hubTokenStatus(hubUrl)
    expect(duringOutage).toBeGreaterThanOrEqual(500)
    await pg.start()

    await load.done
    const { acked, refused } = load.result
    for (const code of refused.keys()) expect(code).toMatch(/^4\d\d$/)
    console.info(
      `PostgreSQL restart: ${acked.size} accepted, refused meanwhile: ${JSON.stringify([...refused])}`,
    )
    expect(acked.size).toBeGreaterThan(600)
    await waitFor(() => [...acked].every((id) => downstream.copies.has(id)), {
      timeoutMs: 120_000,
      what: 'every accepted message downstream',
    })
    expect(downstream.duplicates).toBe(0)
    // Both apps are back on the restarted server, no restart of theirs, no operator.
    await waitFor(async () => isCodedRefusal(await hubTokenStatus(hubUrl)), {
      timeoutMs: 120_000,
      what: 'the hub answering from its database again',
    })
    await waitFor(
      async () => {
        const health = await fetch(`${gw.httpUrl}/healthz`)
        return health.status === 200
      },
      { timeoutMs: 120_000, what: 'the gateway healthy again' },
    )
    await waitFor(
      async () => metricValue(await gw.metrics(), 'postern_tracking_pending_rows') === 0,
      { timeoutMs: 120_000, what: 'tracking rows of the outage written' },
    ).catch(async (err: Error) => {
      const pending = metricValue(await gw.metrics(), 'postern_tracking_pending_rows')
      throw new Error(
        `${err.message}: ${pending} rows pending; gateway: ${gw.proc.output().slice(-4000)}`,
      )
    })
    const metrics = await gw.metrics()
    expect(metricValue(metrics, 'postern_tracking_dropped_rows_total')).toBe(0)
    expect(hub.child.exitCode).toBeNull()
    expect(gw.proc.child.exitCode).toBeNull()
  }, 600_000)
})
