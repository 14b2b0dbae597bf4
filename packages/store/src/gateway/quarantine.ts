import { sql, type Kysely, type Selectable } from 'kysely'
import { safeText } from '../safe-text.js'
import type { ContentSchema, QuarantineItemsTable } from './content-schema.js'

export type QuarantineStatus = 'held' | 'released' | 'deleted' | 'expired'

export interface NewQuarantineItem {
  mid: number
  quarantine: string
  reason: string
  direction: string
  envelopeSender: string
  recipients: readonly string[]
  subject: string | null
  headerFrom: string | null
  createdAt: number
  expiresAt: number
  /** The original message, byte for byte. */
  content: Buffer
}

export interface QuarantineItem {
  id: number
  mid: number
  quarantine: string
  status: QuarantineStatus
  reason: string
  direction: string
  envelopeSender: string
  recipients: string[]
  subject: string | null
  headerFrom: string | null
  size: number
  createdAt: number
  expiresAt: number
  resolvedAt: number | null
  resolvedBy: string | null
}

export interface QuarantineQuery {
  quarantine?: string
  status?: QuarantineStatus
  /** Case-insensitive substring of sender, header From, subject or a recipient. */
  search?: string
  mid?: number
  since?: number
  until?: number
  limit?: number
  offset?: number
}

function toItem(row: Selectable<QuarantineItemsTable>): QuarantineItem {
  return {
    id: Number(row.id),
    mid: Number(row.mid),
    quarantine: row.quarantine,
    status: row.status as QuarantineStatus,
    reason: row.reason,
    direction: row.direction,
    envelopeSender: row.envelope_sender,
    recipients: JSON.parse(row.recipients) as string[],
    subject: row.subject,
    headerFrom: row.header_from,
    size: Number(row.size),
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
    resolvedAt: row.resolved_at === null ? null : Number(row.resolved_at),
    resolvedBy: row.resolved_by,
  }
}

/** Escapes LIKE wildcards so that a search for `50%` finds "50%" only. */
function likePattern(value: string): string {
  return `%${value.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`
}

/**
 * Named quarantines: metadata in `quarantine_items`, the original bytes in
 * `quarantine_contents`. Putting a message in is idempotent per (MID, quarantine), so a
 * message processed again after a crash is not held twice. Status changes are conditional
 * (`held` → something else), so two operators cannot both release one message.
 */
export class QuarantineStore {
  constructor(private readonly db: Kysely<ContentSchema>) {}

  /** Stores the item and its bytes in one transaction; returns the id (existing one if any). */
  async hold(item: NewQuarantineItem): Promise<{ id: number; created: boolean }> {
    return this.db.transaction().execute(async (trx) => {
      const existing = await trx
        .selectFrom('quarantine_items')
        .select('id')
        .where('mid', '=', item.mid)
        .where('quarantine', '=', item.quarantine)
        .executeTakeFirst()
      if (existing) return { id: Number(existing.id), created: false }
      const row = await trx
        .insertInto('quarantine_items')
        .values({
          mid: item.mid,
          quarantine: item.quarantine,
          status: 'held',
          reason: safeText(item.reason),
          direction: item.direction,
          envelope_sender: safeText(item.envelopeSender),
          recipients: JSON.stringify(item.recipients),
          subject: safeText(item.subject),
          header_from: safeText(item.headerFrom),
          size: item.content.length,
          created_at: item.createdAt,
          expires_at: item.expiresAt,
          resolved_at: null,
          resolved_by: null,
        })
        .returning('id')
        .executeTakeFirstOrThrow()
      await trx
        .insertInto('quarantine_contents')
        .values({ item_id: Number(row.id), content: item.content })
        .execute()
      return { id: Number(row.id), created: true }
    })
  }

  async get(id: number): Promise<QuarantineItem | undefined> {
    const row = await this.db
      .selectFrom('quarantine_items')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst()
    return row ? toItem(row) : undefined
  }

  async content(id: number): Promise<Buffer | undefined> {
    const row = await this.db
      .selectFrom('quarantine_contents')
      .select('content')
      .where('item_id', '=', id)
      .executeTakeFirst()
    return row ? Buffer.from(row.content) : undefined
  }

  async list(query: QuarantineQuery = {}): Promise<{ total: number; items: QuarantineItem[] }> {
    let q = this.db.selectFrom('quarantine_items')
    if (query.quarantine !== undefined) q = q.where('quarantine', '=', query.quarantine)
    if (query.status !== undefined) q = q.where('status', '=', query.status)
    if (query.mid !== undefined) q = q.where('mid', '=', query.mid)
    if (query.since !== undefined) q = q.where('created_at', '>=', query.since)
    if (query.until !== undefined) q = q.where('created_at', '<', query.until)
    if (query.search !== undefined && query.search.trim() !== '') {
      const pattern = likePattern(query.search.trim())
      // ESCAPE makes the backslash escapes mean the same on SQLite and PostgreSQL.
      q = q.where((eb) =>
        eb.or(
          (['envelope_sender', 'header_from', 'subject', 'recipients'] as const).map(
            (column) => sql<boolean>`lower(${sql.ref(column)}) like ${pattern} escape '\\'`,
          ),
        ),
      )
    }
    const counted = await q.select((eb) => eb.fn.countAll<number>().as('total')).executeTakeFirst()
    const rows = await q
      .selectAll()
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(Math.min(query.limit ?? 50, 1000))
      .offset(query.offset ?? 0)
      .execute()
    return { total: Number(counted?.total ?? 0), items: rows.map(toItem) }
  }

  /**
   * Moves a held item to `status`, dropping its bytes unless it was released (a released
   * message's bytes are kept until delivery succeeds elsewhere; the caller deletes them).
   * Returns false when the item was not held any more.
   */
  async resolve(
    id: number,
    status: Exclude<QuarantineStatus, 'held'>,
    by: string,
    at: number,
  ): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const updated = await trx
        .updateTable('quarantine_items')
        .set({ status, resolved_at: at, resolved_by: by })
        .where('id', '=', id)
        .where('status', '=', 'held')
        .executeTakeFirst()
      if (Number(updated.numUpdatedRows) !== 1) return false
      if (status !== 'released') {
        await trx.deleteFrom('quarantine_contents').where('item_id', '=', id).execute()
      }
      return true
    })
  }

  /** Drops the bytes of a released item once the delivery queue holds its own copy. */
  async dropContent(id: number): Promise<void> {
    await this.db.deleteFrom('quarantine_contents').where('item_id', '=', id).execute()
  }

  /**
   * Released items whose bytes are still here: the gateway stopped between marking them
   * released and handing them to the delivery queue. They are handed over again at start.
   */
  async unfinishedReleases(limit: number): Promise<QuarantineItem[]> {
    const rows = await this.db
      .selectFrom('quarantine_items')
      .innerJoin('quarantine_contents', 'quarantine_contents.item_id', 'quarantine_items.id')
      .selectAll('quarantine_items')
      .where('quarantine_items.status', '=', 'released')
      .orderBy('quarantine_items.id')
      .limit(limit)
      .execute()
    return rows.map(toItem)
  }

  /** Held items whose retention is over, oldest first. */
  async expired(now: number, limit: number): Promise<QuarantineItem[]> {
    const rows = await this.db
      .selectFrom('quarantine_items')
      .selectAll()
      .where('status', '=', 'held')
      .where('expires_at', '<=', now)
      .orderBy('expires_at')
      .limit(limit)
      .execute()
    return rows.map(toItem)
  }

  /** Held items and bytes per quarantine, for the console and metrics. */
  async counts(): Promise<{ quarantine: string; held: number; bytes: number }[]> {
    const rows = await this.db
      .selectFrom('quarantine_items')
      .select((eb) => [
        'quarantine',
        eb.fn.countAll<number>().as('held'),
        eb.fn.sum<number>('size').as('bytes'),
      ])
      .where('status', '=', 'held')
      .groupBy('quarantine')
      .execute()
    return rows.map((r) => ({
      quarantine: r.quarantine,
      held: Number(r.held),
      bytes: Number(r.bytes ?? 0),
    }))
  }
}
