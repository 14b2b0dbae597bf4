import type { Kysely } from 'kysely'
import type { HubSchema } from './schema.js'

/** Named JSON preferences of one user in one org (the ribbon's state, …). */
export class UserPreferencesStore {
  constructor(private readonly db: Kysely<HubSchema>) {}

  async get(orgId: string, userId: string, name: string): Promise<unknown> {
    const row = await this.db
      .selectFrom('user_preferences')
      .select('value')
      .where('org_id', '=', orgId)
      .where('user_id', '=', userId)
      .where('name', '=', name)
      .executeTakeFirst()
    return row ? (JSON.parse(row.value) as unknown) : undefined
  }

  async set(
    orgId: string,
    userId: string,
    name: string,
    value: unknown,
    at: number,
  ): Promise<void> {
    const json = JSON.stringify(value)
    await this.db
      .insertInto('user_preferences')
      .values({ org_id: orgId, user_id: userId, name, value: json, updated_at: at })
      .onConflict((oc) =>
        oc.columns(['org_id', 'user_id', 'name']).doUpdateSet({ value: json, updated_at: at }),
      )
      .execute()
  }
}
