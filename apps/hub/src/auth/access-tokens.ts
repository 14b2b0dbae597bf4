import { randomUUID } from 'node:crypto'
import { decodeProtectedHeader, errors as joseErrors, jwtVerify, SignJWT } from 'jose'
import type { Clock } from '@postern/core'
import type { KeyStore } from './key-store.js'

/** Claim names of the Threat Response API's tokens, kept so that existing tooling reads ours. */
export const CLAIM = {
  orgId: 'https://schemas.cisco.com/iroh/identity/claims/org/id',
  userId: 'https://schemas.cisco.com/iroh/identity/claims/user/id',
  clientId: 'https://schemas.cisco.com/iroh/identity/claims/oauth/client/id',
  scopes: 'https://schemas.cisco.com/iroh/identity/claims/scopes',
  kind: 'https://schemas.cisco.com/iroh/identity/claims/oauth/kind',
  version: 'https://schemas.cisco.com/iroh/identity/claims/version',
} as const

/** Marks hub access tokens, so that tokens the hub signs for relay modules are never accepted here. */
export const ACCESS_TOKEN_KIND = 'access-token'

export interface AccessTokenClaims {
  orgId: string
  clientId: string
  userId: string | null
  scopes: string[]
  /** Seconds since the epoch. */
  expiresAt: number
  jti: string
}

export type VerifyResult =
  | { ok: true; claims: AccessTokenClaims }
  | { ok: false; reason: 'expired' | 'invalid' | 'unknown-key' }

export interface AccessTokenOptions {
  keys: KeyStore
  clock: Clock
  issuer: string
  /** `aud` of access tokens: the hub's public URL (known once the listener is bound). */
  audience: () => string
  ttlSeconds: number
}

/** Verified tokens remembered (a client reuses its token for every call until it expires). */
const VERIFIED_CACHE_SIZE = 5_000

/** Mints and verifies the RS256 access tokens of the OAuth2 token endpoint (RFC 9068 profile). */
export class AccessTokens {
  /**
   * Tokens whose signature and claims were verified, with the key that signed them: an RS256
   * check on every request of a client that reuses its token is repeated work. A hit still
   * checks the expiry and that the key is published (a revoked key ends its tokens at once).
   */
  private readonly verified = new Map<
    string,
    { claims: AccessTokenClaims; kid: string; notBefore: number; audience: string }
  >()

  constructor(private readonly options: AccessTokenOptions) {}

  get ttlSeconds(): number {
    return this.options.ttlSeconds
  }

  async mint(subject: {
    orgId: string
    clientId: string
    userId: string | null
    scopes: string[]
  }): Promise<string> {
    const key = await this.options.keys.current()
    const now = Math.floor(this.options.clock.now() / 1000)
    return new SignJWT({
      [CLAIM.orgId]: subject.orgId,
      [CLAIM.clientId]: subject.clientId,
      [CLAIM.userId]: subject.userId,
      [CLAIM.scopes]: subject.scopes,
      [CLAIM.kind]: ACCESS_TOKEN_KIND,
      [CLAIM.version]: 'v1.2.0',
      scope: subject.scopes.join(' '),
      client_id: subject.clientId,
    })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
      .setIssuer(this.options.issuer)
      .setAudience(this.options.audience())
      .setSubject(subject.userId ?? subject.clientId)
      .setJti(randomUUID())
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + this.options.ttlSeconds)
      .sign(key.privateKey)
  }

  async verify(token: string): Promise<VerifyResult> {
    const known = this.verified.get(token)
    if (known && known.audience === this.options.audience()) {
      const now = this.options.clock.now()
      if (known.claims.expiresAt * 1000 <= now) {
        this.verified.delete(token)
        return { ok: false, reason: 'expired' }
      }
      // As jose: not valid before `nbf` (a clock set back, or a token minted ahead).
      if (known.notBefore * 1000 > now) return { ok: false, reason: 'invalid' }
      if (!(await this.options.keys.publicKey(known.kid))) {
        this.verified.delete(token)
        return { ok: false, reason: 'unknown-key' }
      }
      return { ok: true, claims: known.claims }
    }
    const result = await this.verifySignature(token)
    if (!result.ok) return result
    this.remember(token, result)
    return { ok: true, claims: result.claims }
  }

  private remember(
    token: string,
    result: { claims: AccessTokenClaims; kid: string; notBefore: number },
  ): void {
    if (this.verified.size >= VERIFIED_CACHE_SIZE) {
      // Oldest first (Map keeps insertion order).
      this.verified.delete(this.verified.keys().next().value as string)
    }
    this.verified.set(token, {
      claims: result.claims,
      kid: result.kid,
      notBefore: result.notBefore,
      audience: this.options.audience(),
    })
  }

  private async verifySignature(
    token: string,
  ): Promise<
    | Extract<VerifyResult, { ok: false }>
    | { ok: true; claims: AccessTokenClaims; kid: string; notBefore: number }
  > {
    let kid: string | undefined
    try {
      kid = decodeProtectedHeader(token).kid
    } catch {
      return { ok: false, reason: 'invalid' }
    }
    if (!kid) return { ok: false, reason: 'invalid' }
    const key = await this.options.keys.publicKey(kid)
    if (!key) return { ok: false, reason: 'unknown-key' }
    try {
      const { payload } = await jwtVerify(token, key, {
        algorithms: ['RS256'],
        issuer: this.options.issuer,
        audience: this.options.audience(),
        currentDate: new Date(this.options.clock.now()),
        requiredClaims: ['exp', 'iat', 'jti'],
      })
      const scopes = payload[CLAIM.scopes]
      const orgId = payload[CLAIM.orgId]
      const clientId = payload[CLAIM.clientId]
      const userId = payload[CLAIM.userId]
      if (
        payload[CLAIM.kind] !== ACCESS_TOKEN_KIND ||
        typeof orgId !== 'string' ||
        typeof clientId !== 'string' ||
        !(userId === null || typeof userId === 'string') ||
        !Array.isArray(scopes) ||
        !scopes.every((s) => typeof s === 'string')
      ) {
        return { ok: false, reason: 'invalid' }
      }
      return {
        ok: true,
        kid,
        notBefore: (payload.nbf ?? payload.iat) as number,
        claims: {
          orgId,
          clientId,
          userId,
          scopes: scopes as string[],
          expiresAt: payload.exp as number,
          jti: payload.jti as string,
        },
      }
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) return { ok: false, reason: 'expired' }
      return { ok: false, reason: 'invalid' }
    }
  }
}
