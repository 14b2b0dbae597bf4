import { generateKeyPairSync } from 'node:crypto'
import { decodeJwt, decodeProtectedHeader, importJWK, jwtVerify } from 'jose'
import { describe, expect, it } from 'vitest'
import {
  customClaims,
  generateSigningKey,
  importSigningKey,
  jwksDocument,
  mintConfigurationToken,
  moduleAudience,
  publicJwkOf,
} from './tokens.js'

describe('configuration tokens', () => {
  it('mints RS256 tokens with kid, aud, jwks_host and custom claims', async () => {
    const { signingKey, publicJwk } = await generateSigningKey(2048)
    const token = await mintConfigurationToken({
      key: signingKey,
      jwksHost: 'hub.example.com',
      moduleUrl: 'https://relay.example.com/',
      settings: {
        custom_key: 'api-key',
        custom_CTR_ENTITIES_LIMIT: 100,
        custom_jwks_host: 'ignored',
        url: 'x',
      },
      issuer: 'https://hub.example.com',
      subject: 'instance-1',
      ttlSeconds: 120,
      now: new Date(),
    })
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'RS256', typ: 'JWT', kid: signingKey.kid })
    const { payload } = await jwtVerify(token, await importJWK(publicJwk, 'RS256'), {
      audience: 'https://relay.example.com',
      issuer: 'https://hub.example.com',
    })
    expect(payload).toMatchObject({
      key: 'api-key',
      CTR_ENTITIES_LIMIT: 100,
      jwks_host: 'hub.example.com',
      sub: 'instance-1',
    })
    expect(payload).not.toHaveProperty('url')
    expect((payload.exp as number) - (payload.iat as number)).toBe(120)
    expect(decodeJwt(token).jti).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('maps custom_X to X and refuses registered claim names', () => {
    expect(customClaims({ custom_key: 'k', other: 1 })).toEqual({ key: 'k' })
    expect(() => customClaims({ custom_aud: 'x' })).toThrow(
      expect.objectContaining({ code: 'RELAY_ERR_CLAIM_RESERVED' }),
    )
    expect(() => customClaims({ custom_: 'x' })).toThrow(
      expect.objectContaining({ code: 'RELAY_ERR_CLAIM_RESERVED' }),
    )
  })

  it('derives the audience from the module URL', () => {
    expect(moduleAudience('https://relay.example.com/')).toBe('https://relay.example.com')
    expect(moduleAudience('https://relay.example.com/base//')).toBe(
      'https://relay.example.com/base',
    )
    for (const url of ['relay.example.com', 'ftp://relay.example.com', '']) {
      expect(() => moduleAudience(url)).toThrow(
        expect.objectContaining({ code: 'RELAY_ERR_MODULE_URL_INVALID' }),
      )
    }
  })

  it('loads signing keys from a private JWK or a PKCS#8 PEM and publishes their JWKS', async () => {
    const generated = await generateSigningKey(2048)
    const fromJwk = await importSigningKey(generated.privateJwk)
    expect(fromJwk.kid).toBe(generated.signingKey.kid)
    expect(await publicJwkOf(fromJwk)).toEqual(generated.publicJwk)

    const pem = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString()
    const fromPem = await importSigningKey(pem)
    expect(fromPem.kid).toMatch(/^[A-Za-z0-9_-]{43}$/)
    const jwks = jwksDocument([generated.publicJwk, await publicJwkOf(fromPem)])
    expect(jwks.keys).toHaveLength(2)
    for (const key of jwks.keys) {
      expect(Object.keys(key).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use'])
      expect(key).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' })
    }
  })

  it('refuses keys that cannot sign RS256', async () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString()
    await expect(importSigningKey(ec)).rejects.toMatchObject({
      code: 'RELAY_ERR_SIGNING_KEY_INVALID',
    })
    await expect(importSigningKey({ kty: 'RSA', n: 'x', e: 'AQAB' })).rejects.toMatchObject({
      code: 'RELAY_ERR_SIGNING_KEY_INVALID',
    })
    await expect(importSigningKey('not a pem')).rejects.toMatchObject({
      code: 'RELAY_ERR_SIGNING_KEY_INVALID',
    })
  })
})
