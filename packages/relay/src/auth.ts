import {
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  errors as joseErrors,
  jwtVerify,
  type JWTPayload,
} from 'jose'
import { relayErrors } from './errors.js'

/**
 * Module-side verification of RS256 configuration tokens (reference §4): read the bearer token,
 * take `jwks_host` from it, fetch that host's JWKS (only hosts the module trusts — otherwise
 * anyone could mint tokens against their own JWKS), pick the key by `kid`, verify the signature,
 * the audience (module URL without trailing slash) and the lifetime, and hand the module its
 * settings: every claim that is not a registered one (`key` from `custom_key`, …).
 */

export interface ConfigurationTokenOptions {
  /**
   * `jwks_host` values this module accepts (host or host:port, e.g. `hub.example.com`). A token
   * naming another host is refused before anything is fetched.
   */
  trustedJwksHosts: string[]
  /** Where a host's JWKS is; default `https://<host>/.well-known/jwks`. */
  jwksUrl?: (host: string) => string
  /** Claims the module cannot work without (e.g. `['key']`); missing → "Wrong JWT payload structure". */
  requiredClaims?: string[]
  /** Accepted clock difference in seconds (default 30). */
  clockToleranceSeconds?: number
  /** Timeout of a JWKS fetch in ms (default 5000). */
  jwksTimeoutMs?: number
  /** How long a fetched JWKS is reused before it is fetched again (default 10 min). */
  jwksCacheMaxAgeMs?: number
}

/** What a verified token gives the module. */
export interface VerifiedToken {
  /** The module instance settings: claims other than the registered ones. */
  config: Record<string, unknown>
  /** All claims, for logging ids (never log `config` values: they hold secrets). */
  claims: JWTPayload & { jwks_host: string }
}

const REGISTERED = new Set(['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti', 'jwks_host'])

/**
 * Reads `Authorization: Bearer <token>` the way the relay template does.
 *
 * @example
 * const token = bearerToken(request.headers.authorization)
 */
export function bearerToken(header: string | undefined): string {
  if (header === undefined || header === '') throw relayErrors.AUTH_HEADER_MISSING()
  const parts = header.trim().split(/\s+/)
  if (parts.length !== 2 || (parts[0] as string).toLowerCase() !== 'bearer')
    throw relayErrors.AUTH_WRONG_TYPE()
  return parts[1] as string
}

/**
 * Makes a verifier for configuration tokens; keep one per module (it caches JWKS per host).
 *
 * @example
 * const verify = createConfigurationTokenVerifier({ trustedJwksHosts: ['hub.example.com'], requiredClaims: ['key'] })
 * const { config } = await verify(request.headers.authorization, 'https://relay.example.com')
 */
export function createConfigurationTokenVerifier(
  options: ConfigurationTokenOptions,
): (authorization: string | undefined, audience: string) => Promise<VerifiedToken> {
  const trusted = new Set(options.trustedJwksHosts.map((host) => host.toLowerCase()))
  const jwksUrl = options.jwksUrl ?? ((host: string) => `https://${host}/.well-known/jwks`)
  const keySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>()

  function keySetFor(host: string) {
    let keySet = keySets.get(host)
    if (keySet === undefined) {
      keySet = createRemoteJWKSet(new URL(jwksUrl(host)), {
        timeoutDuration: options.jwksTimeoutMs ?? 5000,
        cacheMaxAge: options.jwksCacheMaxAgeMs ?? 600_000,
        // An unknown kid refetches the set at most every 30 s (key rotation), not per request.
        cooldownDuration: 30_000,
      })
      keySets.set(host, keySet)
    }
    return keySet
  }

  return async (authorization, audience) => {
    const token = bearerToken(authorization)
    let header: ReturnType<typeof decodeProtectedHeader>
    let unverified: JWTPayload
    try {
      header = decodeProtectedHeader(token)
      unverified = decodeJwt(token)
    } catch {
      throw relayErrors.JWT_WRONG_STRUCTURE()
    }
    const host = unverified.jwks_host
    if (typeof host !== 'string' || host === '') throw relayErrors.JWKS_HOST_MISSING()
    if (!trusted.has(host.toLowerCase())) throw relayErrors.JWKS_HOST_WRONG({ host })
    if (typeof header.kid !== 'string' || header.kid === '')
      throw relayErrors.KID_NOT_FOUND({ host })

    let payload: JWTPayload
    try {
      ;({ payload } = await jwtVerify(token, keySetFor(host.toLowerCase()), {
        algorithms: ['RS256'],
        audience: audience.replace(/\/+$/, ''),
        clockTolerance: options.clockToleranceSeconds ?? 30,
      }))
    } catch (err) {
      throw mapVerifyError(err, host, audience)
    }

    for (const claim of options.requiredClaims ?? []) {
      if (payload[claim] === undefined) throw relayErrors.JWT_WRONG_PAYLOAD({ claim })
    }
    const config: Record<string, unknown> = {}
    for (const [claim, value] of Object.entries(payload)) {
      if (!REGISTERED.has(claim)) config[claim] = value
    }
    return { config, claims: payload as VerifiedToken['claims'] }
  }
}

function mapVerifyError(err: unknown, host: string, audience: string) {
  if (err instanceof joseErrors.JWKSNoMatchingKey)
    return relayErrors.KID_NOT_FOUND({ host }, { cause: err })
  if (
    err instanceof joseErrors.JWSSignatureVerificationFailed ||
    err instanceof joseErrors.JOSEAlgNotAllowed
  ) {
    return relayErrors.JWT_WRONG_KEY({ host }, { cause: err })
  }
  if (err instanceof joseErrors.JWTExpired) return relayErrors.JWT_EXPIRED({}, { cause: err })
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    return err.claim === 'aud'
      ? relayErrors.JWT_WRONG_AUDIENCE({ audience }, { cause: err })
      : relayErrors.JWT_WRONG_PAYLOAD({ claim: err.claim }, { cause: err })
  }
  if (err instanceof joseErrors.JWSInvalid || err instanceof joseErrors.JWTInvalid) {
    return relayErrors.JWT_WRONG_STRUCTURE({}, { cause: err })
  }
  // Fetch failures, timeouts, a JWKS that is not one: the host named in the token is wrong.
  return relayErrors.JWKS_HOST_WRONG({ host }, { cause: err })
}
