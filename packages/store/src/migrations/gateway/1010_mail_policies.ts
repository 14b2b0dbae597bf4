import type { DialectMigration } from '../../migrate.js'

/**
 * Mail policies edited in the gateway console: one document (the `policies` section without
 * `notifyFrom`) that replaces the configuration's policies while it exists. Stored in the
 * database so that every process sharing it starts with the same policies.
 */
export const mailPoliciesMigration: DialectMigration = {
  async up(db) {
    await db.schema
      .createTable('mail_policies')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('document', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_by', 'text', (c) => c.notNull())
      .execute()
  },
}
