import type { DialectMigration } from '../../migrate.js'
import { withAutoId } from '../../migrate.js'

/**
 * The hub's core: organisations, users and their console sessions, API clients, the keys that
 * sign access tokens, device registration tokens, devices and their usage telemetry. Every row
 * that belongs to an organisation carries `org_id`; queries always filter on it.
 */
export const hubCoreMigration: DialectMigration = {
  async up(db, dialect) {
    await db.schema
      .createTable('orgs')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute()

    await db.schema
      .createTable('users')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id'))
      .addColumn('email', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('role', 'text', (c) => c.notNull())
      .addColumn('password_hash', 'text', (c) => c.notNull())
      .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addColumn('last_login_at', 'bigint')
      .execute()
    // Login is by e-mail address, so an address names one user across the whole hub.
    await db.schema.createIndex('users_email').unique().on('users').column('email').execute()
    await db.schema.createIndex('users_org').on('users').column('org_id').execute()

    await db.schema
      .createTable('sessions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('token_digest', 'text', (c) => c.notNull())
      .addColumn('csrf_digest', 'text', (c) => c.notNull())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
      .addColumn('org_id', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('last_used_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('revoked_at', 'bigint')
      .addColumn('remote_ip', 'text')
      .addColumn('user_agent', 'text')
      .execute()
    await db.schema
      .createIndex('sessions_token')
      .unique()
      .on('sessions')
      .column('token_digest')
      .execute()
    await db.schema.createIndex('sessions_user').on('sessions').column('user_id').execute()

    await db.schema
      .createTable('api_clients')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('secret_digest', 'text', (c) => c.notNull())
      .addColumn('scopes', 'text', (c) => c.notNull())
      .addColumn('owner_user_id', 'text')
      .addColumn('created_by_type', 'text', (c) => c.notNull())
      .addColumn('created_by_id', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint')
      .addColumn('revoked_at', 'bigint')
      .addColumn('last_used_at', 'bigint')
      .execute()
    await db.schema.createIndex('api_clients_org').on('api_clients').column('org_id').execute()

    await db.schema
      .createTable('signing_keys')
      .addColumn('kid', 'text', (c) => c.primaryKey())
      .addColumn('alg', 'text', (c) => c.notNull())
      .addColumn('public_jwk', 'text', (c) => c.notNull())
      .addColumn('private_key_sealed', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('retires_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .execute()

    await db.schema
      .createTable('registration_tokens')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id'))
      .addColumn('token_digest', 'text', (c) => c.notNull())
      .addColumn('label', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('created_by_type', 'text', (c) => c.notNull())
      .addColumn('created_by_id', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('used_at', 'bigint')
      .addColumn('device_id', 'text')
      .addColumn('revoked_at', 'bigint')
      .execute()
    await db.schema
      .createIndex('registration_tokens_digest')
      .unique()
      .on('registration_tokens')
      .column('token_digest')
      .execute()
    await db.schema
      .createIndex('registration_tokens_org')
      .on('registration_tokens')
      .columns(['org_id', 'created_at'])
      .execute()

    await db.schema
      .createTable('devices')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('uid', 'text', (c) => c.notNull())
      .addColumn('model', 'text', (c) => c.notNull())
      .addColumn('version', 'text', (c) => c.notNull())
      .addColumn('hostname', 'text', (c) => c.notNull())
      .addColumn('deployment', 'text', (c) => c.notNull())
      .addColumn('cluster_name', 'text')
      .addColumn('region', 'text', (c) => c.notNull())
      .addColumn('credential_digest', 'text', (c) => c.notNull())
      .addColumn('registration_token_id', 'text', (c) => c.notNull())
      .addColumn('registered_at', 'bigint', (c) => c.notNull())
      .addColumn('deregistered_at', 'bigint')
      .addColumn('last_seen_at', 'bigint')
      .addColumn('connected_at', 'bigint')
      .addColumn('connected_node', 'text')
      .addColumn('threat_response_enabled', 'integer')
      .addColumn('telemetry_enabled', 'integer')
      .addColumn('remote_ip', 'text')
      .execute()
    await db.schema
      .createIndex('devices_credential')
      .unique()
      .on('devices')
      .column('credential_digest')
      .execute()
    await db.schema
      .createIndex('devices_org_uid')
      .on('devices')
      .columns(['org_id', 'uid'])
      .execute()

    await withAutoId(db.schema.createTable('device_telemetry'), dialect)
      .addColumn('org_id', 'text', (c) => c.notNull())
      .addColumn('device_id', 'text', (c) => c.notNull().references('devices.id'))
      .addColumn('received_at', 'bigint', (c) => c.notNull())
      .addColumn('payload', 'text', (c) => c.notNull())
      .execute()
    await db.schema
      .createIndex('device_telemetry_device')
      .on('device_telemetry')
      .columns(['device_id', 'received_at'])
      .execute()
  },
}
