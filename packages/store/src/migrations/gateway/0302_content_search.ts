import { sql } from 'kysely'
import type { DialectMigration } from '../../migrate.js'
import {
  createTrigramIndexes,
  createTrigramTables,
  lowerPrefix,
  PREFIX,
} from './0301_tracking_search.js'

/**
 * Search indexes over the content pipeline's tables (0200): attachment names (`is`,
 * `begins_with`, `contains`), attachment hashes, URLs (by prefix, then exact), URL domains and
 * hosts — each an index lookup.
 */
export const contentSearchMigration: DialectMigration = {
  async up(db, dialect) {
    await db.schema
      .createIndex('message_attachments_name_lower')
      .on('message_attachments')
      .expression(sql.raw(lowerPrefix(dialect, 'filename')))
      .execute()
    await db.schema
      .createIndex('message_urls_url_prefix')
      .on('message_urls')
      .expression(sql.raw(`substr(url, 1, ${PREFIX})`))
      .execute()
    for (const [name, table, column] of [
      ['message_urls_domain', 'message_urls', 'domain'],
      ['message_urls_host', 'message_urls', 'host'],
      ['message_attachments_sha256', 'message_attachments', 'sha256'],
      ['message_attachments_md5', 'message_attachments', 'md5'],
      ['message_attachments_sha1', 'message_attachments', 'sha1'],
    ] as const) {
      await db.schema.createIndex(name).on(table).column(column).execute()
    }
    if (dialect === 'postgres') {
      await createTrigramIndexes(db, [
        ['message_attachments_name_trgm', 'message_attachments', 'filename'],
      ])
      return
    }
    await createTrigramTables(db, [
      ['message_attachments_fts', 'message_attachments', ['filename'], 'rowid'],
    ])
  },
}
