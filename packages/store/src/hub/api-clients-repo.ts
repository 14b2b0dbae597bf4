import type { Kysely } from 'kysely'
import { changingOrg } from './org-versions.js'
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
    await changingOrg(this.db, client.orgId, (trx) =>
      trx.insertInto('api_clients').values(row).execute(),
    )
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
    const result = await changingOrg(this.db, orgId, (trx) =>
      trx
        .updateTable('api_clients')
        .set({ revoked_at: now })
        .where('org_id', '=', orgId)
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst(),
    )
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
