import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SCOPE_CATALOGUE } from '@postern/hub'
import { fetchToken, startTestHub, type HubHarness } from '../hub/harness.js'
import { fuzzParameters, fuzzTimeout, hostileSegment } from './support.js'

const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE'])
/** Routes that end the caller's own session or credential: the run would go on unauthenticated. */
const SELF_ENDING = /logout|revoke|\/sessions?\b/

const segment = fc.oneof(
  hostileSegment,
  fc.uuid(),
  fc.constantFrom(
    'casebook-00000000-0000-0000-0000-000000000000',
    'https://hub.example/ctia/casebook/casebook-1',
  ),
)
const jsonBody = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  fc
    .record(
      {
        title: fc.string(),
        observables: fc.array(fc.record({ type: fc.string(), value: fc.string() })),
        content: fc.string({ maxLength: 400 }),
        status: fc.string(),
        limit: fc.oneof(fc.integer(), fc.string()),
        type: fc.string(),
        value: fc.string(),
      },
      { requiredKeys: [] },
    )
    .map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 200 }),
  fc.constantFrom('', '{', '[]', 'null', '{"__proto__":{"admin":true}}', '{"a":1e999}'),
)
const query = fc
  .array(fc.tuple(fc.constantFrom('limit', 'offset', 'query', 'sort_by', 'q', 'x'), segment), {
    maxLength: 3,
  })
  .map((pairs) =>
    pairs.length === 0
      ? ''
      : `?${pairs.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&')}`,
  )

/**
 * Every route the hub registered — CTIA, IROH, console and admin APIs, OAuth — with random
 * path parameters, query strings and bodies, as a client holding every scope: a success or a
 * 4xx with a JSON error body, never a 5xx, and the hub keeps answering.
 */
describe('fuzz: every hub route with random parameters and bodies', () => {
  let h: HubHarness
  let token: string
  beforeAll(async () => {
    h = await startTestHub('sqlite')
    await h.hub.admin.createOrgWithAdmin({ orgName: 'Fuzz', email: 'admin@fuzz.example' })
    const client = await h.hub.admin.createApiClient({
      org: 'Fuzz',
      name: 'fuzz',
      scopes: SCOPE_CATALOGUE,
    })
    token = await fetchToken(h.hub, client.client.id, client.secret)
  })
  afterAll(async () => h?.stop())

  it(
    'answers a success or a 4xx with a JSON error body, never a 5xx',
    async () => {
      const routes = h.hub.routes.filter(
        (r) => METHODS.has(r.method) && !SELF_ENDING.test(r.url) && !r.url.includes('*'),
      )
      expect(routes.length).toBeGreaterThan(50)
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...routes),
          fc.array(segment, { minLength: 4, maxLength: 4 }),
          query,
          jsonBody,
          async (route, segments, search, body) => {
            let n = 0
            const path = route.url.replace(/:[A-Za-z_]+/g, () =>
              encodeURIComponent(segments[n++ % segments.length] as string),
            )
            const res = await h.hub.app.inject({
              method: route.method as 'GET',
              url: `${path}${search}`,
              headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
              ...(route.method === 'GET' || route.method === 'DELETE' ? {} : { payload: body }),
            })
            const what = `${route.method} ${path}${search} ${body} → ${res.statusCode} ${res.body.slice(0, 500)}`
            expect(res.statusCode, what).toBeLessThan(500)
            // CTIA answers an unknown id with an empty 404, as the reference API does.
            const emptyNotFound =
              res.statusCode === 404 && res.body === '' && route.url.startsWith('/ctia/')
            if (res.statusCode >= 400 && !emptyNotFound)
              expect(() => JSON.parse(res.body), what).not.toThrow()
          },
        ),
        fuzzParameters('hub-api'),
      )
      const health = await h.hub.app.inject({ method: 'GET', url: '/iroh/iroh-enrich/health' })
      expect(health.statusCode).toBeLessThan(500)
    },
    fuzzTimeout(),
  )
})
