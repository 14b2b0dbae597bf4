import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import Fastify from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLogger } from '@postern/core'
import { createHttpApp } from '@postern/http'
import { createRelayClient } from './client.js'
import {
  dispatchRelayCall,
  mountRelayModule,
  supportedApis,
  type RelayContext,
  type RelayModule,
} from './server.js'
import {
  generateSigningKey,
  jwksDocument,
  mintConfigurationToken,
  type SigningKey,
} from './tokens.js'
import { RelayFailure } from './wire.js'

const ctx = (): RelayContext => ({
  config: {},
  signal: new AbortController().signal,
  log: createLogger({ level: 'silent' }),
})

describe('dispatchRelayCall (no HTTP)', () => {
  const module: RelayModule = {
    async observe(observables) {
      return { data: { sightings: { count: observables.length, docs: [] } } }
    },
    async respondTrigger() {
      throw new Error('database is down')
    },
    async refer() {
      throw new RelayFailure({
        code: 'unauthorized',
        message: 'The API key was refused.',
        type: 'fatal',
      })
    },
  }

  it('answers data, unsupported routes, module failures and bugs', async () => {
    expect(
      await dispatchRelayCall(module, 'observe', [{ type: 'ip', value: '192.0.2.1' }], ctx()),
    ).toEqual({
      data: { sightings: { count: 1, docs: [] } },
    })
    expect(await dispatchRelayCall(module, 'health', undefined, ctx())).toEqual({
      data: { status: 'ok' },
    })
    expect(await dispatchRelayCall(module, 'deliberate', [], ctx())).toEqual({
      errors: [
        {
          code: 'not supported',
          message: 'This module does not support /deliberate/observables.',
          type: 'fatal',
        },
      ],
    })
    expect(
      await dispatchRelayCall(module, 'refer', [{ type: 'ip', value: '192.0.2.1' }], ctx()),
    ).toEqual({
      errors: [{ code: 'unauthorized', message: 'The API key was refused.', type: 'fatal' }],
    })
    expect(
      await dispatchRelayCall(
        module,
        'respondTrigger',
        { 'action-id': 'a', observable_type: 'ip', observable_value: '192.0.2.1' },
        ctx(),
      ),
    ).toEqual({ errors: [{ code: 'oops', message: 'Something went wrong.', type: 'fatal' }] })
  })

  it('lists the supported APIs for the module type', () => {
    expect(supportedApis(module)).toEqual([
      'health',
      'observe/observables',
      'refer/observables',
      'respond/trigger',
    ])
  })
})

describe('mounting on the Postern HTTP app under a prefix', () => {
  let key: SigningKey
  let jwksServer: Server
  let jwksHost: string
  let app: Awaited<ReturnType<typeof createHttpApp>>
  let base: string
  let plain: ReturnType<typeof Fastify>

  beforeAll(async () => {
    const generated = await generateSigningKey(2048)
    key = generated.signingKey
    jwksServer = createServer((_request, response) => {
      response
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify(jwksDocument([generated.publicJwk])))
    })
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve))
    jwksHost = `127.0.0.1:${(jwksServer.address() as AddressInfo).port}`

    app = await createHttpApp({
      logger: createLogger({ level: 'silent' }),
      title: 't',
      description: 'd',
      version: '1',
    })
    app.get('/api/v1/ping', async () => ({ pong: true }))
    await mountRelayModule(
      app,
      {
        async deliberate(observables) {
          return { data: { verdicts: { count: observables.length, docs: [] } } }
        },
      },
      {
        prefix: '/relay',
        auth: {
          type: 'configuration-token',
          trustedJwksHosts: [jwksHost],
          jwksUrl: (h) => `http://${h}/.well-known/jwks`,
        },
      },
    )
    await app.listen({ port: 0, host: '127.0.0.1' })
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`

    plain = Fastify()
    await mountRelayModule(plain, {}, { auth: { type: 'none' } })
    await plain.listen({ port: 0, host: '127.0.0.1' })
  })

  afterAll(async () => {
    await app?.close()
    await plain?.close()
    await new Promise((resolve) => jwksServer?.close(resolve))
  })

  it('uses the URL the request came to, prefix included, as the audience', async () => {
    const moduleUrl = `${base}/relay`
    const client = createRelayClient({
      url: moduleUrl,
      token: () => mintConfigurationToken({ key, jwksHost, moduleUrl }),
    })
    const result = await client.deliberate([
      { type: 'sha256', value: 'E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855' },
    ])
    expect(result).toMatchObject({ ok: true, data: { verdicts: { count: 1 } } })

    const wrongAudience = createRelayClient({
      url: moduleUrl,
      token: () => mintConfigurationToken({ key, jwksHost, moduleUrl: base }),
    })
    expect((await wrongAudience.health()).errors[0]?.message).toBe(
      'Authorization failed: Wrong configuration-token-audience',
    )
  })

  it("leaves the app's own routes and errors alone", async () => {
    expect(await (await fetch(`${base}/api/v1/ping`)).json()).toEqual({ pong: true })
    const missing = await fetch(`${base}/relay/observe/observables`, { method: 'POST' })
    expect(missing.status).toBe(404)
  })

  it('serves without token checks when the transport authenticates', async () => {
    const client = createRelayClient({
      url: `http://127.0.0.1:${(plain.server.address() as AddressInfo).port}`,
    })
    expect(await client.health()).toMatchObject({ ok: true, data: { status: 'ok' } })
  })

  it('reports a token that cannot be minted as a misconfigured module', async () => {
    const client = createRelayClient({
      url: `${base}/relay`,
      token: () =>
        mintConfigurationToken({
          key,
          jwksHost,
          moduleUrl: `${base}/relay`,
          settings: { custom_exp: 1 },
        }),
    })
    expect(await client.health()).toMatchObject({
      ok: false,
      errors: [{ code: 'module misconfigured', type: 'fatal' }],
    })
  })
})
