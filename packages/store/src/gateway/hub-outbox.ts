import type { Generated, Kysely } from 'kysely'

export interface HubOutboxTable {
  id: Generated<number>
  machine: string
  body: string
  created_at: number
}

export interface HubOutboxSchema {
  hub_outbox: HubOutboxTable
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

  async count(machine: string): Promise<number> {
    const row = await this.db
      .selectFrom('hub_outbox')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('machine', '=', machine)
      .executeTakeFirstOrThrow()
    return Number(row.n)
  }
}
