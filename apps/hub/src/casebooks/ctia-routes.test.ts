import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BACKENDS } from '@postern/store/testing'
import { startPrivateIntelHarness, type PrivateIntelHarness } from './testing.js'

const ALICE = 'Bearer test:org-a:alice'
const BOT = 'Bearer test:org-a:client:client-bot'
const MALLORY = 'Bearer test:org-b:mallory'
const BASE = 'https://hub.example:443'

describe.each(BACKENDS)('CTIA routes on %s', (dialect) => {
  let h: PrivateIntelHarness

  beforeAll(async () => {
    h = await startPrivateIntelHarness(dialect, { baseUrl: BASE })
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
      headers: response.headers,
      text: response.body,
      json: () => JSON.parse(response.body) as Record<string, unknown> & Record<string, unknown>[],
    }
  }
  const short = (id: unknown) => String(id).slice(String(id).lastIndexOf('/') + 1)

  describe('casebook CRUD', () => {
    it('creates with 201 and Location, reads by short id, URL and encoded URL', async () => {
      const created = await call('POST', '/ctia/casebook?wait_for=true', BOT, {
        type: 'casebook',
        title: 'Case September 24, 2019 2:34 PM',
        observables: [{ value: 'cisco.com', type: 'domain' }],
        tlp: 'amber',
        timestamp: '2018-07-26T16:14:40.000Z',
        schema_version: '1.0.9',
      })
      expect(created.status).toBe(201)
      const body = created.json()
      expect(body.id).toMatch(
        /^https:\/\/hub\.example:443\/ctia\/casebook\/casebook-[0-9a-f-]{36}$/,
      )
      expect(created.headers.location).toBe(body.id)
      expect(body).toMatchObject({
        type: 'casebook',
        title: 'Case September 24, 2019 2:34 PM',
        observables: [{ value: 'cisco.com', type: 'domain' }],
        tlp: 'amber',
        timestamp: '2018-07-26T16:14:40.000Z',
        owner: 'client-bot',
        groups: ['org-a'],
        client_id: 'client-bot',
        schema_version: '1.3.29',
      })
      const id = short(body.id)
      for (const form of [id, encodeURIComponent(String(body.id))]) {
        const got = await call('GET', `/ctia/casebook/${form}`, ALICE)
        expect(got.status).toBe(200)
        expect(got.json()).toEqual(body)
      }
    })

    it('answers 404 with CTIA bodies, including for another org', async () => {
      const { id } = (await call('POST', '/ctia/casebook', ALICE, { title: 'Mine' })).json()
      const sid = short(id)
      const missing = 'casebook-00000000-0000-4000-8000-000000000000'
      for (const [method, url, body] of [
        ['GET', `/ctia/casebook/${sid}`, undefined],
        ['PUT', `/ctia/casebook/${sid}`, { title: 'x' }],
        ['DELETE', `/ctia/casebook/${sid}`, undefined],
        ['GET', `/ctia/casebook/${missing}`, undefined],
        ['GET', '/ctia/casebook/not-an-id', undefined],
        ['GET', `/ctia/incident/${sid}`, undefined],
      ] as const) {
        const response = await call(
          method,
          url,
          method === 'GET' && url.includes('missing') ? ALICE : MALLORY,
          body,
        )
        expect(response.status, `${method} ${url}`).toBe(404)
        expect(response.text).toBe('')
      }
      for (const [url, body] of [
        [`/ctia/casebook/${sid}/observables`, { operation: 'add', observables: [] }],
        [`/ctia/casebook/${sid}/texts`, { operation: 'add', texts: [] }],
        [`/ctia/casebook/${sid}/bundle`, { operation: 'add', bundle: {} }],
      ] as const) {
        const response = await call('POST', url, MALLORY, body)
        expect(response.status).toBe(404)
        expect(response.json()).toEqual({ error: 'casebook not found' })
      }
      const patch = await call('PATCH', `/ctia/casebook/${sid}`, MALLORY, { title: 'x' })
      expect(patch.status).toBe(404)
      expect(patch.json()).toEqual({ error: 'casebook not found' })
      expect((await call('GET', `/ctia/casebook/${sid}`, ALICE)).json().title).toBe('Mine')
    })

    it.each([
      [
        'an unknown key',
        { title: 'x', colour: 'red' },
        /In: \[:colour\] fails spec: disallowed key/,
      ],
      ['a bad tlp', { tlp: 'blue' }, /In: \[:tlp\]/],
      [
        'a bad observable type',
        { observables: [{ type: 'planet', value: 'x' }] },
        /In: \[:observables 0 :type\]/,
      ],
      ['a bad time', { timestamp: 'yesterday' }, /In: \[:timestamp\]/],
    ])('rejects %s with the CTIA 400 body', async (_name, payload, message) => {
      const response = await call('POST', '/ctia/casebook', ALICE, payload)
      expect(response.status).toBe(400)
      const body = response.json()
      expect(body).toMatchObject({
        error: 'Spec Validation Client Error',
        type: 'Invalid Entity Error',
      })
      expect(String(body.message)).toMatch(message)
    })

    it('rejects requests without credentials', async () => {
      const response = await h.app.inject({ method: 'GET', url: '/ctia/casebook/search' })
      expect(response.statusCode).toBe(401)
    })

    it('deletes with 204', async () => {
      const { id } = (await call('POST', '/ctia/casebook', ALICE, { title: 'Gone soon' })).json()
      const deleted = await call('DELETE', `/ctia/casebook/${short(id)}?wait_for=true`, ALICE)
      expect(deleted.status).toBe(204)
      expect(deleted.text).toBe('')
      expect((await call('GET', `/ctia/casebook/${short(id)}`, ALICE)).status).toBe(404)
    })
  })

  it("reproduces the official client's functional casebook round trip", async () => {
    // threatresponse tests/functional: CASEBOOK_PAYLOAD, then GET, observables add, external_id,
    // texts remove, PUT, PATCH with wait_for=true.
    const payload = {
      type: 'casebook',
      title: 'Case September 24, 2019 2:34 PM',
      short_description: 'New Casebook',
      description: 'New Casebook for malicious tickets',
      observables: [{ type: 'ip', value: '203.0.113.77' }],
      timestamp: '2019-09-24T11:34:18.000Z',
      external_ids: ['3'],
    }
    const created = (await call('POST', '/ctia/casebook', BOT, payload)).json()
    const picked = Object.fromEntries(Object.keys(payload).map((k) => [k, created[k]]))
    expect(picked).toEqual(payload)
    const id = short(created.id)
    const got = (await call('GET', `/ctia/casebook/${id}`, BOT)).json()
    expect(got).toEqual(created)

    await call('POST', `/ctia/casebook/${id}/observables`, BOT, {
      operation: 'add',
      observables: created.observables,
    })
    const afterAdd = (await call('GET', `/ctia/casebook/${id}`, BOT)).json()
    expect((afterAdd.observables as unknown[])[0]).toEqual((created.observables as unknown[])[0])

    const byExternal = await call('GET', '/ctia/casebook/external_id/3', BOT)
    expect(byExternal.status).toBe(200)
    expect((byExternal.json()[0] as Record<string, unknown>).external_ids).toEqual(['3'])

    const texts = await call('POST', `/ctia/casebook/${id}/texts`, BOT, {
      operation: 'remove',
      texts: [{ type: 'test type', text: 'test text' }],
    })
    expect(texts.status).toBe(200)
    expect((texts.json().texts as Record<string, unknown>[])[0]).toEqual({
      type: 'test type',
      text: 'test text',
    })

    const put = await call('PUT', `/ctia/casebook/${id}?wait_for=true`, BOT, {
      short_description: 'Updated description',
    })
    expect(put.json().short_description).toBe('Updated description')
    expect((await call('GET', `/ctia/casebook/${id}`, BOT)).json().short_description).toBe(
      'Updated description',
    )

    const patched = await call('PATCH', `/ctia/casebook/${id}?wait_for=true`, BOT, {
      type: 'casebook',
      title: 'Case November, 2021 0:00 PM',
      short_description: 'Patched Casebook',
      description: 'Patched entity',
      observables: [],
      timestamp: '2019-09-24T11:34:18.000Z',
    })
    expect(patched.status).toBe(200)
    expect(patched.json()).toMatchObject({
      short_description: 'Patched Casebook',
      description: 'Patched entity',
      title: 'Case November, 2021 0:00 PM',
    })

    // test_python_module_ctia_positive_casebook_bundle: a bundle "add" answers the casebook.
    const bundled = await call('POST', `/ctia/casebook/${id}/bundle`, BOT, {
      operation: 'add',
      bundle: {
        description: 'string',
        valid_time: {
          start_time: '2021-08-26T11:48:51.490Z',
          end_time: '2021-08-26T11:48:51.490Z',
        },
        schema_version: '1.1.3',
        type: 'bundle',
        source: 'Source For bundle',
        short_description: 'Bundle description',
        title: 'Title for test',
        id: created.id,
      },
    })
    expect(bundled.status).toBe(200)
    expect(bundled.json()).toMatchObject({ type: 'casebook', description: 'Patched entity' })

    // test_python_module_ctia_positive_casebook_search: search by id filter, count, delete.
    const search = await call(
      'GET',
      `/ctia/casebook/search?id=${encodeURIComponent(String(created.id))}`,
      BOT,
    )
    expect(search.json()).toHaveLength(1)
    expect(search.json()[0]).toMatchObject({ type: 'casebook', schema_version: '1.3.29' })
    const byWildcard = await call(
      'GET',
      `/ctia/casebook/search?query=${encodeURIComponent(`id:*${id}`)}`,
      BOT,
    )
    expect(byWildcard.json()).toHaveLength(1)
    const before = (
      await call('GET', '/ctia/casebook/search/count', BOT)
    ).json() as unknown as number
    const dryRun = await call('DELETE', `/ctia/casebook/search?id=${id}`, BOT)
    expect(dryRun.json()).toBe(1)
    expect((await call('GET', `/ctia/casebook/${id}`, BOT)).status).toBe(200)
    const really = await call(
      'DELETE',
      `/ctia/casebook/search?id=${id}&REALLY_DELETE_ALL_THESE_ENTITIES=true`,
      BOT,
    )
    expect(really.json()).toBe(1)
    expect((await call('GET', `/ctia/casebook/search?id=${id}`, BOT)).json()).toEqual([])
    expect((await call('GET', '/ctia/casebook/search/count', BOT)).json()).toBe(before - 1)
    const unbounded = await call(
      'DELETE',
      '/ctia/casebook/search?REALLY_DELETE_ALL_THESE_ENTITIES=true',
      BOT,
    )
    expect(unbounded.status).toBe(403)
    expect(unbounded.json()).toEqual({
      error: 'you must provide at least one of from, to, query or any field filter.',
    })
  })

  it('pages searches with CTIA headers and rejects bad queries', async () => {
    for (let i = 0; i < 5; i++) {
      await call('POST', '/ctia/casebook', MALLORY, {
        title: `Paged ${i}`,
        tlp: i % 2 ? 'red' : 'green',
      })
    }
    const first = await call(
      'GET',
      '/ctia/casebook/search?query=title:paged&limit=2&sort_by=title&sort_order=desc',
      MALLORY,
    )
    expect(first.status).toBe(200)
    expect(first.json().map((c) => c.title)).toEqual(['Paged 4', 'Paged 3'])
    expect(first.headers['x-total-hits']).toBe('5')
    expect(first.headers['x-previous']).toBeUndefined()
    const next = String(first.headers['x-next'])
    expect(next).toMatch(/^limit=2&offset=2&search_after=Paged\+3&search_after=casebook-/)
    expect(JSON.parse(String(first.headers['x-sort']))[0]).toBe('Paged 3')
    const second = await call(
      'GET',
      `/ctia/casebook/search?query=title:paged&sort_by=title&sort_order=desc&${next}`,
      MALLORY,
    )
    expect(second.json().map((c) => c.title)).toEqual(['Paged 2', 'Paged 1'])
    const offset = await call(
      'GET',
      '/ctia/casebook/search?query=title:paged&limit=2&offset=2&sort_by=title',
      MALLORY,
    )
    expect(offset.headers['x-previous']).toBe('limit=2&offset=0')
    expect((await call('GET', '/ctia/casebook/search/count?query=tlp:red', MALLORY)).json()).toBe(2)

    for (const query of ['colour:red', '(unbalanced', 'timestamp:[x TO y]']) {
      const bad = await call(
        'GET',
        `/ctia/casebook/search?query=${encodeURIComponent(query)}`,
        MALLORY,
      )
      expect(bad.status, query).toBe(400)
      expect(bad.json()).toMatchObject({
        error: 'Spec Validation Client Error',
        type: 'Invalid Entity Error',
      })
    }
    expect((await call('GET', '/ctia/casebook/search?limit=-1', MALLORY)).status).toBe(400)
    expect((await call('GET', '/ctia/casebook/search?sort_by=description', MALLORY)).status).toBe(
      400,
    )
  })

  it('answers the metric routes (histogram, topn, cardinality)', async () => {
    const auth = 'Bearer test:org-metrics:carol'
    for (const [i, source] of ['a', 'b', 'a', 'a'].entries()) {
      await call('POST', '/ctia/casebook', auth, {
        source,
        timestamp: `2026-05-0${i + 1}T10:00:00.000Z`,
        observables: [{ type: 'domain', value: i % 2 ? 'odd.example' : 'even.example' }],
      })
    }
    const histogram = await call(
      'GET',
      '/ctia/casebook/metric/histogram?aggregate-on=timestamp&granularity=week&from=2026-04-01T00:00:00.000Z',
      auth,
    )
    expect(histogram.status).toBe(200)
    expect(histogram.json()).toMatchObject({
      type: 'histogram',
      data: [
        { key: '2026-04-27T00:00:00.000Z', value: 3 },
        { key: '2026-05-04T00:00:00.000Z', value: 1 },
      ],
    })
    const topn = await call(
      'GET',
      '/ctia/casebook/metric/topn?aggregate-on=source&from=2026-01-01T00:00:00.000Z',
      auth,
    )
    expect(topn.json()).toMatchObject({
      type: 'topn',
      data: [
        { key: 'a', value: 3 },
        { key: 'b', value: 1 },
      ],
    })
    const byObservable = await call(
      'GET',
      '/ctia/casebook/metric/topn?aggregate-on=observables.value&from=2026-01-01T00:00:00.000Z&limit=1',
      auth,
    )
    expect(byObservable.json().data).toEqual([{ key: 'even.example', value: 2 }])
    const cardinality = await call(
      'GET',
      '/ctia/casebook/metric/cardinality?aggregate-on=source&from=2026-01-01T00:00:00.000Z',
      auth,
    )
    expect(cardinality.json()).toMatchObject({ type: 'cardinality', data: 2 })
    expect(
      (
        await call(
          'GET',
          '/ctia/casebook/metric/cardinality?aggregate-on=colour&from=2026-01-01T00:00:00.000Z',
          auth,
        )
      ).status,
    ).toBe(400)
    expect((await call('GET', '/ctia/casebook/metric/topn?aggregate-on=source', auth)).status).toBe(
      400,
    )
  })

  it('serves incidents: CRUD, status, link', async () => {
    const created = await call('POST', '/ctia/incident', ALICE, {
      confidence: 'Low',
      incident_time: { opened: '2014-01-11T00:40:48.212Z' },
      status: 'New',
      type: 'incident',
      schema_version: '1.1.3',
      external_ids: ['3'],
    })
    expect(created.status).toBe(201)
    const incident = created.json()
    const iid = short(incident.id)
    expect((await call('POST', '/ctia/incident', ALICE, { status: 'New' })).status).toBe(400)

    const put = await call('PUT', `/ctia/incident/${iid}`, ALICE, {
      confidence: 'Medium',
      incident_time: { opened: '2016-02-11T00:40:48.212Z' },
      status: 'Open',
    })
    expect(put.json()).toMatchObject({ confidence: 'Medium', status: 'Open' })

    const status = await call('POST', `/ctia/incident/${iid}/status`, ALICE, { status: 'Closed' })
    expect(status.status).toBe(200)
    expect(status.json()).toMatchObject({
      status: 'Closed',
      incident_time: { closed: expect.any(String) },
    })
    expect(
      (await call('POST', `/ctia/incident/${iid}/status`, ALICE, { status: 'Sleeping' })).status,
    ).toBe(400)

    const casebook = (await call('POST', '/ctia/casebook', ALICE, { title: 'Evidence' })).json()
    const link = await call('POST', `/ctia/incident/${iid}/link`, ALICE, {
      casebook_id: casebook.id,
    })
    expect(link.status).toBe(201)
    expect(link.json()).toMatchObject({
      type: 'relationship',
      relationship_type: 'related-to',
      source_ref: incident.id,
      target_ref: casebook.id,
    })
    expect((await call('GET', `/ctia/relationship/${short(link.json().id)}`, ALICE)).status).toBe(
      200,
    )
    for (const body of [{}, { casebook_id: casebook.id, investigation_id: 'investigation-1' }]) {
      const bad = await call('POST', `/ctia/incident/${iid}/link`, ALICE, body)
      expect(bad.status).toBe(400)
      expect(bad.json()).toMatchObject({ error: 'Spec Validation Client Error' })
    }
    expect(
      (await call('POST', `/ctia/incident/${iid}/link`, MALLORY, { casebook_id: casebook.id }))
        .status,
    ).toBe(404)
    expect((await call('GET', `/ctia/incident/search?status=Closed`, ALICE)).json()).toHaveLength(1)
    expect(
      (await call('PATCH', `/ctia/incident/${iid}`, ALICE, { severity: 'High' })).json(),
    ).toMatchObject({
      severity: 'High',
      status: 'Closed',
    })
  })

  it('serves judgements with disposition rules', async () => {
    const judgement = await call('POST', '/ctia/judgement', ALICE, {
      confidence: 'High',
      disposition: 2,
      observable: { type: 'ip', value: '203.0.113.9' },
      priority: 99,
      severity: 'Medium',
      source: 'source',
      type: 'judgement',
      external_ids: ['3'],
    })
    expect(judgement.status).toBe(201)
    expect(judgement.json()).toMatchObject({ disposition: 2, disposition_name: 'Malicious' })
    expect(
      (
        await call('POST', '/ctia/judgement', ALICE, {
          confidence: 'High',
          disposition: 1,
          disposition_name: 'Malicious',
          observable: { type: 'ip', value: '203.0.113.9' },
          priority: 99,
          severity: 'Medium',
          source: 'source',
        })
      ).status,
    ).toBe(400)
    const found = await call(
      'GET',
      '/ctia/judgement/search?query=observable.value:203.0.113.9',
      ALICE,
    )
    expect(found.json()).toHaveLength(1)
  })

  it('audits every change through the routes', async () => {
    const { id } = (await call('POST', '/ctia/casebook', ALICE, { title: 'Audited' })).json()
    await call('PATCH', `/ctia/casebook/${short(id)}`, ALICE, { title: 'Audited 2' })
    await call('DELETE', `/ctia/casebook/${short(id)}`, ALICE)
    const entries = (await h.audit.list({ orgId: 'org-a', limit: 1000 })).entries.filter(
      (e) => e.target?.id === short(id),
    )
    expect(entries.map((e) => [e.action, e.actor.id, e.source]).reverse()).toEqual([
      ['casebook.create', 'alice', 'api'],
      ['casebook.patch', 'alice', 'api'],
      ['casebook.delete', 'alice', 'api'],
    ])
  })
})
