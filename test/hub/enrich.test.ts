import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createRemoteJWKSet, jwtVerify } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BACKENDS } from '@postern/store/testing'
import { SCOPE_CATALOGUE } from '@postern/hub'
import { fetchToken, startTestHub, type HubHarness } from './harness.js'

/**
 * A relay module written as a small independent HTTP server: it verifies the hub's RS256
 * configuration token against the hub's JWKS with jose alone (no Postern code), checks `aud`
 * is its own URL, and answers observe, deliberate, refer and respond.
 */
interface RelayStub {
  url: string
  calls: { path: string; claims: Record<string, unknown> | null; error?: string }[]
  close(): Promise<void>
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of request) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

async function startRelayStub(
  hubUrl: string,
  behaviour: { delayMs?: number; name: string },
): Promise<RelayStub> {
  const jwks = createRemoteJWKSet(new URL(`${hubUrl}/.well-known/jwks`))
  const calls: RelayStub['calls'] = []
  let url = ''
  const server: Server = createServer((request, response) => {
    void (async () => {
      const body = await readBody(request)
      const path = (request.url ?? '').replace(/^\/relay/, '')
      const send = (payload: unknown) => {
        response.writeHead(200, { 'content-type': 'application/json' })
        response.end(JSON.stringify(payload))
      }
      const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1]
      try {
        if (!token) throw new Error('Authorization header is missing')
        const { payload } = await jwtVerify(token, jwks, { audience: url, algorithms: ['RS256'] })
        calls.push({ path, claims: payload as Record<string, unknown> })
      } catch (err) {
        calls.push({ path, claims: null, error: (err as Error).message })
        send({ errors: [{ code: 'authorization failed', message: String(err), type: 'fatal' }] })
        return
      }
      if (behaviour.delayMs) await new Promise((r) => setTimeout(r, behaviour.delayMs))
      if (response.destroyed) return
      const observables = body ? (JSON.parse(body) as { type: string; value: string }[]) : []
      switch (path) {
        case '/health':
          return send({ data: { status: 'ok' } })
        case '/observe/observables':
          return send({
            data: {
              sightings: {
                count: observables.length,
                docs: observables.map((o) => ({
                  type: 'sighting',
                  source: behaviour.name,
                  count: 1,
                  confidence: 'High',
                  observed_time: { start_time: '2026-01-01T00:00:00.000Z' },
                  observables: [o],
                })),
              },
            },
          })
        case '/deliberate/observables':
          return send({
            data: {
              verdicts: {
                count: 1,
                docs: observables.slice(0, 1).map((o) => ({
                  type: 'verdict',
                  disposition: 2,
                  disposition_name: 'Malicious',
                  observable: o,
                  valid_time: {},
                })),
              },
            },
          })
        case '/refer/observables':
          return send({
            data: observables.map((o) => ({
              id: `ref-stub-${o.type}-${o.value}`,
              title: 'Search',
              description: 'Search the stub',
              url: `https://stub.example/search?q=${encodeURIComponent(o.value)}`,
              categories: ['Stub'],
            })),
          })
        case '/respond/observables':
          return send({
            data: observables.map((o) => ({
              id: 'stub-block',
              title: 'Block',
              description: 'Block it',
              categories: ['Stub'],
              'query-params': { observable_type: o.type, observable_value: o.value },
            })),
          })
        case '/respond/trigger':
          return send({ data: { status: 'success', received: JSON.parse(body) } })
        default:
          return send({ errors: [{ code: 'not found', message: path, type: 'fatal' }] })
      }
    })()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/relay`
  return {
    url,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

describe.each(BACKENDS)('hub enrich and respond fan-out on %s', (dialect) => {
  let h: HubHarness
  let token: string
  let intel: RelayStub
  let slow: RelayStub
  let intelId: string
  let slowId: string

  beforeAll(async () => {
    h = await startTestHub(dialect, { investigate: { moduleTimeoutSeconds: 1 } })
    await h.hub.admin.createOrgWithAdmin({ orgName: 'Org A', email: 'admin@a.example' })
    const client = await h.hub.admin.createApiClient({
      org: 'Org A',
      name: 'analyst',
      scopes: SCOPE_CATALOGUE,
    })
    token = await fetchToken(h.hub, client.client.id, client.secret)
    intel = await startRelayStub(h.hub.url, { name: 'Intel' })
    slow = await startRelayStub(h.hub.url, { name: 'Slow', delayMs: 3000 })
    const create = async (name: string, settings: Record<string, unknown>) => {
      const res = await call('POST', '/iroh/iroh-int/module-instance', {
        name,
        module_type_id: 'relay',
        settings,
      })
      expect(res.statusCode).toBe(201)
      return res.json().id as string
    }
    intelId = await create('Intel', { url: intel.url, custom_key: 'intel-api-key' })
    slowId = await create('Slow', { url: slow.url })
  })
  afterAll(async () => {
    await intel?.close()
    await slow?.close()
    await h?.stop()
  })

  function call(method: 'GET' | 'POST', url: string, payload?: unknown) {
    return h.hub.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${token}` },
      ...(payload !== undefined ? { payload: payload as object } : {}),
    })
  }

  const observables = [
    { type: 'domain', value: 'login-micros0ft.com' },
    { type: 'url', value: 'https://login-micros0ft.com/reset' },
  ]

  it('observe: the relay module verifies the hub token; the late module is an error entry', async () => {
    const res = await call('POST', '/iroh/iroh-enrich/observe/observables', observables)
    expect(res.statusCode).toBe(200)
    const body = res.json()
    expect(body.data).toEqual([
      {
        module: 'Intel',
        module_instance_id: intelId,
        module_type_id: 'relay',
        'module-type': 'Intel',
        data: { sightings: { count: 2, docs: expect.any(Array) } },
      },
    ])
    expect(body.errors).toEqual([
      expect.objectContaining({
        module: 'Slow',
        module_instance_id: slowId,
        code: 'module timeout',
        type: 'fatal',
      }),
    ])
    const verified = intel.calls.find((c) => c.path === '/observe/observables')
    expect(verified?.error).toBeUndefined()
    expect(verified?.claims).toMatchObject({
      aud: intel.url,
      key: 'intel-api-key',
      jwks_host: new URL(h.hub.url).host,
      sub: intelId,
    })
  })

  it('deliberate and refer merge per module', async () => {
    const deliberate = (
      await call('POST', '/iroh/iroh-enrich/deliberate/observables', observables)
    ).json()
    expect(deliberate.data[0].data.verdicts.docs[0]).toMatchObject({
      disposition_name: 'Malicious',
    })
    const refer = (await call('POST', '/iroh/iroh-enrich/refer/observables', observables)).json()
    expect(refer.data).toHaveLength(2)
    expect(refer.data[0]).toMatchObject({
      module: 'Intel',
      id: 'ref-stub-domain-login-micros0ft.com',
    })
  })

  it('health reports each module', async () => {
    const health = (await call('POST', '/iroh/iroh-enrich/health')).json()
    expect(health.data).toHaveLength(2)
    expect(health.data).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ module_instance_id: intelId, data: { status: 'ok' } }),
        expect.objectContaining({ module_instance_id: slowId, data: { status: 'error' } }),
      ]),
    )
  })

  it('lists actions with trigger URLs and triggers one by module name', async () => {
    const actions = (
      await call('POST', '/iroh/iroh-response/respond/observables', observables.slice(0, 1))
    ).json()
    expect(actions.data[0]).toMatchObject({
      module: 'Intel',
      id: 'stub-block',
      url: `/respond/trigger/${intelId}/stub-block?observable_type=domain&observable_value=login-micros0ft.com`,
    })
    const trigger = await call(
      'POST',
      '/iroh/iroh-response/respond/trigger/Intel/stub-block?observable_type=domain&observable_value=login-micros0ft.com&list=corp',
    )
    expect(trigger.statusCode).toBe(200)
    expect(trigger.json().data).toMatchObject({
      status: 'success',
      results: [
        {
          status: 'success',
          received: {
            'action-id': 'stub-block',
            observable_type: 'domain',
            observable_value: 'login-micros0ft.com',
            list: 'corp',
          },
        },
      ],
    })
  })

  it.each([
    [[{ type: 'domain' }], [{ value: 'missing-required-key' }]],
    [
      [observables[0], { type: 'colour', value: 'red' }],
      [null, { type: expect.stringContaining('not') }],
    ],
    [{ content: 'x' }, expect.any(String)],
  ])('refuses %j with the reference 400 body', async (payload, expected) => {
    const res = await call('POST', '/iroh/iroh-enrich/observe/observables', payload)
    expect(res.statusCode).toBe(400)
    expect(res.json()).toEqual(expected)
  })
})
