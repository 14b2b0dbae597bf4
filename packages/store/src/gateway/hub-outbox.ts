import type { Generated, Kysely } from 'kysely'

export interface HubOutboxTable {
  id: Generated<number>
  machine: string
  body: string
  created_at: number
}

export interface HubOutboxLossesTable {
  machine: string
  dropped: number
  first_dropped_at: number
  last_dropped_at: number
}

export interface HubOutboxSchema {
  hub_outbox: HubOutboxTable
  hub_outbox_losses: HubOutboxLossesTable
}

/** How large the queue may grow: beyond either limit the oldest events are dropped. */
export interface OutboxCap {
  maxEvents: number
  /** Events queued before this (epoch ms) are dropped. */
  createdBefore: number
}

/** Events dropped under the cap and not yet reported to the hub. */
export interface OutboxLosses {
  dropped: number
  firstDroppedAt: number
  lastDroppedAt: number
}

export interface OutboxItem {
  id: number
  body: Record<string, unknown>
  createdAt: number
}

/** The durable queue of events a gateway machine owes its hub, oldest first. */
export class HubOutboxStore {
  private readonly db: Kysely<HubOutboxSchema>

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any schema that has the outbox table
  constructor(db: Kysely<any>) {
    this.db = db as Kysely<HubOutboxSchema>
  }

  async enqueue(machine: string, bodies: Record<string, unknown>[], at: number): Promise<void> {
    if (bodies.length === 0) return
    await this.db
      .insertInto('hub_outbox')
      .values(bodies.map((body) => ({ machine, body: JSON.stringify(body), created_at: at })))
      .execute()
  }

  async oldest(machine: string, limit: number): Promise<OutboxItem[]> {
    const rows = await this.db
      .selectFrom('hub_outbox')
      .selectAll()
      .where('machine', '=', machine)
      .orderBy('id')
      .limit(limit)
      .execute()
    return rows.map((r) => ({
      id: Number(r.id),
      body: JSON.parse(r.body) as Record<string, unknown>,
      createdAt: Number(r.created_at),
    }))
  }

  async remove(ids: readonly number[]): Promise<void> {
    if (ids.length === 0) return
    await this.db
      .deleteFrom('hub_outbox')
      .where('id', 'in', [...ids])
      .execute()
  }

  /**
   * Drops the machine's oldest events beyond the cap (too old, or more than `maxEvents`) and
   * adds them to its losses, in one transaction; returns how many were dropped.
   */
  async trim(machine: string, cap: OutboxCap, now: number): Promise<number> {
    // Reads first, outside the transaction: a SQLite transaction that reads and then writes
    // fails at once when another connection (the tracking writer) wrote in between.
    const ends = await this.db
      .selectFrom('hub_outbox')
      .select((eb) => [eb.fn.min('id').as('first'), eb.fn.max('id').as('last')])
      .where('machine', '=', machine)
      .executeTakeFirst()
    if (!ends || ends.first === null || ends.last === null) return 0
    const oldest = await this.db
      .selectFrom('hub_outbox')
      .select('created_at')
      .where('id', '=', ends.first)
      .executeTakeFirst()
    const stale = oldest !== undefined && Number(oldest.created_at) < cap.createdBefore
    // Ids only grow, so fewer ids between the ends than the cap means fewer events too.
    const overCap = Number(ends.last) - Number(ends.first) + 1 > cap.maxEvents
    // The newest event that no longer fits: it and everything older go.
    const edge = overCap
      ? await this.db
          .selectFrom('hub_outbox')
          .select('id')
          .where('machine', '=', machine)
          .orderBy('id', 'desc')
          .offset(cap.maxEvents)
          .limit(1)
          .executeTakeFirst()
      : undefined
    if (!stale && !edge) return 0
    // Only writes in the transaction: the deletions and their count are one change.
    return this.db.transaction().execute(async (trx) => {
      const dropBelow = async (column: 'created_at' | 'id', bound: number) => {
        const result = await trx
          .deleteFrom('hub_outbox')
          .where('machine', '=', machine)
          .where(column, '<', bound)
          .executeTakeFirst()
        return Number(result.numDeletedRows)
      }
      let dropped = 0
      if (stale) dropped += await dropBelow('created_at', cap.createdBefore)
      if (edge) dropped += await dropBelow('id', Number(edge.id) + 1)
      if (dropped > 0)
        await trx
          .insertInto('hub_outbox_losses')
          .values({ machine, dropped, first_dropped_at: now, last_dropped_at: now })
          .onConflict((oc) =>
            oc.column('machine').doUpdateSet((eb) => ({
              dropped: eb('hub_outbox_losses.dropped', '+', eb.ref('excluded.dropped')),
              last_dropped_at: eb.ref('excluded.last_dropped_at'),
            })),
          )
          .execute()
      return dropped
    })
  }

  /** The events dropped under the cap that the hub has not been told of, if any. */
  async losses(machine: string): Promise<OutboxLosses | null> {
    const row = await this.db
      .selectFrom('hub_outbox_losses')
      .selectAll()
      .where('machine', '=', machine)
      .executeTakeFirst()
    if (!row || Number(row.dropped) <= 0) return null
    return {
      dropped: Number(row.dropped),
      firstDroppedAt: Number(row.first_dropped_at),
      lastDroppedAt: Number(row.last_dropped_at),
    }
  }

  /**
   * The hub took a report of `count` losses: they leave the count (losses added meanwhile
   * stay for the next report).
   */
  async reportedLosses(machine: string, count: number): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('hub_outbox_losses')
        .set((eb) => ({ dropped: eb('dropped', '-', count) }))
        .where('machine', '=', machine)
        .execute()
      await trx
        .deleteFrom('hub_outbox_losses')
        .where('machine', '=', machine)
        .where('dropped', '<=', 0)
        .execute()
    })
  }

  async count(machine: string): Promise<number> {
    const row = await this.db
      .selectFrom('hub_outbox')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('machine', '=', machine)
      .executeTakeFirstOrThrow()
    return Number(row.n)
  }
}
