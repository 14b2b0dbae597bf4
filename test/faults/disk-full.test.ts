import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { waitFor } from '@postern/testkit'
import { RawSmtp, expectCode } from '../gateway/support/clients.js'
import { startTestServer, type TestServer } from '../gateway/support/downstream.js'
import { startGateway, type TestGateway } from '../gateway/support/gateway.js'
import { mountTmpfs, type SmallFilesystem } from './support/tmpfs.js'

const MB = 1024 * 1024
const BODY = 'x'.repeat(76) + '\r\n'
/** About 200 KB of message text, tagged so the downstream copy can be matched. */
function message(id: number): string {
  return `Message-ID: <fill-${id}@test>\r\nSubject: fill ${id}\r\n\r\n${BODY.repeat(2600)}.\r\n`
}

async function envelope(port: number, size?: number): Promise<RawSmtp> {
  const smtp = await RawSmtp.open(port)
  expectCode(await smtp.reply(), 220)
  expectCode(await smtp.command('EHLO fill.test'), 250)
  expectCode(await smtp.command(`MAIL FROM:<fill@ext.example>${size ? ` SIZE=${size}` : ''}`), 250)
  expectCode(await smtp.command('RCPT TO:<user@corp.example>'), 250)
  return smtp
}

/** One message over its own connection; resolves with the reply to the final dot (or DATA). */
async function send(port: number, id: number): Promise<string> {
  const smtp = await RawSmtp.open(port)
  try {
    expectCode(await smtp.reply(), 220)
    expectCode(await smtp.command('EHLO fill.test'), 250)
    const mail = (await smtp.command('MAIL FROM:<fill@ext.example>')) ?? 'closed'
    if (!mail.startsWith('250')) return mail
    expectCode(await smtp.command('RCPT TO:<user@corp.example>'), 250)
    const data = (await smtp.command('DATA')) ?? 'closed'
    if (!data.startsWith('354')) return data
    smtp.write(message(id))
    return (await smtp.reply(30_000)) ?? 'closed'
  } finally {
    smtp.close()
  }
}

function deliveredIds(server: TestServer): Set<number> {
  const ids = server.messages
    .map((m) => /Message-ID: <fill-(\d+)@test>/.exec(m.text)?.[1])
    .filter((id): id is string => id !== undefined)
  return new Set(ids.map(Number))
}

describe('spool filesystem nearly full (a real 8 MB tmpfs)', () => {
  const cleanup: (() => Promise<void>)[] = []
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn()
  })

  async function setup(minFreeSpace: string) {
    // Downstream defers every recipient until the test lets mail through: the spool fills.
    let open = false
    const downstream = await startTestServer({
      rcpt: () => (open ? undefined : { code: 451, message: '4.3.0 not now' }),
    })
    cleanup.push(() => downstream.close())
    let fs: SmallFilesystem | undefined
    const gw: TestGateway = await startGateway(
      {
        smtpRoutes: [{ domain: '*', to: [`127.0.0.1:${downstream.port}`] }],
        spool: { minFreeSpace, freeSpaceCheckInterval: '20ms', segmentSize: '1MB' },
        queue: { retry: { initialDelay: '200ms', maxDelay: '500ms' } },
      },
      {
        prepareDataDir: async (dataDir) => {
          fs = await mountTmpfs(join(dataDir, 'spool'), 8 * MB)
          const mounted = fs
          return () => mounted.unmount()
        },
      },
    )
    cleanup.push(() => gw.stop())
    return {
      gw,
      downstream,
      fs: fs as unknown as SmallFilesystem,
      letMailThrough: () => (open = true),
    }
  }

  it('answers 452 4.3.1 at MAIL, DATA and the final dot before the reserve is used, then recovers', async () => {
    const { gw, downstream, fs, letMailThrough } = await setup('2MB')
    const port = gw.smtpPort()
    // A transaction opened while there is room, declaring its size: its DATA comes after the
    // disk filled up.
    const early = await envelope(port, Buffer.byteLength(message(0)))

    const accepted: number[] = []
    const refusals: string[] = []
    for (let id = 0; id < 60 && refusals.length === 0; id++) {
      const reply = await send(port, id)
      if (reply.startsWith('250')) accepted.push(id)
      else refusals.push(reply)
    }
    expect(refusals[0]).toMatch(/^452 4\.3\.1 /)
    expect(accepted.length).toBeGreaterThan(10)
    // The reserve is kept: refused before the filesystem ran out, not because of ENOSPC.
    expect(await fs.free()).toBeGreaterThan(1.5 * MB)

    expect(await early.command('DATA')).toMatch(/^452 4\.3\.1 /)
    early.close()
    // A declared SIZE that does not fit is refused at MAIL (RFC 1870 §6.1).
    const sized = await RawSmtp.open(port)
    expectCode(await sized.reply(), 220)
    expectCode(await sized.command('EHLO fill.test'), 250)
    expect(await sized.command('MAIL FROM:<fill@ext.example> SIZE=4000000')).toMatch(
      /^452 4\.3\.1 /,
    )
    sized.close()

    const metrics = await gw.api<string>('GET', '/metrics')
    expect(metrics.body).toMatch(/reason="SPOOL_FULL"[^\n]* [1-9]/)

    // Downstream comes back: the queue drains, the spool frees its segments, mail is taken again.
    letMailThrough()
    await waitFor(() => accepted.every((id) => deliveredIds(downstream).has(id)), {
      timeoutMs: 60_000,
      what: 'every accepted message downstream',
    })
    let after = ''
    await waitFor(
      async () => {
        after = await send(port, 1_000)
        return after.startsWith('250')
      },
      { timeoutMs: 60_000, what: 'mail accepted again once the spool drained' },
    )
    expect(after).toMatch(/^250 2\.0\.0 /)
    // Nothing refused was delivered.
    const delivered = deliveredIds(downstream)
    for (const id of delivered) expect(accepted.includes(id) || id === 1_000).toBe(true)
  })

  it('without a reserve, a real ENOSPC is still a 452 4.3.1 and nothing accepted is lost', async () => {
    const { gw, downstream, fs, letMailThrough } = await setup('0B')
    const port = gw.smtpPort()
    const accepted: number[] = []
    let refusal = ''
    for (let id = 0; id < 80 && !refusal; id++) {
      const reply = await send(port, id)
      if (reply.startsWith('250')) accepted.push(id)
      else refusal = reply
    }
    expect(refusal).toMatch(/^452 4\.3\.1 /)
    // The filesystem really was full: what was refused could not have been stored.
    expect(await fs.free()).toBeLessThan(300 * 1024)
    letMailThrough()
    await waitFor(() => accepted.every((id) => deliveredIds(downstream).has(id)), {
      timeoutMs: 60_000,
      what: 'every accepted message downstream',
    })
    expect([...deliveredIds(downstream)].sort((a, b) => a - b)).toEqual(accepted)
  })
})
