import type { Kysely } from 'kysely'
import type { HubSchema, SigningKeysTable } from './schema.js'

export interface SigningKeyRecord {
  kid: string
  alg: string
  publicJwk: Record<string, unknown>
  privateKeySealed: string
  createdAt: number
  retiresAt: number
  expiresAt: number
}

function toKey(row: SigningKeysTable): SigningKeyRecord {
  return {
    kid: row.kid,
    alg: row.alg,
    publicJwk: JSON.parse(row.public_jwk) as Record<string, unknown>,
    privateKeySealed: row.private_key_sealed,
    createdAt: row.created_at,
    retiresAt: row.retires_at,
    expiresAt: row.expires_at,
  }
}

/** The hub's token-signing keys, shared by every hub node through the database. */
export class SigningKeysRepo {
  constructor(private readonly db: Kysely<HubSchema>) {}

  async insert(key: SigningKeyRecord): Promise<void> {
    await this.db
      .insertInto('signing_keys')
      .values({
        kid: key.kid,
        alg: key.alg,
        public_jwk: JSON.stringify(key.publicJwk),
        private_key_sealed: key.privateKeySealed,
        created_at: key.createdAt,
        retires_at: key.retiresAt,
        expires_at: key.expiresAt,
      })
      .execute()
  }

  /** Keys still published (not expired), newest first. */
  async listPublished(now: number): Promise<SigningKeyRecord[]> {
    const rows = await this.db
      .selectFrom('signing_keys')
      .selectAll()
      .where('expires_at', '>', now)
      .orderBy('created_at', 'desc')
      .orderBy('kid')
      .execute()
    return rows.map(toKey)
  }

  /** Ends signing with a key now (rotation), keeping it published until `expiresAt`. */
  async retire(kid: string, now: number): Promise<void> {
    await this.db
      .updateTable('signing_keys')
      .set({ retires_at: now })
      .where('kid', '=', kid)
      .where('retires_at', '>', now)
      .execute()
  }

  /** Removes a key from the JWKS now: tokens it signed stop verifying (key compromise). */
  async expireNow(kid: string, now: number): Promise<void> {
    await this.db
      .updateTable('signing_keys')
      .set({ expires_at: now })
      .where('kid', '=', kid)
      .execute()
  }

  async deleteExpired(now: number): Promise<number> {
    const result = await this.db
      .deleteFrom('signing_keys')
      .where('expires_at', '<=', now)
      .executeTakeFirst()
    return Number(result.numDeletedRows)
  }
}
