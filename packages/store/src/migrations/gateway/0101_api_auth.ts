import type { DialectMigration } from '../../migrate.js'
import { withAutoId } from '../../migrate.js'

/**
 * Accounts of the gateway's HTTP API: users (scrypt password hashes) and tokens (SHA-256
 * digests of random 256-bit secrets: API tokens, login sessions and the local CLI credential).
 */
export const apiAuthMigration: DialectMigration = {
  async up(db, dialect) {
    await withAutoId(db.schema.createTable('api_users'), dialect)
      .addColumn('username', 'text', (c) => c.notNull().unique())
      .addColumn('password_hash', 'text', (c) => c.notNull())
      .addColumn('role', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addColumn('last_login_at', 'bigint')
      .execute()

    await withAutoId(db.schema.createTable('api_tokens'), dialect)
      .addColumn('digest', 'text', (c) => c.notNull().unique())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('role', 'text', (c) => c.notNull())
      .addColumn('user_id', 'bigint')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint')
      .addColumn('last_used_at', 'bigint')
      .execute()
    await db.schema
      .createIndex('api_tokens_kind')
      .on('api_tokens')
      .columns(['kind', 'expires_at'])
      .execute()
  },
}
