import type { Kysely } from 'kysely'
import type { HubSchema, SessionsTable } from './schema.js'

export interface Session {
  id: string
  userId: string
  orgId: string
  csrfDigest: string
  createdAt: number
  lastUsedAt: number
  expiresAt: number
  revokedAt: number | null
}

function toSession(row: SessionsTable): Session {
  return {
    id: row.id,
    userId: row.user_id,
    orgId: row.org_id,
    csrfDigest: row.csrf_digest,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
  }
}

/** Console sessions; the cookie value is stored only as its digest. */
export class SessionsRepo {
  constructor(private readonly db: Kysely<HubSchema>) {}

  async insert(session: {
    id: string
    tokenDigest: string
    csrfDigest: string
    userId: string
    orgId: string
    now: number
    expiresAt: number
    remoteIp: string | null
    userAgent: string | null
  }): Promise<void> {
    await this.db
      .insertInto('sessions')
      .values({
        id: session.id,
        token_digest: session.tokenDigest,
        csrf_digest: session.csrfDigest,
        user_id: session.userId,
        org_id: session.orgId,
        created_at: session.now,
        last_used_at: session.now,
        expires_at: session.expiresAt,
        revoked_at: null,
        remote_ip: session.remoteIp,
        user_agent: session.userAgent,
      })
      .execute()
  }

  async findByDigest(tokenDigest: string): Promise<Session | undefined> {
    const row = await this.db
      .selectFrom('sessions')
      .selectAll()
      .where('token_digest', '=', tokenDigest)
      .executeTakeFirst()
    return row && toSession(row)
  }

  async touch(id: string, now: number, expiresAt: number): Promise<void> {
    await this.db
      .updateTable('sessions')
      .set({ last_used_at: now, expires_at: expiresAt })
      .where('id', '=', id)
      .execute()
  }

  async revoke(id: string, now: number): Promise<void> {
    await this.db
      .updateTable('sessions')
      .set({ revoked_at: now })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .execute()
  }

  /** Ends every session of a user (password change, user disabled). */
  async revokeForUser(userId: string, now: number): Promise<void> {
    await this.db
      .updateTable('sessions')
      .set({ revoked_at: now })
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .execute()
  }

  async deleteExpired(before: number): Promise<number> {
    const result = await this.db
      .deleteFrom('sessions')
      .where('expires_at', '<', before)
      .executeTakeFirst()
    return Number(result.numDeletedRows)
  }
}
