import type { DialectMigration } from '../../migrate.js'

/**
 * One counter per organisation, bumped in the same transaction as every change to what hub
 * nodes cache of it (the org, its API clients, devices, module types and instances). A node
 * reads the counter (one primary-key lookup) and reuses what it cached under the same value,
 * so a change made through any node — or the admin CLI — is seen by every node on its next
 * request, without a message bus.
 */
export const hubOrgVersionsMigration: DialectMigration = {
  async up(db) {
    await db.schema
      .createTable('org_versions')
      .addColumn('org_id', 'text', (c) => c.primaryKey())
      .addColumn('version', 'bigint', (c) => c.notNull())
      .execute()
  },
}
