import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  Database,
  emptyBatch,
  migrateToLatest,
  RemediationRunRepository,
  TrackingStore,
  type GatewaySchema,
  type NewMessage,
} from '@postern/store'
import { BACKENDS, createTestDatabase, type TestDatabase } from '@postern/store/testing'
import { TrackingReportRepository, TrackingSearchRepository } from '@postern/store'
import { ReportingService } from '../../apps/gateway/src/reporting/service.js'
import { TrackingSearchService } from '../../apps/gateway/src/search/service.js'
import type { TrackingSearchInput } from '../../apps/gateway/src/search/query.js'

const T = Date.UTC(2026, 0, 10, 8)
const HOUR = 3_600_000
const sha = (seed: string) => Buffer.from(seed.repeat(32)).toString('hex').slice(0, 64)
const LONG_SUBJECT = `${'A'.repeat(3000)} needle`
const MEDIUM_SUBJECT = `${'B'.repeat(700)} tail`

interface Fixture {
  message: Partial<NewMessage> &
    Pick<NewMessage, 'mid' | 'envelopeSender' | 'subject' | 'messageId'>
  recipients: string[]
  analysis?: Record<string, number | string>
  urls?: { url: string; host: string; domain: string }[]
  attachments?: { filename: string; sha256: string }[]
}

const FIXTURES: Fixture[] = [
  {
    message: {
      mid: 1,
      envelopeSender: 'helpdesk@evil.test',
      subject: 'Password expires today',
      messageId: '<m1@evil.test>',
      senderIp: '203.0.113.5',
    },
    recipients: ['alice@example.org', 'bob@example.org'],
    analysis: { spam: 1, phish: 1, verdicts: 'spam,phish' },
    urls: [{ url: 'https://evil.test/reset', host: 'evil.test', domain: 'evil.test' }],
    attachments: [{ filename: 'invoice.pdf.exe', sha256: sha('a') }],
  },
  {
    message: {
      mid: 2,
      envelopeSender: 'billing@vendor.test',
      subject: 'Invoice 4711',
      messageId: '<m2@vendor.test>',
      receivedAt: T + HOUR,
    },
    recipients: ['alice@example.org'],
    attachments: [{ filename: 'Invoice-4711.pdf', sha256: sha('b') }],
  },
  {
    message: {
      mid: 3,
      envelopeSender: 'alice@example.org',
      subject: 'Re: Invoice 4711',
      messageId: '<m3@example.org>',
      direction: 'outgoing',
      receivedAt: T + 2 * HOUR,
    },
    recipients: ['partner@vendor.test'],
  },
  {
    message: {
      mid: 4,
      envelopeSender: 'x@evil.test',
      subject: 'Urgent wire',
      messageId: '<m4@evil.test>',
      status: 'quarantined',
      receivedAt: T + 3 * HOUR,
    },
    recipients: ['carol@example.org'],
    analysis: { virus: 1, quarantined: 1, verdicts: 'virus', policy: 'quarantine' },
    urls: [{ url: 'https://cdn.evil.test/a', host: 'cdn.evil.test', domain: 'evil.test' }],
  },
  {
    message: {
      mid: 6,
      envelopeSender: 'news@lists.test',
      subject: LONG_SUBJECT,
      messageId: '<m6@lists.test>',
      receivedAt: T + 4 * HOUR,
    },
    recipients: ['bob@example.org'],
  },
  {
    message: {
      mid: 9,
      envelopeSender: 'news@lists.test',
      subject: MEDIUM_SUBJECT,
      messageId: '<m9@lists.test>',
      receivedAt: T + 4 * HOUR,
    },
    recipients: ['dave@example.org'],
  },
  {
    message: {
      mid: 7,
      envelopeSender: 'shop@lists.test',
      subject: '50% off_now',
      messageId: '<m7@lists.test>',
      receivedAt: T + 5 * HOUR,
    },
    recipients: ['bob@example.org'],
  },
  {
    message: {
      mid: 8,
      envelopeSender: 'shop@lists.test',
      subject: '50x offXnow',
      messageId: '<m8@lists.test>',
      receivedAt: T + 5 * HOUR,
    },
    recipients: ['bob@example.org'],
  },
]

function message(f: Fixture): NewMessage {
  return {
    icid: f.message.mid,
    receivedAt: T,
    listener: 'in',
    senderGroup: 'ALL',
    hatPolicy: 'ACCEPTED',
    direction: 'incoming',
    senderIp: '198.51.100.1',
    senderRdns: null,
    helo: 'mx.test',
    tls: null,
    authUser: null,
    headerFrom: f.message.envelopeSender,
    headerTo: f.recipients.join(', '),
    headerReplyTo: null,
    size: 1000,
    status: 'delivered',
    reply: null,
    ...f.message,
    recipients: f.recipients.map((address) => ({
      address,
      status: f.message.status === 'quarantined' ? 'quarantined' : 'delivered',
    })),
  } as NewMessage
}

describe.each(BACKENDS)('tracking search and reporting on %s', (dialect) => {
  let testDb: TestDatabase
  let database: Database<GatewaySchema>
  let search: TrackingSearchService
  let reporting: ReportingService

  beforeAll(async () => {
    testDb = await createTestDatabase(dialect)
    database = await Database.open<GatewaySchema>(testDb.target)
    await migrateToLatest(database, 'gateway')
    const batch = emptyBatch()
    for (const f of FIXTURES) {
      const m = message(f)
      batch.messages.push(m)
      batch.extra.push({
        table: 'message_analysis',
        rows: [
          {
            mid: f.message.mid,
            at: T,
            direction: f.message.direction ?? 'incoming',
            verdicts: '',
            spam: 0,
            virus: 0,
            malformed: 0,
            blocked: 0,
            phish: 0,
            auth_failed: 0,
            quarantined: 0,
            summary: '{}',
            ...f.analysis,
          },
        ],
      })
      if (f.urls)
        batch.extra.push({
          table: 'message_urls',
          rows: f.urls.map((u, idx) => ({
            mid: f.message.mid,
            idx,
            ...u,
            sources: 'text,html',
            received_at: m.receivedAt,
          })),
        })
      if (f.attachments) {
        batch.extra.push({
          table: 'message_attachments',
          rows: f.attachments.map((a, idx) => ({
            mid: f.message.mid,
            idx,
            part: '2',
            filename: a.filename,
            size: 100,
            sha256: a.sha256,
            encrypted: 0,
            macros: 0,
            received_at: m.receivedAt,
          })),
        })
      }
    }
    await new TrackingStore(database.db, database.dialect).writeBatch(batch)
    const runs = new RemediationRunRepository(database.db)
    await runs.create({
      id: 'run-m1',
      action: 'delete',
      trigger: 'manual',
      reason: 'phish',
      actor: { type: 'user', id: 'analyst1' },
      source: 'api',
      remoteIp: null,
      forwardTo: [],
      idempotencyKey: null,
      details: {},
      targets: [{ messageId: 'm1@evil.test', recipient: 'alice@example.org', mids: [1] }],
    })
    const repository = new TrackingSearchRepository(database.db, database.dialect)
    search = new TrackingSearchService(repository, {
      history: (ids) => runs.history(ids.map((i) => i.replace(/^<|>$/g, ''))),
    })
    reporting = new ReportingService(new TrackingReportRepository(database.db, database.dialect))
  })
  afterAll(async () => {
    await database?.close()
    await testDb?.drop()
  })

  const mids = async (query: TrackingSearchInput) =>
    (await search.search({ sort: { field: 'mid', order: 'desc' }, ...query })).data.map(
      (r) => r.mid,
    )

  it.each<[string, TrackingSearchInput, number[]]>([
    ['sender is', { envelopeSenders: [{ operator: 'is', value: 'HelpDesk@Evil.test' }] }, [1]],
    ['sender begins_with', { envelopeSenders: [{ operator: 'begins_with', value: 'help' }] }, [1]],
    [
      'sender contains',
      { envelopeSenders: [{ operator: 'contains', value: 'evil.test' }] },
      [4, 1],
    ],
    [
      'several senders (any)',
      {
        envelopeSenders: [
          { operator: 'is', value: 'billing@vendor.test' },
          { operator: 'contains', value: 'x@evil' },
        ],
      },
      [4, 2],
    ],
    ['recipient is', { envelopeRecipients: [{ operator: 'is', value: 'carol@example.org' }] }, [4]],
    [
      'recipient contains',
      { envelopeRecipients: [{ operator: 'contains', value: 'alice' }] },
      [2, 1],
    ],
    [
      'subject contains (full text)',
      { subjects: [{ operator: 'contains', value: 'invoice' }] },
      [3, 2],
    ],
    ['subject begins_with', { subjects: [{ operator: 'begins_with', value: 'Password' }] }, [1]],
    ['subject is', { subjects: [{ operator: 'is', value: 'urgent wire' }] }, [4]],
    [
      'several subjects (any)',
      {
        subjects: [
          { operator: 'is', value: 'urgent wire' },
          { operator: 'begins_with', value: 're:' },
        ],
      },
      [4, 3],
    ],
    [
      'a word after 3000 characters of subject',
      { subjects: [{ operator: 'contains', value: 'needle' }] },
      [6],
    ],
    [
      'a subject longer than the indexed prefix, exactly',
      { subjects: [{ operator: 'is', value: MEDIUM_SUBJECT.toUpperCase() }] },
      [9],
    ],
    [
      'LIKE wildcards taken literally',
      { subjects: [{ operator: 'contains', value: '50% off_' }] },
      [7],
    ],
    ['Message-ID with brackets', { messageId: '<m1@evil.test>' }, [1]],
    ['Message-ID without brackets', { messageId: 'm1@evil.test' }, [1]],
    ['MIDs', { mids: [2, 4, 99] }, [4, 2]],
    ['sender IP', { senderIp: '203.0.113.5' }, [1]],
    [
      'attachment name contains',
      { attachmentNames: [{ operator: 'contains', value: 'invoice' }] },
      [2, 1],
    ],
    [
      'attachment name is',
      { attachmentNames: [{ operator: 'is', value: 'INVOICE.PDF.EXE' }] },
      [1],
    ],
    ['attachment SHA-256', { attachmentHashes: [sha('b')] }, [2]],
    ['URL', { urls: ['https://evil.test/reset'] }, [1]],
    ['URL domain (registrable)', { urlDomains: ['evil.test'] }, [4, 1]],
    ['URL host', { urlDomains: ['cdn.evil.test'] }, [4]],
    ['sender or recipient domain', { domains: ['vendor.test'] }, [3, 2]],
    ['sender domain only', { senderDomains: ['vendor.test'] }, [2]],
    ['verdict virus', { verdicts: ['virus'] }, [4]],
    ['verdict spam or virus', { verdicts: ['spam', 'virus'] }, [4, 1]],
    ['verdict policy', { verdicts: ['policy'] }, [4]],
    ['direction', { direction: 'outgoing' }, [3]],
    ['status', { statuses: ['quarantined'] }, [4]],
    ['time range', { since: T + HOUR, until: T + 3 * HOUR }, [3, 2]],
    [
      'filters and-ed',
      { envelopeSenders: [{ operator: 'contains', value: 'evil.test' }], verdicts: ['spam'] },
      [1],
    ],
    ['nothing', { envelopeSenders: [{ operator: 'is', value: 'nobody@nowhere.test' }] }, []],
  ])('finds by %s', async (_name, query, expected) => {
    expect(await mids(query)).toEqual(expected)
  })

  it('sorts, pages and counts', async () => {
    const page = await search.search({
      sort: { field: 'received_at', order: 'asc' },
      limit: 2,
      offset: 1,
    })
    expect(page.data.map((r) => r.mid)).toEqual([2, 3])
    expect(page.meta).toEqual({ total: 8, totalIsCapped: false, limit: 2, offset: 1 })
    expect(page.data[0]).toMatchObject({
      recipients: ['alice@example.org'],
      senderDomain: 'vendor.test',
      verdicts: [],
    })
  })

  it('answers an invalid query with a coded error', async () => {
    await expect(
      search.search({ subjects: [{ operator: 'like', value: 'x' }] }),
    ).rejects.toMatchObject({ code: 'GW_ERR_SEARCH_QUERY_INVALID' })
  })

  it('shows a message in detail, with its remediation history', async () => {
    const detail = await search.detail(1)
    expect(detail.message).toMatchObject({
      mid: 1,
      envelopeSender: 'helpdesk@evil.test',
      messageId: '<m1@evil.test>',
      senderIp: '203.0.113.5',
    })
    expect(detail.recipients.map((r) => [r.address, r.status])).toEqual([
      ['alice@example.org', 'delivered'],
      ['bob@example.org', 'delivered'],
    ])
    expect(detail.analysis).toMatchObject({
      verdicts: ['spam', 'phish'],
      flags: { spam: true, phish: true, virus: false },
    })
    expect(detail.urls).toEqual([
      {
        url: 'https://evil.test/reset',
        host: 'evil.test',
        domain: 'evil.test',
        sources: ['text', 'html'],
      },
    ])
    expect(detail.attachments[0]).toMatchObject({ filename: 'invoice.pdf.exe', sha256: sha('a') })
    expect(detail.remediation).toEqual([
      expect.objectContaining({
        recipient: 'alice@example.org',
        run: expect.objectContaining({ id: 'run-m1', actor: { type: 'user', id: 'analyst1' } }),
      }),
    ])
    await expect(search.detail(424242)).rejects.toMatchObject({
      code: 'GW_ERR_SEARCH_MESSAGE_NOT_FOUND',
    })
  })

  it('reports counts by verdict per bucket, top lists, threats and the relationship graph', async () => {
    const report = await reporting.report({ since: T, until: T + 6 * HOUR, bucket: 'hour' })
    expect(report.timeline).toHaveLength(6)
    expect(report.timeline[0]?.incoming).toMatchObject({ total: 1, spam: 1, phish: 1, clean: 0 })
    expect(report.timeline[2]?.outgoing).toMatchObject({ total: 1, clean: 1 })
    expect(report.totals.incoming).toMatchObject({
      total: 7,
      clean: 5,
      spam: 1,
      virus: 1,
      quarantined: 1,
      policy: 1,
    })
    expect(report.topSenders.slice(0, 2)).toEqual([
      { value: 'news@lists.test', count: 2 },
      { value: 'shop@lists.test', count: 2 },
    ])
    expect(report.topSenderDomains.slice(0, 2)).toEqual([
      { value: 'lists.test', count: 4 },
      { value: 'evil.test', count: 2 },
    ])
    expect(report.topRecipients[0]).toEqual({ value: 'bob@example.org', count: 4 })
    expect(report.topThreats.urls.map((u) => u.value).sort()).toEqual([
      'https://cdn.evil.test/a',
      'https://evil.test/reset',
    ])
    expect(report.topThreats.domains).toEqual([{ value: 'evil.test', count: 2 }])
    expect(report.topThreats.hashes).toEqual([{ value: sha('a'), count: 1 }])
    expect(report.relationships.edges).toContainEqual({
      source: 'sender:shop@lists.test',
      target: 'recipient:bob@example.org',
      messages: 2,
    })
    expect(report.relationships.nodes).toContainEqual({
      id: 'recipient:bob@example.org',
      kind: 'recipient',
      address: 'bob@example.org',
      messages: 4,
    })

    const filtered = await reporting.report({
      since: T,
      until: T + 6 * HOUR,
      filter: { envelopeSenders: [{ operator: 'contains', value: 'evil.test' }] },
    })
    expect(filtered.bucket).toBe('hour')
    expect(filtered.totals.incoming.total).toBe(2)
    expect(filtered.relationships.edges.map((e) => e.target).sort()).toEqual([
      'recipient:alice@example.org',
      'recipient:bob@example.org',
      'recipient:carol@example.org',
    ])
    await expect(
      reporting.report({ since: T, until: T + 400 * 86_400_000, bucket: 'minute' }),
    ).rejects.toMatchObject({ code: 'GW_ERR_REPORT_QUERY_INVALID' })
  })

  it('keeps the trigram index in step when a subject changes', async () => {
    const id = Number(`9${randomBytes(2).readUInt16BE()}`)
    const batch = emptyBatch()
    batch.messages.push(
      message({
        message: {
          mid: id,
          envelopeSender: 'late@x.test',
          subject: 'first words',
          messageId: `<late${id}@x.test>`,
          receivedAt: T + 10 * HOUR,
        },
        recipients: ['bob@example.org'],
      }),
    )
    await new TrackingStore(database.db, database.dialect).writeBatch(batch)
    expect(await mids({ subjects: [{ operator: 'contains', value: 'first wor' }] })).toEqual([id])
    await database.db
      .updateTable('messages')
      .set({ subject: 'second words' })
      .where('mid', '=', id)
      .execute()
    expect(await mids({ subjects: [{ operator: 'contains', value: 'first wor' }] })).toEqual([])
    expect(await mids({ subjects: [{ operator: 'contains', value: 'second wor' }] })).toEqual([id])
  })
})
