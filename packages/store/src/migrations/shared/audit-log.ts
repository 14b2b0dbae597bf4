import type { DialectMigration } from '../../migrate.js'
import { withAutoId } from '../../migrate.js'

/** The audit log has the same shape in both apps; the hub fills `org_id`, a gateway leaves it null. */
export const auditLogMigration: DialectMigration = {
  async up(db, dialect) {
    await withAutoId(db.schema.createTable('audit_log'), dialect)
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addColumn('org_id', 'text')
      .addColumn('actor_type', 'text', (c) => c.notNull())
      .addColumn('actor_id', 'text', (c) => c.notNull())
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('remote_ip', 'text')
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('target_type', 'text')
      .addColumn('target_id', 'text')
      .addColumn('outcome', 'text', (c) => c.notNull())
      .addColumn('details', 'text', (c) => c.notNull().defaultTo('{}'))
      .execute()
    await db.schema
      .createIndex('audit_log_org_at')
      .on('audit_log')
      .columns(['org_id', 'at'])
      .execute()
    await db.schema
      .createIndex('audit_log_action_at')
      .on('audit_log')
      .columns(['action', 'at'])
      .execute()
  },
}
