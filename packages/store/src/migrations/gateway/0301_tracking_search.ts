import { sql } from 'kysely'
import type { DialectMigration } from '../../migrate.js'

/** Values longer than this are indexed by their first characters (B-tree entry limits). */
export const PREFIX = 200

/**
 * Indexes of the tracking search and reports (over the tables of 0100 tracking and 0200 content
 * pipeline), so that every filter is an index lookup:
 *
 * - `is` / `begins_with` on senders, recipients, subjects and attachment names: B-tree on
 *   `lower(column)` (PostgreSQL in the "C" collation, so that a prefix is a range);
 * - `contains`: trigram indexes — SQLite FTS5 `trigram` tables kept in step by triggers
 *   (external content, sqlite.org/fts5.html §4.4.3), PostgreSQL `pg_trgm` GIN indexes;
 * - URLs (by prefix, then exact), URL domains and hosts, attachment hashes, sender domains.
 */
export const trackingSearchMigration: DialectMigration = {
  async up(db, dialect) {
    const btree: [string, string, ReturnType<typeof sql.raw>][] = [
      ['messages_sender_lower', 'messages', sql.raw(lowerPrefix(dialect, 'envelope_sender'))],
      ['messages_subject_lower', 'messages', sql.raw(lowerPrefix(dialect, 'subject'))],
      [
        'message_recipients_lower',
        'message_recipients',
        sql.raw(lowerPrefix(dialect, 'recipient')),
      ],
      [
        'message_attachments_name_lower',
        'message_attachments',
        sql.raw(lowerPrefix(dialect, 'filename')),
      ],
      ['message_urls_url_prefix', 'message_urls', sql.raw(`substr(url, 1, ${PREFIX})`)],
    ]
    for (const [name, table, expression] of btree) {
      await db.schema.createIndex(name).on(table).expression(expression).execute()
    }
    for (const [name, table, columns] of [
      ['messages_sender_domain', 'messages', ['sender_domain', 'received_at']],
      ['messages_direction', 'messages', ['direction', 'received_at']],
      ['message_urls_domain', 'message_urls', ['domain']],
      ['message_urls_host', 'message_urls', ['host']],
      ['message_attachments_sha256', 'message_attachments', ['sha256']],
      ['message_attachments_md5', 'message_attachments', ['md5']],
      ['message_attachments_sha1', 'message_attachments', ['sha1']],
    ] as const) {
      await db.schema
        .createIndex(name)
        .on(table)
        .columns([...columns])
        .execute()
    }

    if (dialect === 'postgres') {
      // pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it.
      await sql`create extension if not exists pg_trgm`.execute(db)
      for (const [name, table, column] of [
        ['messages_subject_trgm', 'messages', 'subject'],
        ['messages_sender_trgm', 'messages', 'envelope_sender'],
        ['message_recipients_trgm', 'message_recipients', 'recipient'],
        ['message_attachments_name_trgm', 'message_attachments', 'filename'],
      ] as const) {
        await sql`create index ${sql.raw(name)} on ${sql.table(table)} using gin (lower(${sql.ref(column)}) gin_trgm_ops)`.execute(
          db,
        )
      }
      return
    }

    // SQLite: one FTS5 trigram table per searched table, holding only the searched columns
    // and reading them from the table itself (content=…), kept in step by triggers.
    const fts: [string, string, string[], string][] = [
      ['messages_fts', 'messages', ['subject', 'envelope_sender'], 'mid'],
      ['message_recipients_fts', 'message_recipients', ['recipient'], 'rowid'],
      ['message_attachments_fts', 'message_attachments', ['filename'], 'rowid'],
    ]
    for (const [name, table, columns, rowid] of fts) {
      const cols = columns.join(', ')
      const newValues = columns.map((c) => `new.${c}`).join(', ')
      const oldValues = columns.map((c) => `old.${c}`).join(', ')
      await sql
        .raw(
          `create virtual table ${name} using fts5(${cols}, content='${table}', content_rowid='${rowid}', tokenize='trigram')`,
        )
        .execute(db)
      await sql
        .raw(
          `create trigger ${name}_ai after insert on ${table} begin
             insert into ${name}(rowid, ${cols}) values (new.${rowid}, ${newValues});
           end`,
        )
        .execute(db)
      await sql
        .raw(
          `create trigger ${name}_ad after delete on ${table} begin
             insert into ${name}(${name}, rowid, ${cols}) values ('delete', old.${rowid}, ${oldValues});
           end`,
        )
        .execute(db)
      await sql
        .raw(
          `create trigger ${name}_au after update of ${cols} on ${table} begin
             insert into ${name}(${name}, rowid, ${cols}) values ('delete', old.${rowid}, ${oldValues});
             insert into ${name}(rowid, ${cols}) values (new.${rowid}, ${newValues});
           end`,
        )
        .execute(db)
      // Rows written before this migration.
      await sql.raw(`insert into ${name}(${name}) values ('rebuild')`).execute(db)
    }
  },
}

/**
 * `lower(column)` cut to the indexable prefix (a hostile subject or address can be kilobytes);
 * the search compares with exactly this expression, then the full value.
 */
function lowerPrefix(dialect: 'sqlite' | 'postgres', column: string): string {
  return dialect === 'postgres'
    ? `substr(lower(${column}), 1, ${PREFIX}) collate "C"`
    : `substr(lower(${column}), 1, ${PREFIX})`
}
