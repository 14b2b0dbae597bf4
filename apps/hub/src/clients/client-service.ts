import { digestToken, newUuid, randomToken, safeEqual, type Clock } from '@postern/core'
import type { ApiClient, ApiClientsRepo, AuditLog, UsersRepo } from '@postern/store'
import type { AccessTokens } from '../auth/access-tokens.js'
import { normaliseGrant, parseScope, scopesCover } from '../auth/scopes.js'
import { hubErrors } from '../errors.js'
import type { Actor } from '../orgs/org-service.js'
import { sourceOf } from '../users/user-service.js'

export interface NewClientInput {
  orgId: string
  name: string
  description?: string
  scopes: readonly string[]
  /** Epoch ms; null for a client that does not expire. */
  expiresAt: number | null
  /** Owner user (the `user-id` of its tokens); defaults to the creating user or the org's first admin. */
  ownerUserId?: string | null
  /** Scopes the creator holds: a client never gets more than its creator (null: operator CLI). */
  grantorScopes: readonly string[] | null
}

/** What the OAuth2 token endpoint answers (RFC 6749 §5.1, shape of the reference). */
export interface TokenResponse {
  access_token: string
  token_type: 'bearer'
  expires_in: number
  scope: string
}

/** Why a token request failed, as RFC 6749 §5.2 error codes. */
export class OAuthError extends Error {
  constructor(
    readonly error:
      'invalid_request' | 'invalid_client' | 'unsupported_grant_type' | 'invalid_scope',
    readonly description: string,
  ) {
    super(description)
  }
}

/** API clients: creation (secret shown once), listing, revocation, and client-credentials grants. */
export class ClientService {
  constructor(
    private readonly deps: {
      clients: ApiClientsRepo
      users: UsersRepo
      tokens: AccessTokens
      audit: AuditLog
      clock: Clock
    },
  ) {}

  async create(
    input: NewClientInput,
    actor: Actor,
    remoteIp: string | null = null,
  ): Promise<{ client: ApiClient; secret: string }> {
    const scopes = normaliseGrant(input.scopes)
    if (input.grantorScopes !== null) {
      for (const scope of scopes) {
        if (!scopesCover(input.grantorScopes, scope)) throw hubErrors.SCOPE_NOT_GRANTABLE({ scope })
      }
    }
    const ownerUserId =
      input.ownerUserId !== undefined
        ? input.ownerUserId
        : actor.type === 'user'
          ? actor.id
          : ((await this.deps.users.firstAdmin(input.orgId))?.id ?? null)
    const secret = randomToken()
    const client = await this.deps.clients.insert({
      id: `client-${newUuid()}`,
      orgId: input.orgId,
      name: input.name.trim(),
      description: input.description?.trim() ?? '',
      secretDigest: digestToken(secret),
      scopes,
      ownerUserId,
      createdBy: actor,
      now: this.deps.clock.now(),
      expiresAt: input.expiresAt,
    })
    await this.deps.audit.record({
      orgId: input.orgId,
      actor,
      source: sourceOf(actor),
      remoteIp,
      action: 'api-client.create',
      target: { type: 'api-client', id: client.id },
      outcome: 'success',
      details: { name: client.name, scopes, expiresAt: client.expiresAt },
    })
    return { client, secret }
  }

  list(orgId: string): Promise<ApiClient[]> {
    return this.deps.clients.list(orgId)
  }

  async revoke(
    orgId: string,
    clientId: string,
    actor: Actor,
    remoteIp: string | null = null,
  ): Promise<void> {
    if (!(await this.deps.clients.revoke(orgId, clientId, this.deps.clock.now()))) {
      throw hubErrors.CLIENT_NOT_FOUND({ clientId })
    }
    await this.deps.audit.record({
      orgId,
      actor,
      source: sourceOf(actor),
      remoteIp,
      action: 'api-client.revoke',
      target: { type: 'api-client', id: clientId },
      outcome: 'success',
    })
  }

  /**
   * The client-credentials grant (RFC 6749 §4.4): checks the client and secret, narrows the
   * scopes to `requestedScope` when given (every requested scope must be covered by a granted
   * one), and mints a signed access token.
   */
  async grant(
    clientId: string,
    secret: string,
    requestedScope: string | undefined,
    remoteIp: string | null,
  ): Promise<TokenResponse> {
    const found = await this.deps.clients.findWithSecret(clientId)
    const now = this.deps.clock.now()
    const valid =
      found !== undefined &&
      safeEqual(digestToken(secret), found.secretDigest) &&
      found.client.revokedAt === null &&
      (found.client.expiresAt === null || found.client.expiresAt > now)
    if (!found || !valid) {
      if (found) {
        await this.deps.audit.record({
          orgId: found.client.orgId,
          actor: { type: 'client', id: clientId },
          source: 'api',
          remoteIp,
          action: 'oauth.token',
          outcome: 'denied',
          details: {
            reason: found.client.revokedAt !== null ? 'revoked' : 'wrong-secret-or-expired',
          },
        })
      }
      throw new OAuthError(
        'invalid_client',
        'Client authentication failed: unknown client, wrong secret, or a revoked or expired client',
      )
    }
    const { client } = found
    let scopes = client.scopes
    if (requestedScope !== undefined && requestedScope.trim().length > 0) {
      const requested = [...new Set(requestedScope.trim().split(/\s+/))]
      for (const scope of requested) {
        try {
          parseScope(scope)
        } catch {
          throw new OAuthError('invalid_scope', `"${scope.slice(0, 100)}" is not a valid scope`)
        }
        if (!scopesCover(client.scopes, scope)) {
          throw new OAuthError('invalid_scope', `The client was not granted "${scope}"`)
        }
      }
      scopes = requested.sort()
    }
    const accessToken = await this.deps.tokens.mint({
      orgId: client.orgId,
      clientId: client.id,
      userId: client.ownerUserId,
      scopes,
    })
    await this.deps.clients.touch(client.id, now)
    await this.deps.audit.record({
      orgId: client.orgId,
      actor: { type: 'client', id: client.id },
      source: 'api',
      remoteIp,
      action: 'oauth.token',
      outcome: 'success',
      details: { scope: scopes.join(' ') },
    })
    return {
      access_token: accessToken,
      token_type: 'bearer',
      expires_in: this.deps.tokens.ttlSeconds,
      scope: scopes.join(' '),
    }
  }
}
