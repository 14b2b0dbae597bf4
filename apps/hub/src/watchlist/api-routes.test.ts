import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BACKENDS } from '@postern/store/testing'
import { startPrivateIntelHarness, type PrivateIntelHarness } from '../casebooks/testing.js'

const ALICE = 'Bearer test:org-a:alice'
const BOT = 'Bearer test:org-a:client:client-bot'
const MALLORY = 'Bearer test:org-b:mallory'

describe.each(BACKENDS)('hub API: active case and watchlist on %s', (dialect) => {
  let h: PrivateIntelHarness

  beforeAll(async () => {
    h = await startPrivateIntelHarness(dialect)
  })
  afterAll(async () => {
    await h.close()
  })

  const call = async (
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    url: string,
    auth: string,
    payload?: unknown,
  ) => {
    const response = await h.app.inject({
      method,
      url,
      headers: {
        authorization: auth,
        ...(payload !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(payload !== undefined ? { payload: JSON.stringify(payload) } : {}),
    })
    return {
      status: response.statusCode,
      text: response.body,
      json: () => JSON.parse(response.body),
    }
  }

  it('adds to the active case in one call, then sets and clears it', async () => {
    expect((await call('GET', '/api/v1/casebooks/active', ALICE)).json()).toEqual({
      casebook: null,
    })
    const first = await call('POST', '/api/v1/casebooks/active/observables', ALICE, {
      observables: [{ type: 'email', value: 'boss@evil.example' }],
      title: 'Payroll phish',
    })
    expect(first.status).toBe(201)
    expect(first.json()).toMatchObject({
      created: true,
      casebook: { title: 'Payroll phish', owner: 'alice' },
    })
    const second = await call('POST', '/api/v1/casebooks/active/observables', ALICE, {
      observables: [{ type: 'domain', value: 'evil.example' }],
    })
    expect(second.status).toBe(200)
    expect(second.json().casebook.observables).toHaveLength(2)
    expect((await call('GET', '/api/v1/casebooks/active', ALICE)).json().casebook.id).toBe(
      first.json().casebook.id,
    )

    const other = (
      await h.app.inject({
        method: 'POST',
        url: '/ctia/casebook',
        headers: { authorization: ALICE, 'content-type': 'application/json' },
        payload: JSON.stringify({ title: 'Other' }),
      })
    ).json() as { id: string }
    expect(
      (await call('PUT', '/api/v1/casebooks/active', ALICE, { casebook_id: other.id })).status,
    ).toBe(200)
    expect((await call('GET', '/api/v1/casebooks/active', ALICE)).json().casebook.id).toBe(other.id)

    const foreign = await call('PUT', '/api/v1/casebooks/active', MALLORY, {
      casebook_id: other.id,
    })
    expect(foreign.status).toBe(404)
    expect(foreign.json()).toMatchObject({ error: { code: 'HUB_PI_ERR_ENTITY_NOT_FOUND' } })
    const clientCall = await call('POST', '/api/v1/casebooks/active/observables', BOT, {
      observables: [{ type: 'domain', value: 'evil.example' }],
    })
    expect(clientCall.status).toBe(400)
    expect(clientCall.json()).toMatchObject({
      error: { code: 'HUB_PI_ERR_ACTIVE_CASE_NEEDS_USER' },
    })
    expect(
      (await call('POST', '/api/v1/casebooks/active/observables', ALICE, { observables: [] }))
        .status,
    ).toBe(400)

    expect((await call('DELETE', '/api/v1/casebooks/active', ALICE)).status).toBe(204)
    expect((await call('GET', '/api/v1/casebooks/active', ALICE)).json()).toEqual({
      casebook: null,
    })
  })

  it('manages watches and lists the sightings gateways report', async () => {
    const created = await call('POST', '/api/v1/watchlist', ALICE, {
      observable: { type: 'domain', value: 'evil.example' },
      note: 'Phishing infrastructure',
      notify: { console: true },
      incident_mode: 'open',
    })
    expect(created.status).toBe(201)
    const watch = created.json()
    expect(watch).toMatchObject({
      observable: { type: 'domain', value: 'evil.example' },
      incident_mode: 'open',
      active: true,
      sighting_count: 0,
      created_by: 'alice',
    })
    expect(
      (
        await call('POST', '/api/v1/watchlist', ALICE, {
          observable: { type: 'domain', value: 'EVIL.example' },
        })
      ).status,
    ).toBe(409)
    for (const notify of [
      { webhook: 'ftp://x.example/' },
      { webhook: 'https://user:pw@x.example/' },
      { email: 'not-an-address' },
    ]) {
      expect(
        (
          await call('POST', '/api/v1/watchlist', ALICE, {
            observable: { type: 'domain', value: 'x.example' },
            notify,
          })
        ).status,
      ).toBe(400)
    }

    await h.watchlist.onMessageObserved({
      orgId: 'org-a',
      deviceId: 'gw-1',
      at: h.clock.now(),
      message: { mid: '77', messageId: '<77@evil.example>', subject: 'Hello' },
      observables: [{ type: 'domain', value: 'evil.example' }],
    })
    const sightings = await call('GET', `/api/v1/watchlist/${watch.id}/sightings`, ALICE)
    expect(sightings.json()).toMatchObject([
      { device_id: 'gw-1', message_ref: '77', message_id: '<77@evil.example>' },
    ])
    expect(h.consoleNotifications).toHaveLength(1)
    const after = (await call('GET', `/api/v1/watchlist/${watch.id}`, ALICE)).json()
    expect(after).toMatchObject({
      sighting_count: 1,
      incident_id: expect.stringMatching(/^incident-/),
    })

    expect((await call('GET', `/api/v1/watchlist/${watch.id}`, MALLORY)).status).toBe(404)
    expect((await call('GET', '/api/v1/watchlist', MALLORY)).json()).toEqual({
      total: 0,
      watches: [],
    })
    expect((await call('GET', '/api/v1/watchlist', ALICE)).json().total).toBe(1)

    const paused = await call('PATCH', `/api/v1/watchlist/${watch.id}`, ALICE, {
      active: false,
      notify: { webhook: null },
    })
    expect(paused.json()).toMatchObject({ active: false })
    expect((await call('DELETE', `/api/v1/watchlist/${watch.id}`, MALLORY)).status).toBe(404)
    expect((await call('DELETE', `/api/v1/watchlist/${watch.id}`, ALICE)).status).toBe(204)
    expect((await call('GET', `/api/v1/watchlist/${watch.id}`, ALICE)).status).toBe(404)
  })
})
