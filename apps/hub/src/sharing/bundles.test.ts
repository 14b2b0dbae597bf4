import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BACKENDS } from '@postern/store/testing'
import { startPrivateIntelHarness, type PrivateIntelHarness } from '../casebooks/testing.js'

const ALICE = 'Bearer test:org-a:alice'
const MALLORY = 'Bearer test:org-b:mallory'

describe.each(BACKENDS)('CTIM bundle export and import on %s', (dialect) => {
  let h: PrivateIntelHarness

  beforeAll(async () => {
    h = await startPrivateIntelHarness(dialect)
  })
  afterAll(async () => {
    await h.close()
  })

  const call = async (method: 'GET' | 'POST', url: string, auth: string, payload?: unknown) => {
    const response = await h.app.inject({
      method,
      url,
      headers: {
        authorization: auth,
        ...(payload !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(payload !== undefined ? { payload: JSON.stringify(payload) } : {}),
    })
    return { status: response.statusCode, json: () => JSON.parse(response.body) }
  }

  it('exports an incident with its casebook and imports it into another org, once', async () => {
    const casebook = (
      await call('POST', '/ctia/casebook', ALICE, {
        title: 'Evidence',
        observables: [{ type: 'url', value: 'https://evil.example/login' }],
        texts: [{ type: 'note', text: 'Seen by three users' }],
      })
    ).json()
    const incident = (
      await call('POST', '/ctia/incident', ALICE, {
        title: 'Credential phishing',
        status: 'Open',
        confidence: 'High',
        incident_time: { opened: '2026-06-01T08:00:00.000Z' },
      })
    ).json()
    const incidentShort = String(incident.id).split('/').pop()
    await call('POST', `/ctia/incident/${incidentShort}/link`, ALICE, { casebook_id: casebook.id })

    const exported = await call(
      'GET',
      `/ctia/bundle/export?ids=${encodeURIComponent(incident.id)}`,
      ALICE,
    )
    expect(exported.status).toBe(200)
    const bundle = exported.json()
    expect(bundle).toMatchObject({ type: 'bundle', source: 'Postern hub' })
    expect(bundle.incidents.map((i: { id: string }) => i.id)).toEqual([incident.id])
    expect(bundle.casebooks.map((c: { id: string }) => c.id)).toEqual([casebook.id])
    expect(bundle.relationships).toMatchObject([
      { source_ref: incident.id, target_ref: casebook.id },
    ])
    const bare = await call('POST', '/ctia/bundle/export?include_related_entities=false', ALICE, {
      ids: [incident.id],
    })
    expect(Object.keys(bare.json())).not.toContain('casebooks')
    // Another org exports nothing of org-a's.
    const foreign = await call(
      'GET',
      `/ctia/bundle/export?ids=${encodeURIComponent(incident.id)}`,
      MALLORY,
    )
    expect(foreign.json().incidents).toBeUndefined()

    const imported = await call('POST', '/ctia/bundle/import', MALLORY, {
      ...bundle,
      sightings: [{ id: 'transient:sighting-1', count: 1 }],
    })
    expect(imported.status).toBe(200)
    const results = imported.json().results as {
      type: string
      result: string
      id?: string
      original_id?: string
    }[]
    expect(results.map((r) => [r.type, r.result])).toEqual([
      ['incident', 'created'],
      ['casebook', 'created'],
      ['sighting', 'error'],
      ['relationship', 'created'],
    ])
    const newIncident = results.find((r) => r.type === 'incident')!
    const newCasebook = results.find((r) => r.type === 'casebook')!
    expect(newIncident.original_id).toBe(incident.id)
    expect(newIncident.id).not.toBe(incident.id)
    const mine = await call(
      'GET',
      `/ctia/bundle/export?ids=${encodeURIComponent(newIncident.id!)}`,
      MALLORY,
    )
    expect(mine.json().relationships).toMatchObject([
      { source_ref: newIncident.id, target_ref: newCasebook.id },
    ])
    expect(mine.json().casebooks[0]).toMatchObject({
      title: 'Evidence',
      owner: 'mallory',
      groups: ['org-b'],
      texts: [{ type: 'note', text: 'Seen by three users' }],
    })

    const again = await call('POST', '/ctia/bundle/import', MALLORY, bundle)
    expect(again.json().results.map((r: { result: string }) => r.result)).toEqual([
      'exists',
      'exists',
      'exists',
    ])
  })

  it('reports invalid entities per entity and refuses oversized bundles', async () => {
    const results = (
      await call('POST', '/ctia/bundle/import', ALICE, {
        type: 'bundle',
        casebooks: [{ title: 'ok' }, { tlp: 'blue' }],
        judgements: [{ observable: { type: 'domain', value: 'x.example' } }],
      })
    ).json().results
    expect(results.map((r: { result: string }) => r.result)).toEqual(['created', 'error', 'error'])
    expect(results[1].error).toMatch(/tlp/)
    const huge = await call('POST', '/ctia/bundle/import', ALICE, {
      casebooks: Array.from({ length: 2001 }, () => ({})),
    })
    expect(huge.status).toBe(413)
  })
})
