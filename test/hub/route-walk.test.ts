import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BACKENDS } from '@postern/store/testing'
import { NO_JWT_DESCRIPTION, SCOPE_CATALOGUE } from '@postern/hub'
import { fetchToken, startTestHub, type HubHarness } from './harness.js'

/** Casebook, incident (linked to it), judgement and watch of org A, made through the API. */
async function privateIntelOfA(h: HubHarness, token: string) {
  const call = async (method: 'POST', url: string, payload: unknown) => {
    const res = await h.hub.app.inject({
      method,
      url,
      payload: payload as object,
      headers: { authorization: `Bearer ${token}` },
    })
    if (res.statusCode >= 300) throw new Error(`${url} answered ${res.statusCode}: ${res.body}`)
    return res.json() as { id: string }
  }
  const short = (id: string) => id.slice(id.lastIndexOf('/') + 1)
  const casebook = await call('POST', '/ctia/casebook', {
    title: 'Secret case of A',
    external_ids: ['ext-secret-of-a'],
    observables: [{ type: 'domain', value: 'secret-a.example' }],
  })
  const incident = await call('POST', '/ctia/incident', {
    confidence: 'High',
    incident_time: { opened: '2026-01-01T00:00:00.000Z' },
    status: 'New',
    external_ids: ['ext-secret-of-a'],
  })
  const relationship = await call('POST', `/ctia/incident/${short(incident.id)}/link`, {
    casebook_id: casebook.id,
  })
  const judgement = await call('POST', '/ctia/judgement', {
    confidence: 'High',
    disposition: 2,
    observable: { type: 'domain', value: 'secret-a.example' },
    priority: 95,
    severity: 'High',
    source: 'analyst of A',
    external_ids: ['ext-secret-of-a'],
  })
  const watch = await call('POST', '/api/v1/watchlist', {
    observable: { type: 'domain', value: 'secret-a.example' },
  })
  return {
    casebook: short(casebook.id),
    incident: short(incident.id),
    judgement: short(judgement.id),
    relationship: short(relationship.id),
    watch: watch.id,
  }
}

/**
 * Walks every route the hub registered — including routes added by later features — and
 * proves the one auth layer refuses, with the Threat Response API's bodies: no token, an
 * expired token, a token lacking the route's scope; and that a token of another organisation
 * never reaches the first organisation's records.
 */
describe.each(BACKENDS)('every hub route on %s', (dialect) => {
  let h: HubHarness
  const fixtures: Record<string, string> = {}
  /** Route-specific values of `:id` (a casebook route gets a casebook of org A, …). */
  const idsByPrefix: [prefix: string, id: string][] = []
  const orgASecrets: string[] = []
  let fullA: string
  let limitedA: string
  let fullB: string
  let orgA: string
  let adminA: string

  beforeAll(async () => {
    h = await startTestHub(dialect)
    const { admin } = h.hub
    const a = await admin.createOrgWithAdmin({ orgName: 'Org A', email: 'admin@a.example' })
    await admin.createOrgWithAdmin({ orgName: 'Org B', email: 'admin@b.example' })
    orgA = a.org.id
    adminA = a.user.id
    const clientA = await admin.createApiClient({
      org: 'Org A',
      name: 'full',
      scopes: SCOPE_CATALOGUE,
    })
    const limited = await admin.createApiClient({
      org: 'Org A',
      name: 'limited',
      scopes: ['webhook'],
    })
    const clientB = await admin.createApiClient({
      org: 'Org B',
      name: 'full',
      scopes: SCOPE_CATALOGUE,
    })
    fullA = await fetchToken(h.hub, clientA.client.id, clientA.secret)
    limitedA = await fetchToken(h.hub, limited.client.id, limited.secret)
    fullB = await fetchToken(h.hub, clientB.client.id, clientB.secret)

    const token = await admin.createRegistrationToken({ org: 'Org A' })
    const unused = await admin.createRegistrationToken({ org: 'Org A' })
    const registration = await h.hub.services.devices.register(
      {
        token: token.token,
        uid: 'UID-A',
        model: 'postern-gateway',
        version: '0.1.0',
        hostname: 'gw.a.example',
        deployment: 'standalone',
        clusterName: null,
      },
      null,
    )
    const moduleInstance = await h.hub.services.modules.createInstance(
      orgA,
      { type: 'user', id: adminA },
      adminA,
      { name: 'Gateways of A', module_type_id: 'postern-email-gateway' },
    )
    Object.assign(fixtures, {
      id: moduleInstance.id,
      instance: moduleInstance.id,
      action: 'delete',
      deviceId: registration.device.id,
      userId: a.user.id,
      clientId: clientA.client.id,
      tokenId: unused.record.id,
    })
    const intel = await privateIntelOfA(h, fullA)
    idsByPrefix.push(
      ['/ctia/casebook/', intel.casebook],
      ['/api/v1/casebooks/', intel.casebook],
      ['/ctia/incident/', intel.incident],
      ['/api/v1/incidents/', intel.incident],
      ['/ctia/judgement/', intel.judgement],
      ['/api/v1/judgements/', intel.judgement],
      ['/ctia/relationship/', intel.relationship],
      ['/api/v1/watchlist/', intel.watch],
    )
    Object.assign(fixtures, {
      external_id: 'ext-secret-of-a',
      observable_type: 'domain',
      observable_value: 'secret-a.example',
    })
    orgASecrets.push(
      'ext-secret-of-a',
      'secret-a.example',
      intel.casebook,
      intel.incident,
      intel.judgement,
      intel.watch,
      orgA,
      a.user.email,
      clientA.client.id,
      registration.device.id,
      unused.record.id,
      'UID-A',
      'gw.a.example',
      moduleInstance.id,
    )
  })
  afterAll(() => h.stop())

  const protectedRoutes = () => h.hub.routes.filter((r) => !r.auth.public && !r.auth.device)

  function url(template: string): string {
    const ownId = idsByPrefix.find(([prefix]) => template.startsWith(prefix))?.[1]
    return template.replace(/:(\w+)/g, (_whole, name: string) => {
      const value = name === 'id' && ownId ? ownId : fixtures[name]
      if (!value)
        throw new Error(
          `The route walk has no fixture for ":${name}" in ${template}: add one in route-walk.test.ts`,
        )
      return value
    })
  }

  it('knows every route and every route declares its protection', () => {
    expect(protectedRoutes().length).toBeGreaterThan(10)
    for (const route of h.hub.routes) {
      const declared = [
        route.auth.scope !== undefined,
        route.auth.authenticated,
        route.auth.device,
        route.auth.public,
      ].filter(Boolean)
      expect(declared, `${route.method} ${route.url}`).toHaveLength(1)
    }
  })

  it('refuses a request without a token with the reference 401 body', async () => {
    for (const route of protectedRoutes()) {
      const res = await h.hub.app.inject({
        method: route.method as 'GET',
        url: url(route.url),
        payload: route.method === 'GET' ? undefined : {},
      })
      expect(res.statusCode, `${route.method} ${route.url}`).toBe(401)
      expect(res.json()).toEqual({
        error: 'invalid_request',
        error_description: NO_JWT_DESCRIPTION,
        trace_id: expect.any(String),
      })
    }
  })

  it('refuses a token lacking the scope with the reference 403 body', async () => {
    for (const route of protectedRoutes().filter((r) => r.auth.scope !== undefined)) {
      const res = await h.hub.app.inject({
        method: route.method as 'GET',
        url: url(route.url),
        headers: { authorization: `Bearer ${limitedA}` },
        payload: route.method === 'GET' ? undefined : {},
      })
      expect(res.statusCode, `${route.method} ${route.url}`).toBe(403)
      expect(res.json()).toEqual({
        error: 'missing_scope',
        error_description: 'You do not have the required credentials to access this route.',
        'missing-scopes': [route.auth.scope],
        'required-scopes': [route.auth.scope],
        scopes: ['webhook'],
        'user-id': adminA,
        'org-id': orgA,
        trace_id: expect.any(String),
      })
    }
  })

  it("never lets a token of another organisation reach the first one's records", async () => {
    for (const route of protectedRoutes()) {
      const res = await h.hub.app.inject({
        method: route.method as 'GET',
        url: url(route.url),
        headers: { authorization: `Bearer ${fullB}` },
        payload: route.method === 'GET' ? undefined : {},
      })
      const label = `${route.method} ${route.url} → ${res.statusCode} ${res.body.slice(0, 200)}`
      if (route.url.includes(':') && !isLookup(route.url, res.statusCode, res.body)) {
        expect([400, 404], label).toContain(res.statusCode)
      } else {
        expect(res.statusCode, label).toBeLessThan(500)
        for (const secret of orgASecrets) expect(res.body, label).not.toContain(secret)
      }
    }
    // …and org A's records are all still there.
    const list = await h.hub.app.inject({
      method: 'GET',
      url: '/api/v1/devices',
      headers: { authorization: `Bearer ${fullA}` },
    })
    expect(list.json().items.map((d: { id: string }) => d.id)).toEqual([fixtures.deviceId])
  })

  /**
   * Lookups by a value rather than by a record id (`/ctia/casebook/external_id/:external_id`,
   * `/ctia/:observable_type/:observable_value/judgements`) search the caller's own org: org B
   * finds nothing there, an empty list.
   */
  function isLookup(template: string, status: number, body: string): boolean {
    if (!/:(external_id|observable_value)\b/.test(template) || status !== 200) return false
    const parsed = JSON.parse(body) as unknown
    return Array.isArray(parsed) && parsed.length === 0
  }

  it('refuses an expired token with a 401 in the reference shape', async () => {
    const start = h.clock.now()
    h.clock.advance(601_000)
    try {
      for (const route of protectedRoutes()) {
        const res = await h.hub.app.inject({
          method: route.method as 'GET',
          url: url(route.url),
          headers: { authorization: `Bearer ${fullA}` },
          payload: route.method === 'GET' ? undefined : {},
        })
        expect(res.statusCode, `${route.method} ${route.url}`).toBe(401)
        expect(res.json()).toEqual({
          error: 'invalid_request',
          error_description: 'The JWT in the HTTP Authorization header has expired',
          trace_id: expect.any(String),
        })
      }
    } finally {
      h.clock.set(start)
    }
  })

  it('refuses device routes without a valid device credential', async () => {
    for (const route of h.hub.routes.filter((r) => r.auth.device)) {
      for (const authorization of [undefined, `Bearer ${fullA}`, 'Bearer pdc_forged']) {
        const res = await h.hub.app.inject({
          method: route.method as 'GET',
          url: url(route.url),
          headers: authorization ? { authorization } : {},
        })
        expect(res.statusCode, `${route.method} ${route.url}`).toBe(401)
        expect(res.json().error.code).toBe('HUB_ERR_DEVICE_CREDENTIAL_INVALID')
      }
    }
  })
})
