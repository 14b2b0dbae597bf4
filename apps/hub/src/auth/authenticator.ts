import type { Clock } from '@postern/core'
import type { ApiClientsRepo, OrgsRepo } from '@postern/store'
import type { AccessTokens } from './access-tokens.js'
import { NO_JWT_DESCRIPTION } from './iroh-errors.js'
import type { Principal } from './principal.js'
import { scopesOfRole } from './roles.js'
import type { SessionService } from './sessions.js'

export const SESSION_COOKIE = 'postern_hub_session'

export type Authentication =
  { ok: true; principal: Principal; csrfDigest: string | null } | { ok: false; description: string }

/**
 * Resolves the caller of a request: a bearer access token (API clients) or the console session
 * cookie (users). A token is honoured only while its client, its org and (for sessions) its user
 * are still enabled, so revoking any of them takes effect on the next request.
 */
export class Authenticator {
  constructor(
    private readonly deps: {
      tokens: AccessTokens
      clients: ApiClientsRepo
      orgs: OrgsRepo
      sessions: SessionService
      clock: Clock
    },
  ) {}

  async authenticate(
    headers: { authorization?: string | undefined },
    cookies: Record<string, string | undefined>,
  ): Promise<Authentication> {
    const header = headers.authorization
    if (header !== undefined && header.length > 0) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(header)
      if (!match?.[1]) return { ok: false, description: NO_JWT_DESCRIPTION }
      return this.bearer(match[1])
    }
    const cookie = cookies[SESSION_COOKIE]
    if (cookie) return this.session(cookie)
    return { ok: false, description: NO_JWT_DESCRIPTION }
  }

  private async bearer(token: string): Promise<Authentication> {
    const verified = await this.deps.tokens.verify(token)
    if (!verified.ok) {
      return {
        ok: false,
        description:
          verified.reason === 'expired'
            ? 'The JWT in the HTTP Authorization header has expired'
            : 'The JWT in the HTTP Authorization header is not valid',
      }
    }
    const { claims } = verified
    // Both lookups at once: each is a round trip to the database on every request.
    const [found, org] = await Promise.all([
      this.deps.clients.findWithSecret(claims.clientId),
      this.deps.orgs.get(claims.orgId),
    ])
    const now = this.deps.clock.now()
    const client = found?.client
    if (
      !client ||
      client.orgId !== claims.orgId ||
      client.revokedAt !== null ||
      (client.expiresAt !== null && client.expiresAt <= now)
    ) {
      return { ok: false, description: 'The API client of this JWT was revoked or has expired' }
    }
    if (!org?.enabled) {
      return { ok: false, description: 'The organisation of this JWT is disabled' }
    }
    return {
      ok: true,
      csrfDigest: null,
      principal: {
        kind: 'client',
        orgId: claims.orgId,
        userId: claims.userId,
        clientId: claims.clientId,
        scopes: claims.scopes,
        via: 'bearer',
        sessionId: null,
      },
    }
  }

  private async session(cookie: string): Promise<Authentication> {
    const resumed = await this.deps.sessions.resume(cookie)
    if (!resumed) return { ok: false, description: 'The console session has ended; log in again' }
    if (!(await this.deps.orgs.get(resumed.user.orgId))?.enabled) {
      return { ok: false, description: 'The organisation of this session is disabled' }
    }
    return {
      ok: true,
      csrfDigest: resumed.csrfDigest,
      principal: {
        kind: 'user',
        orgId: resumed.user.orgId,
        userId: resumed.user.id,
        clientId: null,
        scopes: scopesOfRole(resumed.user.role),
        via: 'session',
        sessionId: resumed.sessionId,
      },
    }
  }
}
