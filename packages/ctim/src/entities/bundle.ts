import { z } from 'zod'
import { ValidTimeSchema, newBaseFields, storedFields } from './common.js'
import { NewIncidentSchema } from './incident.js'
import { NewIndicatorSchema } from './indicator.js'
import { BundleJudgementSchema, VerdictSchema } from './judgement.js'
import { NewRelationshipSchema } from './relationship.js'
import { NewSightingSchema } from './sighting.js'

/**
 * CTIM bundles (`schemas/bundle.cljc`): a set of entities exchanged together — what
 * `/ctia/bundle/import` takes, `/ctia/bundle/export` gives, and a casebook's `bundle` holds.
 *
 * Entities Postern models (incidents, indicators, judgements, relationships, sightings,
 * verdicts) are validated with their own schemas, in new or stored form. Other CTIM entity lists
 * (actors, malwares, tools, …) are accepted as objects with a `type`, kept as they are.
 */

/** An entity of a kind Postern stores without interpreting it. */
const OpaqueEntitySchema = z
  .looseObject({ type: z.string().min(1).max(64).describe('CTIM entity type') })
  .describe('A CTIM entity Postern keeps as it is')

const refs = z.array(z.string().min(1).max(2048))

/** Entity lists of a bundle, each optional. */
export const bundleEntityFields = {
  actors: z.array(OpaqueEntitySchema).optional(),
  assets: z.array(OpaqueEntitySchema).optional(),
  asset_mappings: z.array(OpaqueEntitySchema).optional(),
  asset_properties: z.array(OpaqueEntitySchema).optional(),
  attack_patterns: z.array(OpaqueEntitySchema).optional(),
  campaigns: z.array(OpaqueEntitySchema).optional(),
  coas: z.array(OpaqueEntitySchema).optional(),
  data_tables: z.array(OpaqueEntitySchema).optional(),
  feedbacks: z.array(OpaqueEntitySchema).optional(),
  identity_assertions: z.array(OpaqueEntitySchema).optional(),
  incidents: z.array(NewIncidentSchema.extend(storedFields)).optional(),
  indicators: z.array(NewIndicatorSchema.extend(storedFields)).optional(),
  judgements: z.array(BundleJudgementSchema).optional(),
  malwares: z.array(OpaqueEntitySchema).optional(),
  notes: z.array(OpaqueEntitySchema).optional(),
  relationships: z.array(NewRelationshipSchema.extend(storedFields)).optional(),
  sightings: z.array(NewSightingSchema.extend(storedFields)).optional(),
  target_records: z.array(OpaqueEntitySchema).optional(),
  tools: z.array(OpaqueEntitySchema).optional(),
  verdicts: z.array(VerdictSchema).optional(),
  vulnerabilities: z.array(OpaqueEntitySchema).optional(),
  weaknesses: z.array(OpaqueEntitySchema).optional(),
}

/** Reference lists of a bundle (`<entity>_refs`: ids of entities not embedded). */
export const bundleRefFields = {
  actor_refs: refs.optional(),
  asset_refs: refs.optional(),
  asset_mapping_refs: refs.optional(),
  asset_properties_refs: refs.optional(),
  attack_pattern_refs: refs.optional(),
  campaign_refs: refs.optional(),
  coa_refs: refs.optional(),
  data_table_refs: refs.optional(),
  feedback_refs: refs.optional(),
  identity_assertion_refs: refs.optional(),
  incident_refs: refs.optional(),
  indicator_refs: refs.optional(),
  judgement_refs: refs.optional(),
  malware_refs: refs.optional(),
  note_refs: refs.optional(),
  relationship_refs: refs.optional(),
  sighting_refs: refs.optional(),
  target_record_refs: refs.optional(),
  tool_refs: refs.optional(),
  verdict_refs: refs.optional(),
  vulnerability_refs: refs.optional(),
  weakness_refs: refs.optional(),
}

/** The entity-list keys of a bundle. */
export type BundleEntityKey = keyof typeof bundleEntityFields
export const BUNDLE_ENTITY_KEYS = Object.keys(bundleEntityFields) as BundleEntityKey[]

/**
 * A bundle as clients send it (CTIM `NewBundle`, the body of `/ctia/bundle/import`): everything
 * optional except what makes it a bundle.
 *
 * @example
 * NewBundleSchema.parse({ type: 'bundle', source: 'feed', judgements: [ … ] })
 */
export const NewBundleSchema = z
  .strictObject({
    ...newBaseFields,
    ...storedFields,
    type: z.literal('bundle').optional().describe('Always "bundle"'),
    valid_time: ValidTimeSchema.optional(),
    ...bundleEntityFields,
    ...bundleRefFields,
  })
  .describe('A CTIM bundle')
export type NewBundle = z.output<typeof NewBundleSchema>

/** A bundle as Postern exports it (CTIM `Bundle`: id, type, schema_version, source, valid_time required). */
export const BundleSchema = NewBundleSchema.extend({
  id: z.string().min(1),
  schema_version: z.string().min(1),
  type: z.literal('bundle'),
  source: z.string().min(1).max(2048),
  valid_time: ValidTimeSchema,
}).describe('A CTIM bundle')
export type Bundle = z.output<typeof BundleSchema>

/** One line of the `/ctia/bundle/import` answer. */
export const BundleImportResultSchema = z
  .strictObject({
    id: z.string().optional().describe('Id of the stored entity'),
    original_id: z.string().optional().describe('Id the entity had in the bundle'),
    result: z.enum(['created', 'exists', 'error']).describe('What happened to the entity'),
    type: z.string().describe('Entity type'),
    external_ids: z.array(z.string()).optional(),
    error: z.string().optional().describe('Why it failed, when result is "error"'),
  })
  .describe('Import result of one entity')

/** The `/ctia/bundle/import` answer. */
export const BundleImportResponseSchema = z
  .strictObject({ results: z.array(BundleImportResultSchema) })
  .describe('Bundle import results')
