import { sql } from 'kysely'
import type { DialectMigration } from '../../migrate.js'
import { lowerPrefix, PREFIX } from './0301_tracking_search.js'

/** The content pipeline's per-message tables that get their message's received time. */
export const CONTENT_ROWS_WITH_MESSAGE_TIME = ['message_urls', 'message_attachments'] as const

/**
 * URL and attachment rows carry their message's received time, as recipient rows do since
 * migration 1100. A lookup by URL, URL domain, attachment hash or name then finds each match's
 * message in its own week of `messages` (PostgreSQL run-time partition pruning) instead of
 * probing the primary-key index of every week by MID, and the lookup indexes list each value's
 * matches by time. Existing rows take the time of their message, or of their analysis when the
 * message is gone (retention purges them together, so there should be none). SQLite keeps the
 * column's default of 0 (it cannot drop a default); PostgreSQL refuses a row written without
 * it. The two tables stay unpartitioned (migration 1100 partitions the four that grow with every
 * message): the time is for finding the message's week.
 */
export const contentReceivedAtMigration: DialectMigration = {
  async up(db, dialect) {
    for (const table of CONTENT_ROWS_WITH_MESSAGE_TIME) {
      await db.schema
        .alterTable(table)
        .addColumn('received_at', 'bigint', (c) => c.notNull().defaultTo(0))
        .execute()
      // UPDATE … FROM (PostgreSQL, SQLite ≥ 3.33): one join, where a subquery per row would
      // probe every week of the partitioned `messages` for each MID.
      await sql`update ${sql.table(table)} set received_at = m.received_at
          from messages m where m.mid = ${sql.ref(`${table}.mid`)}`.execute(db)
      await sql`update ${sql.table(table)} set received_at = a.at
          from message_analysis a
          where a.mid = ${sql.ref(`${table}.mid`)} and ${sql.ref(`${table}.received_at`)} = 0`.execute(
        db,
      )
      if (dialect === 'postgres') {
        await sql`alter table ${sql.table(table)} alter column received_at drop default`.execute(db)
      }
    }
    for (const [name, table, expression] of [
      ['message_urls_url_prefix', 'message_urls', `substr(url, 1, ${PREFIX})`],
      ['message_urls_domain', 'message_urls', 'domain'],
      ['message_urls_host', 'message_urls', 'host'],
      ['message_attachments_sha256', 'message_attachments', 'sha256'],
      ['message_attachments_md5', 'message_attachments', 'md5'],
      ['message_attachments_sha1', 'message_attachments', 'sha1'],
      ['message_attachments_name_lower', 'message_attachments', lowerPrefix(dialect, 'filename')],
    ] as const) {
      await db.schema.dropIndex(name).execute()
      await db.schema
        .createIndex(name)
        .on(table)
        .expression(sql.raw(`${expression}, received_at`))
        .execute()
    }
  },
}
