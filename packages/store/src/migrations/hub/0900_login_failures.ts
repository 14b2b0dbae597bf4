import type { DialectMigration } from '../../migrate.js'
import { withAutoId } from '../../migrate.js'

/**
 * Failed console logins in the database rather than in one process, so that hub nodes behind a
 * load balancer share the lockout: an attacker spreading guesses across nodes meets the same
 * limit as one hitting a single node.
 */
export const hubLoginFailuresMigration: DialectMigration = {
  async up(db, dialect) {
    await withAutoId(db.schema.createTable('login_failures'), dialect)
      .addColumn('key_digest', 'text', (c) => c.notNull())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .execute()
    await db.schema
      .createIndex('login_failures_key_at')
      .on('login_failures')
      .columns(['key_digest', 'at'])
      .execute()
    await db.schema.createIndex('login_failures_at').on('login_failures').columns(['at']).execute()
  },
}
