import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BACKENDS } from '@postern/store/testing'
import { SCOPE_CATALOGUE } from '@postern/hub'
import { startRelayStub, type RelayStub } from '../support/relay-stub.js'
import { fetchToken, signIn, startTestHub, type HubHarness } from './harness.js'

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

  // Over a real connection, not `inject`: Node closes a request as soon as its body is read,
  // which must not count as the caller going away (every module call would be aborted).
  it.each([
    ['observe', '/iroh/iroh-enrich/observe/observables'],
    ['deliberate', '/iroh/iroh-enrich/deliberate/observables'],
    ['refer', '/iroh/iroh-enrich/refer/observables'],
    ['respond', '/iroh/iroh-response/respond/observables'],
  ])('%s over HTTP reaches the relay module', async (_route, path) => {
    const res = await fetch(new URL(path, h.hub.url), {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(observables),
    })
    expect(res.status).toBe(200)
    const body = (await res.json()) as { data: { module: string }[]; errors?: unknown[] }
    expect(body.data).toEqual(
      expect.arrayContaining([expect.objectContaining({ module: 'Intel' })]),
    )
    expect(body.errors ?? []).not.toContainEqual(expect.objectContaining({ module: 'Intel' }))
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

  describe('approval workflow', () => {
    const session = (email: string, password: string) => signIn(h.hub, email, password)
    let alice: Awaited<ReturnType<typeof session>>
    let bob: Awaited<ReturnType<typeof session>>
    let reader: Awaited<ReturnType<typeof session>>
    const trigger = (as: typeof alice) =>
      as(
        'POST',
        '/iroh/iroh-response/respond/trigger/Guarded/delete?observable_type=email_messageid&observable_value=x%40evil.example',
      )

    beforeAll(async () => {
      for (const [email, role] of [
        ['alice@a.example', 'analyst'],
        ['bob@a.example', 'analyst'],
        ['rita@a.example', 'read-only'],
      ] as const) {
        await h.hub.admin.createUser({
          org: 'Org A',
          email,
          role,
          password: 'correct horse battery',
        })
      }
      alice = await session('alice@a.example', 'correct horse battery')
      bob = await session('bob@a.example', 'correct horse battery')
      reader = await session('rita@a.example', 'correct horse battery')
      const created = await call('POST', '/iroh/iroh-int/module-instance', {
        name: 'Guarded',
        module_type_id: 'postern-email-gateway',
        settings: { approval_required: ['delete', 'forward-and-delete'] },
      })
      expect(created.statusCode).toBe(201)
    })

    it('keeps an action that needs approval pending until another user approves it', async () => {
      const pending = await trigger(alice)
      expect(pending.statusCode).toBe(200)
      const { approval_id: id, status } = pending.json().data
      expect(status).toBe('pending')
      const listed = (await bob('GET', '/api/v1/approvals?status=pending')).json().items
      expect(listed.map((r: { id: string }) => r.id)).toContain(id)

      const own = await alice('POST', `/api/v1/approvals/${id}/approve`, {})
      expect(own.statusCode).toBe(403)
      expect(own.json().error.code).toBe('HUB_ERR_APPROVAL_OWN_REQUEST')
      expect((await reader('POST', `/api/v1/approvals/${id}/approve`, {})).statusCode).toBe(403)

      const approved = await bob('POST', `/api/v1/approvals/${id}/approve`, { comment: 'go' })
      expect(approved.statusCode).toBe(200)
      expect(approved.json()).toMatchObject({
        status: 'approved',
        comment: 'go',
        // The organisation has no gateway holding the message: the run itself reports it.
        result: {
          data: { status: 'failure' },
          errors: [expect.objectContaining({ code: 'not found' })],
        },
      })
      const again = await bob('POST', `/api/v1/approvals/${id}/reject`, { comment: 'late' })
      expect(again.statusCode).toBe(409)
    })

    it('rejects with a comment, and expires requests nobody decided', async () => {
      const first = (await trigger(alice)).json().data.approval_id
      const rejected = await bob('POST', `/api/v1/approvals/${first}/reject`, {
        comment: 'false positive',
      })
      expect(rejected.json()).toMatchObject({
        status: 'rejected',
        comment: 'false positive',
        result: null,
      })

      const second = (await trigger(alice)).json().data.approval_id
      const start = h.clock.now()
      h.clock.advance(25 * 3_600_000)
      try {
        // The session is still valid (idle limit aside): use a fresh login.
        const late = await session('bob@a.example', 'correct horse battery')
        expect((await late('GET', `/api/v1/approvals/${second}`)).json().status).toBe('expired')
        expect((await late('POST', `/api/v1/approvals/${second}/approve`, {})).statusCode).toBe(409)
      } finally {
        h.clock.set(start)
      }
    })
  })
})
