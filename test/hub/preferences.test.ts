import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BACKENDS } from '@postern/store/testing'
import { fetchToken, startTestHub, type HubHarness } from './harness.js'

/**
 * The ribbon's state kept per user by the hub: the console (session) and a ribbon on another
 * origin (an API client the same user created) read and write the same document.
 */
describe.each(BACKENDS)('ribbon preferences on %s', (dialect) => {
  let h: HubHarness
  let session: Record<string, string>
  let ownedToken: string
  let ownerlessToken: string

  const call = (method: 'GET' | 'PUT', headers: Record<string, string>, payload?: unknown) =>
    h.hub.app.inject({
      method,
      url: '/api/v1/preferences/ribbon',
      headers,
      ...(payload === undefined ? {} : { payload: payload as object }),
    })

  beforeAll(async () => {
    h = await startTestHub(dialect)
    await h.hub.admin.createOrgWithAdmin({
      orgName: 'Acme',
      email: 'admin@acme.example',
      password: 'correct horse battery',
    })
    const login = await h.hub.app.inject({
      method: 'POST',
      url: '/api/v1/session',
      payload: { email: 'admin@acme.example', password: 'correct horse battery' },
    })
    const cookie = login.cookies.find((c) => c.name === 'postern_hub_session')
    session = {
      cookie: `postern_hub_session=${cookie?.value}`,
      'x-csrf-token': login.json().csrfToken as string,
    }
    const owned = await h.hub.app.inject({
      method: 'POST',
      url: '/api/v1/api-clients',
      headers: session,
      payload: { name: 'ribbon', scopes: ['profile', 'casebook'] },
    })
    expect(owned.statusCode).toBe(201)
    ownedToken = await fetchToken(h.hub, owned.json().clientId, owned.json().clientSecret)
    // A client of an org without any user has no owner to keep preferences for.
    await h.hub.services.orgs.create('Robots', { type: 'system', id: 'test' })
    const ownerless = await h.hub.admin.createApiClient({
      org: 'Robots',
      name: 'bot',
      scopes: ['profile'],
    })
    ownerlessToken = await fetchToken(h.hub, ownerless.client.id, ownerless.secret)
  })
  afterAll(() => h.stop())

  it('answers the defaults, then what the user saved, to the console and to their ribbon client', async () => {
    expect((await call('GET', session)).json()).toEqual({
      expanded: false,
      app: 'home',
      caseId: null,
      savedAt: 0,
    })
    const saved = { expanded: true, app: 'casebook', caseId: 'casebook-1', savedAt: 1 }
    expect((await call('PUT', session, saved)).statusCode).toBe(200)
    const bearer = { authorization: `Bearer ${ownedToken}` }
    expect((await call('GET', bearer)).json()).toEqual(saved)
    const fromRibbon = { expanded: false, app: 'enrich', caseId: null, savedAt: 2 }
    expect((await call('PUT', bearer, fromRibbon)).statusCode).toBe(200)
    expect((await call('GET', session)).json()).toEqual(fromRibbon)
  })

  it.each([
    ['an unknown key', { expanded: true, app: 'home', caseId: null, savedAt: 1, x: 1 }],
    ['markup as an app id', { expanded: true, app: '<img src=x>', caseId: null, savedAt: 1 }],
    ['a missing field', { expanded: true, app: 'home', savedAt: 1 }],
  ])('refuses %s', async (_name, body) => {
    const res = await call('PUT', session, body)
    expect(res.statusCode).toBe(400)
  })

  it('refuses an API client without an owner, and a change without the CSRF token', async () => {
    const res = await call('GET', { authorization: `Bearer ${ownerlessToken}` })
    expect(res.statusCode).toBe(403)
    expect(res.json().error.code).toBe('HUB_ERR_PREFERENCES_NEED_USER')
    const noCsrf = await call(
      'PUT',
      { cookie: session.cookie! },
      { expanded: true, app: 'home', caseId: null, savedAt: 1 },
    )
    expect(noCsrf.statusCode).toBe(403)
  })
})
