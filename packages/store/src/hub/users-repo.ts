import type { Kysely } from 'kysely'
import type { HubSchema, UsersTable } from './schema.js'

export interface User {
  id: string
  orgId: string
  email: string
  name: string
  role: string
  enabled: boolean
  createdAt: number
  updatedAt: number
  lastLoginAt: number | null
}

export interface NewUser {
  id: string
  orgId: string
  email: string
  name: string
  role: string
  passwordHash: string
  now: number
}

function toUser(row: UsersTable): User {
  return {
    id: row.id,
    orgId: row.org_id,
    email: row.email,
    name: row.name,
    role: row.role,
    enabled: row.enabled === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    lastLoginAt: row.last_login_at,
  }
}

/** Console users. E-mail addresses are stored lower-cased and are unique hub-wide. */
export class UsersRepo {
  constructor(private readonly db: Kysely<HubSchema>) {}

  async insert(user: NewUser): Promise<User> {
    const row: UsersTable = {
      id: user.id,
      org_id: user.orgId,
      email: user.email.toLowerCase(),
      name: user.name,
      role: user.role,
      password_hash: user.passwordHash,
      enabled: 1,
      created_at: user.now,
      updated_at: user.now,
      last_login_at: null,
    }
    await this.db.insertInto('users').values(row).execute()
    return toUser(row)
  }

  async get(orgId: string, id: string): Promise<User | undefined> {
    const row = await this.db
      .selectFrom('users')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('id', '=', id)
      .executeTakeFirst()
    return row && toUser(row)
  }

  async emailExists(email: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('users')
      .select('id')
      .where('email', '=', email.toLowerCase())
      .executeTakeFirst()
    return row !== undefined
  }

  /** The user and password hash for a login attempt. */
  async findForLogin(email: string): Promise<{ user: User; passwordHash: string } | undefined> {
    const row = await this.db
      .selectFrom('users')
      .selectAll()
      .where('email', '=', email.toLowerCase())
      .executeTakeFirst()
    return row && { user: toUser(row), passwordHash: row.password_hash }
  }

  async list(orgId: string): Promise<User[]> {
    const rows = await this.db
      .selectFrom('users')
      .selectAll()
      .where('org_id', '=', orgId)
      .orderBy('created_at')
      .orderBy('email')
      .execute()
    return rows.map(toUser)
  }

  /** The earliest enabled admin of an org (owner of API clients made from the CLI). */
  async firstAdmin(orgId: string): Promise<User | undefined> {
    const row = await this.db
      .selectFrom('users')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('role', '=', 'admin')
      .where('enabled', '=', 1)
      .orderBy('created_at')
      .executeTakeFirst()
    return row && toUser(row)
  }

  async update(
    orgId: string,
    id: string,
    change: { name?: string; role?: string; enabled?: boolean; passwordHash?: string },
    now: number,
  ): Promise<User | undefined> {
    await this.db
      .updateTable('users')
      .set({
        ...(change.name !== undefined ? { name: change.name } : {}),
        ...(change.role !== undefined ? { role: change.role } : {}),
        ...(change.enabled !== undefined ? { enabled: change.enabled ? 1 : 0 } : {}),
        ...(change.passwordHash !== undefined ? { password_hash: change.passwordHash } : {}),
        updated_at: now,
      })
      .where('org_id', '=', orgId)
      .where('id', '=', id)
      .execute()
    return this.get(orgId, id)
  }

  async recordLogin(id: string, now: number): Promise<void> {
    await this.db.updateTable('users').set({ last_login_at: now }).where('id', '=', id).execute()
  }
}
