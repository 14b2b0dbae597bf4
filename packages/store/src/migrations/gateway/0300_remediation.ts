import type { DialectMigration } from '../../migrate.js'
import { withAutoId } from '../../migrate.js'

/**
 * Mailbox remediation: profiles (how to reach the mailboxes of a set of recipient domains, with
 * their secrets sealed by SecretBox), runs (one request to delete/forward, who asked and from
 * where) and targets (one recipient mailbox × Message-ID per run, with its own result, so a
 * retry redoes only what did not finish).
 */
export const remediationMigration: DialectMigration = {
  async up(db, dialect) {
    await db.schema
      .createTable('remediation_profiles')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('domains', 'text', (c) => c.notNull().defaultTo('[]'))
      .addColumn('settings', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('secrets', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_by', 'text', (c) => c.notNull())
      .execute()

    await db.schema
      .createTable('remediation_runs')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('trigger', 'text', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('actor_type', 'text', (c) => c.notNull())
      .addColumn('actor_id', 'text', (c) => c.notNull())
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('remote_ip', 'text')
      .addColumn('forward_to', 'text', (c) => c.notNull().defaultTo('[]'))
      .addColumn('idempotency_key', 'text')
      .addColumn('details', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('total', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('done', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('not_found', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('failed', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addColumn('finished_at', 'bigint')
      .execute()
    await db.schema
      .createIndex('remediation_runs_idempotency')
      .unique()
      .on('remediation_runs')
      .column('idempotency_key')
      .execute()
    await db.schema
      .createIndex('remediation_runs_created')
      .on('remediation_runs')
      .column('created_at')
      .execute()

    await withAutoId(db.schema.createTable('remediation_targets'), dialect)
      .addColumn('run_id', 'text', (c) =>
        c.notNull().references('remediation_runs.id').onDelete('cascade'),
      )
      .addColumn('message_id', 'text', (c) => c.notNull())
      .addColumn('recipient', 'text', (c) => c.notNull())
      .addColumn('mids', 'text', (c) => c.notNull().defaultTo('[]'))
      .addColumn('profile', 'text')
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('forwarded', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('deleted', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('folders', 'text', (c) => c.notNull().defaultTo('[]'))
      .addColumn('error_code', 'text')
      .addColumn('error_message', 'text')
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute()
    await db.schema
      .createIndex('remediation_targets_run')
      .unique()
      .on('remediation_targets')
      .columns(['run_id', 'message_id', 'recipient'])
      .execute()
    await db.schema
      .createIndex('remediation_targets_message')
      .on('remediation_targets')
      .columns(['message_id', 'recipient'])
      .execute()
  },
}
