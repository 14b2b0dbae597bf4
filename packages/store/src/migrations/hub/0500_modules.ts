import type { DialectMigration } from '../../migrate.js'

/**
 * Integration modules of an organisation (reference §2 `/iroh/iroh-int/…`): the module types it
 * defined (relay modules; the built-in types live in code) and its module instances — which
 * gateways, relay URLs and settings the enrich and respond fan-outs call. Instance settings are
 * sealed with the hub's secret box: relay settings carry API keys.
 */
export const hubModulesMigration: DialectMigration = {
  async up(db) {
    await db.schema
      .createTable('module_types')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('title', 'text', (c) => c.notNull())
      .addColumn('description', 'text', (c) => c.notNull())
      .addColumn('properties', 'text', (c) => c.notNull())
      .addColumn('configuration_spec', 'text', (c) => c.notNull())
      .addColumn('created_by_type', 'text', (c) => c.notNull())
      .addColumn('created_by_id', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute()
    await db.schema.createIndex('module_types_org').on('module_types').column('org_id').execute()

    await db.schema
      .createTable('module_instances')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id'))
      .addColumn('module_type_id', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('enabled', 'integer', (c) => c.notNull())
      .addColumn('visibility', 'text', (c) => c.notNull())
      .addColumn('settings_sealed', 'text', (c) => c.notNull())
      .addColumn('created_by_type', 'text', (c) => c.notNull())
      .addColumn('created_by_id', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute()
    await db.schema
      .createIndex('module_instances_org')
      .on('module_instances')
      .columns(['org_id', 'module_type_id'])
      .execute()
  },
}
