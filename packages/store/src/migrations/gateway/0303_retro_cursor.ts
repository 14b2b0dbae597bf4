import type { DialectMigration } from '../../migrate.js'

/**
 * Where retro-remediation stopped reading the block lists: the highest block-list entry id it
 * has handled, so that entries added while the gateway was down are still handled once.
 */
export const retroCursorMigration: DialectMigration = {
  async up(db) {
    await db.schema
      .createTable('retro_remediation_cursor')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('last_id', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute()
  },
}
