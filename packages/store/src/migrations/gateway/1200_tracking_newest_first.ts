import { sql } from 'kysely'
import type { DialectMigration } from '../../migrate.js'
import { lowerPrefix } from './0301_tracking_search.js'

/**
 * A search by sender shows the newest matches first, a page at a time. The sender index of
 * migration 0301 holds the matches in no useful order: a page of 50 read every match from the
 * table (200 per sender at 10 M messages) to sort them by time. With the received time after
 * the sender, each week's matches come newest first from the index (on PostgreSQL the weeks
 * are merged), so a page reads its 50 rows and stops.
 */
export const trackingNewestFirstMigration: DialectMigration = {
  async up(db, dialect) {
    await db.schema.dropIndex('messages_sender_lower').execute()
    await db.schema
      .createIndex('messages_sender_lower')
      .on('messages')
      .expression(sql.raw(`${lowerPrefix(dialect, 'envelope_sender')}, received_at`))
      .execute()
  },
}
