import type { DialectMigration } from '../../migrate.js'

/**
 * Ribbon logins of the gateway console (seed §3 "Login to use the ribbon"): per console user, the
 * hub API client the ribbon uses. The secret is sealed with the installation's SecretBox; the
 * page only ever gets short-lived hub tokens made from it.
 */
export const ribbonCredentialsMigration: DialectMigration = {
  async up(db) {
    await db.schema
      .createTable('ribbon_credentials')
      .addColumn('owner', 'text', (c) => c.primaryKey())
      .addColumn('hub_url', 'text', (c) => c.notNull())
      .addColumn('client_id', 'text', (c) => c.notNull())
      .addColumn('secret_sealed', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute()
  },
}
