import type { DialectMigration } from '../../migrate.js'
import { withAutoId } from '../../migrate.js'

/**
 * Events a gateway owes its hub (detections, watched-observable reports): written when they
 * happen and deleted once the hub took them, so that they survive the hub being away and the
 * gateway restarting. Cluster nodes sharing one database each send their own (`machine`).
 */
export const hubOutboxMigration: DialectMigration = {
  async up(db, dialect) {
    await withAutoId(db.schema.createTable('hub_outbox'), dialect)
      .addColumn('machine', 'text', (c) => c.notNull())
      .addColumn('body', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute()
    await db.schema
      .createIndex('hub_outbox_machine_id')
      .on('hub_outbox')
      .columns(['machine', 'id'])
      .execute()
  },
}
