import { hashPassword, newUuid, type Clock } from '@postern/core'
import type { AuditLog, SessionsRepo, User, UsersRepo } from '@postern/store'
import { isRole, type Role } from '../auth/roles.js'
import { hubErrors } from '../errors.js'
import type { Actor } from '../orgs/org-service.js'

export const MIN_PASSWORD_LENGTH = 12

export interface NewUserInput {
  orgId: string
  email: string
  name: string
  role: string
  password: string
}

/** Console users of an organisation. */
export class UserService {
  constructor(
    private readonly deps: {
      users: UsersRepo
      sessions: SessionsRepo
      audit: AuditLog
      clock: Clock
    },
  ) {}

  async create(input: NewUserInput, actor: Actor, remoteIp: string | null = null): Promise<User> {
    if (!isRole(input.role)) throw hubErrors.ROLE_INVALID({ role: input.role })
    checkPassword(input.password)
    const email = input.email.trim().toLowerCase()
    if (await this.deps.users.emailExists(email)) throw hubErrors.USER_EXISTS({ email })
    const user = await this.deps.users.insert({
      id: newUuid(),
      orgId: input.orgId,
      email,
      name: input.name.trim() || email,
      role: input.role,
      passwordHash: await hashPassword(input.password),
      now: this.deps.clock.now(),
    })
    await this.deps.audit.record({
      orgId: input.orgId,
      actor,
      source: sourceOf(actor),
      remoteIp,
      action: 'user.create',
      target: { type: 'user', id: user.id },
      outcome: 'success',
      details: { email, role: user.role },
    })
    return user
  }

  list(orgId: string): Promise<User[]> {
    return this.deps.users.list(orgId)
  }

  async get(orgId: string, userId: string): Promise<User> {
    const user = await this.deps.users.get(orgId, userId)
    if (!user) throw hubErrors.USER_NOT_FOUND({ user: userId })
    return user
  }

  async update(
    orgId: string,
    userId: string,
    change: { name?: string; role?: Role; enabled?: boolean; password?: string },
    actor: Actor,
    remoteIp: string | null = null,
  ): Promise<User> {
    await this.get(orgId, userId)
    if (change.password !== undefined) checkPassword(change.password)
    const now = this.deps.clock.now()
    const user = await this.deps.users.update(
      orgId,
      userId,
      {
        name: change.name,
        role: change.role,
        enabled: change.enabled,
        passwordHash:
          change.password === undefined ? undefined : await hashPassword(change.password),
      },
      now,
    )
    // A new password or a disabled account ends every session at once.
    if (change.password !== undefined || change.enabled === false)
      await this.deps.sessions.revokeForUser(userId, now)
    await this.deps.audit.record({
      orgId,
      actor,
      source: sourceOf(actor),
      remoteIp,
      action: 'user.update',
      target: { type: 'user', id: userId },
      outcome: 'success',
      details: {
        ...(change.name !== undefined ? { name: change.name } : {}),
        ...(change.role !== undefined ? { role: change.role } : {}),
        ...(change.enabled !== undefined ? { enabled: change.enabled } : {}),
        ...(change.password !== undefined ? { passwordChanged: true } : {}),
      },
    })
    return user as User
  }
}

function checkPassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH)
    throw hubErrors.PASSWORD_WEAK({ length: password.length })
}

export function sourceOf(actor: Actor): 'cli' | 'api' | 'system' {
  return actor.type === 'cli' ? 'cli' : actor.type === 'system' ? 'system' : 'api'
}
