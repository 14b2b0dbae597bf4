import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import Ajv2020Module from 'ajv/dist/2020.js'
import addFormatsModule from 'ajv-formats'
import { BACKENDS } from '@postern/store/testing'
import { startPrivateIntelHarness, type PrivateIntelHarness } from '../casebooks/testing.js'

// Both are CommonJS with a default export; under NodeNext the class sits on `.default`.
const Ajv2020 = Ajv2020Module.default
const addFormats = addFormatsModule.default

/**
 * The STIX 2.1 JSON schemas (OASIS cti-stix2-json-schemas, `common/*.json` and `sdos/*.json`),
 * written down for the object types the export produces: the common core properties with their
 * identifier and timestamp patterns, and each type's required properties and vocabularies.
 */
const IDENTIFIER =
  '^[a-z][a-z0-9-]+[a-z0-9]--[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-5][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$'
const TIMESTAMP =
  '^[0-9]{4}-(0[1-9]|1[012])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):([0-5][0-9]):([0-5][0-9]|60)(\\.[0-9]+)?Z$'
const identifier = (type?: string) => ({
  type: 'string',
  pattern: type ? IDENTIFIER.replace('[a-z][a-z0-9-]+[a-z0-9]', type) : IDENTIFIER,
})
const timestamp = { type: 'string', pattern: TIMESTAMP }
const core = (type: string) => ({
  type: { const: type },
  spec_version: { const: '2.1' },
  id: identifier(type),
  created: timestamp,
  modified: timestamp,
  created_by_ref: identifier('identity'),
  object_marking_refs: { type: 'array', minItems: 1, items: identifier('marking-definition') },
  labels: { type: 'array', minItems: 1, items: { type: 'string' } },
  external_references: {
    type: 'array',
    minItems: 1,
    items: {
      type: 'object',
      required: ['source_name'],
      properties: { source_name: { type: 'string' }, url: { type: 'string', format: 'uri' } },
    },
  },
})
const sdo = (type: string, required: string[], extra: Record<string, unknown>) => ({
  type: 'object',
  required: ['type', 'spec_version', 'id', 'created', 'modified', ...required],
  properties: { ...core(type), ...extra },
})
const STIX_SCHEMAS = {
  indicator: sdo('indicator', ['pattern', 'pattern_type', 'valid_from'], {
    name: { type: 'string' },
    indicator_types: {
      type: 'array',
      items: {
        enum: [
          'anomalous-activity',
          'anonymization',
          'benign',
          'compromised',
          'malicious-activity',
          'attribution',
          'unknown',
        ],
      },
    },
    pattern: { type: 'string', pattern: '^\\[.+\\]$' },
    pattern_type: { const: 'stix' },
    pattern_version: { type: 'string' },
    valid_from: timestamp,
  }),
  report: sdo('report', ['name', 'published', 'object_refs'], {
    name: { type: 'string', minLength: 1 },
    report_types: { type: 'array', items: { type: 'string' } },
    published: timestamp,
    object_refs: { type: 'array', minItems: 1, items: identifier() },
  }),
  note: sdo('note', ['content', 'object_refs'], {
    content: { type: 'string' },
    object_refs: { type: 'array', minItems: 1, items: identifier() },
  }),
  identity: sdo('identity', ['name'], {
    name: { type: 'string' },
    identity_class: { enum: ['individual', 'group', 'system', 'organization', 'class', 'unknown'] },
  }),
  'marking-definition': {
    type: 'object',
    required: ['type', 'spec_version', 'id', 'created'],
    properties: {
      type: { const: 'marking-definition' },
      spec_version: { const: '2.1' },
      id: identifier('marking-definition'),
      created: timestamp,
      definition_type: { const: 'tlp' },
      definition: {
        type: 'object',
        required: ['tlp'],
        properties: { tlp: { enum: ['white', 'green', 'amber', 'red'] } },
      },
    },
  },
}
const BUNDLE_SCHEMA = {
  type: 'object',
  required: ['type', 'id', 'objects'],
  properties: {
    type: { const: 'bundle' },
    id: identifier('bundle'),
    objects: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['type'],
        oneOf: Object.entries(STIX_SCHEMAS).map(([type, schema]) => ({
          if: { properties: { type: { const: type } } },
          then: schema,
          else: false,
        })),
      },
    },
  },
}

const ALICE = 'Bearer test:org-a:alice'
const MALLORY = 'Bearer test:org-b:mallory'

describe.each(BACKENDS)('STIX 2.1 export on %s', (dialect) => {
  let h: PrivateIntelHarness
  const ajv = new Ajv2020({ allErrors: true, strict: false })
  addFormats(ajv)
  const validate = ajv.compile(BUNDLE_SCHEMA)

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
