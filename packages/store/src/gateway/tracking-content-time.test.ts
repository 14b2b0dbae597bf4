import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Database } from '../database.js'
import { migrateToLatest } from '../migrate.js'
import {
  BACKENDS,
  createTestDatabase,
  migrateGatewayBefore,
  trackedMessage,
  type TestDatabase,
} from '../testing.js'
import type { GatewaySchema } from './schema.js'
import { partitionStart, TrackingPartitions } from './tracking-partitions.js'
import { searchFilter, TrackingSearchRepository, type SearchFilter } from './tracking-search.js'
import { emptyBatch, TrackingStore } from './tracking.js'

const DAY = 86_400_000

/**
 * Migration 1300 on a database with mail (URL and attachment rows written before it), then the
 * lookups by URL, URL domain, attachment hash and name (and by recipient, whose rows carried
 * the time before) against what the search returned before the change: every match once, in
 * the page's order (MID breaking ties), and the total.
 */
describe.each(BACKENDS)('URL and attachment rows with their message time on %s', (dialect) => {
  let testDb: TestDatabase
  let database: Database<GatewaySchema>
  const now = Date.now()
  // Messages over five weeks; several in the same millisecond so that the MID orders them.
  const mids = Array.from({ length: 40 }, (_, i) => i + 1)
  const at = (mid: number) => partitionStart(now) - Math.floor(mid / 3) * 3 * DAY + 1000
  const urlOf = (mid: number) => `https://site${mid % 3}.example/p/${mid % 2}`
  const shaOf = (mid: number) => (mid % 4).toString(16).repeat(64)
  // Every fifth message names its address twice (in another case), and another one.
  const recipientsOf = (mid: number) =>
    [
      `r${mid % 4}@corp.example`,
      ...(mid % 5 === 0 ? [`R${mid % 4}@Corp.Example`, 'other@corp.example'] : []),
    ].map((address) => ({ address, status: 'delivered' as const }))

  beforeAll(async () => {
    testDb = await createTestDatabase(dialect)
    database = await Database.open<GatewaySchema>(testDb.target)
    await migrateGatewayBefore(database, '1300')
    await new TrackingPartitions(database.db, dialect).ensure(at(mids.at(-1) as number), now)
    const batch = emptyBatch()
    for (const mid of mids) {
      batch.messages.push(trackedMessage(mid, at(mid), { recipients: recipientsOf(mid) }))
      batch.extra.push(
        { table: 'message_analysis', rows: [{ mid, at: at(mid) + 5, direction: 'incoming' }] },
        {
          table: 'message_urls',
          rows: [
            {
              mid,
              idx: 0,
              url: urlOf(mid),
              host: `www.site${mid % 3}.example`,
              domain: `site${mid % 3}.example`,
              sources: 'text',
            },
          ],
        },
        {
          table: 'message_attachments',
          rows: [
            {
              mid,
              idx: 0,
              part: '2',
              filename: `Doc${mid % 5}.pdf`,
              size: 10,
              sha256: shaOf(mid),
              encrypted: 0,
              macros: 0,
            },
          ],
        },
      )
    }
    // Rows of a message no longer tracked take the time of their analysis.
    batch.extra.push(
      { table: 'message_analysis', rows: [{ mid: 99, at: 77, direction: 'incoming' }] },
      {
        table: 'message_urls',
        rows: [
          {
            mid: 99,
            idx: 0,
            url: 'https://gone.example/',
            host: 'gone.example',
            domain: 'gone.example',
            sources: 'text',
          },
        ],
      },
    )
    await new TrackingStore(database.db, dialect).writeBatch(batch)
    await migrateToLatest(database, 'gateway')
  })
  afterAll(async () => {
    await database.close()
    await testDb.drop()
  })

  it('backfills the received time of every existing row', async () => {
    for (const table of ['message_urls', 'message_attachments'] as const) {
      const rows = await database.db
        .selectFrom(table)
        .select(['mid', 'received_at'])
        .orderBy('mid')
        .execute()
      const expected = mids.map((mid) => [mid, at(mid)])
      if (table === 'message_urls') expected.push([99, 77])
      expect(rows.map((r) => [Number(r.mid), Number(r.received_at)])).toEqual(expected)
    }
  })

  const pages = [
    { field: 'received_at', order: 'desc', limit: 5, offset: 0 },
    { field: 'received_at', order: 'desc', limit: 4, offset: 3 },
    { field: 'received_at', order: 'asc', limit: 50, offset: 0 },
    { field: 'mid', order: 'desc', limit: 3, offset: 1 },
  ] as const
  const lookups: [string, Partial<SearchFilter>, (mid: number) => boolean][] = [
    ['URL', { urls: [urlOf(4)] }, (mid) => urlOf(mid) === urlOf(4)],
    ['URL domain', { urlDomains: ['site2.example'] }, (mid) => mid % 3 === 2],
    ['URL host', { urlDomains: ['www.site0.example'] }, (mid) => mid % 3 === 0],
    ['attachment SHA-256', { attachmentHashes: [shaOf(1)] }, (mid) => mid % 4 === 1],
    [
      'attachment name',
      { attachmentNames: [{ operator: 'is', value: 'doc3.pdf' }] },
      (mid) => mid % 5 === 3,
    ],
    [
      'recipient is',
      { envelopeRecipients: [{ operator: 'is', value: 'R1@corp.example' }] },
      (mid) => mid % 4 === 1,
    ],
    [
      'recipients begins_with or contains, with the sender',
      {
        envelopeRecipients: [
          { operator: 'begins_with', value: 'r2@' },
          { operator: 'contains', value: '3@corp' },
        ],
        envelopeSenders: [{ operator: 'is', value: 'a@sender.example' }],
      },
      (mid) => mid % 4 >= 2,
    ],
    [
      'recipient within a week',
      { envelopeRecipients: [{ operator: 'is', value: 'r0@corp.example' }], since: at(30) },
      (mid) => mid % 4 === 0 && at(mid) >= at(30),
    ],
    [
      'URL within a week',
      { urls: [urlOf(1)], since: at(24), until: at(3) + 1 },
      (mid) => urlOf(mid) === urlOf(1) && at(mid) >= at(24) && at(mid) <= at(3),
    ],
  ]

  it.each(lookups)(
    'finds by %s every match, in the order and with the total as before',
    async (_, filter, matches) => {
      const search = new TrackingSearchRepository(database.db, dialect)
      const matching = mids.filter(matches)
      expect(matching.length).toBeGreaterThan(3)
      for (const page of pages) {
        const sorted = [...matching].sort((a, b) => {
          const key = page.field === 'mid' ? a - b : at(a) - at(b) || a - b
          return page.order === 'asc' ? key : -key
        })
        const result = await search.search(searchFilter(filter), {
          sort: { field: page.field, order: page.order },
          limit: page.limit,
          offset: page.offset,
        })
        expect(result.rows.map((r) => r.mid)).toEqual(
          sorted.slice(page.offset, page.offset + page.limit),
        )
        expect(result.total).toBe(matching.length)
      }
    },
  )

  it('stores the received time given with new rows', async () => {
    const mid = 1_000
    const batch = emptyBatch()
    batch.messages.push(trackedMessage(mid, now))
    batch.extra.push({
      table: 'message_urls',
      rows: [
        {
          mid,
          idx: 0,
          url: 'https://new.example/',
          host: 'new.example',
          domain: 'new.example',
          sources: 'text',
          received_at: now,
        },
      ],
    })
    await new TrackingStore(database.db, dialect).writeBatch(batch)
    const search = new TrackingSearchRepository(database.db, dialect)
    const page = await search.page(searchFilter({ urlDomains: ['new.example'] }), {
      sort: { field: 'received_at', order: 'desc' },
      limit: 10,
      offset: 0,
    })
    expect(page.map((r) => [r.mid, r.receivedAt])).toEqual([[mid, now]])
  })

  it('lists the week of each lookup index after the value', async () => {
    const definitions =
      dialect === 'postgres'
        ? await sql<{
            name: string
            definition: string
          }>`select indexname as name, indexdef as definition
            from pg_indexes where tablename in ('message_urls', 'message_attachments')`.execute(
            database.db,
          )
        : await sql<{
            name: string
            definition: string
          }>`select name, sql as definition from sqlite_master
            where type = 'index' and tbl_name in ('message_urls', 'message_attachments') and sql is not null`.execute(
            database.db,
          )
    const byName = new Map(definitions.rows.map((r) => [r.name, r.definition]))
    for (const name of [
      'message_urls_url_prefix',
      'message_urls_domain',
      'message_urls_host',
      'message_attachments_sha256',
      'message_attachments_md5',
      'message_attachments_sha1',
      'message_attachments_name_lower',
    ]) {
      expect(byName.get(name)).toMatch(/received_at\)$/)
    }
  })
})
