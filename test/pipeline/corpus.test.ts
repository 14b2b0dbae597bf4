import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Database, migrateToLatest, type GatewaySchema } from '@postern/store'
import { BACKENDS, createTestDatabase, type TestDatabase } from '@postern/store/testing'
import { pipelineConfigSchema } from '../../apps/gateway/src/pipeline/config.js'
import type { PipelineResult } from '../../apps/gateway/src/pipeline/content-pipeline.js'
import {
  startContentPipeline,
  type ContentPipelineSetup,
} from '../../apps/gateway/src/pipeline/setup.js'
import { startClamd, type RunningClamd } from '../support/clamd.js'
import { CORPUS, CORPUS_DIR, corpusZone, type CorpusCase } from '../support/corpus.js'
import { startDnsResponder, type DnsResponder } from '../support/dns-responder.js'
import { startRspamd, type RunningRspamd } from '../support/rspamd.js'

const fileOf = (c: CorpusCase): string => fileURLToPath(new URL(c.file, CORPUS_DIR))

/** The pipeline configuration the corpus expectations are written for. */
export function corpusPipelineConfig(dns: string, rspamd: string, clamd: string) {
  return pipelineConfigSchema.parse({
    workers: 1,
    internalDomains: ['corp.example'],
    authentication: { dns: { servers: [dns], timeout: 500, tries: 1 } },
    scanners: {
      rspamd: { enabled: true, url: rspamd },
      clamav: { enabled: true, address: clamd },
      builtin: { displayNameSpoof: { protectedNames: ['Jane Doe'] } },
    },
  })
}

export function outcomeOf(result: PipelineResult): string {
  const first = result.recipients[0]
  if (!first) return 'none'
  return first.action === 'quarantine' ? `quarantine:${first.quarantine}` : first.action
}

describe('the corpus', () => {
  it('is exactly what its builders produce (UPDATE_CORPUS=1 rewrites it)', async () => {
    const stale: string[] = []
    for (const c of CORPUS) {
      const built = await c.build()
      const path = fileOf(c)
      if (process.env.UPDATE_CORPUS === '1') {
        mkdirSync(dirname(path), { recursive: true })
        writeFileSync(path, built)
      }
      if (!existsSync(path) || !readFileSync(path).equals(built)) stale.push(c.file)
    }
    expect(
      stale,
      'corpus files are stale: run UPDATE_CORPUS=1 npx vitest run test/pipeline/corpus.test.ts',
    ).toEqual([])
  })

  it('has the kinds of messages the issue asks for, 50+ of them malformed', () => {
    const files = CORPUS.map((c) => c.file)
    expect(files.filter((f) => f.startsWith('malformed/')).length).toBeGreaterThanOrEqual(50)
    for (const required of [
      'clean/plain-text.eml',
      'clean/dkim-signed.eml',
      'threats/phishing-bitly.eml',
      'threats/eicar-attachment.eml',
      'threats/zipped-executable.eml',
      'threats/spoofed-display-name.eml',
    ]) {
      expect(files).toContain(required)
    }
    expect(new Set(files).size).toBe(files.length)
  })
})

describe.each(BACKENDS)(
  'every corpus file through the pipeline, with real rspamd and clamd (%s)',
  (dialect) => {
    let testDb: TestDatabase
    let database: Database<GatewaySchema>
    let dns: DnsResponder
    let rspamd: RunningRspamd
    let clamd: RunningClamd
    let setup: ContentPipelineSetup
    let mid = 1000

    beforeAll(async () => {
      ;[dns, rspamd, clamd] = await Promise.all([
        startDnsResponder(corpusZone()),
        startRspamd(),
        startClamd(),
      ])
      testDb = await createTestDatabase(dialect)
      database = await Database.open<GatewaySchema>(testDb.target)
      await migrateToLatest(database, 'gateway')
      setup = await startContentPipeline(
        corpusPipelineConfig(dns.address, rspamd.url, clamd.address),
        {
          db: database.db,
          hostname: 'gw.corp.example',
          acceptedDomains: ['corp.example'],
          events: { event: () => undefined },
        },
      )
    })
    afterAll(async () => {
      await setup?.close()
      await Promise.all([dns?.close(), rspamd?.stop(), clamd?.stop()])
      await database?.close()
      await testDb?.drop()
    })

    it.each(CORPUS.map((c) => [c.file, c] as const))('%s', async (_file, c) => {
      const raw = readFileSync(fileOf(c))
      const envelope = c.envelope ?? { from: 'sender@sender.example', to: ['bob@corp.example'] }
      const result = await setup.pipeline.process(
        {
          mid: mid++,
          receivedAt: Date.now(),
          direction: c.direction ?? 'incoming',
          envelope: { mailFrom: envelope.from, recipients: envelope.to },
          client: {
            ip: '192.0.2.25',
            rdns: 'mx.sender.example',
            helo: 'mx.sender.example',
            authUser: null,
          },
          raw,
        },
        new AbortController().signal,
      )
      const explain = JSON.stringify({
        malformed: result.analysis.malformed,
        defects: result.analysis.defects.map((d) => d.code),
        verdicts: result.verdicts,
        decisions: result.decisions.map((d) => [d.policy, d.finalRule]),
      })
      expect(outcomeOf(result), explain).toBe(c.outcome)
      if (c.malformed) expect(result.analysis.malformed?.reason, explain).toBe(c.malformed)
      else expect(result.analysis.malformed, explain).toBeNull()
      for (const v of c.verdicts ?? []) expect(result.verdicts, explain).toContain(v)
      for (const d of c.defects ?? [])
        expect(
          result.analysis.defects.map((x) => x.code),
          explain,
        ).toContain(d)
      // Every decision is explained on the timeline.
      expect(result.events.map((e) => e.event)).toEqual(
        expect.arrayContaining(['MESSAGE_ANALYSED', 'POLICY_MATCHED', 'POLICY_ACTION']),
      )
    })

    it('authenticated the DKIM-signed message and added its results to the delivered copy', async () => {
      const c = CORPUS.find((x) => x.file === 'clean/dkim-signed.eml') as CorpusCase
      const result = await setup.pipeline.process(
        {
          mid: mid++,
          receivedAt: Date.now(),
          direction: 'incoming',
          envelope: { mailFrom: 'news@signed.example', recipients: ['bob@corp.example'] },
          client: { ip: '192.0.2.25', rdns: null, helo: 'mx.signed.example', authUser: null },
          raw: readFileSync(fileOf(c)),
        },
        new AbortController().signal,
      )
      expect(result.auth).toMatchObject({
        spf: { result: 'pass' },
        dkim: { result: 'pass' },
        dmarc: { result: 'pass' },
      })
      expect(result.variants[0]?.toString()).toMatch(/dkim=pass header\.i=@signed\.example/)
    })
  },
)
