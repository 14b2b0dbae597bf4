import { sql, type Kysely } from 'kysely'
import type { DialectMigration } from '../../migrate.js'

/** Values longer than this are indexed by their first characters (B-tree entry limits). */
export const PREFIX = 200

/**
 * Indexes of the tracking search and reports over the tracking tables (0100), so that every
 * filter is an index lookup (0302 does the same for the content pipeline's tables):
 *
 * - `is` / `begins_with` on senders, recipients, subjects and attachment names: B-tree on
 *   `lower(column)` (PostgreSQL in the "C" collation, so that a prefix is a range);
 * - `contains`: trigram indexes — SQLite FTS5 `trigram` tables kept in step by triggers
 *   (external content, sqlite.org/fts5.html §4.4.3), PostgreSQL `pg_trgm` GIN indexes;
 * - sender domains and direction with the time.
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
    ]
    for (const [name, table, expression] of btree) {
      await db.schema.createIndex(name).on(table).expression(expression).execute()
    }
    for (const [name, table, columns] of [
      ['messages_sender_domain', 'messages', ['sender_domain', 'received_at']],
      ['messages_direction', 'messages', ['direction', 'received_at']],
    ] as const) {
      await db.schema
        .createIndex(name)
        .on(table)
        .columns([...columns])
        .execute()
    }

    if (dialect === 'postgres') {
      await createTrigramIndexes(db, [
        ['messages_subject_trgm', 'messages', 'subject'],
        ['messages_sender_trgm', 'messages', 'envelope_sender'],
        ['message_recipients_trgm', 'message_recipients', 'recipient'],
      ])
      return
    }

    await createTrigramTables(db, [
      ['messages_fts', 'messages', ['subject', 'envelope_sender'], 'mid'],
      ['message_recipients_fts', 'message_recipients', ['recipient'], 'rowid'],
    ])
  },
}

/** PostgreSQL: GIN trigram indexes on lower(column) for `contains` (pg_trgm). */
export async function createTrigramIndexes(
  db: Kysely<unknown>,
  indexes: [name: string, table: string, column: string][],
): Promise<void> {
  // pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it.
  await sql`create extension if not exists pg_trgm`.execute(db)
  for (const [name, table, column] of indexes) {
    await sql`create index ${sql.raw(name)} on ${sql.table(table)} using gin (lower(${sql.ref(column)}) gin_trgm_ops)`.execute(
      db,
    )
  }
}

/**
 * SQLite: one FTS5 trigram table per searched table, holding only the searched columns and
 * reading them from the table itself (external content, sqlite.org/fts5.html §4.4.3), kept in
 * step by triggers, and filled with the rows written before.
 */
export async function createTrigramTables(
  db: Kysely<unknown>,
  tables: [name: string, table: string, columns: string[], rowid: string][],
): Promise<void> {
  for (const [name, table, columns, rowid] of tables) {
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
}

/**
 * `lower(column)` cut to the indexable prefix (a hostile subject or address can be kilobytes);
 * the search compares with exactly this expression, then the full value.
 */
export function lowerPrefix(dialect: 'sqlite' | 'postgres', column: string): string {
  return dialect === 'postgres'
    ? `substr(lower(${column}), 1, ${PREFIX}) collate "C"`
    : `substr(lower(${column}), 1, ${PREFIX})`
}
