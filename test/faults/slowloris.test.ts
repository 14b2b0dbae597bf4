import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tempDir, waitFor } from '@postern/testkit'
import { RawSmtp, expectCode, sendWithNodemailer } from '../gateway/support/clients.js'
import { startSink, type Sink } from '../gateway/support/downstream.js'
import {
  gatewayConfigFile,
  metricValue,
  startGatewayProcess,
  type GatewayProcess,
} from './support/gateway-process.js'

const MB = 1024 * 1024
const MAX_CONNECTIONS = 200
const MAX_PER_IP = 20

/** Opens a connection and reads its first reply (greeting or refusal). */
async function connect(
  port: number,
  localAddress: string,
): Promise<{ smtp: RawSmtp; first: string }> {
  const smtp = await RawSmtp.open(port, localAddress)
  return { smtp, first: (await smtp.reply(20_000)) ?? 'closed' }
}

/** Writes `text` one byte at a time until the connection closes (the slowloris client). */
function trickle(smtp: RawSmtp, text: string, everyMs: number): void {
  let i = 0
  const timer = setInterval(() => {
    if (smtp.closed) return clearInterval(timer)
    smtp.write(text[i % text.length] as string)
    i++
  }, everyMs)
}

describe('connection floods and slow clients against a gateway process', () => {
  let dir: ReturnType<typeof tempDir>
  let sink: Sink
  let gw: GatewayProcess
  const held: RawSmtp[] = []

  /** A gateway process with these listener limits (held connections need a long deadline). */
  async function start(limits: Record<string, unknown>): Promise<void> {
    await gw?.proc.stop()
    const config = gatewayConfigFile(dir.path, {
      database: 'sqlite',
      listeners: [
        {
          name: 'inbound',
          smtp: '127.0.0.1:0',
          rat: [{ recipient: 'corp.example', action: 'ACCEPT' }],
          limits: {
            maxConnections: MAX_CONNECTIONS,
            maxConnectionsPerIp: MAX_PER_IP,
            idleTimeout: '5m',
            ...limits,
          },
        },
      ],
      smtpRoutes: [{ domain: '*', to: [`127.0.0.1:${sink.port}`] }],
    })
    gw = await startGatewayProcess(config)
  }

  beforeAll(async () => {
    dir = tempDir('postern-flood-')
    sink = await startSink()
  })

  afterAll(async () => {
    for (const smtp of held) smtp.close()
    await gw?.proc.stop()
    await sink?.stop()
    dir?.remove()
  })

  /** Connects from each address in turn, holding greeted sessions; refusals must match. */
  async function connectAll(addresses: string[], refusal: RegExp) {
    const counts = { greeted: 0, refused: 0 }
    for (const address of addresses) {
      const { smtp, first } = await connect(gw.smtpPort, address)
      if (first.startsWith('220')) {
        counts.greeted++
        held.push(smtp)
      } else {
        expect(first).toMatch(refusal)
        counts.refused++
        smtp.close()
      }
    }
    return counts
  }

  it('holds the per-IP and the global connection limits, with bounded memory', async () => {
    await start({ commandTimeout: '5m' })
    // Warm up (JIT, pools) before the baseline so growth measures the flood, not the start.
    expect(
      await sendWithNodemailer({ port: gw.smtpPort, from: 'a@ext.example', to: 'u@corp.example' }),
    ).toMatch(/^250/)
    const baseline = gw.rss()

    // One address: MAX_PER_IP greetings, then 421 4.7.0 for each connection beyond.
    const fromOne = await connectAll(
      Array.from({ length: MAX_PER_IP * 2 }, () => '127.0.0.2'),
      /^421 4\.7\.0 /,
    )
    expect(fromOne).toEqual({ greeted: MAX_PER_IP, refused: MAX_PER_IP })

    // Many addresses: the listener fills up to MAX_CONNECTIONS, then 421 4.3.2.
    const attempts = 300
    const fromMany = await connectAll(
      Array.from({ length: attempts }, (_, i) => `127.0.${1 + (i % 30)}.${1 + Math.floor(i / 30)}`),
      /^421 4\.3\.2 /,
    )
    expect(fromMany.greeted).toBe(MAX_CONNECTIONS - MAX_PER_IP)
    expect(fromMany.refused).toBe(attempts - fromMany.greeted)

    // A flood of connections while full: every one refused, the process does not grow with it.
    let refusedInFlood = 0
    for (let wave = 0; wave < 20; wave++) {
      const replies = await Promise.all(
        Array.from({ length: 100 }, async (_, i) => {
          const { smtp, first } = await connect(gw.smtpPort, `127.1.${wave}.${i + 1}`)
          smtp.close()
          return first
        }),
      )
      refusedInFlood += replies.filter((r) => r.startsWith('421')).length
    }
    expect(refusedInFlood).toBe(2000)
    const metrics = await gw.metrics()
    expect(
      metricValue(metrics, 'postern_smtp_rejected_total', { reason: 'TOO_MANY_CONNECTIONS' }),
    ).toBe(fromMany.refused + refusedInFlood)
    expect(
      metricValue(metrics, 'postern_smtp_rejected_total', {
        reason: 'TOO_MANY_CONNECTIONS_FROM_IP',
      }),
    ).toBe(MAX_PER_IP)
    // 200 open sessions and 2 300 refused connections: well under 1 MB a held session.
    const growth = gw.rss() - baseline
    console.info(`gateway RSS growth under the flood: ${(growth / MB).toFixed(1)} MB`)
    expect(growth).toBeLessThan(120 * MB)

    for (const smtp of held.splice(0)) smtp.close()
    await waitFor(
      async () => metricValue(await gw.metrics(), 'postern_smtp_sessions_active') === 0,
      { timeoutMs: 30_000, what: 'every held session closed' },
    )
  })

  it('closes clients that trickle commands or data (slowloris); others are served', async () => {
    await start({ commandTimeout: '2s', dataRateFloor: 2000, dataRateGrace: '2s' })
    const slowCommand: RawSmtp[] = []
    const slowData: RawSmtp[] = []
    for (let i = 0; i < 10; i++) {
      const { smtp, first } = await connect(gw.smtpPort, `127.2.0.${i + 1}`)
      expectCode(first, 220)
      trickle(smtp, 'EHLO slow.example.and.never.finished', 200)
      slowCommand.push(smtp)
    }
    for (let i = 0; i < 10; i++) {
      const { smtp, first } = await connect(gw.smtpPort, `127.2.1.${i + 1}`)
      expectCode(first, 220)
      expectCode(await smtp.command('EHLO slow.test'), 250)
      expectCode(await smtp.command('MAIL FROM:<slow@ext.example>'), 250)
      expectCode(await smtp.command('RCPT TO:<u@corp.example>'), 250)
      expectCode(await smtp.command('DATA'), 354)
      trickle(smtp, 'Subject: slow\r\n\r\nxxxxxxxx\r\n', 200)
      slowData.push(smtp)
    }
    // Meanwhile a normal client is served.
    expect(
      await sendWithNodemailer({ port: gw.smtpPort, from: 'b@ext.example', to: 'u@corp.example' }),
    ).toMatch(/^250/)

    await waitFor(() => [...slowCommand, ...slowData].every((s) => s.closed), {
      timeoutMs: 60_000,
      what: 'every slow client disconnected',
    })
    for (const smtp of slowCommand) expect(smtp.pending()).toMatch(/^421 4\.4\.2 Command timeout/m)
    for (const smtp of slowData)
      expect(smtp.pending()).toMatch(/^421 4\.4\.2 Data transfer too slow/m)
    const metrics = await gw.metrics()
    expect(metricValue(metrics, 'postern_smtp_rejected_total', { reason: 'COMMAND_TIMEOUT' })).toBe(
      10,
    )
    expect(metricValue(metrics, 'postern_smtp_rejected_total', { reason: 'DATA_TOO_SLOW' })).toBe(
      10,
    )
    // The slow messages were never accepted: only the two normal ones reach downstream.
    await waitFor(() => sink.messages().length === 2, {
      timeoutMs: 30_000,
      what: 'the normal messages of both tests',
    })
    expect(sink.messages().some((m) => m.includes('Subject: slow'))).toBe(false)
  })
})
