import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BACKENDS } from '@postern/store/testing'
import { startClamd, type RunningClamd } from '../support/clamd.js'
import { CORPUS, CORPUS_DIR, corpusZone, type CorpusCase } from '../support/corpus.js'
import { startDnsResponder, type DnsResponder } from '../support/dns-responder.js'
import {
  startPipelineGateway,
  waitForStatus,
  type PipelineGateway,
} from '../support/pipeline-gateway.js'
import { startRspamd, type RunningRspamd } from '../support/rspamd.js'

const FINAL: Record<string, string[]> = {
  deliver: ['delivered', 'completed'],
  'quarantine:malformed': ['quarantined'],
  'quarantine:policy': ['quarantined'],
  'quarantine:virus': ['quarantined'],
  'quarantine:spam': ['quarantined'],
}

/**
 * The whole corpus through a running gateway over SMTP (nodemailer as the client): every file
 * is either refused with a coded reply by the listener's own limits, or accepted and brought to
 * the outcome the corpus states. Afterwards the gateway is healthy and still delivers mail.
 */
describe.each(BACKENDS)('the corpus over SMTP through a running gateway (%s)', (dialect) => {
  let dns: DnsResponder
  let rspamd: RunningRspamd
  let clamd: RunningClamd
  let gw: PipelineGateway

  beforeAll(async () => {
    ;[dns, rspamd, clamd] = await Promise.all([
      startDnsResponder(corpusZone()),
      startRspamd(),
      startClamd(),
    ])
    gw = await startPipelineGateway(
      {
        workers: 1,
        internalDomains: ['corp.example'],
        authentication: { dns: { servers: [dns.address], timeout: 500, tries: 1 } },
        scanners: {
          rspamd: { enabled: true, url: rspamd.url },
          clamav: { enabled: true, address: clamd.address },
          builtin: { displayNameSpoof: { protectedNames: ['Jane Doe'] } },
        },
      },
      { dialect },
    )
  })
  afterAll(async () => {
    await gw?.stop()
    await Promise.all([dns?.close(), rspamd?.stop(), clamd?.stop()])
  })

  it.each(CORPUS.map((c) => [c.file, c] as const))('%s', async (_file, c: CorpusCase) => {
    const raw = readFileSync(fileURLToPath(new URL(c.file, CORPUS_DIR)))
    const envelope = c.envelope ?? { from: 'sender@sender.example', to: ['bob@corp.example'] }
    let response: string
    try {
      ;({ response } = await gw.send('inbound', envelope, raw))
    } catch (err) {
      const refusal = err as { responseCode?: number; response?: string }
      expect(c.smtpRefused, `refused unexpectedly: ${refusal.response}`).toBeDefined()
      expect(refusal.responseCode).toBeGreaterThanOrEqual(500)
      expect(refusal.response).toMatch(/^5\d\d 5\.\d+\.\d+ /)
      return
    }
    expect(
      c.smtpRefused,
      `accepted although the listener should refuse (${c.smtpRefused})`,
    ).toBeUndefined()
    const mid = Number(/queued as (\d+)/.exec(response)?.[1])
    // Over loopback SPF sees 127.0.0.1; no corpus outcome depends on SPF passing (the
    // DKIM-signed message passes DMARC on its aligned signature).
    const outcome = c.smtpOutcome ?? c.outcome
    const status = await waitForStatus(gw, mid, FINAL[outcome] as string[])
    expect(FINAL[outcome]).toContain(status)
    if (outcome.startsWith('quarantine:')) {
      const list = await gw.api<{ items: { quarantine: string }[] }>(
        'GET',
        `/api/v1/quarantine/messages?mid=${mid}`,
      )
      expect(list.body.items.map((i) => i.quarantine)).toEqual([
        outcome.slice('quarantine:'.length),
      ])
    }
  })

  it('is healthy afterwards and still delivers mail', async () => {
    const health = await gw.api<{ status: string }>('GET', '/healthz')
    expect(health).toMatchObject({ status: 200, body: { status: 'ok' } })
    const raw = readFileSync(fileURLToPath(new URL('clean/plain-text.eml', CORPUS_DIR)))
    const { response } = await gw.send(
      'inbound',
      { from: 'sender@sender.example', to: ['carol@corp.example'] },
      raw,
    )
    await waitForStatus(gw, Number(/queued as (\d+)/.exec(response)?.[1]), [
      'delivered',
      'completed',
    ])
    expect(gw.delivered('carol@corp.example')).toHaveLength(1)
  })
})
