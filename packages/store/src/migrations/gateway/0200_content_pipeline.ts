import type { DialectMigration } from '../../migrate.js'
import { withAutoId } from '../../migrate.js'

/**
 * Content pipeline (gateway): what the analysis of each message found (verdicts, authentication,
 * scanner results, policy decision), its URLs and attachments (archive entries included), the
 * named quarantines with the original bytes, the block lists, blocked (compromised) users, and
 * what the pipeline learns over time (sender domains first seen, internal senders' names).
 */
export const contentPipelineMigration: DialectMigration = {
  async up(db, dialect) {
    const blob = dialect === 'sqlite' ? 'blob' : 'bytea'

    await db.schema
      .createTable('message_analysis')
      .addColumn('mid', 'bigint', (c) => c.primaryKey())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addColumn('direction', 'text', (c) => c.notNull())
      .addColumn('verdicts', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('spam', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('virus', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('malformed', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('blocked', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('phish', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('auth_failed', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('quarantined', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('spf', 'text')
      .addColumn('dkim', 'text')
      .addColumn('dmarc', 'text')
      .addColumn('policy', 'text')
      .addColumn('summary', 'text', (c) => c.notNull().defaultTo('{}'))
      .execute()
    for (const flag of [
      'spam',
      'virus',
      'malformed',
      'blocked',
      'phish',
      'auth_failed',
      'quarantined',
    ]) {
      await db.schema
        .createIndex(`message_analysis_${flag}`)
        .on('message_analysis')
        .columns([flag, 'at'])
        .execute()
    }

    await db.schema
      .createTable('message_urls')
      .addColumn('mid', 'bigint', (c) => c.notNull())
      .addColumn('idx', 'integer', (c) => c.notNull())
      .addColumn('url', 'text', (c) => c.notNull())
      .addColumn('host', 'text', (c) => c.notNull())
      .addColumn('domain', 'text', (c) => c.notNull())
      .addColumn('sources', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('message_urls_pk', ['mid', 'idx'])
      .execute()

    await db.schema
      .createTable('message_attachments')
      .addColumn('mid', 'bigint', (c) => c.notNull())
      .addColumn('idx', 'integer', (c) => c.notNull())
      .addColumn('parent_idx', 'integer')
      .addColumn('part', 'text', (c) => c.notNull())
      .addColumn('filename', 'text')
      .addColumn('declared_type', 'text')
      .addColumn('sniffed_type', 'text')
      .addColumn('extension', 'text')
      .addColumn('size', 'bigint', (c) => c.notNull())
      .addColumn('sha256', 'text')
      .addColumn('md5', 'text')
      .addColumn('sha1', 'text')
      .addColumn('encrypted', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('macros', 'integer', (c) => c.notNull().defaultTo(0))
      .addPrimaryKeyConstraint('message_attachments_pk', ['mid', 'idx'])
      .execute()

    await withAutoId(db.schema.createTable('quarantine_items'), dialect)
      .addColumn('mid', 'bigint', (c) => c.notNull())
      .addColumn('quarantine', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('direction', 'text', (c) => c.notNull())
      .addColumn('envelope_sender', 'text', (c) => c.notNull())
      .addColumn('recipients', 'text', (c) => c.notNull())
      .addColumn('subject', 'text')
      .addColumn('header_from', 'text')
      .addColumn('size', 'bigint', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('resolved_at', 'bigint')
      .addColumn('resolved_by', 'text')
      .addUniqueConstraint('quarantine_items_mid_quarantine', ['mid', 'quarantine'])
      .execute()
    await db.schema
      .createIndex('quarantine_items_list')
      .on('quarantine_items')
      .columns(['quarantine', 'status', 'created_at'])
      .execute()
    await db.schema
      .createIndex('quarantine_items_expiry')
      .on('quarantine_items')
      .columns(['status', 'expires_at'])
      .execute()
    await db.schema
      .createTable('quarantine_contents')
      .addColumn('item_id', 'bigint', (c) => c.primaryKey())
      .addColumn('content', blob, (c) => c.notNull())
      .execute()

    await withAutoId(db.schema.createTable('blocklist_entries'), dialect)
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('value', 'text', (c) => c.notNull())
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint')
      .addColumn('external_ref', 'text')
      .addUniqueConstraint('blocklist_entries_kind_value', ['kind', 'value'])
      .execute()
    await db.schema
      .createIndex('blocklist_entries_created')
      .on('blocklist_entries')
      .columns(['created_at'])
      .execute()

    await db.schema
      .createTable('blocked_senders')
      .addColumn('address', 'text', (c) => c.primaryKey())
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('mid', 'bigint')
      .execute()

    await db.schema
      .createTable('sender_domains')
      .addColumn('domain', 'text', (c) => c.primaryKey())
      .addColumn('first_seen', 'bigint', (c) => c.notNull())
      .addColumn('last_seen', 'bigint', (c) => c.notNull())
      .addColumn('messages', 'bigint', (c) => c.notNull().defaultTo(0))
      .execute()

    await db.schema
      .createTable('internal_senders')
      .addColumn('address', 'text', (c) => c.primaryKey())
      .addColumn('display_name', 'text', (c) => c.notNull())
      .addColumn('name_key', 'text', (c) => c.notNull())
      .addColumn('last_seen', 'bigint', (c) => c.notNull())
      .execute()
    await db.schema
      .createIndex('internal_senders_name_key')
      .on('internal_senders')
      .columns(['name_key'])
      .execute()

    // A change counter per list, so that every gateway process (and every node sharing a
    // PostgreSQL database) reloads its in-memory block lists only when something changed.
    await db.schema
      .createTable('content_revisions')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('revision', 'bigint', (c) => c.notNull())
      .execute()
  },
}
