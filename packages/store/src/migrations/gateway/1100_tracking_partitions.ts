import { sql, type Kysely } from 'kysely'
import type { DialectMigration } from '../../migrate.js'

/** Width of one tracking partition: a week, starting on Monday 00:00 UTC. */
export const PARTITION_MS = 7 * 86_400_000

/** 1970-01-05 was the first Monday after the epoch. */
const FIRST_MONDAY = 4 * 86_400_000

/** The start of the partition holding time `at` (milliseconds since the epoch). */
export function partitionStart(at: number): number {
  return Math.floor((at - FIRST_MONDAY) / PARTITION_MS) * PARTITION_MS + FIRST_MONDAY
}

/** `messages_p20260105`: the table and the UTC date its week starts on. */
export function partitionName(table: string, start: number): string {
  return `${table}_p${new Date(start).toISOString().slice(0, 10).replaceAll('-', '')}`
}

/**
 * The tracking tables that grow with every message, each partitioned (PostgreSQL) by the time
 * its rows belong to, with the primary key partitioning requires: PostgreSQL only enforces a
 * unique index across partitions when it contains the partition key (postgresql.org/docs/15/
 * ddl-partitioning.html §5.11.2.3). MIDs stay unique per gateway node by how nodes allocate
 * them (a range of 2^40 each), and a message written again after a crash carries the same
 * spooled `received_at`, so (mid, received_at) still absorbs the second write.
 */
export const PARTITIONED_TRACKING_TABLES = [
  { table: 'messages', key: 'received_at', primaryKey: ['mid', 'received_at'] },
  {
    table: 'message_recipients',
    key: 'received_at',
    primaryKey: ['mid', 'rcpt_index', 'received_at'],
  },
  { table: 'message_events', key: 'at', primaryKey: ['id', 'at'] },
  { table: 'observables', key: 'at', primaryKey: ['type', 'value_key', 'mid', 'at'] },
] as const

/** Weeks created ahead of the current one, so that mail never waits for a partition. */
export const PARTITIONS_AHEAD = 2

/** Partitions created for existing rows reach back at most this far; older rows go to the default partition. */
const CONVERT_BACK_MS = 400 * 86_400_000

/**
 * Tracking partitioned by time (issue 9): message_recipients gets the received time of its
 * message (its partition key), and on PostgreSQL the four growing tables are rebuilt as
 * range-partitioned tables — weekly partitions from the oldest row to two weeks ahead, a
 * default partition for stragglers — keeping every row and recreating every index the earlier
 * migrations defined (0100, 0301) on the partitioned parent, which PostgreSQL carries to each
 * partition. Retention can then drop whole weeks instead of deleting rows. SQLite keeps plain
 * tables (retention deletes in batches there).
 */
export const trackingPartitionsMigration: DialectMigration = {
  async up(db, dialect) {
    await db.schema
      .alterTable('message_recipients')
      .addColumn('received_at', 'bigint', (c) => c.notNull().defaultTo(0))
      .execute()
    await sql`update message_recipients set received_at = coalesce(
        (select m.received_at from messages m where m.mid = message_recipients.mid), updated_at)`.execute(
      db,
    )
    if (dialect === 'sqlite') return
    await sql`alter table message_recipients alter column received_at drop default`.execute(db)
    const now = Date.now()
    for (const spec of PARTITIONED_TRACKING_TABLES) await convert(db, spec, now)
  },
}

async function convert(
  db: Kysely<unknown>,
  spec: (typeof PARTITIONED_TRACKING_TABLES)[number],
  now: number,
): Promise<void> {
  const { table, key, primaryKey } = spec
  const old = `${table}_unpartitioned`
  // Every secondary index as its migration created it (the primary key is rebuilt below).
  const indexes = await sql<{ definition: string }>`select i.indexdef as definition
      from pg_indexes i where i.schemaname = current_schema() and i.tablename = ${table}
        and not exists (select 1 from pg_constraint c where c.conname = i.indexname)`.execute(db)
  const constraint = await sql<{ name: string }>`select conname as name from pg_constraint
      where conrelid = ${table}::regclass and contype = 'p'`.execute(db)
  const primaryKeyName = constraint.rows[0]?.name ?? `${table}_pkey`

  await sql`alter table ${sql.table(table)} rename to ${sql.table(old)}`.execute(db)
  await sql`create table ${sql.table(table)} (like ${sql.table(old)} including defaults including identity)
      partition by range (${sql.ref(key)})`.execute(db)
  await sql`create table ${sql.table(`${table}_default`)} partition of ${sql.table(table)} default`.execute(
    db,
  )
  const bounds = await sql<{
    low: string | null
  }>`select min(${sql.ref(key)}) as low from ${sql.table(old)}`.execute(db)
  const low = Math.max(Number(bounds.rows[0]?.low ?? now), now - CONVERT_BACK_MS)
  const last = partitionStart(now) + PARTITIONS_AHEAD * PARTITION_MS
  for (let start = partitionStart(Math.min(low, now)); start <= last; start += PARTITION_MS) {
    await sql`create table ${sql.table(partitionName(table, start))} partition of ${sql.table(table)}
        for values from (${sql.lit(start)}) to (${sql.lit(start + PARTITION_MS)})`.execute(db)
  }
  await sql`insert into ${sql.table(table)} select * from ${sql.table(old)}`.execute(db)
  await sql`drop table ${sql.table(old)}`.execute(db)
  if (table === 'message_events') {
    // The identity sequence was created afresh with the table: continue after the copied ids.
    await sql`select setval(pg_get_serial_sequence('message_events', 'id'),
        coalesce((select max(id) from message_events), 0) + 1, false)`.execute(db)
  }
  await sql`alter table ${sql.table(table)} add constraint ${sql.id(primaryKeyName)}
      primary key (${sql.join(primaryKey.map((c) => sql.ref(c)))})`.execute(db)
  for (const index of indexes.rows) await sql.raw(index.definition).execute(db)
}
