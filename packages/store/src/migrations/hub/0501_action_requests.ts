import type { DialectMigration } from '../../migrate.js'

/**
 * Response actions waiting for a second user's approval (seed §1): who asked what, until when,
 * and who decided, with the comment and the outcome of the run.
 */
export const hubActionRequestsMigration: DialectMigration = {
  async up(db) {
    await db.schema
      .createTable('action_requests')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id'))
      .addColumn('module_instance_id', 'text', (c) => c.notNull())
      .addColumn('action_id', 'text', (c) => c.notNull())
      .addColumn('observable_type', 'text', (c) => c.notNull())
      .addColumn('observable_value', 'text', (c) => c.notNull())
      .addColumn('extras', 'text', (c) => c.notNull())
      .addColumn('requested_by_type', 'text', (c) => c.notNull())
      .addColumn('requested_by_id', 'text', (c) => c.notNull())
      .addColumn('requested_by_user', 'text')
      .addColumn('requested_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('decided_by', 'text')
      .addColumn('decided_at', 'bigint')
      .addColumn('comment', 'text')
      .addColumn('result', 'text')
      .execute()
    await db.schema
      .createIndex('action_requests_org_status')
      .on('action_requests')
      .columns(['org_id', 'status', 'requested_at'])
      .execute()
  },
}
