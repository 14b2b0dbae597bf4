import type { Kysely } from 'kysely'
import type { GatewaySchema } from './schema.js'

/**
 * Users and tokens of the gateway's HTTP API. Passwords arrive here already hashed (scrypt)
 * and tokens as digests: this layer never sees a secret.
 */

/** `admin` manages accounts and everything else; `operator` acts on mail; `read-only` looks. */
export type ApiRole = 'admin' | 'operator' | 'read-only'
export const API_ROLES: readonly ApiRole[] = ['admin', 'operator', 'read-only']

/** `api`: created by an admin; `session`: a login; `local`: the CLI credential in dataDir. */
export type ApiTokenKind = 'api' | 'session' | 'local'

export interface ApiUser {
  id: number
  username: string
  role: ApiRole
  createdAt: number
  updatedAt: number
  lastLoginAt: number | null
}

export interface ApiTokenRecord {
  id: number
  kind: ApiTokenKind
  name: string
  role: ApiRole
  userId: number | null
  createdAt: number
  expiresAt: number | null
  lastUsedAt: number | null
}

export class ApiAccountStore {
  constructor(private readonly db: Kysely<GatewaySchema>) {}

  async countUsers(role?: ApiRole): Promise<number> {
    let q = this.db.selectFrom('api_users')
    if (role !== undefined) q = q.where('role', '=', role)
    const row = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst()
    return Number(row?.n ?? 0)
  }

  async createUser(input: {
    username: string
    passwordHash: string
    role: ApiRole
    at: number
  }): Promise<ApiUser> {
    const row = await this.db
      .insertInto('api_users')
      .values({
        username: input.username,
        password_hash: input.passwordHash,
        role: input.role,
        created_at: input.at,
        updated_at: input.at,
        last_login_at: null,
      })
      .returning('id')
      .executeTakeFirstOrThrow()
    return {
      id: Number(row.id),
      username: input.username,
      role: input.role,
      createdAt: input.at,
      updatedAt: input.at,
      lastLoginAt: null,
    }
  }

  /** The user and its password hash, for login. */
  async findUserForLogin(
    username: string,
  ): Promise<{ user: ApiUser; passwordHash: string } | undefined> {
    const row = await this.db
      .selectFrom('api_users')
      .selectAll()
      .where('username', '=', username)
      .executeTakeFirst()
    return row ? { user: toUser(row), passwordHash: row.password_hash } : undefined
  }

  async findUser(username: string): Promise<ApiUser | undefined> {
    return (await this.findUserForLogin(username))?.user
  }

  async listUsers(): Promise<ApiUser[]> {
    const rows = await this.db.selectFrom('api_users').selectAll().orderBy('username').execute()
    return rows.map(toUser)
  }

  async updateUser(
    username: string,
    changes: { passwordHash?: string; role?: ApiRole; lastLoginAt?: number },
    at: number,
  ): Promise<boolean> {
    const result = await this.db
      .updateTable('api_users')
      .set({
        ...(changes.passwordHash !== undefined ? { password_hash: changes.passwordHash } : {}),
        ...(changes.role !== undefined ? { role: changes.role } : {}),
        ...(changes.lastLoginAt !== undefined ? { last_login_at: changes.lastLoginAt } : {}),
        updated_at: at,
      })
      .where('username', '=', username)
      .executeTakeFirst()
    return Number(result.numUpdatedRows) > 0
  }

  /** Deletes the user and every token it owns. */
  async deleteUser(username: string): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const user = await trx
        .selectFrom('api_users')
        .select('id')
        .where('username', '=', username)
        .executeTakeFirst()
      if (!user) return false
      await trx.deleteFrom('api_tokens').where('user_id', '=', user.id).execute()
      await trx.deleteFrom('api_users').where('id', '=', user.id).execute()
      return true
    })
  }

  async createToken(input: {
    digest: string
    kind: ApiTokenKind
    name: string
    role: ApiRole
    userId: number | null
    at: number
    expiresAt: number | null
  }): Promise<ApiTokenRecord> {
    const row = await this.db
      .insertInto('api_tokens')
      .values({
        digest: input.digest,
        kind: input.kind,
        name: input.name,
        role: input.role,
        user_id: input.userId,
        created_at: input.at,
        expires_at: input.expiresAt,
        last_used_at: null,
      })
      .returning('id')
      .executeTakeFirstOrThrow()
    return {
      id: Number(row.id),
      kind: input.kind,
      name: input.name,
      role: input.role,
      userId: input.userId,
      createdAt: input.at,
      expiresAt: input.expiresAt,
      lastUsedAt: null,
    }
  }

  /** The token with this digest if it exists and has not expired at `now`. */
  async findToken(digest: string, now: number): Promise<ApiTokenRecord | undefined> {
    const row = await this.db
      .selectFrom('api_tokens')
      .selectAll()
      .where('digest', '=', digest)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
      .executeTakeFirst()
    return row ? toToken(row) : undefined
  }

  async touchToken(id: number, at: number): Promise<void> {
    await this.db.updateTable('api_tokens').set({ last_used_at: at }).where('id', '=', id).execute()
  }

  async listTokens(kind?: ApiTokenKind): Promise<ApiTokenRecord[]> {
    let q = this.db.selectFrom('api_tokens').selectAll()
    if (kind !== undefined) q = q.where('kind', '=', kind)
    const rows = await q.orderBy('id').execute()
    return rows.map(toToken)
  }

  async deleteToken(id: number): Promise<boolean> {
    const result = await this.db.deleteFrom('api_tokens').where('id', '=', id).executeTakeFirst()
    return Number(result.numDeletedRows) > 0
  }

  async deleteTokenByDigest(digest: string): Promise<void> {
    await this.db.deleteFrom('api_tokens').where('digest', '=', digest).execute()
  }

  /** Replaces every token of `kind` named `name` (used for the local CLI credential). */
  async deleteTokensNamed(kind: ApiTokenKind, name: string): Promise<void> {
    await this.db
      .deleteFrom('api_tokens')
      .where('kind', '=', kind)
      .where('name', '=', name)
      .execute()
  }

  async deleteExpiredTokens(now: number): Promise<number> {
    const result = await this.db
      .deleteFrom('api_tokens')
      .where('expires_at', 'is not', null)
      .where('expires_at', '<=', now)
      .executeTakeFirst()
    return Number(result.numDeletedRows)
  }
}

function toUser(row: {
  id: number
  username: string
  role: string
  created_at: number
  updated_at: number
  last_login_at: number | null
}): ApiUser {
  return {
    id: Number(row.id),
    username: row.username,
    role: row.role as ApiRole,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    lastLoginAt: row.last_login_at === null ? null : Number(row.last_login_at),
  }
}

function toToken(row: {
  id: number
  kind: string
  name: string
  role: string
  user_id: number | null
  created_at: number
  expires_at: number | null
  last_used_at: number | null
}): ApiTokenRecord {
  return {
    id: Number(row.id),
    kind: row.kind as ApiTokenKind,
    name: row.name,
    role: row.role as ApiRole,
    userId: row.user_id === null ? null : Number(row.user_id),
    createdAt: Number(row.created_at),
    expiresAt: row.expires_at === null ? null : Number(row.expires_at),
    lastUsedAt: row.last_used_at === null ? null : Number(row.last_used_at),
  }
}
