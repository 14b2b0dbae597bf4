import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { BACKENDS, createTestDatabase, type TestDatabase } from '@postern/store/testing'
import { startProcess, tempDir, waitFor, type RunningProcess } from '@postern/testkit'
import { RawSmtp } from './support/clients.js'
import { startSink, type Sink } from './support/downstream.js'
import { writeConfigFile } from './support/gateway.js'

const run = promisify(execFile)
const POSTERN = new URL('../../bin/postern.js', import.meta.url).pathname

interface LoadResult {
  acked: Set<number>
  inFlight: Set<number>
  refused: number
}

/** Sends messages on `sessions` parallel connections until `stop()`; one message per connection. */
function startLoad(port: number, sessions: number) {
  const result: LoadResult = { acked: new Set(), inFlight: new Set(), refused: 0 }
  let next = 0
  let stopped = false
  const worker = async () => {
    while (!stopped) {
      const id = next++
      let dataSent = false
      try {
        const smtp = await RawSmtp.open(port)
        if (!(await smtp.reply(5_000))?.startsWith('220')) throw new Error('no greeting')
        await smtp.command('EHLO load.test')
        await smtp.command('MAIL FROM:<load@ext.example>')
        await smtp.command('RCPT TO:<sink@corp.example>')
        await smtp.command('DATA')
        dataSent = true
        smtp.write(
          `Message-ID: <load-${id}@test>\r\nSubject: load ${id}\r\n\r\n${'x'.repeat(2000)}\r\n.\r\n`,
        )
        const reply = await smtp.reply(5_000)
        if (reply?.startsWith('250')) result.acked.add(id)
        else if (reply === null) result.inFlight.add(id)
        else result.refused++
        smtp.close()
      } catch {
        if (dataSent) result.inFlight.add(id)
        await new Promise((r) => setTimeout(r, 20))
      }
    }
  }
  const done = Promise.all(Array.from({ length: sessions }, worker))
  return {
    result,
    async stop() {
      stopped = true
      await done
    },
  }
}

function deliveredIds(sink: Sink): number[] {
  return sink
    .messages()
    .map((text) => /Message-ID: <load-(\d+)@test>/.exec(text)?.[1])
    .filter((id): id is string => id !== undefined)
    .map(Number)
}

describe.each(BACKENDS)('recovery after kill -9 during a load (%s)', (dialect) => {
  const cleanup: (() => Promise<void> | void)[] = []
  afterAll(async () => {
    for (const fn of cleanup.reverse()) await fn()
  })

  it('delivers every message that got a 250, and nothing that was not sent', async () => {
    const sink = await startSink()
    cleanup.push(() => sink.stop())
    const dir = tempDir('postern-recovery-')
    cleanup.push(() => dir.remove())
    let database = 'sqlite'
    if (dialect === 'postgres') {
      const db: TestDatabase = await createTestDatabase('postgres')
      cleanup.push(() => db.drop())
      database = db.configValue
    }
    const configFile = join(dir.path, 'gateway.yaml')
    const dataDir = join(dir.path, 'data')
    writeConfigFile(configFile, {
      dataDir,
      database,
      hostname: 'gw.test',
      http: '127.0.0.1:0',
      log: { level: 'warn' },
      rdns: { forTracking: false },
      listeners: [
        {
          name: 'inbound',
          smtp: '127.0.0.1:0',
          rat: [{ recipient: 'corp.example', action: 'ACCEPT' }],
        },
      ],
      smtpRoutes: [{ domain: '*', to: [`127.0.0.1:${sink.port}`] }],
      queue: { retry: { initialDelay: '200ms', maxDelay: '1s' } },
    })
    const start = async (): Promise<{ proc: RunningProcess; port: number }> => {
      const proc = startProcess(process.execPath, [POSTERN, 'gateway', '--config', configFile])
      cleanup.push(() => proc.kill9())
      const [, port] = await proc.waitForLine(/ready: smtp inbound=127\.0\.0\.1:(\d+)/, 60_000)
      return { proc, port: Number(port) }
    }

    const first = await start()
    const load = startLoad(first.port, 8)
    await waitFor(() => load.result.acked.size >= 150, {
      timeoutMs: 60_000,
      what: '150 acknowledged messages',
    })
    await first.proc.kill9()
    await load.stop()
    const { acked, inFlight } = load.result
    expect(acked.size).toBeGreaterThanOrEqual(150)

    await start()
    await waitFor(
      () => acked.size > 0 && [...acked].every((id) => deliveredIds(sink).includes(id)),
      {
        timeoutMs: 60_000,
        what: 'every acknowledged message downstream',
      },
    )
    const delivered = new Set(deliveredIds(sink))
    // Every 250 arrived; anything else that arrived was in flight when the gateway died (its
    // data was sent; the spool may have made it durable before the 250 could go out).
    for (const id of acked) expect(delivered.has(id)).toBe(true)
    for (const id of delivered) expect(acked.has(id) || inFlight.has(id)).toBe(true)
    const unacknowledgedDelivered = [...delivered].filter((id) => !acked.has(id)).length
    expect(delivered.size - unacknowledgedDelivered).toBe(acked.size)

    // The restarted gateway's queue drains, and the CLI reaches it with its local credential.
    await waitFor(
      async () => {
        const { stdout } = await run(process.execPath, [
          POSTERN,
          'gateway',
          'queue',
          'list',
          '--json',
          '--config',
          configFile,
        ])
        return (JSON.parse(stdout) as { total: number }).total === 0
      },
      { timeoutMs: 30_000, what: 'an empty queue' },
    )
  })
})
