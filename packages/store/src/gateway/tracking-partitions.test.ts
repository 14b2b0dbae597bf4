import { CompiledQuery, sql, type Kysely } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Database, type Dialect } from '../database.js'
import { migrateToLatest } from '../migrate.js'
import {
  BACKENDS,
  createTestDatabase,
  migrateGatewayBefore,
  trackedMessage,
  type TestDatabase,
} from '../testing.js'
import type { GatewaySchema } from './schema.js'
import { PARTITION_MS, partitionStart, TrackingPartitions } from './tracking-partitions.js'
import { emptyBatch, NODE_ID_SPACE, TrackingStore, type NewMessage } from './tracking.js'
import { searchFilter, TrackingSearchRepository } from './tracking-search.js'

const DAY = 86_400_000
const NODE_1 = NODE_ID_SPACE

function message(mid: number, receivedAt: number): NewMessage {
  return trackedMessage(mid, receivedAt, {
    envelopeSender: `s${mid}@sender.example`,
    messageId: `<${mid}@sender.example>`,
  })
}

/** A batch of messages with an event, an observable and a content-analysis row each. */
async function write(store: TrackingStore, messages: [mid: number, at: number][]): Promise<void> {
  const batch = emptyBatch()
  for (const [mid, at] of messages) {
    batch.messages.push(message(mid, at))
    batch.events.push({ at, mid, icid: mid, event: 'QUEUED' })
    batch.observables.push({ type: 'email', value: `s${mid}@sender.example`, mid, at })
  }
  batch.extra.push({
    table: 'message_analysis',
    rows: messages.map(([mid, at]) => ({ mid, at, direction: 'incoming' })),
  })
  await store.writeBatch(batch)
}

async function count(db: Kysely<GatewaySchema>, table: string): Promise<number> {
  const r = await sql<{ n: string }>`select count(*) as n from ${sql.table(table)}`.execute(db)
  return Number(r.rows[0]?.n)
}

/** Where each MID's row of `table` is stored: the partition on PostgreSQL, the table on SQLite. */
async function placement(
  db: Kysely<GatewaySchema>,
  dialect: Dialect,
  table: string,
): Promise<Record<string, string>> {
  const origin = dialect === 'postgres' ? sql`tableoid::regclass::text` : sql.lit(table)
  const r = await sql<{
    mid: string
    part: string
  }>`select mid, ${origin} as part from ${sql.table(table)} order by mid`.execute(db)
  return Object.fromEntries(r.rows.map((row) => [String(row.mid), row.part]))
}

describe.each(BACKENDS)('tracking partitions on %s', (dialect) => {
  let testDb: TestDatabase
  let database: Database<GatewaySchema>
  let store: TrackingStore
  let partitions: TrackingPartitions
  // Two whole weeks in the past, whatever day the test runs.
  const week = partitionStart(Date.now()) - 30 * PARTITION_MS

  beforeAll(async () => {
    testDb = await createTestDatabase(dialect)
    database = await Database.open<GatewaySchema>(testDb.target)
    await migrateToLatest(database, 'gateway')
    store = new TrackingStore(database.db, database.dialect)
    partitions = new TrackingPartitions(database.db, database.dialect)
  })
  afterAll(async () => {
    await database.close()
    await testDb.drop()
  })

  it('creates weeks ahead, and moves rows that reached the default partition into their week', async () => {
    // Written before the week exists: PostgreSQL keeps it in the default partition.
    await write(store, [[1, week + DAY]])
    expect(await partitions.ensure(week, week + 2 * PARTITION_MS)).toBe(
      dialect === 'postgres' ? 5 : 0,
    )
    expect(await partitions.ensure(week, week + 2 * PARTITION_MS)).toBe(0)
    const weeks = await partitions.list()
    expect(weeks.filter((w) => w.start >= week && w.start < week + 5 * PARTITION_MS)).toEqual(
      dialect === 'postgres'
        ? [0, 1, 2, 3, 4].map((i) => ({
            start: week + i * PARTITION_MS,
            end: week + (i + 1) * PARTITION_MS,
          }))
        : [],
    )
    for (const table of ['messages', 'message_recipients', 'observables', 'message_events']) {
      expect(await placement(database.db, dialect, table)).toEqual({
        '1': dialect === 'postgres' ? `${table}_p${isoDay(week)}` : table,
      })
    }
    expect(await store.findByObservable('email', 's1@sender.example')).toEqual([1])
  })

  it('drops a week past retention with its rows, but not one holding a node’s newest message', async () => {
    // Node 0 has newer mail in week + 2; node 1's only message is in week 0.
    await write(store, [
      [2, week + 2 * DAY],
      [NODE_1 + 1, week + 3 * DAY],
      [3, week + 2 * PARTITION_MS + DAY],
    ])
    const before = week + PARTITION_MS + DAY
    expect(await partitions.dropBefore(before)).toEqual({ weeks: 0, messages: 0 })
    expect(await count(database.db, 'messages')).toBe(4)

    await write(store, [[NODE_1 + 2, week + 2 * PARTITION_MS + 2 * DAY]])
    expect(await partitions.dropBefore(before)).toEqual(
      dialect === 'postgres' ? { weeks: 1, messages: 3 } : { weeks: 0, messages: 0 },
    )
    const kept = dialect === 'postgres' ? ['3', String(NODE_1 + 2)] : undefined
    for (const table of [
      'messages',
      'message_recipients',
      'observables',
      'message_events',
      'message_analysis',
    ]) {
      const mids = Object.keys(await placement(database.db, dialect, table))
      expect(mids.sort()).toEqual(
        kept?.sort() ?? ['1', '2', '3', String(NODE_1 + 1), String(NODE_1 + 2)].sort(),
      )
    }
    expect((await partitions.list()).some((w) => w.start === week)).toBe(false)
  })

  it('looks observables up through the index of every partition', async () => {
    await partitions.ensure(week + 8 * PARTITION_MS)
    await write(store, [[4, week + 8 * PARTITION_MS + DAY]])
    const plan = await database.db.transaction().execute(async (trx) => {
      // Tiny test tables would be scanned whole by choice: ask whether an index serves each
      // partition, which is what keeps the lookup fast at 10 M rows.
      if (dialect === 'postgres') await sql`set local enable_seqscan = off`.execute(trx)
      return store.explainFindByObservable('email', 's4@sender.example', { db: trx })
    })
    const text = plan.join('\n')
    expect(text).not.toMatch(/Seq Scan|SCAN observables\b(?! USING)/)
    if (dialect === 'postgres') {
      const scanned = plan.filter((line) => /Index (Only )?Scan/.test(line)).length
      expect(scanned).toBe((await partitions.list()).length + 1)
    } else {
      expect(text).toMatch(/USING (COVERING )?INDEX/)
    }
    expect(await store.findByObservable('email', 's4@sender.example')).toEqual([4])
  })

  it('pages a sender search through the sender index, reading the recipients of the page’s weeks only', async () => {
    const first = week + 12 * PARTITION_MS
    await partitions.ensure(first, first + 2 * PARTITION_MS)
    const batch = emptyBatch()
    for (const [i, mid] of [201, 202, 203].entries()) {
      batch.messages.push(
        trackedMessage(mid, first + i * PARTITION_MS + DAY, {
          envelopeSender: 'Pager@Sender.example',
          recipients: [{ address: `r${mid}@corp.example`, status: 'delivered' }],
        }),
      )
    }
    batch.extra.push({
      table: 'message_analysis',
      rows: [{ mid: 203, at: first, direction: 'incoming', verdicts: 'spam', spam: 1 }],
    })
    await store.writeBatch(batch)
    const queries: CompiledQuery[] = []
    const logged = await Database.open<GatewaySchema>(testDb.target, {
      onQuery: (q) => queries.push(q),
    })
    try {
      const search = new TrackingSearchRepository(logged.db, dialect)
      const sender = searchFilter({
        envelopeSenders: [{ operator: 'is', value: 'pager@sender.example' }],
      })
      const page = { sort: { field: 'received_at', order: 'desc' }, limit: 2, offset: 0 } as const
      const found = await search.search(sender, page)
      expect(found.total).toBe(3)
      expect(
        found.rows.map((r) => ({ mid: r.mid, recipients: r.recipients, verdicts: r.verdicts })),
      ).toEqual([
        { mid: 203, recipients: ['r203@corp.example'], verdicts: ['spam'] },
        { mid: 202, recipients: ['r202@corp.example'], verdicts: [] },
      ])
      const spam = await search.search({ ...sender, verdicts: ['spam'] }, page)
      expect(spam.rows.map((r) => r.mid)).toEqual([203])

      const pageQuery = queries.find((q) => q.sql.includes('"a"."verdicts"'))
      const recipientsQuery = queries.find((q) => q.sql.includes('from "message_recipients"'))
      const plan = async (query: CompiledQuery | undefined) =>
        database.db.transaction().execute(async (trx) => {
          // Tiny test tables would be scanned whole by choice: ask whether an index serves.
          if (dialect === 'postgres') await sql`set local enable_seqscan = off`.execute(trx)
          const explain = dialect === 'postgres' ? 'explain ' : 'explain query plan '
          const result = await trx.executeQuery<Record<string, unknown>>(
            CompiledQuery.raw(explain + String(query?.sql), [...(query?.parameters ?? [])]),
          )
          return result.rows.map((r) => String(r['QUERY PLAN'] ?? r.detail))
        })
      const pagePlan = (await plan(pageQuery)).join('\n')
      expect(pagePlan).toMatch(
        dialect === 'postgres' ? /Index Scan.*messages_p\w*substr/ : /messages_sender_lower/,
      )
      expect(pagePlan).not.toMatch(/Seq Scan on messages/)
      const partitionsRead = async (query: CompiledQuery | undefined, table: string) =>
        (await plan(query))
          .map((line) => new RegExp(` on (${table}_\\w+)`).exec(line)?.[1])
          .filter(Boolean)
          .sort()
      if (dialect === 'postgres') {
        // The page's two messages were received in two weeks: only those are read.
        expect(await partitionsRead(recipientsQuery, 'message_recipients')).toEqual([
          `message_recipients_p${isoDay(first + PARTITION_MS)}`,
          `message_recipients_p${isoDay(first + 2 * PARTITION_MS)}`,
        ])
      }

      // A search row's received time takes its detail straight to the message's week.
      queries.length = 0
      const [newest] = found.rows
      const detail = await search.detail(203, newest?.receivedAt)
      expect(detail?.recipients.map((r) => r.address)).toEqual(['r203@corp.example'])
      expect(await search.detail(203, (newest?.receivedAt ?? 0) + 1)).toBeNull()
      if (dialect === 'postgres') {
        const week = isoDay(first + 2 * PARTITION_MS)
        const byMid = (table: string) =>
          queries.find((q) => q.sql.includes(`from "${table}" where "mid"`))
        expect(await partitionsRead(byMid('messages'), 'messages')).toEqual([`messages_p${week}`])
        expect(await partitionsRead(byMid('message_recipients'), 'message_recipients')).toEqual([
          `message_recipients_p${week}`,
        ])
      }
    } finally {
      await logged.close()
    }
  })
})

describe.each(BACKENDS)('migration 1100 on %s with tracked mail', (dialect) => {
  let testDb: TestDatabase
  let database: Database<GatewaySchema>
  const now = Date.now()

  beforeAll(async () => {
    testDb = await createTestDatabase(dialect)
    database = await Database.open<GatewaySchema>(testDb.target)
  })
  afterAll(async () => {
    await database.close()
    await testDb.drop()
  })

  it('keeps every row and index, and the events’ ids continue', async () => {
    const db = database.db as unknown as Kysely<unknown>
    await migrateGatewayBefore(database, '1100')
    // Mail of the last five weeks and one message older than anything partitions are made for.
    const mids = [1, 2, 3, 4, 5, 6]
    const at = (mid: number) => (mid === 6 ? now - 500 * DAY : now - mid * 7 * DAY)
    for (const mid of mids) {
      await sql`insert into messages (mid, icid, received_at, updated_at, listener, direction, sender_ip, envelope_sender, subject, status)
        values (${mid}, ${mid}, ${at(mid)}, ${at(mid)}, 'in', 'incoming', '192.0.2.1', ${`s${mid}@old.example`}, ${`old ${mid}`}, 'delivered')`.execute(
        db,
      )
      await sql`insert into message_recipients (mid, rcpt_index, recipient, domain, status, updated_at)
        values (${mid}, 0, 'r@corp.example', 'corp.example', 'delivered', ${now})`.execute(db)
      await sql`insert into message_events (at, mid, icid, event) values (${at(mid)}, ${mid}, ${mid}, 'QUEUED')`.execute(
        db,
      )
      await sql`insert into observables (type, value_key, value, mid, at)
        values ('domain', 'old.example', 'old.example', ${mid}, ${at(mid)})`.execute(db)
    }
    const indexesBefore = await indexNames(db, dialect)

    await migrateToLatest(database, 'gateway')

    for (const table of ['messages', 'message_recipients', 'message_events', 'observables']) {
      expect(await count(database.db, table)).toBe(mids.length)
    }
    const recipients = await database.db
      .selectFrom('message_recipients')
      .select(['mid', 'received_at'])
      .orderBy('mid')
      .execute()
    expect(recipients.map((r) => [Number(r.mid), Number(r.received_at)])).toEqual(
      mids.map((mid) => [mid, at(mid)]),
    )
    expect(await indexNames(db, dialect)).toEqual(indexesBefore)
    const store = new TrackingStore(database.db, database.dialect)
    expect(await store.findByObservable('domain', 'old.example')).toEqual([6, 5, 4, 3, 2, 1])
    const batch = emptyBatch()
    batch.messages.push(message(7, now))
    batch.events.push({ at: now, mid: 7, event: 'QUEUED' })
    await store.writeBatch(batch)
    const events = await store.listEvents(7)
    expect(events.map((e) => e.id)).toEqual([mids.length + 1])

    const placed = await placement(database.db, dialect, 'messages')
    if (dialect === 'postgres') {
      expect(placed['6']).toBe('messages_default')
      for (const mid of [1, 2, 3, 4, 5]) {
        expect(placed[String(mid)]).toBe(`messages_p${isoDay(partitionStart(at(mid)))}`)
      }
      expect(placed['7']).toBe(`messages_p${isoDay(partitionStart(now))}`)
      const kind = await sql<{
        relkind: string
      }>`select relkind from pg_class where relname = 'messages'`.execute(db)
      expect(kind.rows[0]?.relkind).toBe('p')
    } else {
      expect(new Set(Object.values(placed))).toEqual(new Set(['messages']))
    }
  })
})

/** Secondary indexes of the tracking tables by name (the primary keys change with partitioning). */
async function indexNames(db: Kysely<unknown>, dialect: Dialect): Promise<string[]> {
  const tables = sql.join(
    ['messages', 'message_recipients', 'message_events', 'observables'].map((t) => sql.lit(t)),
  )
  const r =
    dialect === 'postgres'
      ? await sql<{ name: string }>`select indexname as name from pg_indexes i
          where tablename in (${tables}) and schemaname = current_schema()
            and not exists (select 1 from pg_constraint c where c.conname = i.indexname)`.execute(
          db,
        )
      : await sql<{ name: string }>`select name from sqlite_master
          where type = 'index' and sql is not null and tbl_name in (${tables})`.execute(db)
  return r.rows.map((row) => row.name).sort()
}

function isoDay(at: number): string {
  return new Date(at).toISOString().slice(0, 10).replaceAll('-', '')
}
