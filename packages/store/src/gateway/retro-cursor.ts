import { sql, type Kysely } from 'kysely'
import { systemClock, type Clock } from '@postern/core'
import type { GatewaySchema } from './schema.js'

/** A block-list entry as retro-remediation reads it (content pipeline table, migration 0200). */
export interface BlocklistEntryRow {
  id: number
  kind: string
  value: string
  source: string
  reason: string
  createdBy: string
  createdAt: number
}

/** Reads new block-list entries after a stored cursor. */
export class RetroCursorRepository {
  constructor(
    private readonly db: Kysely<GatewaySchema>,
    private readonly clock: Clock = systemClock,
  ) {}

  /** The stored cursor, or null the first time. */
  async get(name: string): Promise<number | null> {
    const row = await this.db
      .selectFrom('retro_remediation_cursor')
      .select('last_id')
      .where('name', '=', name)
      .executeTakeFirst()
    return row ? Number(row.last_id) : null
  }

  async set(name: string, lastId: number): Promise<void> {
    await this.db
      .insertInto('retro_remediation_cursor')
      .values({ name, last_id: lastId, updated_at: this.clock.now() })
      .onConflict((oc) =>
        oc.column('name').doUpdateSet({ last_id: lastId, updated_at: this.clock.now() }),
      )
      .execute()
  }

  /** The highest block-list entry id (0 when there is none). */
  async highestEntryId(): Promise<number> {
    const rows = await sql<{
      id: number | null
    }>`select max(id) as id from blocklist_entries`.execute(this.db)
    return Number(rows.rows[0]?.id ?? 0)
  }

  /** Entries added after `afterId`, oldest first. */
  async entriesAfter(afterId: number, limit: number): Promise<BlocklistEntryRow[]> {
    const rows = await sql<{
      id: number
      kind: string
      value: string
      source: string
      reason: string
      created_by: string
      created_at: number
    }>`select id, kind, value, source, reason, created_by, created_at from blocklist_entries
        where id > ${afterId} order by id limit ${limit}`.execute(this.db)
    return rows.rows.map((r) => ({
      id: Number(r.id),
      kind: r.kind,
      value: r.value,
      source: r.source,
      reason: r.reason,
      createdBy: r.created_by,
      createdAt: Number(r.created_at),
    }))
  }
}
