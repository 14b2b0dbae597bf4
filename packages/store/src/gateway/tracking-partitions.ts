import { sql, type Kysely } from 'kysely'
import type { Dialect } from '../database.js'
import {
  PARTITION_MS,
  PARTITIONED_TRACKING_TABLES,
  PARTITIONS_AHEAD,
  partitionName,
  partitionStart,
} from '../migrations/gateway/1100_tracking_partitions.js'
import type { GatewaySchema } from './schema.js'
import { NODE_ID_SPACE, PURGED_WITH_MESSAGE } from './tracking.js'

export { PARTITION_MS, PARTITIONS_AHEAD, partitionStart }

/** One week of tracking on PostgreSQL: rows with `start <= time < end`. */
export interface TrackingPartition {
  start: number
  end: number
}

/** Rows of the content pipeline that hang off a message but have no time of their own to partition by. */
const UNPARTITIONED_MESSAGE_ROWS = PURGED_WITH_MESSAGE.filter(
  (table) => !PARTITIONED_TRACKING_TABLES.some((p) => p.table === table),
)

/** MIDs whose content rows are deleted per statement before their week is dropped. */
const CONTENT_DELETE_BATCH = 5000

/**
 * Serialises partition changes of the gateways of a cluster sharing one database: two nodes
 * creating the same week, or one dropping a week the other is creating, would otherwise fail.
 */
const LOCK_KEY = sql`hashtext('postern.tracking.partitions')`

/**
 * Dropping or attaching a partition locks the parent table (postgresql.org/docs/15/
 * sql-altertable.html): waiting behind a long report would hold every reader and writer queued
 * behind the lock, so give up after a moment and try again at the next interval.
 */
const PARTITION_LOCK_TIMEOUT = sql.lit('5s')

/**
 * The weekly partitions of message tracking on PostgreSQL (migration 1100): created ahead of
 * the mail that fills them, and dropped whole when retention has passed their last day, which
 * costs the same at 10 M messages as at 10 (a DELETE costs a row each and leaves bloat behind).
 * SQLite has no partitions: every method does nothing there and retention deletes rows.
 */
export class TrackingPartitions {
  constructor(
    private readonly db: Kysely<GatewaySchema>,
    private readonly dialect: Dialect,
  ) {}

  /**
   * Creates the missing weeks from the one holding `from` to `PARTITIONS_AHEAD` weeks after
   * the one holding `until`. Rows that went to the default partition meanwhile (a gateway
   * that could not create its partitions in time) move into their new week. Returns the number
   * of weeks created.
   */
  async ensure(from: number, until: number = from): Promise<number> {
    if (this.dialect !== 'postgres') return 0
    let created = 0
    const last = partitionStart(until) + PARTITIONS_AHEAD * PARTITION_MS
    for (let start = partitionStart(from); start <= last; start += PARTITION_MS) {
      if (await this.createWeek(start)) created++
    }
    return created
  }

  /** The weeks that exist, oldest first. */
  async list(): Promise<TrackingPartition[]> {
    if (this.dialect !== 'postgres') return []
    const rows = await sql<{ bound: string }>`select pg_get_expr(c.relpartbound, c.oid) as bound
        from pg_inherits i join pg_class c on c.oid = i.inhrelid
        where i.inhparent = 'messages'::regclass`.execute(this.db)
    const weeks: TrackingPartition[] = []
    for (const { bound } of rows.rows) {
      const match = /FROM \('(-?\d+)'\) TO \('(-?\d+)'\)/.exec(bound)
      if (match) weeks.push({ start: Number(match[1]), end: Number(match[2]) })
    }
    return weeks.sort((a, b) => a.start - b.start)
  }

  /**
   * Drops every week that ends at or before `before`, with the content pipeline's rows of its
   * messages (deleted by MID: they have no time column). A week holding the newest message of
   * a gateway node is kept — a restarted node continues after its highest ids — and so are
   * the weeks after it, which keeps retention in order; the node's next message frees it.
   */
  async dropBefore(before: number): Promise<{ weeks: number; messages: number }> {
    const dropped = { weeks: 0, messages: 0 }
    if (this.dialect !== 'postgres') return dropped
    for (const week of await this.list()) {
      if (week.end > before) break
      const name = partitionName('messages', week.start)
      if (!(await this.everyNodeHasNewer(name, week.end))) break
      await this.deleteContentRows(name)
      const messages = await this.db.transaction().execute(async (trx) => {
        await sql`select pg_advisory_xact_lock(${LOCK_KEY})`.execute(trx)
        await sql`set local lock_timeout = ${PARTITION_LOCK_TIMEOUT}`.execute(trx)
        const count = await sql<{
          n: string
        }>`select count(*) as n from ${sql.table(name)}`.execute(trx)
        for (const { table } of PARTITIONED_TRACKING_TABLES) {
          await sql`drop table if exists ${sql.table(partitionName(table, week.start))}`.execute(
            trx,
          )
        }
        return Number(count.rows[0]?.n ?? 0)
      })
      dropped.weeks++
      dropped.messages += messages
    }
    return dropped
  }

  private async createWeek(start: number): Promise<boolean> {
    const end = start + PARTITION_MS
    return this.db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(${LOCK_KEY})`.execute(trx)
      await sql`set local lock_timeout = ${PARTITION_LOCK_TIMEOUT}`.execute(trx)
      let created = false
      for (const { table, key } of PARTITIONED_TRACKING_TABLES) {
        const name = partitionName(table, start)
        const exists = await sql`select 1 from pg_class where relname = ${name}
            and relnamespace = current_schema()::regnamespace`.execute(trx)
        if (exists.rows.length > 0) continue
        // A partition cannot be attached while the default partition holds rows of its range
        // (postgresql.org/docs/15/sql-altertable.html, ATTACH PARTITION): move them first.
        await sql`create table ${sql.table(name)} (like ${sql.table(table)} including defaults)`.execute(
          trx,
        )
        const inRange = sql`${sql.ref(key)} >= ${sql.lit(start)} and ${sql.ref(key)} < ${sql.lit(end)}`
        await sql`insert into ${sql.table(name)} select * from ${sql.table(`${table}_default`)} where ${inRange}`.execute(
          trx,
        )
        await sql`delete from ${sql.table(`${table}_default`)} where ${inRange}`.execute(trx)
        await sql`alter table ${sql.table(table)} attach partition ${sql.table(name)}
            for values from (${sql.lit(start)}) to (${sql.lit(end)})`.execute(trx)
        created = true
      }
      return created
    })
  }

  /**
   * Whether every node with messages in `partition` has a message received at or after `end`.
   * The nodes are found by skipping through the MID index, one probe per node.
   */
  private async everyNodeHasNewer(partition: string, end: number): Promise<boolean> {
    const space = sql.lit(NODE_ID_SPACE)
    const nodes = await sql<{ node: string }>`with recursive nodes(node) as (
        select (select min(mid) from ${sql.table(partition)}) / ${space}
        union all
        select (select min(mid) from ${sql.table(partition)} where mid >= (nodes.node + 1) * ${space}) / ${space}
        from nodes where nodes.node is not null)
      select node from nodes where node is not null`.execute(this.db)
    for (const { node } of nodes.rows) {
      const from = Number(node) * NODE_ID_SPACE
      const newer = await this.db
        .selectFrom('messages')
        .select('mid')
        .where('mid', '>=', from)
        .where('mid', '<', from + NODE_ID_SPACE)
        .where('received_at', '>=', end)
        .limit(1)
        .executeTakeFirst()
      if (!newer) return false
    }
    return true
  }

  private async deleteContentRows(partition: string): Promise<void> {
    let after = -1
    for (;;) {
      const rows = await sql<{ mid: string }>`select mid from ${sql.table(partition)}
          where mid > ${after} order by mid limit ${CONTENT_DELETE_BATCH}`.execute(this.db)
      const mids = rows.rows.map((r) => Number(r.mid))
      if (mids.length === 0) return
      await this.db.transaction().execute(async (trx) => {
        for (const table of UNPARTITIONED_MESSAGE_ROWS) {
          await trx.deleteFrom(table).where('mid', 'in', mids).execute()
        }
      })
      after = mids[mids.length - 1] as number
    }
  }
}
