import type { DialectMigration } from '../../migrate.js'
import { withAutoId } from '../../migrate.js'

/**
 * Message tracking (gateway): one row per mail transaction (MID), one per envelope recipient
 * with its own status, an event timeline, and the observables index (type, value → MID) that
 * makes every observable search an index lookup.
 */
export const trackingMigration: DialectMigration = {
  async up(db, dialect) {
    await db.schema
      .createTable('messages')
      .addColumn('mid', 'bigint', (c) => c.primaryKey())
      .addColumn('icid', 'bigint', (c) => c.notNull())
      .addColumn('received_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addColumn('listener', 'text', (c) => c.notNull())
      .addColumn('sender_group', 'text')
      .addColumn('hat_policy', 'text')
      .addColumn('direction', 'text', (c) => c.notNull())
      .addColumn('sender_ip', 'text', (c) => c.notNull())
      .addColumn('sender_rdns', 'text')
      .addColumn('helo', 'text')
      .addColumn('tls', 'text')
      .addColumn('auth_user', 'text')
      .addColumn('envelope_sender', 'text', (c) => c.notNull())
      .addColumn('sender_domain', 'text')
      .addColumn('message_id', 'text')
      .addColumn('subject', 'text')
      .addColumn('header_from', 'text')
      .addColumn('header_to', 'text')
      .addColumn('header_reply_to', 'text')
      .addColumn('size', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('recipient_count', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('reply', 'text')
      .execute()
    for (const [name, columns] of [
      ['messages_received_at', ['received_at']],
      ['messages_icid', ['icid']],
      ['messages_message_id', ['message_id']],
      ['messages_envelope_sender', ['envelope_sender', 'received_at']],
      ['messages_sender_ip', ['sender_ip', 'received_at']],
      ['messages_status', ['status', 'received_at']],
    ] as const) {
      await db.schema
        .createIndex(name)
        .on('messages')
        .columns([...columns])
        .execute()
    }

    await db.schema
      .createTable('message_recipients')
      .addColumn('mid', 'bigint', (c) => c.notNull())
      .addColumn('rcpt_index', 'integer', (c) => c.notNull())
      .addColumn('recipient', 'text', (c) => c.notNull())
      .addColumn('domain', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('last_reply', 'text')
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('message_recipients_pk', ['mid', 'rcpt_index'])
      .execute()
    await db.schema
      .createIndex('message_recipients_recipient')
      .on('message_recipients')
      .columns(['recipient'])
      .execute()
    await db.schema
      .createIndex('message_recipients_domain')
      .on('message_recipients')
      .columns(['domain'])
      .execute()

    await withAutoId(db.schema.createTable('message_events'), dialect)
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addColumn('mid', 'bigint')
      .addColumn('icid', 'bigint')
      .addColumn('dcid', 'bigint')
      .addColumn('event', 'text', (c) => c.notNull())
      .addColumn('recipient', 'text')
      .addColumn('details', 'text', (c) => c.notNull().defaultTo('{}'))
      .execute()
    await db.schema
      .createIndex('message_events_mid')
      .on('message_events')
      .columns(['mid', 'at'])
      .execute()
    await db.schema
      .createIndex('message_events_icid')
      .on('message_events')
      .columns(['icid', 'at'])
      .execute()

    // value_key is the value itself when short, a prefix plus a SHA-256 when long, so that the
    // unique index stays under PostgreSQL's B-tree entry limit whatever an attacker sends.
    await db.schema
      .createTable('observables')
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('value_key', 'text', (c) => c.notNull())
      .addColumn('value', 'text', (c) => c.notNull())
      .addColumn('mid', 'bigint', (c) => c.notNull())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('observables_pk', ['type', 'value_key', 'mid'])
      .execute()
    await db.schema.createIndex('observables_mid').on('observables').columns(['mid']).execute()
  },
}
