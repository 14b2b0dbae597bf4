import type { DialectMigration } from '../../migrate.js'

/**
 * The gateway's cloud-services state: settings at cluster, group or machine level (machine
 * overrides group overrides cluster), each machine's registration with a hub, the connector's
 * live status, and cluster membership. Nodes of a cluster share these through one PostgreSQL
 * database.
 */
export const gatewayCloudMigration: DialectMigration = {
  async up(db) {
    await db.schema
      .createTable('cloud_settings')
      .addColumn('level', 'text', (c) => c.notNull())
      .addColumn('scope', 'text', (c) => c.notNull())
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('value', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_by', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('cloud_settings_pk', ['level', 'scope', 'key'])
      .execute()

    await db.schema
      .createTable('cloud_registrations')
      .addColumn('machine', 'text', (c) => c.primaryKey())
      .addColumn('device_id', 'text', (c) => c.notNull())
      .addColumn('org_id', 'text', (c) => c.notNull())
      .addColumn('device_name', 'text', (c) => c.notNull())
      .addColumn('hub_url', 'text', (c) => c.notNull())
      .addColumn('tunnel_url', 'text', (c) => c.notNull())
      .addColumn('region', 'text', (c) => c.notNull())
      .addColumn('mode', 'text', (c) => c.notNull())
      .addColumn('cluster_name', 'text')
      .addColumn('credential_sealed', 'text', (c) => c.notNull())
      .addColumn('registered_at', 'bigint', (c) => c.notNull())
      .execute()

    await db.schema
      .createTable('cloud_status')
      .addColumn('machine', 'text', (c) => c.primaryKey())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('last_error', 'text')
      .addColumn('last_error_at', 'bigint')
      .addColumn('connected_since', 'bigint')
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addColumn('events_pushed_through', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('telemetry_digest', 'text')
      .addColumn('telemetry_sent_at', 'bigint')
      .execute()

    await db.schema
      .createTable('cluster_info')
      .addColumn('id', 'integer', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute()

    await db.schema
      .createTable('cluster_members')
      .addColumn('machine', 'text', (c) => c.primaryKey())
      .addColumn('group_name', 'text', (c) => c.notNull())
      .addColumn('joined_at', 'bigint', (c) => c.notNull())
      .execute()
  },
}
