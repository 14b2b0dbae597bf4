import type { Kysely } from 'kysely'
import type { GatewaySchema } from './schema.js'

export interface RibbonCredentialsTable {
  owner: string
  hub_url: string
  client_id: string
  secret_sealed: string
  updated_at: number
}

export interface RibbonCredential {
  owner: string
  hubUrl: string
  clientId: string
  /** Sealed by the caller (SecretBox); never stored in the clear. */
  secretSealed: string
  updatedAt: number
}

/** The ribbon's hub API client per console user (migration 0800). */
export class RibbonCredentialsRepo {
  constructor(private readonly db: Kysely<GatewaySchema>) {}

  async get(owner: string): Promise<RibbonCredential | undefined> {
    const row = await this.db
      .selectFrom('ribbon_credentials')
      .selectAll()
      .where('owner', '=', owner)
      .executeTakeFirst()
    return row
      ? {
          owner: row.owner,
          hubUrl: row.hub_url,
          clientId: row.client_id,
          secretSealed: row.secret_sealed,
          updatedAt: Number(row.updated_at),
        }
      : undefined
  }

  async put(credential: RibbonCredential): Promise<void> {
    const values = {
      hub_url: credential.hubUrl,
      client_id: credential.clientId,
      secret_sealed: credential.secretSealed,
      updated_at: credential.updatedAt,
    }
    await this.db
      .insertInto('ribbon_credentials')
      .values({ owner: credential.owner, ...values })
      .onConflict((oc) => oc.column('owner').doUpdateSet(values))
      .execute()
  }

  async remove(owner: string): Promise<void> {
    await this.db.deleteFrom('ribbon_credentials').where('owner', '=', owner).execute()
  }

  /** Every hub the ribbons of this gateway talk to (the console's connect-src). */
  async hubUrls(): Promise<string[]> {
    const rows = await this.db
      .selectFrom('ribbon_credentials')
      .select('hub_url')
      .distinct()
      .execute()
    return rows.map((r) => r.hub_url)
  }
}
