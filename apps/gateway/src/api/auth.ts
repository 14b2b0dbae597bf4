import { rm } from 'node:fs/promises'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { FastifyRequest } from 'fastify'
import {
  digestToken,
  hashPassword,
  randomToken,
  systemClock,
  verifyPassword,
  type Clock,
  type Logger,
} from '@postern/core'
import { httpErrors, type HttpApp } from '@postern/http'
import type { ApiAccountStore, ApiRole, ApiUser } from '@postern/store'
import type { GatewayConfig } from '../config.js'
import { gwErrors } from '../errors.js'
import {
  checkPassword,
  CLI_TOKEN_FILE,
  MIN_PASSWORD_LENGTH,
  minRole,
  roleAllows,
  writePrivateFile,
} from './credentials.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Served without a token (health checks, login, the OpenAPI document). */
    public?: boolean
    /** Lowest role allowed; a route that names none is for admins only (fail closed). */
    role?: ApiRole
  }
  interface FastifyRequest {
    principal?: Principal
  }
}

/** Who is calling: a logged-in user, an API token, or the local CLI credential. */
export interface Principal {
  kind: 'session' | 'api' | 'local'
  /** User name, token name, or `local-cli`. */
  name: string
  role: ApiRole
  tokenId: number
  userId: number | null
}

const CACHE_MS = 10_000

/**
 * Authentication of the gateway's HTTP API. Users log in with a password (scrypt) and get a
 * session token; admins create API tokens with a role; the running gateway writes a local
 * credential (an admin token, file mode 0600) for the CLI. Every token is a random 256-bit
 * value stored only as a digest. Every route needs a token unless it says `public: true`.
 */
export class ApiAuth {
  private readonly cache = new Map<string, { principal: Principal; until: number }>()
  private readonly clock: Clock

  constructor(
    private readonly accounts: ApiAccountStore,
    private readonly config: GatewayConfig,
    private readonly logger: Logger,
    clock?: Clock,
  ) {
    this.clock = clock ?? systemClock
  }

  /** Adds the authentication hook to `app` (before any route is registered). */
  install(app: HttpApp): void {
    app.addHook('onRequest', async (request) => {
      const config = request.routeOptions.config
      if (config?.public || request.routeOptions.url === undefined) return
      const principal = await this.authenticate(request)
      const need = config?.role ?? 'admin'
      if (!roleAllows(principal.role, need)) {
        throw httpErrors.FORBIDDEN({ action: `${request.method} ${request.routeOptions.url}` })
      }
      request.principal = principal
    })
  }

  private async authenticate(request: FastifyRequest): Promise<Principal> {
    const header = request.headers.authorization
    const match = header ? /^Bearer\s+([A-Za-z0-9_-]{20,200})$/.exec(header) : null
    if (!match) throw httpErrors.UNAUTHENTICATED()
    const principal = await this.principalFor(match[1] as string)
    if (!principal) throw httpErrors.UNAUTHENTICATED()
    return principal
  }

  /** The principal a bearer token stands for, or undefined (unknown or expired). */
  async principalFor(token: string): Promise<Principal | undefined> {
    const digest = digestToken(token)
    const now = this.clock.now()
    const cached = this.cache.get(digest)
    if (cached && cached.until > now) return cached.principal
    const record = await this.accounts.findToken(digest, now)
    if (!record) {
      this.cache.delete(digest)
      return undefined
    }
    let role = record.role
    let name = record.name
    if (record.userId !== null) {
      // A session follows its user: a demoted or deleted user loses access at once.
      const user = (await this.accounts.listUsers()).find((u) => u.id === record.userId)
      if (!user) return undefined
      role = record.kind === 'session' ? user.role : minRole(role, user.role)
      if (record.kind === 'session') name = user.username
    }
    const principal: Principal = {
      kind: record.kind,
      name,
      role,
      tokenId: record.id,
      userId: record.userId,
    }
    const until = Math.min(now + CACHE_MS, record.expiresAt ?? Infinity)
    if (this.cache.size > 10_000) this.cache.clear()
    this.cache.set(digest, { principal, until })
    void this.accounts.touchToken(record.id, now).catch(() => undefined)
    return principal
  }

  forget(): void {
    this.cache.clear()
  }

  async login(
    username: string,
    password: string,
  ): Promise<{ token: string; expiresAt: number; user: ApiUser }> {
    const found = await this.accounts.findUserForLogin(username)
    const ok = await verifyPassword(password, found?.passwordHash ?? DUMMY_HASH)
    if (!found || !ok) throw gwErrors.LOGIN_FAILED()
    const now = this.clock.now()
    const token = randomToken()
    const expiresAt = now + this.config.api.sessionTtl
    await this.accounts.createToken({
      digest: digestToken(token),
      kind: 'session',
      name: 'login',
      role: found.user.role,
      userId: found.user.id,
      at: now,
      expiresAt,
    })
    await this.accounts.updateUser(username, { lastLoginAt: now }, now)
    await this.accounts.deleteExpiredTokens(now)
    return { token, expiresAt, user: found.user }
  }

  async logout(principal: Principal): Promise<void> {
    await this.accounts.deleteToken(principal.tokenId)
    this.forget()
  }

  async createUser(username: string, password: string, role: ApiRole): Promise<ApiUser> {
    checkPassword(password)
    if (await this.accounts.findUser(username)) throw gwErrors.USER_EXISTS({ username })
    return this.accounts.createUser({
      username,
      passwordHash: await hashPassword(password),
      role,
      at: this.clock.now(),
    })
  }

  async updateUser(
    username: string,
    changes: { password?: string; role?: ApiRole },
  ): Promise<ApiUser> {
    const user = await this.accounts.findUser(username)
    if (!user) throw gwErrors.USER_NOT_FOUND({ username })
    if (changes.role !== undefined && changes.role !== 'admin' && user.role === 'admin') {
      if ((await this.accounts.countUsers('admin')) <= 1) throw gwErrors.LAST_ADMIN({ username })
    }
    if (changes.password !== undefined) checkPassword(changes.password)
    await this.accounts.updateUser(
      username,
      {
        ...(changes.password !== undefined
          ? { passwordHash: await hashPassword(changes.password) }
          : {}),
        ...(changes.role !== undefined ? { role: changes.role } : {}),
      },
      this.clock.now(),
    )
    this.forget()
    return (await this.accounts.findUser(username)) as ApiUser
  }

  async deleteUser(username: string): Promise<void> {
    const user = await this.accounts.findUser(username)
    if (!user) throw gwErrors.USER_NOT_FOUND({ username })
    if (user.role === 'admin' && (await this.accounts.countUsers('admin')) <= 1) {
      throw gwErrors.LAST_ADMIN({ username })
    }
    await this.accounts.deleteUser(username)
    this.forget()
  }

  async createToken(
    name: string,
    role: ApiRole,
    expiresInMs: number | null,
    userId: number | null,
  ) {
    const token = randomToken()
    const now = this.clock.now()
    const record = await this.accounts.createToken({
      digest: digestToken(token),
      kind: 'api',
      name,
      role,
      userId,
      at: now,
      expiresAt: expiresInMs === null ? null : now + expiresInMs,
    })
    return { token, record }
  }

  async revokeToken(id: number): Promise<void> {
    if (!(await this.accounts.deleteToken(id))) throw gwErrors.TOKEN_NOT_FOUND({ id })
    this.forget()
  }

  /** Creates `api.initialAdmin` when the gateway has no user yet. */
  async ensureInitialAdmin(): Promise<void> {
    const initial = this.config.api.initialAdmin
    if (!initial || (await this.accounts.countUsers()) > 0) return
    let passwordHash = initial.passwordHash
    if (!passwordHash && initial.passwordFile) {
      let password: string
      try {
        password = readFileSync(initial.passwordFile, 'utf8').trim()
      } catch (err) {
        throw gwErrors.INITIAL_ADMIN_INVALID({
          username: initial.username,
          reason: (err as Error).message,
        })
      }
      if (password.length < MIN_PASSWORD_LENGTH) {
        throw gwErrors.INITIAL_ADMIN_INVALID({
          username: initial.username,
          reason: `the password is shorter than ${MIN_PASSWORD_LENGTH} characters`,
        })
      }
      passwordHash = await hashPassword(password)
    }
    if (!passwordHash) {
      throw gwErrors.INITIAL_ADMIN_INVALID({
        username: initial.username,
        reason: 'neither passwordHash nor passwordFile is set',
      })
    }
    await this.accounts.createUser({
      username: initial.username,
      passwordHash,
      role: 'admin',
      at: this.clock.now(),
    })
    this.logger.info(
      { event: 'API_INITIAL_ADMIN_CREATED', username: initial.username },
      'initial administrator created',
    )
  }

  /**
   * A fresh admin credential for the CLI on this host, replacing the previous one: the token in
   * `dataDir/cli-token` (0600, readable only by the gateway's user), its digest in the database.
   */
  async issueLocalCredential(dataDir: string): Promise<void> {
    const token = randomToken()
    const now = this.clock.now()
    await this.accounts.deleteTokensNamed('local', 'local-cli')
    await this.accounts.createToken({
      digest: digestToken(token),
      kind: 'local',
      name: 'local-cli',
      role: 'admin',
      userId: null,
      at: now,
      expiresAt: null,
    })
    await writePrivateFile(join(dataDir, CLI_TOKEN_FILE), `${token}\n`)
    this.forget()
  }

  async revokeLocalCredential(dataDir: string): Promise<void> {
    await this.accounts.deleteTokensNamed('local', 'local-cli').catch(() => undefined)
    await rm(join(dataDir, CLI_TOKEN_FILE), { force: true })
  }
}

const DUMMY_HASH =
  'scrypt$32768$8$1$bm90LWEtcmVhbC1zYWx0$3q2-7wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'
