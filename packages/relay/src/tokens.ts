import { randomUUID } from 'node:crypto'
import {
  SignJWT,
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  importPKCS8,
  type CryptoKey,
  type JWK,
} from 'jose'
import { relayErrors } from './errors.js'

/**
 * RS256 configuration tokens (reference §4, "current RS256 configuration-token"): the platform —
 * our hub — signs a JWT per module call with header `kid`, claims `jwks_host` (where modules fetch
 * the verification key), `aud` (the module URL without trailing slash) and each `custom_X`
 * setting of the module instance as claim `X`. Modules verify it against
 * `https://<jwks_host>/.well-known/jwks`.
 */

/** A private key the hub signs with, and the id it is published under in the JWKS. */
export interface SigningKey {
  kid: string
  privateKey: CryptoKey
}

/** A public key as published in a JWKS (`{kty, n, e, alg, kid, use}`). */
export type PublicJwk = JWK & { kid: string; alg: 'RS256'; use: 'sig' }

// Claims the platform sets; a custom setting must not overwrite them.
const REGISTERED_CLAIMS = new Set(['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti', 'jwks_host'])

/**
 * Makes a new RS256 key pair for signing configuration tokens. The key id is the RFC 7638
 * thumbprint of the public key, so it changes when the key does.
 *
 * @example
 * const { signingKey, publicJwk, privateJwk } = await generateSigningKey()
 * // store privateJwk encrypted (SecretBox), publish publicJwk at /.well-known/jwks
 */
export async function generateSigningKey(
  modulusLength = 3072,
): Promise<{ signingKey: SigningKey; publicJwk: PublicJwk; privateJwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', {
    modulusLength,
    extractable: true,
  })
  const publicJwkRaw = await exportJWK(publicKey)
  const kid = await calculateJwkThumbprint(publicJwkRaw)
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: 'RS256' }
  return {
    signingKey: { kid, privateKey },
    publicJwk: { ...publicJwkRaw, kid, alg: 'RS256', use: 'sig' },
    privateJwk,
  }
}

/**
 * Loads a signing key from a private JWK (as {@link generateSigningKey} returns) or a PKCS#8 PEM.
 * Throws `RELAY_ERR_SIGNING_KEY_INVALID` for anything that is not an RSA private key.
 *
 * @example
 * const signingKey = await importSigningKey(JSON.parse(secretBox.open(row.private_jwk)))
 */
export async function importSigningKey(key: JWK | string, kid?: string): Promise<SigningKey> {
  try {
    if (typeof key === 'string') {
      const privateKey = await importPKCS8(key, 'RS256', { extractable: true })
      const id = kid ?? (await calculateJwkThumbprint(await publicPartOf(privateKey)))
      return { kid: id, privateKey }
    }
    if (key.kty !== 'RSA' || key.d === undefined) throw new Error('not an RSA private key')
    const privateKey = (await importJWK({ ...key, alg: 'RS256' }, 'RS256', {
      extractable: true,
    })) as CryptoKey
    const id = kid ?? key.kid ?? (await calculateJwkThumbprint({ kty: 'RSA', n: key.n, e: key.e }))
    return { kid: id, privateKey }
  } catch (err) {
    throw relayErrors.SIGNING_KEY_INVALID({
      reason: err instanceof Error ? err.message : String(err),
    })
  }
}

async function publicPartOf(privateKey: CryptoKey): Promise<JWK> {
  const { kty, n, e } = await exportJWK(privateKey)
  return { kty, n, e } as JWK
}

/**
 * The public JWK of a signing key, ready for the JWKS document.
 *
 * @example
 * const jwk = await publicJwkOf(signingKey)
 */
export async function publicJwkOf(key: SigningKey): Promise<PublicJwk> {
  const { kty, n, e } = await exportJWK(key.privateKey)
  return { kty, n, e, kid: key.kid, alg: 'RS256', use: 'sig' } as PublicJwk
}

/**
 * The JWKS document served at `/.well-known/jwks` (RFC 7517 §5). Publish the current key and,
 * during a rotation, the previous one until tokens signed with it have expired.
 *
 * @example
 * app.get('/.well-known/jwks', { config: { public: true } }, async () => jwksDocument([current, previous]))
 */
export function jwksDocument(keys: PublicJwk[]): { keys: PublicJwk[] } {
  return {
    keys: keys.map(({ kty, n, e, kid, alg, use }) => ({ kty, n, e, kid, alg, use }) as PublicJwk),
  }
}

/**
 * The audience of a module: its URL without trailing slash (what the module compares `aud`
 * with). Throws `RELAY_ERR_MODULE_URL_INVALID` for anything but an absolute http(s) URL.
 *
 * @example
 * moduleAudience('https://relay.example.com/') // 'https://relay.example.com'
 */
export function moduleAudience(url: string): string {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw relayErrors.MODULE_URL_INVALID({ url })
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
    throw relayErrors.MODULE_URL_INVALID({ url })
  return url.trim().replace(/\/+$/, '')
}

/**
 * The claims a module instance's settings contribute: each `custom_X` setting becomes claim `X`
 * (`custom_key` → `key`); other settings are not sent. Throws `RELAY_ERR_CLAIM_RESERVED` when a
 * setting would overwrite a registered claim.
 *
 * @example
 * customClaims({ custom_key: 's3cr3t', custom_CTR_ENTITIES_LIMIT: 100, name: 'x' }) // { key: 's3cr3t', CTR_ENTITIES_LIMIT: 100 }
 */
export function customClaims(settings: Record<string, unknown>): Record<string, unknown> {
  const claims: Record<string, unknown> = {}
  for (const [setting, value] of Object.entries(settings)) {
    if (!setting.startsWith('custom_') || setting === 'custom_jwks_host') continue
    const claim = setting.slice('custom_'.length)
    if (claim === '' || REGISTERED_CLAIMS.has(claim))
      throw relayErrors.CLAIM_RESERVED({ setting, claim })
    claims[claim] = value
  }
  return claims
}

export interface MintOptions {
  key: SigningKey
  /** Host (and port) modules fetch the JWKS from, e.g. `hub.example.com`. */
  jwksHost: string
  /** The module instance URL; its trailing slash is dropped for `aud`. */
  moduleUrl: string
  /** Module instance settings; `custom_X` entries become claims. */
  settings?: Record<string, unknown>
  /** `iss`, e.g. the hub's public URL. */
  issuer?: string
  /** `sub`, e.g. the module instance id. */
  subject?: string
  /** Lifetime in seconds (default 300: one call plus clock skew). */
  ttlSeconds?: number
  now?: Date
}

/**
 * Mints the configuration token for one call to a relay module.
 *
 * @example
 * const token = await mintConfigurationToken({
 *   key: signingKey, jwksHost: 'hub.example.com', moduleUrl: instance.url,
 *   settings: instance.settings, issuer: 'https://hub.example.com', subject: instance.id,
 * })
 * await fetch(`${instance.url}/observe/observables`, { headers: { authorization: `Bearer ${token}` }, … })
 */
export async function mintConfigurationToken(options: MintOptions): Promise<string> {
  const now = Math.floor((options.now ?? new Date()).getTime() / 1000)
  const jwt = new SignJWT({ ...customClaims(options.settings ?? {}), jwks_host: options.jwksHost })
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: options.key.kid })
    .setAudience(moduleAudience(options.moduleUrl))
    .setIssuedAt(now)
    .setNotBefore(now - 5)
    .setExpirationTime(now + (options.ttlSeconds ?? 300))
    .setJti(randomUUID())
  if (options.issuer !== undefined) jwt.setIssuer(options.issuer)
  if (options.subject !== undefined) jwt.setSubject(options.subject)
  return jwt.sign(options.key.privateKey)
}
