import { createServer, type Server, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { analyseMessage } from '../../apps/gateway/src/pipeline/analysis/analyse-message.js'
import { ClamavScanner } from '../../apps/gateway/src/scanners/clamav/clamav-scanner.js'
import { clamavConfigSchema, rspamdConfigSchema } from '../../apps/gateway/src/scanners/config.js'
import type { ScanContext, Scanner } from '../../apps/gateway/src/scanners/contract.js'
import { RspamdScanner } from '../../apps/gateway/src/scanners/rspamd/rspamd-scanner.js'
import { runScanners } from '../../apps/gateway/src/scanners/runner.js'
import {
  CUSTOM_MALWARE_MARKER,
  CUSTOM_SIGNATURE,
  EICAR,
  EICAR_SIGNATURE,
  startClamd,
  type RunningClamd,
} from '../support/clamd.js'
import { TEST_LIMITS } from '../support/pipeline.js'
import {
  RSPAMD_SPAM_SUBJECT,
  RSPAMD_SUSPECT_SUBJECT,
  startRspamd,
  type RunningRspamd,
} from '../support/rspamd.js'

const GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X'

function mail(subject: string, body: string, attachment?: { name: string; data: Buffer }): Buffer {
  const lines = [
    'From: Sender <sender@example.org>',
    'To: bob@example.net',
    `Subject: ${subject}`,
    'Message-ID: <scan@example.org>',
    'MIME-Version: 1.0',
  ]
  if (!attachment) return Buffer.from([...lines, '', body, ''].join('\r\n'))
  return Buffer.from(
    [
      ...lines,
      'Content-Type: multipart/mixed; boundary="xx"',
      '',
      '--xx',
      'Content-Type: text/plain',
      '',
      body,
      '--xx',
      `Content-Type: application/octet-stream; name="${attachment.name}"`,
      `Content-Disposition: attachment; filename="${attachment.name}"`,
      'Content-Transfer-Encoding: base64',
      '',
      attachment.data.toString('base64'),
      '--xx--',
      '',
    ].join('\r\n'),
  )
}

async function context(raw: Buffer): Promise<Omit<ScanContext, 'signal'>> {
  return {
    mid: 7,
    direction: 'incoming',
    envelope: { mailFrom: 'sender@example.org', recipients: ['bob@example.net'] },
    client: { ip: '192.0.2.10', rdns: 'mx.example.org', helo: 'mx.example.org', authUser: null },
    raw,
    analysis: await analyseMessage(raw, { limits: TEST_LIMITS }),
    auth: null,
  }
}

const scanOne = async (scanner: Scanner, raw: Buffer) => {
  const [outcome] = await runScanners([scanner], await context(raw), new AbortController().signal)
  return outcome!
}

describe('rspamd scanner against a real rspamd', () => {
  let rspamd: RunningRspamd
  let scanner: RspamdScanner

  beforeAll(async () => {
    rspamd = await startRspamd()
    scanner = new RspamdScanner(rspamdConfigSchema.parse({ enabled: true, url: rspamd.url }))
  })
  afterAll(async () => {
    await scanner?.close()
    await rspamd?.stop()
  })

  it.each([
    ['a clean message', 'hello', 'hello there', 'pass', [], 'no action'],
    ['the spam rule', RSPAMD_SPAM_SUBJECT, 'buy', 'fail', ['spam'], 'reject'],
    ['the suspect rule', RSPAMD_SUSPECT_SUBJECT, 'maybe', 'fail', ['suspect-spam'], 'add header'],
    ['GTUBE', 'test', GTUBE, 'fail', ['spam'], 'reject'],
  ])('%s → %s %j', async (_label, subject, body, status, verdicts, action) => {
    const outcome = await scanOne(scanner, mail(subject, body))
    expect(outcome.result.status).toBe(status)
    expect(outcome.result.verdicts).toEqual(verdicts)
    expect(outcome.result.details?.action).toBe(action)
    expect(outcome.failure).toBeNull()
  })

  it('keeps the score and the symbols that explain it', async () => {
    const outcome = await scanOne(scanner, mail(RSPAMD_SPAM_SUBJECT, 'x'))
    expect(outcome.result.score).toBeGreaterThanOrEqual(20)
    expect(outcome.result.findings).toContain('POSTERN_TEST_SPAM')
  })

  it('skips messages above maxSize and directions it is not configured for', async () => {
    const small = new RspamdScanner(
      rspamdConfigSchema.parse({
        enabled: true,
        url: rspamd.url,
        maxSize: 10,
        directions: ['outgoing'],
      }),
    )
    const outcome = await scanOne(small, mail('x', 'y'))
    expect(outcome.result).toMatchObject({ status: 'skip', details: { reason: 'direction' } })
    await small.close()
  })
})

describe('ClamAV scanner against a real clamd with test signatures', () => {
  let clamd: RunningClamd
  let scanner: ClamavScanner

  beforeAll(async () => {
    clamd = await startClamd()
    scanner = new ClamavScanner(clamavConfigSchema.parse({ enabled: true, address: clamd.address }))
  })
  afterAll(async () => {
    await clamd?.stop()
  })

  it.each([
    ['a clean message', mail('hi', 'clean'), 'pass', []],
    [
      'EICAR as an attachment',
      mail('hi', 'see file', { name: 'eicar.com', data: Buffer.from(EICAR) }),
      'fail',
      [EICAR_SIGNATURE],
    ],
    [
      'the custom signature inside a text body',
      mail('hi', `payload ${CUSTOM_MALWARE_MARKER} end`),
      'fail',
      [CUSTOM_SIGNATURE],
    ],
  ])('%s', async (_label, raw, status, signatures) => {
    const outcome = await scanOne(scanner, raw)
    expect(outcome.result.status).toBe(status)
    expect(outcome.result.verdicts).toEqual(status === 'fail' ? ['virus'] : [])
    for (const [i, name] of signatures.entries()) {
      expect(outcome.result.findings?.[i]).toMatch(new RegExp(`^${name.replace(/\./g, '\\.')}`))
    }
  })
})

describe('scanner failures are contained and follow the failure policy', () => {
  let silent: Server
  let silentPort: number
  const sockets = new Set<Socket>()

  beforeAll(async () => {
    // Accepts connections and never answers: a hung scanner.
    silent = createServer((socket) => {
      sockets.add(socket)
      socket.on('close', () => sockets.delete(socket))
    })
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    silentPort = (silent.address() as { port: number }).port
  })
  afterAll(async () => {
    for (const socket of sockets) socket.destroy()
    await new Promise<void>((resolve) => silent.close(() => resolve()))
  })

  it.each([
    ['tempfail', 'tempfail', null],
    ['quarantine', 'quarantine', 'virus'],
    ['skip', 'skip', null],
  ] as const)('a timeout with onFailure=%s', async (policy, failure, quarantine) => {
    const scanner = new ClamavScanner(
      clamavConfigSchema.parse({
        enabled: true,
        address: `127.0.0.1:${silentPort}`,
        timeout: 200,
        onFailure: policy,
      }),
    )
    const outcome = await scanOne(scanner, mail('x', 'y'))
    expect(outcome.result.status).toBe('error')
    expect(outcome.result.error?.code).toBe('GW_ERR_SCANNER_TIMEOUT')
    expect(outcome.failure).toBe(failure)
    expect(outcome.failureQuarantine).toBe(quarantine)
  })

  it('an unreachable scanner is an error with a coded reason, not a crash', async () => {
    const scanner = new RspamdScanner(
      rspamdConfigSchema.parse({ enabled: true, url: 'http://127.0.0.1:9', timeout: 5_000 }),
    )
    const outcome = await scanOne(scanner, mail('x', 'y'))
    expect(outcome.result).toMatchObject({
      status: 'error',
      error: { code: 'GW_ERR_SCANNER_UNAVAILABLE' },
    })
    expect(outcome.failure).toBe('skip')
    await scanner.close()
  })
})
