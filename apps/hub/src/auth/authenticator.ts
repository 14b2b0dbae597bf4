import type { Clock } from '@postern/core'
import type { ApiClientsRepo, Org, OrgsRepo } from '@postern/store'
import type { OrgCache, OrgSnapshot } from '../orgs/org-cache.js'
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
 * are still enabled, so revoking any of them takes effect on the next request (the client and
 * org come from the org cache, which re-reads them once either changed).
 */
export class Authenticator {
  constructor(
    private readonly deps: {
      tokens: AccessTokens
      clients: ApiClientsRepo
      orgs: OrgsRepo
      cache: OrgCache
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
    const snapshot = await this.deps.cache.at(claims.orgId)
    const [client, org] = await Promise.all([
      snapshot.remember(`client ${claims.clientId}`, () =>
        this.deps.clients.get(claims.orgId, claims.clientId),
      ),
      this.org(snapshot, claims.orgId),
    ])
    const now = this.deps.clock.now()
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
    const snapshot = await this.deps.cache.at(resumed.user.orgId)
    if (!(await this.org(snapshot, resumed.user.orgId))?.enabled) {
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

  private org(snapshot: OrgSnapshot, orgId: string): Promise<Org | undefined> {
    return snapshot.remember('org', () => this.deps.orgs.get(orgId))
  }
}
