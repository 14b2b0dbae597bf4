import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startDnsResponder, type DnsResponder } from '../../../../../test/support/dns-responder.js'
import { AnalysisPool } from './analysis-pool.js'
import type { WorkerSettings } from './protocol.js'

const limits: WorkerSettings['limits'] = {
  maxDepth: 16,
  maxParts: 100,
  maxHeaderBytes: 64 * 1024,
  maxDecodedBytes: 64 * 1024 * 1024,
  maxParseMs: 5_000,
  maxTextBytes: 1024 * 1024,
  maxUrls: 100,
  maxArchiveEntries: 100,
  maxArchiveEntryBytes: 1024 * 1024,
}

const message = Buffer.from(
  [
    'From: Alice <alice@good.example>',
    'To: bob@example.net',
    'Subject: pooled',
    '',
    'See https://good.example/page',
    '',
  ].join('\r\n'),
)

describe('AnalysisPool (worker threads)', () => {
  let dns: DnsResponder
  let settings: WorkerSettings

  beforeAll(async () => {
    dns = await startDnsResponder({
      'good.example': { TXT: ['v=spf1 ip4:192.0.2.0/24 -all'] },
    })
    settings = {
      limits,
      auth: {
        enabled: true,
        authservId: 'gw.test',
        minKeyBits: 1024,
        arc: true,
        dmarc: true,
        timeoutMs: 5_000,
        dns: {
          servers: [dns.address],
          timeoutMs: 500,
          tries: 1,
          positiveTtlMs: 60_000,
          negativeTtlMs: 60_000,
          failureTtlMs: 5_000,
          maxEntries: 1_000,
        },
      },
    }
  })
  afterAll(async () => {
    await dns.close()
  })

  it('parses and authenticates off the main thread, many messages at once', async () => {
    const pool = new AnalysisPool({ settings, workers: 2, jobsPerWorker: 4 })
    try {
      const outcomes = await Promise.all(
        Array.from({ length: 20 }, () =>
          pool.analyse({
            raw: message,
            auth: { ip: '192.0.2.1', helo: 'mx.good.example', sender: 'alice@good.example' },
          }),
        ),
      )
      for (const { analysis, auth } of outcomes) {
        expect(analysis.headers.subject).toBe('pooled')
        expect(analysis.urls.map((u) => u.url)).toEqual(['https://good.example/page'])
        expect(auth?.spf.result).toBe('pass')
      }
      expect(pool.load).toEqual({ queued: 0, running: 0 })
    } finally {
      await pool.close()
    }
  })

  it('turns a message that overruns the time cap into malformed, its header still read', async () => {
    const pool = new AnalysisPool({
      settings: {
        ...settings,
        limits: { ...limits, maxParseMs: 1 },
        auth: { ...settings.auth, enabled: false },
      },
      workers: 1,
      jobsPerWorker: 4,
    })
    try {
      const big = Buffer.concat([
        Buffer.from(
          'From: slow@x.example\r\nSubject: big\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n',
        ),
        Buffer.from(
          Array.from(
            { length: 400 },
            (_, i) => `--b\r\nContent-Type: text/plain\r\n\r\npart ${i} https://x${i}.example/\r\n`,
          ).join(''),
        ),
        Buffer.from('--b--\r\n'),
      ])
      const { analysis } = await pool.analyse({ raw: big })
      expect(analysis.malformed?.reason).toBe('time')
      expect(analysis.headers.subject).toBe('big')
    } finally {
      await pool.close()
    }
  })

  it('refuses new work once closed, with a coded error', async () => {
    const pool = new AnalysisPool({ settings, workers: 1, jobsPerWorker: 1 })
    await pool.close()
    await expect(pool.analyse({ raw: message })).rejects.toMatchObject({
      code: 'GW_ERR_PIPELINE_CLOSED',
    })
  })
})
