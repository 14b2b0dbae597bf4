import {
  digestToken,
  newUuid,
  randomToken,
  safeEqual,
  verifyPassword,
  type Clock,
} from '@postern/core'
import type {
  AuditLog,
  LoginFailuresRepo,
  OrgsRepo,
  SessionsRepo,
  User,
  UsersRepo,
} from '@postern/store'
import { hubErrors } from '../errors.js'
import { LoginThrottle } from './login-throttle.js'

export interface SessionOptions {
  idleMs: number
  maxMs: number
  maxFailures: number
  lockoutMs: number
}

export interface LoginResult {
  user: User
  /** Cookie value; shown once, stored as its digest. */
  token: string
  /** Echoed by the console in X-CSRF-Token on every change. */
  csrfToken: string
  expiresAt: number
}

/** Console logins: password check, throttling, session cookies stored as digests, logout. */
export class SessionService {
  private readonly throttle: LoginThrottle

  constructor(
    private readonly deps: {
      sessions: SessionsRepo
      users: UsersRepo
      orgs: OrgsRepo
      loginFailures: LoginFailuresRepo
      audit: AuditLog
      clock: Clock
      options: SessionOptions
    },
  ) {
    this.throttle = new LoginThrottle(
      deps.loginFailures,
      deps.options.maxFailures,
      deps.options.lockoutMs,
      deps.clock,
    )
  }

  async login(input: {
    email: string
    password: string
    remoteIp: string
    userAgent: string | null
  }): Promise<LoginResult> {
    const { clock, users, audit } = this.deps
    const key = `${input.remoteIp}|${input.email.toLowerCase()}`
    if (await this.throttle.isLocked(key)) {
      throw hubErrors.LOGIN_THROTTLED({ minutes: Math.ceil(this.deps.options.lockoutMs / 60_000) })
    }
    const found = await users.findForLogin(input.email)
    // Verify against a fixed hash when the user is unknown, so timing does not reveal addresses.
    const ok = await verifyPassword(input.password, found?.passwordHash ?? UNKNOWN_USER_HASH)
    const org = found ? await this.deps.orgs.get(found.user.orgId) : undefined
    if (!found || !ok || !found.user.enabled || !org?.enabled) {
      await this.throttle.fail(key)
      await audit.record({
        orgId: found?.user.orgId ?? null,
        actor: { type: 'user', id: found?.user.id ?? input.email.toLowerCase().slice(0, 200) },
        source: 'console',
        remoteIp: input.remoteIp,
        action: 'session.login',
        outcome: 'failure',
        details: { reason: !found ? 'unknown-user' : !ok ? 'wrong-password' : 'disabled' },
      })
      throw hubErrors.LOGIN_FAILED()
    }
    await this.throttle.succeed(key)
    const now = clock.now()
    const token = randomToken()
    const csrfToken = randomToken()
    const expiresAt = Math.min(now + this.deps.options.idleMs, now + this.deps.options.maxMs)
    await this.deps.sessions.insert({
      id: newUuid(),
      tokenDigest: digestToken(token),
      csrfDigest: digestToken(csrfToken),
      userId: found.user.id,
      orgId: found.user.orgId,
      now,
      expiresAt,
      remoteIp: input.remoteIp,
      userAgent: input.userAgent?.slice(0, 300) ?? null,
    })
    await users.recordLogin(found.user.id, now)
    await audit.record({
      orgId: found.user.orgId,
      actor: { type: 'user', id: found.user.id },
      source: 'console',
      remoteIp: input.remoteIp,
      action: 'session.login',
      outcome: 'success',
    })
    return { user: found.user, token, csrfToken, expiresAt }
  }

  /** The live session and its user for a cookie value, sliding its idle expiry. */
  async resume(
    token: string,
  ): Promise<{ sessionId: string; user: User; csrfDigest: string } | undefined> {
    const now = this.deps.clock.now()
    const session = await this.deps.sessions.findByDigest(digestToken(token))
    if (!session || session.revokedAt !== null || session.expiresAt <= now) return undefined
    if (now - session.createdAt >= this.deps.options.maxMs) return undefined
    const user = await this.deps.users.get(session.orgId, session.userId)
    if (!user?.enabled) return undefined
    // Touch at most once a minute: a busy console must not write on every request.
    if (now - session.lastUsedAt > 60_000) {
      const expiresAt = Math.min(
        now + this.deps.options.idleMs,
        session.createdAt + this.deps.options.maxMs,
      )
      await this.deps.sessions.touch(session.id, now, expiresAt)
    }
    return { sessionId: session.id, user, csrfDigest: session.csrfDigest }
  }

  static csrfMatches(csrfDigest: string, presented: string | undefined): boolean {
    return (
      presented !== undefined &&
      presented.length > 0 &&
      safeEqual(digestToken(presented), csrfDigest)
    )
  }

  async logout(sessionId: string): Promise<void> {
    await this.deps.sessions.revoke(sessionId, this.deps.clock.now())
  }
}

// scrypt hash of a random value nobody knows; only its cost matters.
const UNKNOWN_USER_HASH =
  'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'
