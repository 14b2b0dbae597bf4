import type { DialectMigration } from '../../migrate.js'

/**
 * Events dropped from `hub_outbox` because the queue outgrew its cap while the hub was away:
 * how many per machine, counted until the hub has been told (the count then goes down by what
 * was reported), with when the first and the last of them were dropped.
 */
export const hubOutboxLossesMigration: DialectMigration = {
  async up(db) {
    await db.schema
      .createTable('hub_outbox_losses')
      .addColumn('machine', 'text', (c) => c.primaryKey())
      .addColumn('dropped', 'bigint', (c) => c.notNull())
      .addColumn('first_dropped_at', 'bigint', (c) => c.notNull())
      .addColumn('last_dropped_at', 'bigint', (c) => c.notNull())
      .execute()
  },
}
