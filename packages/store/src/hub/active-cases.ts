import type { Kysely } from 'kysely'
import type { HubSchema } from './schema.js'

export interface ActiveCase {
  casebookId: string
  setAt: number
}

/** The ribbon's "active case": one casebook per user and org. */
export class ActiveCaseStore {
  constructor(private readonly db: Kysely<HubSchema>) {}

  async get(orgId: string, userId: string): Promise<ActiveCase | undefined> {
    const row = await this.db
      .selectFrom('active_cases')
      .innerJoin('ctia_entities', 'ctia_entities.id', 'active_cases.casebook_id')
      .select(['active_cases.casebook_id', 'active_cases.set_at'])
      .where('active_cases.org_id', '=', orgId)
      .where('active_cases.user_id', '=', userId)
      // The casebook must still belong to the org (ids are global, so check it explicitly).
      .where('ctia_entities.org_id', '=', orgId)
      .executeTakeFirst()
    return row ? { casebookId: row.casebook_id, setAt: Number(row.set_at) } : undefined
  }

  async set(orgId: string, userId: string, casebookId: string, at: number): Promise<void> {
    await this.db
      .insertInto('active_cases')
      .values({ org_id: orgId, user_id: userId, casebook_id: casebookId, set_at: at })
      .onConflict((oc) =>
        oc.columns(['org_id', 'user_id']).doUpdateSet({ casebook_id: casebookId, set_at: at }),
      )
      .execute()
  }

  async clear(orgId: string, userId: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('active_cases')
      .where('org_id', '=', orgId)
      .where('user_id', '=', userId)
      .executeTakeFirst()
    return Number(result.numDeletedRows) > 0
  }
}
