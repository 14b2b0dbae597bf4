import type { DialectMigration } from '../../migrate.js'

/**
 * Console preferences per user, kept by the hub so that they follow the user from one console
 * to the other (the gateway's and the hub's consoles are different origins and share no
 * browser storage): the ribbon's open/closed state, its current app and its open case.
 */
export const hubUserPreferencesMigration: DialectMigration = {
  async up(db) {
    await db.schema
      .createTable('user_preferences')
      .addColumn('org_id', 'text', (c) => c.notNull())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('value', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('user_preferences_pk', ['org_id', 'user_id', 'name'])
      .execute()
  },
}
