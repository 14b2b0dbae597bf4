import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose'
import { BACKENDS } from '@postern/store/testing'
import { waitFor } from '@postern/testkit'
import { TUNNEL_METHODS, TunnelClient } from '@postern/tunnel'
import { basic, fetchToken, startTestHub, type HubHarness } from './harness.js'

const facts = {
  uid: 'UID-1',
  model: 'postern-gateway',
  version: '0.1.0',
  hostname: 'gw1.example',
  deployment: 'standalone',
  clusterName: null,
}

describe.each(BACKENDS)('hub API on %s', (dialect) => {
  let h: HubHarness
  let token: string
  let clientId: string
  let secret: string
  const clients: TunnelClient[] = []

  beforeAll(async () => {
    h = await startTestHub(dialect, { region: 'eu' })
    await h.hub.admin.createOrgWithAdmin({
      orgName: 'Acme',
      email: 'admin@acme.example',
      password: 'correct horse battery',
    })
    const created = await h.hub.admin.createApiClient({
      name: 'ops',
      scopes: ['devices', 'profile', 'audit:read', 'oauth'],
    })
    clientId = created.client.id
    secret = created.secret
    token = await fetchToken(h.hub, clientId, secret)
  })
  afterAll(async () => {
    for (const c of clients) await c.stop()
    await h.stop()
  })

  const auth = () => ({ authorization: `Bearer ${token}` })

  describe('OAuth2', () => {
    it('issues RS256 tokens verifiable against the published JWKS, with the reference response shape', async () => {
      const res = await h.hub.app.inject({
        method: 'POST',
        url: '/iroh/oauth2/token',
        headers: {
          authorization: basic(clientId, secret),
          'content-type': 'application/x-www-form-urlencoded',
        },
        payload: 'grant_type=client_credentials&scope=devices:read%20profile',
      })
      expect(res.statusCode).toBe(200)
      expect(res.headers['cache-control']).toBe('no-store')
      const body = res.json()
      expect(body).toEqual({
        access_token: expect.any(String),
        token_type: 'bearer',
        expires_in: 600,
        scope: 'devices:read profile',
      })
      const jwks = (await h.hub.app.inject({ method: 'GET', url: '/.well-known/jwks' })).json()
      expect(jwks.keys[0]).toMatchObject({
        kty: 'RSA',
        alg: 'RS256',
        use: 'sig',
        kid: expect.any(String),
      })
      expect(decodeProtectedHeader(body.access_token)).toMatchObject({
        alg: 'RS256',
        kid: jwks.keys[0].kid,
      })
      const { payload } = await jwtVerify(body.access_token, createLocalJWKSet(jwks), {
        currentDate: new Date(h.clock.now()),
      })
      expect(payload.iss).toBe('IROH Auth')
      expect(payload['https://schemas.cisco.com/iroh/identity/claims/scopes']).toEqual([
        'devices:read',
        'profile',
      ])
      const discovery = (
        await h.hub.app.inject({ method: 'GET', url: '/.well-known/oauth-authorization-server' })
      ).json()
      expect(discovery).toMatchObject({
        issuer: 'IROH Auth',
        jwks_uri: `${h.hub.url}/.well-known/jwks`,
      })
    })

    it.each([
      ['wrong secret', basic('x', 'y'), 'grant_type=client_credentials', 'invalid_client'],
      ['no credentials', undefined, 'grant_type=client_credentials', 'invalid_client'],
      ['another grant', 'ok', 'grant_type=password', 'unsupported_grant_type'],
      [
        'a scope beyond the grant',
        'ok',
        'grant_type=client_credentials&scope=casebook',
        'invalid_scope',
      ],
    ])('answers %s with a 400 OAuth error', async (_name, authorization, payload, error) => {
      const res = await h.hub.app.inject({
        method: 'POST',
        url: '/iroh/oauth2/token',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          ...(authorization
            ? { authorization: authorization === 'ok' ? basic(clientId, secret) : authorization }
            : {}),
        },
        payload,
      })
      expect(res.statusCode).toBe(400)
      expect(res.json()).toEqual({ error, error_description: expect.any(String) })
    })

    it('answers whoami with hyphenated keys', async () => {
      const res = await h.hub.app.inject({
        method: 'GET',
        url: '/iroh/profile/whoami',
        headers: auth(),
      })
      expect(res.statusCode).toBe(200)
      expect(res.json()).toMatchObject({
        user: {
          role: 'admin',
          'user-email': 'admin@acme.example',
          'org-id': expect.any(String),
          'enabled?': true,
        },
        org: { name: 'Acme', 'enabled?': true },
      })
    })

    it('keeps old tokens valid across a rotation and stops them when old keys are revoked', async () => {
      const before = await fetchToken(h.hub, clientId, secret)
      const kid = await h.hub.services.keys.rotate()
      const after = await fetchToken(h.hub, clientId, secret)
      expect(decodeProtectedHeader(after).kid).toBe(kid)
      const jwks = (await h.hub.app.inject({ method: 'GET', url: '/.well-known/jwks' })).json()
      expect(jwks.keys.map((k: { kid: string }) => k.kid)).toContain(
        decodeProtectedHeader(before).kid,
      )
      const ok = await h.hub.app.inject({
        method: 'GET',
        url: '/api/v1/devices',
        headers: { authorization: `Bearer ${before}` },
      })
      expect(ok.statusCode).toBe(200)
      await h.hub.services.keys.rotate({ revokeOld: true })
      const refused = await h.hub.app.inject({
        method: 'GET',
        url: '/api/v1/devices',
        headers: { authorization: `Bearer ${before}` },
      })
      expect(refused.statusCode).toBe(401)
      token = await fetchToken(h.hub, clientId, secret)
    })

    it("stops a revoked client's tokens at once", async () => {
      const other = await h.hub.admin.createApiClient({ name: 'temp', scopes: ['profile'] })
      const t = await fetchToken(h.hub, other.client.id, other.secret)
      const del = await h.hub.app.inject({
        method: 'DELETE',
        url: `/api/v1/api-clients/${other.client.id}`,
        headers: auth(),
      })
      expect(del.statusCode).toBe(204)
      const res = await h.hub.app.inject({
        method: 'GET',
        url: '/iroh/profile/whoami',
        headers: { authorization: `Bearer ${t}` },
      })
      expect(res.statusCode).toBe(401)
    })
  })

  describe('devices', () => {
    let credential: string
    let deviceId: string

    async function newToken(expiresInSeconds?: number): Promise<string> {
      const res = await h.hub.app.inject({
        method: 'POST',
        url: '/api/v1/devices/registration-tokens',
        headers: auth(),
        payload: expiresInSeconds ? { expiresInSeconds } : {},
      })
      expect(res.statusCode).toBe(201)
      return res.json().token
    }

    it('registers a device once per token and refuses reuse, expiry and duplicates', async () => {
      const registrationToken = await newToken()
      const res = await h.hub.app.inject({
        method: 'POST',
        url: '/api/v1/devices/register',
        payload: { token: registrationToken, ...facts },
      })
      expect(res.statusCode).toBe(201)
      expect(res.json()).toMatchObject({
        region: 'eu',
        credential: expect.stringMatching(/^pdc_/),
        tunnelUrl: expect.stringMatching(/^ws:\/\/.*\/api\/v1\/tunnel$/),
      })
      credential = res.json().credential
      deviceId = res.json().deviceId

      const reused = await h.hub.app.inject({
        method: 'POST',
        url: '/api/v1/devices/register',
        payload: { token: registrationToken, ...facts, uid: 'UID-2' },
      })
      expect(reused.statusCode).toBe(409)
      expect(reused.json().error.code).toBe('HUB_ERR_REGISTRATION_TOKEN_USED')

      const short = await newToken(60)
      h.clock.advance(61_000)
      const expired = await h.hub.app.inject({
        method: 'POST',
        url: '/api/v1/devices/register',
        payload: { token: short, ...facts, uid: 'UID-3' },
      })
      expect(expired.json().error.code).toBe('HUB_ERR_REGISTRATION_TOKEN_EXPIRED')

      const dup = await h.hub.app.inject({
        method: 'POST',
        url: '/api/v1/devices/register',
        payload: { token: await newToken(), ...facts },
      })
      expect(dup.json().error.code).toBe('HUB_ERR_DEVICE_ALREADY_REGISTERED')

      const bad = await h.hub.app.inject({
        method: 'POST',
        url: '/api/v1/devices/register',
        payload: { token: await newToken(), ...facts, uid: 'UID-4', deployment: 'cluster' },
      })
      expect(bad.statusCode).toBe(400)

      const audit = await h.hub.app.inject({
        method: 'GET',
        url: '/api/v1/audit?action=device.register',
        headers: auth(),
      })
      expect(
        audit
          .json()
          .items.map((e: { outcome: string }) => e.outcome)
          .sort(),
      ).toEqual(['denied', 'denied', 'denied', 'success'])
    })

    it('carries status, module calls and telemetry over the tunnel, and closes it on deregistration', async () => {
      const calls: { path: string; body: unknown }[] = []
      const client = new TunnelClient({
        url: `${h.hub.url.replace(/^http/, 'ws')}/api/v1/tunnel`,
        credential: () => credential,
        heartbeatMs: 500,
        backoff: { initialMs: 50, maxMs: 200 },
        handlers: {
          requests: {
            [TUNNEL_METHODS.moduleCall]: async (params) => {
              calls.push(params as { path: string; body: unknown })
              return { data: { status: 'ok' } }
            },
          },
        },
      })
      clients.push(client)
      client.start()
      await client.whenConnected()
      await client.request(TUNNEL_METHODS.deviceHello, {
        version: '0.1.1',
        hostname: 'gw1.example',
        model: 'postern-gateway',
        threatResponseEnabled: false,
        telemetryEnabled: false,
      })
      const device = await waitFor(async () => {
        const res = await h.hub.app.inject({
          method: 'GET',
          url: `/api/v1/devices/${deviceId}`,
          headers: auth(),
        })
        return res.json().status === 'connected' ? res.json() : false
      })
      expect(device).toMatchObject({
        version: '0.1.1',
        threatResponse: 'disabled',
        region: 'eu',
        deployment: 'standalone',
      })

      const health = await h.hub.app.inject({
        method: 'POST',
        url: `/api/v1/devices/${deviceId}/health`,
        headers: auth(),
      })
      expect(health.json()).toEqual({ deviceId, reply: { data: { status: 'ok' } } })
      // Besides the module call, the hub syncs the org's watchlist when the tunnel opens.
      expect(calls.filter((c) => (c as { path: string }).path !== '/postern/watchlist')).toEqual([
        { path: '/health', body: null },
      ])
      expect(calls).toContainEqual({ path: '/postern/watchlist', body: { observables: [] } })

      const payload = {
        uid: 'UID-1',
        model: 'postern-gateway',
        sIVAN: null,
        deployment: 'standalone',
        userAccountID: 'acct',
        version: '0.1.1',
        installDate: 1_582_535_814_000,
        generatedAt: h.clock.now(),
        features: [
          {
            name: 'Anti-Spam',
            enabled: true,
            status: 'compliance',
            expiry: null,
            featureId: '2b8f0d8e-8a4f-5c59-9a77-3f6d2e1c9b10',
          },
        ],
      }
      await client.request(TUNNEL_METHODS.telemetryPush, payload)
      await expect(
        client.request(TUNNEL_METHODS.telemetryPush, { ...payload, extra: 1 }),
      ).rejects.toMatchObject({ code: 'HUB_ERR_TELEMETRY_INVALID' })
      const telemetry = await h.hub.app.inject({
        method: 'GET',
        url: `/api/v1/devices/${deviceId}/telemetry`,
        headers: auth(),
      })
      expect(telemetry.json().items.map((i: { payload: unknown }) => i.payload)).toEqual([payload])

      const del = await h.hub.app.inject({
        method: 'DELETE',
        url: `/api/v1/devices/${deviceId}`,
        headers: auth(),
      })
      expect(del.statusCode).toBe(204)
      await waitFor(() => client.status.state === 'refused')
      const self = await h.hub.app.inject({
        method: 'GET',
        url: '/api/v1/devices/self',
        headers: { authorization: `Bearer ${credential}` },
      })
      expect(self.statusCode).toBe(401)
    })
  })

  describe('console sessions', () => {
    it('logs in, requires the CSRF token for changes, and throttles guessing', async () => {
      const login = await h.hub.app.inject({
        method: 'POST',
        url: '/api/v1/session',
        payload: { email: 'ADMIN@acme.example', password: 'correct horse battery' },
      })
      expect(login.statusCode).toBe(200)
      const cookie = login.cookies.find((c) => c.name === 'postern_hub_session')
      expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' })
      const headers = { cookie: `postern_hub_session=${cookie?.value}` }
      expect(
        (await h.hub.app.inject({ method: 'GET', url: '/api/v1/devices', headers })).statusCode,
      ).toBe(200)
      const noCsrf = await h.hub.app.inject({
        method: 'POST',
        url: '/api/v1/devices/registration-tokens',
        headers,
        payload: {},
      })
      expect(noCsrf.statusCode).toBe(403)
      expect(noCsrf.json().error.code).toBe('HUB_ERR_CSRF_INVALID')
      const withCsrf = await h.hub.app.inject({
        method: 'POST',
        url: '/api/v1/devices/registration-tokens',
        headers: { ...headers, 'x-csrf-token': login.json().csrfToken },
        payload: {},
      })
      expect(withCsrf.statusCode).toBe(201)
      const logout = await h.hub.app.inject({
        method: 'DELETE',
        url: '/api/v1/session',
        headers: { ...headers, 'x-csrf-token': login.json().csrfToken },
      })
      expect(logout.statusCode).toBe(204)
      expect(
        (await h.hub.app.inject({ method: 'GET', url: '/api/v1/devices', headers })).statusCode,
      ).toBe(401)

      const codes: string[] = []
      for (let i = 0; i < 6; i++) {
        const res = await h.hub.app.inject({
          method: 'POST',
          url: '/api/v1/session',
          payload: { email: 'admin@acme.example', password: 'wrong password!' },
        })
        codes.push(res.json().error.code)
      }
      expect(codes.slice(0, 5).every((c) => c === 'HUB_ERR_LOGIN_FAILED')).toBe(true)
      expect(codes[5]).toBe('HUB_ERR_LOGIN_THROTTLED')
    })
  })
})
