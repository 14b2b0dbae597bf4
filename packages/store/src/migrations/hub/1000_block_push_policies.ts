import type { DialectMigration } from '../../migrate.js'

/**
 * Per organisation: whether a judgement's or casebook's block push waits for a second user's
 * approval (`action_requests`) before it reaches the gateways. No row: it does not.
 */
export const hubBlockPushPoliciesMigration: DialectMigration = {
  async up(db) {
    await db.schema
      .createTable('block_push_policies')
      .addColumn('org_id', 'text', (c) => c.primaryKey().references('orgs.id'))
      .addColumn('approval_required', 'integer', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_by', 'text', (c) => c.notNull())
      .execute()
  },
}
