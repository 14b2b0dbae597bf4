import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import Fastify, { type FastifyInstance } from 'fastify'
import { SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { waitFor } from '@postern/testkit'
import { createRelayClient } from './client.js'
import type { Observable } from '@postern/ctim'
import { mountRelayModule, type RelayContext, type RelayModule } from './server.js'
import {
  generateSigningKey,
  jwksDocument,
  mintConfigurationToken,
  type PublicJwk,
  type SigningKey,
} from './tokens.js'
import { RelayFailure } from './wire.js'

/**
 * End to end over real HTTP: a JWKS server (the hub's /.well-known/jwks, as a small node:http
 * server), a relay module served by fastify with token auth against it, and the client the hub
 * uses. Every server listens on an ephemeral port and is closed after the suite.
 */

interface JwksState {
  status: number
  body: string
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as AddressInfo).port
}

let signingKey: SigningKey
let otherKey: { signingKey: SigningKey; publicJwk: PublicJwk }
let jwks: JwksState
let jwksServer: Server
let jwksHost: string
let module: FastifyInstance
let moduleUrl: string
const seen: {
  config?: Record<string, unknown>
  observables?: Observable[]
  aborted: boolean
  trigger?: unknown
} = {
  aborted: false,
}

const sighting = (observable: Observable) => ({
  id: 'transient:sighting-00000000-0000-4000-8000-000000000001',
  type: 'sighting',
  schema_version: '1.3.29',
  count: 1,
  confidence: 'High',
  observed_time: { start_time: '2024-03-12T09:30:15.000Z' },
  observables: [observable],
})

const testModule: RelayModule = {
  async observe(observables, ctx) {
    seen.config = ctx.config
    seen.observables = observables
    return { data: { sightings: { count: observables.length, docs: observables.map(sighting) } } }
  },
  async deliberate(_observables, ctx: RelayContext) {
    // Slow on purpose: waits until the caller goes away.
    await new Promise<void>((resolve) =>
      ctx.signal.addEventListener('abort', () => resolve(), { once: true }),
    )
    seen.aborted = true
    return { data: {} }
  },
  async refer(observables) {
    return {
      data: observables.map((o) => ({
        id: `ref-test-search-${o.type}-${o.value}`,
        title: `Search for this ${o.type}`,
        description: `Look up this ${o.type} in the test module`,
        url: `https://module.example/search?q=${encodeURIComponent(o.value)}`,
        categories: ['Test', 'Search'],
      })),
      errors: [{ code: 'partial', message: 'One source was unavailable.', type: 'warning' }],
    }
  },
  async respondObservables() {
    throw new RelayFailure({
      code: 'too many requests',
      message: 'Upstream rate limit; retry in 60 s.',
      type: 'fatal',
    })
  },
  async respondTrigger(request) {
    seen.trigger = request
    return { data: { status: 'success' } }
  },
}

async function token(
  overrides: {
    claims?: Record<string, unknown>
    kid?: string
    key?: SigningKey
    aud?: string
    exp?: number
    jwksHost?: string | null
  } = {},
) {
  const key = overrides.key ?? signingKey
  const now = Math.floor(Date.now() / 1000)
  const claims: Record<string, unknown> = {
    key: 's3cr3t',
    CTR_ENTITIES_LIMIT: 50,
    ...overrides.claims,
  }
  if (overrides.jwksHost !== null) claims.jwks_host = overrides.jwksHost ?? jwksHost
  const jwt = new SignJWT(claims)
    .setProtectedHeader({
      alg: 'RS256',
      ...(overrides.kid !== '' ? { kid: overrides.kid ?? key.kid } : {}),
    })
    .setAudience(overrides.aud ?? moduleUrl)
    .setIssuedAt(now)
    .setExpirationTime(overrides.exp ?? now + 300)
  return jwt.sign(key.privateKey)
}

async function post(
  path: string,
  body: unknown,
  authorization?: string,
): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`${moduleUrl}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(authorization !== undefined ? { authorization } : {}),
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  })
  return { status: response.status, json: await response.json() }
}

const authFailure = (reason: string) => ({
  errors: [
    { code: 'authorization failed', message: `Authorization failed: ${reason}`, type: 'fatal' },
  ],
})

beforeAll(async () => {
  const generated = await generateSigningKey(2048)
  signingKey = generated.signingKey
  otherKey = await generateSigningKey(2048)
  jwks = { status: 200, body: JSON.stringify(jwksDocument([generated.publicJwk])) }
  jwksServer = createServer((request, response) => {
    if (request.url !== '/.well-known/jwks') {
      response.writeHead(404).end()
      return
    }
    response.writeHead(jwks.status, { 'content-type': 'application/json' }).end(jwks.body)
  })
  jwksHost = `127.0.0.1:${await listen(jwksServer)}`

  module = Fastify()
  await mountRelayModule(module, testModule, {
    version: '2.0.5',
    auth: {
      type: 'configuration-token',
      trustedJwksHosts: [jwksHost],
      jwksUrl: (host) => `http://${host}/.well-known/jwks`,
      requiredClaims: ['key'],
    },
  })
  await module.listen({ port: 0, host: '127.0.0.1' })
  moduleUrl = `http://127.0.0.1:${(module.server.address() as AddressInfo).port}`
})

afterAll(async () => {
  await module?.close()
  await new Promise((resolve) => jwksServer?.close(resolve))
})

describe('relay module server with RS256 configuration tokens', () => {
  it('serves observe to a client with a token minted against the JWKS', async () => {
    const client = createRelayClient({
      url: `${moduleUrl}/`,
      token: () =>
        mintConfigurationToken({
          key: signingKey,
          jwksHost,
          moduleUrl: `${moduleUrl}/`,
          settings: { custom_key: 's3cr3t', custom_CTR_ENTITIES_LIMIT: 50, name: 'not sent' },
          issuer: 'https://hub.example.com',
          subject: 'module-instance-1',
        }),
    })
    const result = await client.observe([
      { type: 'domain', value: 'EVIL.com' },
      { type: 'ip', value: '192.0.2.1' },
    ])
    expect(result.ok).toBe(true)
    expect(result.ok && result.data.sightings?.count).toBe(2)
    expect(seen.observables).toEqual([
      { type: 'domain', value: 'evil.com' },
      { type: 'ip', value: '192.0.2.1' },
    ])
    expect(seen.config).toEqual({ key: 's3cr3t', CTR_ENTITIES_LIMIT: 50 })
  })

  it('answers health without a handler and version and watchdog without a token', async () => {
    expect(await post('/health', undefined, `Bearer ${await token()}`)).toEqual({
      status: 200,
      json: { data: { status: 'ok' } },
    })
    expect(await post('/version', undefined)).toEqual({ status: 200, json: { version: '2.0.5' } })
    const watchdog = await fetch(`${moduleUrl}/watchdog`, { headers: { 'health-check': 'x' } })
    expect(await watchdog.json()).toEqual({ data: 'x' })
  })

  it.each<[string, () => Promise<string | undefined>, string]>([
    ['no header', async () => undefined, 'Authorization header is missing'],
    ['wrong scheme', async () => `Basic ${await token()}`, 'Wrong authorization type'],
    ['not a JWT', async () => 'Bearer not.a.jwt', 'Wrong JWT structure'],
    [
      'no jwks_host',
      async () => `Bearer ${await token({ jwksHost: null })}`,
      'jwks_host is missing in JWT payload. Make sure custom_jwks_host field is present in module_type',
    ],
    [
      'untrusted jwks_host',
      async () => `Bearer ${await token({ jwksHost: 'attacker.example' })}`,
      'Wrong jwks_host in JWT payload. Make sure custom_jwks_host names a host this module trusts',
    ],
    [
      'no kid',
      async () => `Bearer ${await token({ kid: '' })}`,
      'kid from JWT header not found in API response',
    ],
    [
      'unknown kid',
      async () => `Bearer ${await token({ kid: 'rotated-away' })}`,
      'kid from JWT header not found in API response',
    ],
    [
      'signed by another key under the same kid',
      async () =>
        `Bearer ${await token({ key: { kid: signingKey.kid, privateKey: otherKey.signingKey.privateKey } })}`,
      'Failed to decode JWT with provided key. Make sure domain in custom_jwks_host corresponds to the hub that calls this module.',
    ],
    [
      'minted for another module',
      async () => `Bearer ${await token({ aud: 'https://other-module.example' })}`,
      'Wrong configuration-token-audience',
    ],
    [
      'expired',
      async () => `Bearer ${await token({ exp: Math.floor(Date.now() / 1000) - 3600 })}`,
      'Configuration token has expired',
    ],
    [
      'without the claim the module needs',
      async () => `Bearer ${await token({ claims: { key: undefined } })}`,
      'Wrong JWT payload structure',
    ],
  ])('refuses %s with HTTP 200 and the relay wording', async (_name, header, reason) => {
    const answer = await post(
      '/observe/observables',
      [{ type: 'ip', value: '192.0.2.1' }],
      await header(),
    )
    expect(answer).toEqual({ status: 200, json: authFailure(reason) })
  })

  it('refuses when the JWKS host fails or serves garbage', async () => {
    const saved = { ...jwks }
    try {
      for (const state of [
        { status: 500, body: 'oops' },
        { status: 200, body: 'not json' },
      ]) {
        Object.assign(jwks, state)
        // A fresh kid forces a JWKS fetch past the cache.
        const answer = await post(
          '/observe/observables',
          [{ type: 'ip', value: '192.0.2.1' }],
          `Bearer ${await token({ kid: `new-${state.status}-${state.body.length}` })}`,
        )
        expect(answer.status).toBe(200)
        expect((answer.json as { errors: Array<{ message: string }> }).errors[0]?.message).toMatch(
          /^Authorization failed: (Wrong jwks_host in JWT payload|kid from JWT header not found)/,
        )
      }
    } finally {
      Object.assign(jwks, saved)
    }
  })

  it.each<[string, unknown, string]>([
    ['a blank value', [{ type: 'ip', value: '' }], '{"0": {"value": ["Field may not be blank."]}}'],
    ['a blank type', [{ type: '', value: 'x' }], '{"0": {"type": ["Field may not be blank."]}}'],
    ['a missing value', [{ type: 'ip' }], '{"0": {"value": ["Missing data for required field."]}}'],
    ['a number value', [{ type: 'ip', value: 5 }], '{"0": {"value": ["Not a valid string."]}}'],
    [
      'an unknown field',
      [{ type: 'ip', value: '192.0.2.1', extra: 1 }],
      '{"0": {"extra": ["Unknown field."]}}',
    ],
    [
      'an object instead of a list',
      { type: 'ip', value: '192.0.2.1' },
      '{"_schema": ["Invalid input type."]}',
    ],
    ['invalid JSON', '[{"type":', '{"_schema": ["Invalid input type."]}'],
  ])('refuses %s in the relay template wording', async (_name, body, details) => {
    const answer = await post('/observe/observables', body, `Bearer ${await token()}`)
    expect(answer).toEqual({
      status: 200,
      json: {
        errors: [
          {
            code: 'invalid payload received',
            message: `Invalid JSON payload received. ${details}.`,
            type: 'fatal',
          },
        ],
      },
    })
  })

  it('names every CTIM type when the type is unknown', async () => {
    const answer = await post(
      '/observe/observables',
      [{ type: 'hash', value: 'x' }],
      `Bearer ${await token()}`,
    )
    const message = (answer.json as { errors: Array<{ message: string }> }).errors[0]?.message ?? ''
    expect(message).toMatch(
      /^Invalid JSON payload received\. \{"0": \{"type": \["Must be one of: 'acudid', .*'user_agent'\."\]\}\}\.$/,
    )
  })

  it('passes trigger extras through and requires action-id', async () => {
    const client = createRelayClient({ url: moduleUrl, token: () => token() })
    const result = await client.respondTrigger({
      'action-id': 'block-domain',
      observable_type: 'domain',
      observable_value: 'evil.com',
      indicator_id: 'ind-42',
    })
    expect(result).toMatchObject({ ok: true, data: { status: 'success' }, errors: [] })
    expect(seen.trigger).toEqual({
      'action-id': 'block-domain',
      observable_type: 'domain',
      observable_value: 'evil.com',
      indicator_id: 'ind-42',
    })
    const missing = await post(
      '/respond/trigger',
      { observable_type: 'domain', observable_value: 'evil.com' },
      `Bearer ${await token()}`,
    )
    expect((missing.json as { errors: Array<{ message: string }> }).errors[0]?.message).toBe(
      'Invalid JSON payload received. {"action-id": ["Missing data for required field."]}.',
    )
  })

  it('returns partial answers and module-chosen errors', async () => {
    const client = createRelayClient({ url: moduleUrl, token: () => token() })
    const refer = await client.refer([{ type: 'domain', value: 'evil.com' }])
    expect(refer.ok).toBe(true)
    expect(refer.errors).toEqual([
      { code: 'partial', message: 'One source was unavailable.', type: 'warning' },
    ])
    const respond = await client.respondObservables([{ type: 'domain', value: 'evil.com' }])
    expect(respond).toMatchObject({
      ok: false,
      errors: [
        {
          code: 'too many requests',
          message: 'Upstream rate limit; retry in 60 s.',
          type: 'fatal',
        },
      ],
    })
  })
})

describe('relay client failures', () => {
  it('times out, and the module sees the caller go away', async () => {
    seen.aborted = false
    const client = createRelayClient({ url: moduleUrl, token: () => token(), timeoutMs: 300 })
    const result = await client.deliberate([{ type: 'domain', value: 'slow.com' }])
    expect(result).toMatchObject({
      ok: false,
      errors: [
        {
          code: 'module timeout',
          message: 'The module did not answer within 300 ms',
          type: 'fatal',
        },
      ],
    })
    await waitFor(() => seen.aborted, { what: 'the handler to see the abort', timeoutMs: 10_000 })
  })

  it('stops when the caller aborts', async () => {
    const client = createRelayClient({ url: moduleUrl, token: () => token(), timeoutMs: 30_000 })
    const controller = new AbortController()
    const pending = client.deliberate([{ type: 'domain', value: 'slow.com' }], {
      signal: controller.signal,
    })
    setTimeout(() => controller.abort(), 100)
    expect(await pending).toMatchObject({ ok: false, errors: [{ code: 'call aborted' }] })
  })

  it('reports an unreachable module', async () => {
    const closed = createServer()
    const port = await listen(closed)
    await new Promise((resolve) => closed.close(resolve))
    const client = createRelayClient({ url: `http://127.0.0.1:${port}` })
    const result = await client.health()
    expect(result).toMatchObject({
      ok: false,
      errors: [{ code: 'module unreachable', type: 'fatal' }],
    })
    expect(result.errors[0]?.message).toContain(`http://127.0.0.1:${port}`)
  })

  it('reports answers that break the contract', async () => {
    const broken = Fastify()
    broken.post('/status500/health', async (_request, reply) =>
      reply.code(500).send({ error: 'x' }),
    )
    broken.post('/html/health', async (_request, reply) => reply.type('text/html').send('<html>'))
    broken.post('/shape/health', async () => ({ result: 'ok' }))
    broken.post('/huge/observe/observables', async () => ({
      data: { sightings: { count: 1, docs: [{ blob: 'x'.repeat(200_000) }] } },
    }))
    broken.post('/nodata/health', async () => ({
      errors: [{ code: 'down', message: 'Maintenance', type: 'fatal' }],
    }))
    await broken.listen({ port: 0, host: '127.0.0.1' })
    const base = `http://127.0.0.1:${(broken.server.address() as AddressInfo).port}`
    try {
      expect(await createRelayClient({ url: `${base}/status500` }).health()).toMatchObject({
        ok: false,
        status: 500,
        errors: [
          {
            code: 'invalid module response',
            message: expect.stringContaining('HTTP 500 instead of 200'),
          },
        ],
      })
      expect(await createRelayClient({ url: `${base}/html` }).health()).toMatchObject({
        ok: false,
        errors: [{ code: 'invalid module response', message: expect.stringContaining('not JSON') }],
      })
      expect(await createRelayClient({ url: `${base}/shape` }).health()).toMatchObject({
        ok: false,
        errors: [{ code: 'invalid module response' }],
      })
      expect(
        await createRelayClient({ url: `${base}/huge`, maxResponseBytes: 100_000 }).observe([
          { type: 'ip', value: '192.0.2.1' },
        ]),
      ).toMatchObject({
        ok: false,
        errors: [
          {
            code: 'invalid module response',
            message: expect.stringContaining('larger than 100000'),
          },
        ],
      })
      expect(await createRelayClient({ url: `${base}/nodata` }).health()).toMatchObject({
        ok: false,
        errors: [{ code: 'down', message: 'Maintenance', type: 'fatal' }],
      })
    } finally {
      await broken.close()
    }
  })
})
