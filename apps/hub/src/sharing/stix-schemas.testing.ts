/**
 * Test support: the STIX 2.1 JSON schemas written down for what the hub exports, and a
 * validator over them (used by the unit tests and the hub–gateway end-to-end suite).
 */
import Ajv2020Module from 'ajv/dist/2020.js'
import addFormatsModule from 'ajv-formats'

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
    // STIX patterning (§9): "[" object-type ":" object-path " = " string-literal "]", the only
    // comparison the export writes; quotes and backslashes in the literal escaped.
    pattern: {
      type: 'string',
      pattern: "^\\[[a-z][a-z0-9-]*:[A-Za-z0-9_.'-]+ = '(?:[^'\\\\]|\\\\['\\\\])*'\\]$",
    },
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
export const BUNDLE_SCHEMA = {
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

/** Validates a STIX 2.1 bundle against the schemas above (errors in `.errors`). */
export const validateStixBundle = (() => {
  const ajv = new Ajv2020({ allErrors: true, strict: false })
  addFormats(ajv)
  return ajv.compile(BUNDLE_SCHEMA)
})()
