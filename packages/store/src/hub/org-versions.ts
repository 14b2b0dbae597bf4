import type { Kysely } from 'kysely'
import type { HubSchema } from './schema.js'

/**
 * Bumps the change counter of an organisation (see migration 1100). Called in the transaction
 * of every write to what hub nodes cache of it, so that a node reading the new value also
 * reads the change.
 */
export async function bumpOrgVersion(db: Kysely<HubSchema>, orgId: string): Promise<void> {
  await db
    .insertInto('org_versions')
    .values({ org_id: orgId, version: 1 })
    .onConflict((oc) =>
      oc.column('org_id').doUpdateSet((eb) => ({ version: eb('org_versions.version', '+', 1) })),
    )
    .execute()
}

/** A write to what hub nodes cache of an organisation, and its change counter, in one transaction. */
export function changingOrg<T>(
  db: Kysely<HubSchema>,
  orgId: string,
  write: (trx: Kysely<HubSchema>) => Promise<T>,
): Promise<T> {
  return db.transaction().execute(async (trx) => {
    const result = await write(trx)
    await bumpOrgVersion(trx, orgId)
    return result
  })
}

/** Reads the organisations' change counters (0 for an organisation never changed since 1100). */
export class OrgVersionsRepo {
  constructor(private readonly db: Kysely<HubSchema>) {}

  async current(orgId: string): Promise<number> {
    const row = await this.db
      .selectFrom('org_versions')
      .select('version')
      .where('org_id', '=', orgId)
      .executeTakeFirst()
    return row ? Number(row.version) : 0
  }
}
