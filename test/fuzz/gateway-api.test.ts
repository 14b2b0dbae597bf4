import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startGateway, type TestGateway } from '../gateway/support/gateway.js'
import { fuzzParameters, fuzzTimeout, hostileSegment } from './support.js'

/** Routes that take a body or path parameters; `:x` is replaced by a random segment. */
const ROUTES: [string, string][] = [
  ['POST', '/api/v1/tracking/search'],
  ['GET', '/api/v1/tracking/messages/:x/detail'],
  ['POST', '/api/v1/auth/login'],
  ['POST', '/api/v1/blocklists'],
  ['PUT', '/api/v1/blocklists/:x'],
  ['POST', '/api/v1/blocked-users'],
  ['DELETE', '/api/v1/blocked-users/:x'],
  ['GET', '/api/v1/quarantine/messages/:x'],
  ['POST', '/api/v1/quarantine/messages/:x/release'],
  ['GET', '/api/v1/queue/:x'],
  ['POST', '/api/v1/queue/flush'],
  ['POST', '/api/v1/remediation'],
  ['POST', '/api/v1/remediation/profiles'],
  ['POST', '/api/v1/remediation/runs/:x/retry'],
  ['POST', '/api/v1/reporting/report'],
]

const segment = hostileSegment
const body = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 200 }),
  fc.constantFrom(
    '',
    '{',
    '{"a":',
    '[]',
    'null',
    '{"__proto__":{"x":1}}',
    '{"query":{"$where":1}}',
  ),
)

describe('fuzz: the gateway JSON API with random bodies and parameters', () => {
  let gw: TestGateway
  beforeAll(async () => {
    gw = await startGateway()
  })
  afterAll(async () => gw?.stop())

  it(
    'answers a coded 4xx (or success), never a 5xx, and stays up',
    async () => {
      const token = gw.adminToken()
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...ROUTES),
          segment,
          body,
          async ([method, path], x, text) => {
            const url = `${gw.httpUrl}${path.replace(':x', encodeURIComponent(x))}`
            const response = await fetch(url, {
              method,
              headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
              body: method === 'GET' || method === 'DELETE' ? undefined : text,
            })
            const reply = await response.text()
            expect(response.status, `${method} ${url} ${text} → ${reply}`).toBeLessThan(500)
            if (response.status >= 400) {
              const parsed = JSON.parse(reply) as { code?: unknown; error?: { code?: unknown } }
              expect(parsed.code ?? parsed.error?.code, reply).toEqual(expect.any(String))
            }
          },
        ),
        fuzzParameters('gateway-api'),
      )
      expect((await fetch(`${gw.httpUrl}/healthz`)).status).toBe(200)
    },
    fuzzTimeout(),
  )
})
