import { createPrivateKey, createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto'
import { promisify } from 'node:util'
import { calculateJwkThumbprint, type JWK } from 'jose'
import type { Clock, Logger, SecretBox } from '@postern/core'
import type { SigningKeyRecord, SigningKeysRepo } from '@postern/store'
import { hubErrors } from '../errors.js'

const generateRsa = promisify(generateKeyPair)

/**
 * How stale this node's copy of the key table may get: another hub node may rotate (or revoke)
 * keys at any time, and this node must then sign with the new key and publish it.
 */
const REFRESH_MS = 5_000

export interface SigningKey {
  kid: string
  alg: 'RS256'
  privateKey: KeyObject
}

/** A public key as published at /.well-known/jwks (RFC 7517 §4). */
export interface PublishedJwk {
  kty: string
  n: string
  e: string
  kid: string
  alg: string
  use: 'sig'
}

export interface KeyStoreOptions {
  repo: SigningKeysRepo
  box: SecretBox
  clock: Clock
  logger: Logger
  /** A key signs for this long before a new one replaces it. */
  rotationMs: number
  /** A retired key stays published this long (≥ the longest token lifetime). */
  graceMs: number
}

/**
 * The hub's RS256 signing keys (RFC 7518 §3.3). Keys live in the database, the private halves
 * sealed with the hub's SecretBox, so every hub node signs with the same key and publishes the
 * same JWKS. Each key has a `kid` (its RFC 7638 thumbprint); the newest unretired key signs, and
 * retired keys stay in the JWKS until every token they signed has expired.
 */
export class KeyStore {
  private keys: SigningKeyRecord[] = []
  private readonly privateKeys = new Map<string, KeyObject>()
  private readonly publicKeys = new Map<string, KeyObject>()
  private lastReload = 0

  constructor(private readonly options: KeyStoreOptions) {}

  /** Loads the keys and makes a new one when none signs any more (first start, rotation due). */
  async ensureCurrent(): Promise<void> {
    await this.reload()
    const now = this.options.clock.now()
    if (!this.keys.some((k) => k.retiresAt > now)) await this.create(now)
    const removed = await this.options.repo.deleteExpired(now)
    if (removed > 0) {
      this.options.logger.info(
        { event: 'SIGNING_KEYS_EXPIRED', removed },
        'expired signing keys removed',
      )
    }
  }

  /**
   * Starts signing with a fresh key now. With `revokeOld`, older keys leave the JWKS at once and
   * every token they signed stops working (for a suspected key compromise).
   */
  async rotate(options: { revokeOld?: boolean } = {}): Promise<string> {
    await this.reload()
    const now = this.options.clock.now()
    for (const key of this.keys) {
      await this.options.repo.retire(key.kid, now)
      if (options.revokeOld) await this.options.repo.expireNow(key.kid, now)
      this.privateKeys.delete(key.kid)
      this.publicKeys.delete(key.kid)
    }
    const kid = await this.create(now)
    this.options.logger.warn(
      { event: 'SIGNING_KEY_ROTATED', kid, revokedOld: options.revokeOld === true },
      'signing key rotated',
    )
    return kid
  }

  /** The key that signs new tokens (as every node of the database sees it). */
  async current(): Promise<SigningKey> {
    await this.refresh()
    const now = this.options.clock.now()
    const record = this.keys.find((k) => k.retiresAt > now && k.expiresAt > now)
    if (!record) throw hubErrors.SIGNING_KEY_MISSING()
    return { kid: record.kid, alg: 'RS256', privateKey: this.privateKey(record) }
  }

  /** The public key with this `kid`, reloading once when another node may have made it. */
  async publicKey(kid: string): Promise<KeyObject | undefined> {
    let record = this.findPublished(kid)
    if (!record && this.options.clock.now() - this.lastReload > REFRESH_MS) {
      await this.reload()
      record = this.findPublished(kid)
    }
    if (!record) return undefined
    let key = this.publicKeys.get(kid)
    if (!key) {
      key = createPublicKey({ key: record.publicJwk as JWK & { kty: string }, format: 'jwk' })
      this.publicKeys.set(kid, key)
    }
    return key
  }

  /** The JSON Web Key Set served at /.well-known/jwks. */
  async jwks(): Promise<{ keys: PublishedJwk[] }> {
    await this.refresh()
    const now = this.options.clock.now()
    return {
      keys: this.keys
        .filter((k) => k.expiresAt > now)
        .map((k) => ({
          kty: String(k.publicJwk.kty),
          n: String(k.publicJwk.n),
          e: String(k.publicJwk.e),
          kid: k.kid,
          alg: k.alg,
          use: 'sig' as const,
        })),
    }
  }

  async reload(): Promise<void> {
    this.keys = await this.options.repo.listPublished(this.options.clock.now())
    this.lastReload = this.options.clock.now()
  }

  private async refresh(): Promise<void> {
    if (this.options.clock.now() - this.lastReload > REFRESH_MS) await this.reload()
  }

  private findPublished(kid: string): SigningKeyRecord | undefined {
    const now = this.options.clock.now()
    return this.keys.find((k) => k.kid === kid && k.expiresAt > now)
  }

  private privateKey(record: SigningKeyRecord): KeyObject {
    let key = this.privateKeys.get(record.kid)
    if (!key) {
      const pem = this.options.box.decrypt(record.privateKeySealed, `signing-key:${record.kid}`)
      key = createPrivateKey(pem)
      this.privateKeys.set(record.kid, key)
    }
    return key
  }

  private async create(now: number): Promise<string> {
    const { privateKey, publicKey } = await generateRsa('rsa', { modulusLength: 2048 })
    const jwk = publicKey.export({ format: 'jwk' }) as JWK
    const kid = await calculateJwkThumbprint({ kty: 'RSA', n: jwk.n, e: jwk.e })
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
    const retiresAt = now + this.options.rotationMs
    await this.options.repo.insert({
      kid,
      alg: 'RS256',
      publicJwk: { kty: 'RSA', n: jwk.n, e: jwk.e },
      privateKeySealed: this.options.box.encrypt(pem, `signing-key:${kid}`),
      createdAt: now,
      retiresAt,
      expiresAt: retiresAt + this.options.graceMs,
    })
    this.options.logger.info({ event: 'SIGNING_KEY_CREATED', kid }, 'new token signing key')
    await this.reload()
    return kid
  }
}
