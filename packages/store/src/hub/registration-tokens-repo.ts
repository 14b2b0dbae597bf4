import type { Kysely } from 'kysely'
import type { HubSchema, RegistrationTokensTable } from './schema.js'

export interface RegistrationToken {
  id: string
  orgId: string
  label: string
  createdBy: { type: string; id: string }
  createdAt: number
  expiresAt: number
  usedAt: number | null
  deviceId: string | null
  revokedAt: number | null
}

export function toRegistrationToken(row: RegistrationTokensTable): RegistrationToken {
  return {
    id: row.id,
    orgId: row.org_id,
    label: row.label,
    createdBy: { type: row.created_by_type, id: row.created_by_id },
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    usedAt: row.used_at,
    deviceId: row.device_id,
    revokedAt: row.revoked_at,
  }
}

/** Single-use device registration tokens, stored only as their digests. */
export class RegistrationTokensRepo {
  constructor(private readonly db: Kysely<HubSchema>) {}

  async insert(token: {
    id: string
    orgId: string
    tokenDigest: string
    label: string
    createdBy: { type: string; id: string }
    now: number
    expiresAt: number
  }): Promise<RegistrationToken> {
    const row: RegistrationTokensTable = {
      id: token.id,
      org_id: token.orgId,
      token_digest: token.tokenDigest,
      label: token.label,
      created_by_type: token.createdBy.type,
      created_by_id: token.createdBy.id,
      created_at: token.now,
      expires_at: token.expiresAt,
      used_at: null,
      device_id: null,
      revoked_at: null,
    }
    await this.db.insertInto('registration_tokens').values(row).execute()
    return toRegistrationToken(row)
  }

  async list(orgId: string, limit = 200): Promise<RegistrationToken[]> {
    const rows = await this.db
      .selectFrom('registration_tokens')
      .selectAll()
      .where('org_id', '=', orgId)
      .orderBy('created_at', 'desc')
      .limit(limit)
      .execute()
    return rows.map(toRegistrationToken)
  }

  async revoke(orgId: string, id: string, now: number): Promise<boolean> {
    const result = await this.db
      .updateTable('registration_tokens')
      .set({ revoked_at: now })
      .where('org_id', '=', orgId)
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .where('used_at', 'is', null)
      .executeTakeFirst()
    return result.numUpdatedRows > 0n
  }
}
