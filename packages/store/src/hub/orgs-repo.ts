import type { Kysely } from 'kysely'
import { changingOrg } from './org-versions.js'
import type { HubSchema, OrgsTable } from './schema.js'

export interface Org {
  id: string
  name: string
  enabled: boolean
  createdAt: number
  updatedAt: number
}

function toOrg(row: OrgsTable): Org {
  return {
    id: row.id,
    name: row.name,
    enabled: row.enabled === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  }
}

/** Organisations: the tenant boundary every other hub record hangs from. */
export class OrgsRepo {
  constructor(private readonly db: Kysely<HubSchema>) {}

  async insert(org: { id: string; name: string; now: number }): Promise<Org> {
    const row = { id: org.id, name: org.name, enabled: 1, created_at: org.now, updated_at: org.now }
    await this.db.insertInto('orgs').values(row).execute()
    return toOrg(row)
  }

  async get(id: string): Promise<Org | undefined> {
    const row = await this.db.selectFrom('orgs').selectAll().where('id', '=', id).executeTakeFirst()
    return row && toOrg(row)
  }

  async findByName(name: string): Promise<Org | undefined> {
    const row = await this.db
      .selectFrom('orgs')
      .selectAll()
      .where('name', '=', name)
      .orderBy('created_at')
      .executeTakeFirst()
    return row && toOrg(row)
  }

  async list(): Promise<Org[]> {
    const rows = await this.db.selectFrom('orgs').selectAll().orderBy('created_at').execute()
    return rows.map(toOrg)
  }

  async setEnabled(id: string, enabled: boolean, now: number): Promise<boolean> {
    const result = await changingOrg(this.db, id, (trx) =>
      trx
        .updateTable('orgs')
        .set({ enabled: enabled ? 1 : 0, updated_at: now })
        .where('id', '=', id)
        .executeTakeFirst(),
    )
    return result.numUpdatedRows > 0n
  }
}
