import { Ajv, type ValidateFunction } from 'ajv'
import { describe, expect, it } from 'vitest'
import { STIX_TLP_MARKINGS, stixPattern, toStixBundle, type StixObject } from './stix.js'

// JSON Schemas for the STIX 2.1 objects Postern writes, transcribed from OASIS "STIX Version 2.1"
// (Committee Specification 03 / OASIS Standard, 10 June 2021): §2.7 identifier, §3.2 timestamp,
// §3.3–3.8 common properties, §4.7 identity, §4.8 indicator, §4.12 note, §4.14 report, §7.2
// marking definitions (TLP), §8 bundle.
const IDENTIFIER =
  '^[a-z][a-z0-9-]+[a-z0-9]--[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-5][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$'
const TIMESTAMP =
  '^[0-9]{4}-(0[1-9]|1[012])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):([0-5][0-9]):([0-5][0-9]|60)(\\.[0-9]+)?Z$'
const identifier = (type?: string) => ({
  type: 'string',
  pattern:
    type === undefined ? IDENTIFIER : `^${type}--${IDENTIFIER.slice(IDENTIFIER.indexOf('--') + 2)}`,
})
const timestamp = { type: 'string', pattern: TIMESTAMP }
const nonEmptyStrings = { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } }

const common = {
  type: {
    type: 'string',
    pattern: '^([a-z][a-z0-9]*)+(-[a-z0-9]+)*-?$',
    minLength: 3,
    maxLength: 250,
  },
  spec_version: { const: '2.1' },
  id: identifier(),
  created_by_ref: identifier('identity'),
  created: timestamp,
  modified: timestamp,
  revoked: { type: 'boolean' },
  labels: nonEmptyStrings,
  confidence: { type: 'integer', minimum: 0, maximum: 100 },
  lang: { type: 'string' },
  external_references: {
    type: 'array',
    minItems: 1,
    items: {
      type: 'object',
      required: ['source_name'],
      properties: {
        source_name: { type: 'string', minLength: 1 },
        description: { type: 'string' },
        url: { type: 'string' },
        external_id: { type: 'string' },
      },
      additionalProperties: false,
    },
  },
  object_marking_refs: { type: 'array', minItems: 1, items: identifier('marking-definition') },
}
// §3.1: property names are lower case, digits and underscores, 3–250 characters ("id" excepted).
const propertyNames = { pattern: '^(id|[a-z0-9_]{3,250})$' }
const sdo = (type: string, required: string[], properties: Record<string, unknown>) => ({
  type: 'object',
  required: ['type', 'spec_version', 'id', 'created', 'modified', ...required],
  properties: { ...common, ...properties, type: { const: type }, id: identifier(type) },
  propertyNames,
  additionalProperties: false,
})

const schemas: Record<string, object> = {
  bundle: {
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
          required: ['type', 'id'],
          properties: { type: { type: 'string' }, id: identifier() },
        },
      },
    },
    additionalProperties: false,
  },
  identity: sdo('identity', ['name'], {
    name: { type: 'string', minLength: 1 },
    description: { type: 'string' },
    identity_class: { type: 'string' },
    contact_information: { type: 'string' },
  }),
  indicator: sdo('indicator', ['pattern', 'pattern_type', 'valid_from'], {
    name: { type: 'string' },
    description: { type: 'string' },
    indicator_types: nonEmptyStrings,
    pattern: { type: 'string', minLength: 1 },
    pattern_type: { type: 'string', minLength: 1 },
    pattern_version: { type: 'string' },
    valid_from: timestamp,
    valid_until: timestamp,
    kill_chain_phases: { type: 'array' },
  }),
  report: sdo('report', ['name', 'published', 'object_refs'], {
    name: { type: 'string', minLength: 1 },
    description: { type: 'string' },
    report_types: nonEmptyStrings,
    published: timestamp,
    object_refs: { type: 'array', minItems: 1, items: identifier() },
  }),
  note: sdo('note', ['content', 'object_refs'], {
    abstract: { type: 'string' },
    content: { type: 'string', minLength: 1 },
    authors: nonEmptyStrings,
    object_refs: { type: 'array', minItems: 1, items: identifier() },
  }),
  'marking-definition': {
    type: 'object',
    required: ['type', 'spec_version', 'id', 'created', 'definition_type', 'definition'],
    properties: {
      type: { const: 'marking-definition' },
      spec_version: { const: '2.1' },
      id: identifier('marking-definition'),
      created: timestamp,
      name: { type: 'string' },
      definition_type: { const: 'tlp' },
      definition: {
        type: 'object',
        required: ['tlp'],
        properties: { tlp: { enum: ['white', 'green', 'amber', 'red'] } },
        additionalProperties: false,
      },
    },
    additionalProperties: false,
  },
}

const ajv = new Ajv({ allErrors: true, strict: true })
const validators: Record<string, ValidateFunction> = Object.fromEntries(
  Object.entries(schemas).map(([type, schema]) => [type, ajv.compile(schema)]),
)

// STIX patterning (§9) for the comparison expressions Postern writes:
// "[" object-type ":" object-path " = " string-literal "]".
const OBJECT_PATHS = new Set([
  'url:value',
  'domain-name:value',
  'ipv4-addr:value',
  'ipv6-addr:value',
  'email-addr:value',
  "file:hashes.'SHA-256'",
  "file:hashes.'SHA-1'",
  'file:hashes.MD5',
  'file:name',
  'email-message:subject',
  'email-message:message_id',
  'mac-addr:value',
  'user-account:account_login',
  "network-traffic:extensions.'http-request-ext'.request_header.'User-Agent'",
])
function parsePattern(pattern: string): { path: string; value: string } {
  const match = /^\[([a-z][a-z0-9-]*:[A-Za-z0-9_.'-]+) = '((?:[^'\\]|\\['\\])*)'\]$/.exec(pattern)
  if (!match) throw new Error(`not a STIX comparison: ${pattern}`)
  return { path: match[1] as string, value: (match[2] as string).replace(/\\(['\\])/g, '$1') }
}

function validateBundle(bundle: unknown): string[] {
  const problems: string[] = []
  if (!validators.bundle?.(bundle)) problems.push(ajv.errorsText(validators.bundle?.errors))
  const objects = (bundle as { objects: StixObject[] }).objects
  const ids = new Set(objects.map((o) => o.id))
  for (const object of objects) {
    const validate = validators[object.type]
    const valid = validate === undefined ? false : (validate as (data: unknown) => boolean)(object)
    if (!validate) problems.push(`no schema for ${object.type}`)
    else if (!valid) problems.push(`${object.type}: ${ajv.errorsText(validate.errors)}`)
    const refs = [
      ...((object.object_refs as string[] | undefined) ?? []),
      ...((object.object_marking_refs as string[] | undefined) ?? []),
      ...(typeof object.created_by_ref === 'string' ? [object.created_by_ref] : []),
    ]
    for (const ref of refs)
      if (!ids.has(ref)) problems.push(`${object.id} refers to missing ${ref}`)
    if (object.type === 'indicator' && typeof object.pattern === 'string') {
      const { path } = parsePattern(object.pattern as string)
      if (!OBJECT_PATHS.has(path)) problems.push(`unexpected object path ${path}`)
    }
  }
  return problems
}

const SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'

describe('STIX 2.1 export', () => {
  const input = {
    title: 'Invoice phishing wave',
    description: 'Casebook exported from Postern.',
    producer: { name: 'Example Corp SOC' },
    tlp: 'amber' as const,
    labels: ['phishing'],
    externalReferences: [{ source_name: 'postern', external_id: 'casebook-1' }],
    observables: [
      {
        type: 'url' as const,
        value: "https://evil.example.com/pay?a='b'&c=\\d",
        disposition: 2 as const,
      },
      { type: 'domain' as const, value: 'evil.example.com', disposition: 3 as const },
      { type: 'ip' as const, value: '203.0.113.5' },
      { type: 'ipv6' as const, value: '2001:db8::5' },
      { type: 'email' as const, value: 'billing@evil.example.com' },
      { type: 'sha256' as const, value: SHA256 },
      { type: 'sha1' as const, value: 'da39a3ee5e6b4b0d3255bfef95601890afd80709' },
      { type: 'md5' as const, value: 'd41d8cd98f00b204e9800998ecf8427e' },
      { type: 'file_name' as const, value: "Invoice 'final'.pdf.exe" },
      { type: 'email_subject' as const, value: 'Payment overdue' },
      { type: 'email_messageid' as const, value: '<abc@evil.example.com>' },
      { type: 'user' as const, value: 'CORP\\jdoe' },
      { type: 'mac_address' as const, value: '00:1a:2b:3c:4d:5e' },
      { type: 'user_agent' as const, value: 'python-requests/2.31' },
      { type: 'cisco_mid' as const, value: '4242' },
      { type: 'url' as const, value: "https://evil.example.com/pay?a='b'&c=\\d" },
    ],
    notes: [
      { text: 'Reported by 14 users.', type: 'note', author: 'alice' },
      { text: 'Blocked on both gateways.' },
    ],
    now: new Date('2024-03-12T09:30:15.123Z'),
  }

  it('writes a bundle that validates against the STIX 2.1 schemas', () => {
    const { bundle, skipped } = toStixBundle(input)
    expect(validateBundle(bundle)).toEqual([])
    expect(skipped).toEqual([{ type: 'cisco_mid', value: '4242' }])
    const types = bundle.objects.map((o) => o.type)
    expect(types.filter((t) => t === 'indicator')).toHaveLength(14)
    expect(types.filter((t) => t === 'note')).toHaveLength(2)
    expect(types).toContain('report')
    expect(types).toContain('identity')
    expect(bundle.objects.find((o) => o.type === 'marking-definition')?.id).toBe(
      STIX_TLP_MARKINGS.amber.id,
    )
  })

  it('escapes pattern literals and round-trips values', () => {
    const { bundle } = toStixBundle(input)
    const values = bundle.objects
      .filter((o) => o.type === 'indicator')
      .map((o) => parsePattern(o.pattern as string).value)
    expect(values).toContain("https://evil.example.com/pay?a='b'&c=\\d")
    expect(values).toContain("Invoice 'final'.pdf.exe")
    expect(values).toContain('CORP\\jdoe')
  })

  it('maps dispositions to indicator types and puts notes in the report', () => {
    const { bundle } = toStixBundle(input)
    const byPattern = new Map(
      bundle.objects.filter((o) => o.type === 'indicator').map((o) => [o.pattern, o]),
    )
    expect(byPattern.get("[domain-name:value = 'evil.example.com']")?.indicator_types).toEqual([
      'anomalous-activity',
    ])
    expect(byPattern.get(`[file:hashes.'SHA-256' = '${SHA256}']`)?.indicator_types).toEqual([
      'unknown',
    ])
    const report = bundle.objects.find((o) => o.type === 'report')
    expect(report?.description).toBe(
      'Casebook exported from Postern.\n\n## Notes\n\nReported by 14 users.\n\nBlocked on both gateways.',
    )
    expect(report?.published).toBe('2024-03-12T09:30:15.123Z')
    expect((report?.object_refs as string[]).length).toBe(14)
  })

  it('exports notes alone with a report that refers to its author', () => {
    const { bundle } = toStixBundle({
      title: 'Notes only',
      producer: { name: 'SOC' },
      observables: [],
      notes: [{ text: 'x' }],
    })
    expect(validateBundle(bundle)).toEqual([])
  })

  it('refuses to export nothing', () => {
    expect(() =>
      toStixBundle({
        title: 't',
        producer: { name: 'SOC' },
        observables: [{ type: 'cisco_mid', value: '1' }],
      }),
    ).toThrow(expect.objectContaining({ code: 'CTIM_ERR_STIX_NOTHING_TO_EXPORT' }))
  })

  it('has no pattern for types STIX cannot express', () => {
    expect(stixPattern({ type: 'cisco_mid', value: '1' })).toBeNull()
    expect(stixPattern({ type: 'hostname', value: 'ws-01' })).toBeNull()
    expect(stixPattern({ type: 'hostname', value: 'ws-01.corp.example.com' })).toBe(
      "[domain-name:value = 'ws-01.corp.example.com']",
    )
  })

  it('catches what the schemas are there to catch', () => {
    const { bundle } = toStixBundle(input)
    const broken = structuredClone(bundle)
    const indicator = broken.objects.find((o) => o.type === 'indicator') as StixObject
    indicator.created = '2024-03-12 09:30'
    delete indicator.pattern
    expect(
      validateBundle({ ...broken, objects: broken.objects.filter((o) => o.type !== 'identity') })
        .length,
    ).toBeGreaterThan(2)
  })
})
