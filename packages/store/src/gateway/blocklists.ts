import { sql, type Kysely, type Selectable } from 'kysely'
import type { BlocklistEntriesTable, BlockedSendersTable, ContentSchema } from './content-schema.js'

export const BLOCKLIST_KINDS = [
  'sender_address',
  'sender_domain',
  'sender_ip',
  'url',
  'url_domain',
  'attachment_hash',
] as const

export type BlocklistKind = (typeof BLOCKLIST_KINDS)[number]

export interface NewBlocklistEntry {
  kind: BlocklistKind
  /** Already normalised by the caller (lower-case address/domain, canonical URL, CIDR …). */
  value: string
  source: string
  reason: string
  createdBy: string
  createdAt: number
  expiresAt: number | null
  externalRef?: string | null
}

export interface BlocklistEntry extends Required<NewBlocklistEntry> {
  id: number
}

export interface BlocklistQuery {
  kind?: BlocklistKind
  /** Substring of the value. */
  search?: string
  source?: string
  /** Include entries whose expiry has passed (they no longer block). */
  includeExpired?: boolean
  now?: number
  limit?: number
  offset?: number
}

export interface BlockedSender {
  address: string
  reason: string
  source: string
  createdBy: string
  createdAt: number
  mid: number | null
}

function toEntry(row: Selectable<BlocklistEntriesTable>): BlocklistEntry {
  return {
    id: Number(row.id),
    kind: row.kind as BlocklistKind,
    value: row.value,
    source: row.source,
    reason: row.reason,
    createdBy: row.created_by,
    createdAt: Number(row.created_at),
    expiresAt: row.expires_at === null ? null : Number(row.expires_at),
    externalRef: row.external_ref,
  }
}

function toBlockedSender(row: BlockedSendersTable): BlockedSender {
  return {
    address: row.address,
    reason: row.reason,
    source: row.source,
    createdBy: row.created_by,
    createdAt: Number(row.created_at),
    mid: row.mid === null ? null : Number(row.mid),
  }
}

/**
 * Block lists and blocked (compromised) senders. Every change bumps a revision counter in the
 * same transaction, so that matchers in every gateway process sharing the database reload
 * only when something changed.
 */
export class BlocklistStore {
  constructor(private readonly db: Kysely<ContentSchema>) {}

  /** Adds an entry; returns undefined when (kind, value) is already listed. */
  async add(entry: NewBlocklistEntry): Promise<BlocklistEntry | undefined> {
    return this.db.transaction().execute(async (trx) => {
      const row = await trx
        .insertInto('blocklist_entries')
        .values({
          kind: entry.kind,
          value: entry.value,
          source: entry.source,
          reason: entry.reason,
          created_by: entry.createdBy,
          created_at: entry.createdAt,
          expires_at: entry.expiresAt,
          external_ref: entry.externalRef ?? null,
        })
        .onConflict((oc) => oc.columns(['kind', 'value']).doNothing())
        .returningAll()
        .executeTakeFirst()
      if (!row) return undefined
      await bumpRevision(trx, 'blocklists')
      return toEntry(row)
    })
  }

  async find(kind: BlocklistKind, value: string): Promise<BlocklistEntry | undefined> {
    const row = await this.db
      .selectFrom('blocklist_entries')
      .selectAll()
      .where('kind', '=', kind)
      .where('value', '=', value)
      .executeTakeFirst()
    return row ? toEntry(row) : undefined
  }

  async get(id: number): Promise<BlocklistEntry | undefined> {
    const row = await this.db
      .selectFrom('blocklist_entries')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst()
    return row ? toEntry(row) : undefined
  }

  async remove(id: number): Promise<BlocklistEntry | undefined> {
    return this.db.transaction().execute(async (trx) => {
      const row = await trx
        .deleteFrom('blocklist_entries')
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst()
      if (!row) return undefined
      await bumpRevision(trx, 'blocklists')
      return toEntry(row)
    })
  }

  async list(query: BlocklistQuery = {}): Promise<{ total: number; entries: BlocklistEntry[] }> {
    let q = this.db.selectFrom('blocklist_entries')
    if (query.kind !== undefined) q = q.where('kind', '=', query.kind)
    if (query.source !== undefined) q = q.where('source', '=', query.source)
    if (query.search !== undefined && query.search !== '') {
      const pattern = `%${query.search.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`
      q = q.where(sql<boolean>`lower(value) like ${pattern} escape '\\'`)
    }
    if (!query.includeExpired) {
      const now = query.now ?? Date.now()
      q = q.where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    }
    const counted = await q.select((eb) => eb.fn.countAll<number>().as('total')).executeTakeFirst()
    const rows = await q
      .selectAll()
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(Math.min(query.limit ?? 100, 10_000))
      .offset(query.offset ?? 0)
      .execute()
    return { total: Number(counted?.total ?? 0), entries: rows.map(toEntry) }
  }

  /** Every entry that blocks at `now` (for building the in-memory matcher). */
  async active(now: number): Promise<BlocklistEntry[]> {
    const rows = await this.db
      .selectFrom('blocklist_entries')
      .selectAll()
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
      .execute()
    return rows.map(toEntry)
  }

  /** Deletes entries expired before `now`; returns them. */
  async purgeExpired(now: number): Promise<BlocklistEntry[]> {
    return this.db.transaction().execute(async (trx) => {
      const rows = await trx
        .deleteFrom('blocklist_entries')
        .where('expires_at', 'is not', null)
        .where('expires_at', '<=', now)
        .returningAll()
        .execute()
      if (rows.length > 0) await bumpRevision(trx, 'blocklists')
      return rows.map(toEntry)
    })
  }

  async blockSender(sender: BlockedSender): Promise<{ sender: BlockedSender; created: boolean }> {
    return this.db.transaction().execute(async (trx) => {
      const row = await trx
        .insertInto('blocked_senders')
        .values({
          address: sender.address,
          reason: sender.reason,
          source: sender.source,
          created_by: sender.createdBy,
          created_at: sender.createdAt,
          mid: sender.mid,
        })
        .onConflict((oc) => oc.column('address').doNothing())
        .returningAll()
        .executeTakeFirst()
      if (row) {
        await bumpRevision(trx, 'blocked_senders')
        return { sender: toBlockedSender(row), created: true }
      }
      const existing = await trx
        .selectFrom('blocked_senders')
        .selectAll()
        .where('address', '=', sender.address)
        .executeTakeFirstOrThrow()
      return { sender: toBlockedSender(existing), created: false }
    })
  }

  async unblockSender(address: string): Promise<BlockedSender | undefined> {
    return this.db.transaction().execute(async (trx) => {
      const row = await trx
        .deleteFrom('blocked_senders')
        .where('address', '=', address)
        .returningAll()
        .executeTakeFirst()
      if (!row) return undefined
      await bumpRevision(trx, 'blocked_senders')
      return toBlockedSender(row)
    })
  }

  async blockedSender(address: string): Promise<BlockedSender | undefined> {
    const row = await this.db
      .selectFrom('blocked_senders')
      .selectAll()
      .where('address', '=', address)
      .executeTakeFirst()
    return row ? toBlockedSender(row) : undefined
  }

  async blockedSenders(): Promise<BlockedSender[]> {
    const rows = await this.db
      .selectFrom('blocked_senders')
      .selectAll()
      .orderBy('created_at', 'desc')
      .execute()
    return rows.map(toBlockedSender)
  }

  /** Current revision of `blocklists` or `blocked_senders` (0 before the first change). */
  async revision(name: 'blocklists' | 'blocked_senders'): Promise<number> {
    const row = await this.db
      .selectFrom('content_revisions')
      .select('revision')
      .where('name', '=', name)
      .executeTakeFirst()
    return row ? Number(row.revision) : 0
  }
}

async function bumpRevision(db: Kysely<ContentSchema>, name: string): Promise<void> {
  await db
    .insertInto('content_revisions')
    .values({ name, revision: 1 })
    .onConflict((oc) =>
      oc.column('name').doUpdateSet({ revision: sql`content_revisions.revision + 1` }),
    )
    .execute()
}
