import { createHash } from 'node:crypto'
import { sql, type Kysely } from 'kysely'
import type { Dialect } from '@postern/store'

/**
 * Synthetic tracking data, generated inside the database (SQLite recursive CTE, PostgreSQL
 * generate_series) so that 10 M messages take minutes, not hours. Every value is a formula of
 * the MID, and `expected` computes the same formulas in TypeScript so that the benchmark asks
 * for values that exist.
 */
export const RANGE_MS = 30 * 86_400_000
export const SENDERS = 50_000
export const SENDER_DOMAINS = 5_000
export const RECIPIENTS = 20_000
export const SITES = 100_000
const SUBJECTS = [
  'Invoice',
  'Payment reminder',
  'Meeting notes',
  'Your package',
  'Password expires',
  'Quarterly report',
  'Hello',
]

export function expected(n: number, dialect: Dialect, end: number, total: number) {
  const domain = `s${(n * 31) % SENDER_DOMAINS}.test`
  return {
    receivedAt: end - RANGE_MS + n * stepOf(total),
    sender: `user${(n * 7919) % SENDERS}@${domain}`,
    senderDomain: domain,
    senderIp: `10.${n % 250}.${Math.floor(n / 250) % 250}.${Math.floor(n / 62_500) % 250}`,
    messageId: `<${n}.bench@${domain}>`,
    subject: `${SUBJECTS[n % 7]} ${(n * 48_271) % 100_000}`,
    recipient: `emp${(n * 104_729) % RECIPIENTS}@example.org`,
    /** Only for n divisible by 3. */
    url: `https://site${(n * 13) % SITES}.test/p/${n % 1000}`,
    urlDomain: `site${(n * 13) % SITES}.test`,
    /** Only for n divisible by 10. */
    sha256:
      dialect === 'postgres'
        ? md5(String(n)) + md5(String(n * 7))
        : hex16(BigInt(n) * 2_654_435_761n) +
          hex16(BigInt(n) * 40_503n) +
          hex16(BigInt(n) * 97n) +
          hex16(BigInt(n)),
  }
}

/** Milliseconds between two generated messages: `total` messages fill the range. */
export function stepOf(total: number): number {
  return Math.max(1, Math.floor(RANGE_MS / total))
}

function hex16(value: bigint): string {
  return value.toString(16).padStart(16, '0')
}

function md5(text: string): string {
  return createHash('md5').update(text).digest('hex')
}

/**
 * Inserts messages [from, to] with their recipients (1, or 2 for every third), the sender's
 * observable, analysis rows
 * (spam 10 %, phishing, viruses, blocked, authentication failures at lower rates), a URL for
 * every third message and an attachment for every tenth.
 */
export async function generateBatch(
  db: Kysely<unknown>,
  dialect: Dialect,
  from: number,
  to: number,
  end: number,
  total: number,
): Promise<void> {
  const start = end - RANGE_MS
  // The messages fill the range in MID order: the newest MIDs are the newest mail.
  const step = stepOf(total)
  const seq =
    dialect === 'sqlite'
      ? sql.raw(
          `with recursive seq(n) as (select ${from} union all select n + 1 from seq where n < ${to})`,
        )
      : sql.raw('')
  const source =
    dialect === 'sqlite'
      ? sql.raw('from seq')
      : sql.raw(`from generate_series(${from}::bigint, ${to}::bigint) as seq(n)`)
  const subject = sql.raw(
    `case n % 7 ${SUBJECTS.map((s, i) => `when ${i} then '${s} '`).join(' ')} end || ((n * 48271) % 100000)`,
  )
  const domain = sql.raw(`'s' || ((n * 31) % ${SENDER_DOMAINS}) || '.test'`)
  await sql`${seq} insert into messages (mid, icid, received_at, updated_at, listener, direction, sender_ip, envelope_sender, sender_domain, message_id, subject, size, recipient_count, status)
    select n, n, ${start} + n * ${step}, ${start} + n * ${step}, 'in',
      case when n % 5 = 0 then 'outgoing' else 'incoming' end,
      '10.' || (n % 250) || '.' || ((n / 250) % 250) || '.' || ((n / 62500) % 250),
      'user' || ((n * 7919) % ${sql.raw(String(SENDERS))}) || '@' || ${domain}, ${domain},
      '<' || n || '.bench@' || ${domain} || '>', ${subject}, 1000 + n % 50000,
      case when n % 3 = 0 then 2 else 1 end, 'delivered' ${source}`.execute(db)
  const receivedAt = sql.raw(`${start} + n * ${step}`)
  await sql`${seq} insert into message_recipients (mid, rcpt_index, recipient, domain, status, attempts, updated_at, received_at)
    select n, 0, 'emp' || ((n * 104729) % ${sql.raw(String(RECIPIENTS))}) || '@example.org', 'example.org', 'delivered', 1, ${end}, ${receivedAt} ${source}`.execute(
    db,
  )
  await sql`${seq} insert into message_recipients (mid, rcpt_index, recipient, domain, status, attempts, updated_at, received_at)
    select n, 1, 'emp' || ((n * 7) % ${sql.raw(String(RECIPIENTS))}) || '@example.org', 'example.org', 'delivered', 1, ${end}, ${receivedAt} ${source} where n % 3 = 0`.execute(
    db,
  )
  // The observables index the gateway writes for every message (here the envelope sender).
  const sender = sql.raw(
    `'user' || ((n * 7919) % ${SENDERS}) || '@s' || ((n * 31) % ${SENDER_DOMAINS}) || '.test'`,
  )
  await sql`${seq} insert into observables (type, value_key, value, mid, at)
    select 'email', ${sender}, ${sender}, n, ${receivedAt} ${source}`.execute(db)
  await sql`${seq} insert into message_analysis (mid, at, direction, verdicts, spam, virus, malformed, blocked, phish, auth_failed, quarantined)
    select n, ${end}, case when n % 5 = 0 then 'outgoing' else 'incoming' end,
      case when n % 10 = 0 then 'spam' else '' end,
      case when n % 10 = 0 then 1 else 0 end, case when n % 997 = 0 then 1 else 0 end,
      case when n % 1009 = 0 then 1 else 0 end, case when n % 503 = 0 then 1 else 0 end,
      case when n % 211 = 0 then 1 else 0 end, case when n % 50 = 0 then 1 else 0 end,
      case when n % 997 = 0 or n % 101 = 0 then 1 else 0 end ${source}`.execute(db)
  const site = sql.raw(`'site' || ((n * 13) % ${SITES}) || '.test'`)
  await sql`${seq} insert into message_urls (mid, idx, url, host, domain, sources, received_at)
    select n, 0, 'https://' || ${site} || '/p/' || (n % 1000), ${site}, ${site}, 'html', ${receivedAt} ${source} where n % 3 = 0`.execute(
    db,
  )
  const sha =
    dialect === 'sqlite'
      ? sql.raw(`printf('%016x%016x%016x%016x', n * 2654435761, n * 40503, n * 97, n)`)
      : sql.raw(`md5(n::text) || md5((n * 7)::text)`)
  await sql`${seq} insert into message_attachments (mid, idx, part, filename, declared_type, sniffed_type, extension, size, sha256, received_at)
    select n, 0, '2', 'doc' || (n % 5000) || '.pdf', 'application/pdf', 'application/pdf', 'pdf', 20000, ${sha}, ${receivedAt} ${source} where n % 10 = 0`.execute(
    db,
  )
}

/** The tables `generateBatch` fills. */
export const GENERATED_TABLES = [
  'messages',
  'message_recipients',
  'observables',
  'message_analysis',
  'message_urls',
  'message_attachments',
] as const

interface SecondaryIndex {
  name: string
  /** The CREATE INDEX statement the database reports for it. */
  definition: string
}

/**
 * The secondary indexes of `tables` as the migrations created them, with their exact DDL from
 * the catalog (sqlite_master, pg_indexes). Indexes that back a primary key or unique
 * constraint are left out: they stay in place during the load.
 */
export async function secondaryIndexes(
  db: Kysely<unknown>,
  dialect: Dialect,
  tables: readonly string[],
): Promise<SecondaryIndex[]> {
  const list = sql.join(tables.map((t) => sql.lit(t)))
  const result =
    dialect === 'sqlite'
      ? await sql<SecondaryIndex>`select name, sql as definition from sqlite_master
          where type = 'index' and sql is not null and tbl_name in (${list}) order by name`.execute(
          db,
        )
      : await sql<SecondaryIndex>`select i.indexname as name, i.indexdef as definition from pg_indexes i
          where i.schemaname = current_schema() and i.tablename in (${list})
            and not exists (select 1 from pg_constraint c where c.conname = i.indexname)
          order by i.indexname`.execute(db)
  return result.rows
}

/**
 * Bulk load as databases are loaded in practice: the secondary indexes are dropped, the rows
 * inserted, then every index is built once from sorted data, which is several times faster
 * than maintaining them row by row at 10 M. The indexes are the same afterwards (same DDL).
 * Returns the seconds spent building the indexes.
 */
export async function withIndexesDeferred(
  db: Kysely<unknown>,
  dialect: Dialect,
  load: () => Promise<void>,
): Promise<{ indexSeconds: number }> {
  const indexes = await secondaryIndexes(db, dialect, GENERATED_TABLES)
  const search = dialect === 'sqlite' ? await trigramTables(db, GENERATED_TABLES) : undefined
  for (const index of indexes) await sql`drop index ${sql.id(index.name)}`.execute(db)
  for (const trigger of search?.triggers ?? [])
    await sql`drop trigger ${sql.id(trigger.name)}`.execute(db)
  await load()
  const started = Date.now()
  if (dialect === 'postgres') await sql`set maintenance_work_mem = '256MB'`.execute(db)
  // The catalog spells an index of a partitioned table `ON ONLY parent`, which would build it
  // on the parent alone; without ONLY it is built on every partition, as the migration did.
  for (const index of indexes)
    await sql.raw(index.definition.replace(/ ON ONLY /, ' ON ')).execute(db)
  for (const trigger of search?.triggers ?? []) await sql.raw(trigger.definition).execute(db)
  for (const table of search?.tables ?? [])
    await sql.raw(`insert into ${table}(${table}) values ('rebuild')`).execute(db)
  return { indexSeconds: (Date.now() - started) / 1000 }
}

/**
 * SQLite: the FTS5 trigram tables over `tables` (migrations 0301, 0302) and the triggers that
 * keep them in step row by row. The load drops the triggers and rebuilds each FTS table once
 * afterwards (sqlite.org/fts5.html §6.2 'rebuild'), which gives the same index.
 */
async function trigramTables(
  db: Kysely<unknown>,
  tables: readonly string[],
): Promise<{ tables: string[]; triggers: SecondaryIndex[] }> {
  const list = sql.join(tables.map((t) => sql.lit(t)))
  const fts = await sql<{ name: string }>`select name from sqlite_master
      where type = 'table' and sql like 'create virtual table%fts5%'
        and (${sql.join(
          tables.map((t) => sql`sql like ${`%content='${t}'%`}`),
          sql` or `,
        )})`.execute(db)
  const triggers = await sql<SecondaryIndex>`select name, sql as definition from sqlite_master
      where type = 'trigger' and tbl_name in (${list}) order by name`.execute(db)
  return { tables: fts.rows.map((r) => r.name), triggers: triggers.rows }
}
