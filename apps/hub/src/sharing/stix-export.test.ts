import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BACKENDS } from '@postern/store/testing'
import { validateStixBundle } from './stix-schemas.testing.js'
import { startPrivateIntelHarness, type PrivateIntelHarness } from '../casebooks/testing.js'

const ALICE = 'Bearer test:org-a:alice'
const MALLORY = 'Bearer test:org-b:mallory'

describe.each(BACKENDS)('STIX 2.1 export on %s', (dialect) => {
  let h: PrivateIntelHarness
  const validate = validateStixBundle

  beforeAll(async () => {
    h = await startPrivateIntelHarness(dialect)
  })
  afterAll(async () => {
    await h.close()
  })

  const post = async (url: string, payload: unknown) =>
    JSON.parse(
      (
        await h.app.inject({
          method: 'POST',
          url,
          headers: { authorization: ALICE, 'content-type': 'application/json' },
          payload: JSON.stringify(payload),
        })
      ).body,
    )

  it('exports a casebook and its incident as valid STIX 2.1 with verdicts and notes', async () => {
    const casebook = await post('/ctia/casebook', {
      title: "Payroll phish 'urgent'",
      description: 'Credential phishing against payroll',
      tlp: 'red',
      observables: [
        { type: 'url', value: "https://evil.example/login?u='x'" },
        { type: 'domain', value: 'evil.example' },
        { type: 'email', value: 'boss@evil.example' },
        { type: 'sha256', value: 'ab'.repeat(32) },
        { type: 'ip', value: '203.0.113.5' },
        { type: 'cisco_mid', value: '42' },
      ],
      texts: [{ type: 'note', text: 'Reported by 14 users.' }],
    })
    await post('/ctia/judgement', {
      observable: { type: 'domain', value: 'evil.example' },
      disposition: 2,
      priority: 95,
      confidence: 'High',
      severity: 'High',
      source: 'analyst',
    })
    const id = String(casebook.id).split('/').pop()
    const response = await h.app.inject({
      method: 'GET',
      url: `/api/v1/casebooks/${id}/stix`,
      headers: { authorization: ALICE },
    })
    expect(response.statusCode).toBe(200)
    expect(response.headers['content-type']).toMatch(/^application\/stix\+json; version="?2\.1"?/)
    expect(response.headers['x-postern-stix-skipped']).toBe('1')
    const bundle = JSON.parse(response.body)
    expect(validate(bundle), JSON.stringify(validate.errors)).toBe(true)
    const byType = (type: string) => bundle.objects.filter((o: { type: string }) => o.type === type)
    expect(byType('indicator')).toHaveLength(5)
    expect(byType('marking-definition')[0].definition).toEqual({ tlp: 'red' })
    const domain = byType('indicator').find((i: { pattern: string }) =>
      i.pattern.includes('domain-name'),
    )
    expect(domain).toMatchObject({
      pattern: "[domain-name:value = 'evil.example']",
      indicator_types: ['malicious-activity'],
    })
    const url = byType('indicator').find((i: { pattern: string }) => i.pattern.startsWith('[url'))
    expect(url.pattern).toBe("[url:value = 'https://evil.example/login?u=\\'x\\'']")
    expect(byType('report')[0]).toMatchObject({
      name: "Payroll phish 'urgent'",
      external_references: [{ source_name: 'postern', external_id: id }],
    })
    expect(byType('note')[0].content).toBe('Reported by 14 users.')

    const incident = await post('/ctia/incident', {
      title: 'Payroll phishing wave',
      status: 'Open',
      confidence: 'High',
      incident_time: { opened: '2026-06-01T08:00:00.000Z' },
    })
    const incidentId = String(incident.id).split('/').pop()
    await post(`/ctia/incident/${incidentId}/link`, { casebook_id: casebook.id })
    const incidentStix = await h.app.inject({
      method: 'GET',
      url: `/api/v1/incidents/${incidentId}/stix`,
      headers: { authorization: ALICE },
    })
    const incidentBundle = JSON.parse(incidentStix.body)
    expect(validate(incidentBundle), JSON.stringify(validate.errors)).toBe(true)
    expect(
      incidentBundle.objects.filter((o: { type: string }) => o.type === 'indicator'),
    ).toHaveLength(5)

    const foreign = await h.app.inject({
      method: 'GET',
      url: `/api/v1/casebooks/${id}/stix`,
      headers: { authorization: MALLORY },
    })
    expect(foreign.statusCode).toBe(404)
  })

  it('refuses to export an empty casebook', async () => {
    const empty = await post('/ctia/casebook', { title: 'Nothing yet' })
    const response = await h.app.inject({
      method: 'GET',
      url: `/api/v1/casebooks/${String(empty.id).split('/').pop()}/stix`,
      headers: { authorization: ALICE },
    })
    expect(response.statusCode).toBe(400)
    expect(JSON.parse(response.body)).toMatchObject({
      error: { code: 'CTIM_ERR_STIX_NOTHING_TO_EXPORT' },
    })
  })
})
