import type { Kysely } from 'kysely'
import { bumpOrgVersion } from './org-versions.js'
import type { ApiClientsTable, HubSchema } from './schema.js'

export interface ApiClient {
  /** The OAuth2 `client_id`. */
  id: string
  orgId: string
  name: string
  description: string
  scopes: string[]
  ownerUserId: string | null
  createdBy: { type: string; id: string }
  createdAt: number
  expiresAt: number | null
  revokedAt: number | null
  lastUsedAt: number | null
}

function toClient(row: ApiClientsTable): ApiClient {
  return {
    id: row.id,
    orgId: row.org_id,
    name: row.name,
    description: row.description,
    scopes: JSON.parse(row.scopes) as string[],
    ownerUserId: row.owner_user_id,
    createdBy: { type: row.created_by_type, id: row.created_by_id },
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    lastUsedAt: row.last_used_at,
  }
}

/** API clients (OAuth2 client-credentials); the secret is stored only as its digest. */
export class ApiClientsRepo {
  constructor(private readonly db: Kysely<HubSchema>) {}

  async insert(client: {
    id: string
    orgId: string
    name: string
    description: string
    secretDigest: string
    scopes: string[]
    ownerUserId: string | null
    createdBy: { type: string; id: string }
    now: number
    expiresAt: number | null
  }): Promise<ApiClient> {
    const row: ApiClientsTable = {
      id: client.id,
      org_id: client.orgId,
      name: client.name,
      description: client.description,
      secret_digest: client.secretDigest,
      scopes: JSON.stringify(client.scopes),
      owner_user_id: client.ownerUserId,
      created_by_type: client.createdBy.type,
      created_by_id: client.createdBy.id,
      created_at: client.now,
      expires_at: client.expiresAt,
      revoked_at: null,
      last_used_at: null,
    }
    await this.db.transaction().execute(async (trx) => {
      await trx.insertInto('api_clients').values(row).execute()
      await bumpOrgVersion(trx, client.orgId)
    })
    return toClient(row)
  }

  /** Looks a client up by id across orgs (the token endpoint learns the org from the client). */
  async findWithSecret(
    id: string,
  ): Promise<{ client: ApiClient; secretDigest: string } | undefined> {
    const row = await this.db
      .selectFrom('api_clients')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst()
    return row && { client: toClient(row), secretDigest: row.secret_digest }
  }

  async get(orgId: string, id: string): Promise<ApiClient | undefined> {
    const row = await this.db
      .selectFrom('api_clients')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('id', '=', id)
      .executeTakeFirst()
    return row && toClient(row)
  }

  async list(orgId: string): Promise<ApiClient[]> {
    const rows = await this.db
      .selectFrom('api_clients')
      .selectAll()
      .where('org_id', '=', orgId)
      .orderBy('created_at')
      .execute()
    return rows.map(toClient)
  }

  async revoke(orgId: string, id: string, now: number): Promise<boolean> {
    const result = await this.db.transaction().execute(async (trx) => {
      const updated = await trx
        .updateTable('api_clients')
        .set({ revoked_at: now })
        .where('org_id', '=', orgId)
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst()
      await bumpOrgVersion(trx, orgId)
      return updated
    })
    return result.numUpdatedRows > 0n
  }

  async touch(id: string, now: number): Promise<void> {
    await this.db
      .updateTable('api_clients')
      .set({ last_used_at: now })
      .where('id', '=', id)
      .execute()
  }
}
