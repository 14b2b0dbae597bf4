import { z } from 'zod'
import {
  ConfidenceSchema,
  MARKDOWN,
  ObservableSchema,
  ObservedTimeSchema,
  SeveritySchema,
  baseFields,
  newBaseFields,
  storedFields,
} from './common.js'
import { OBSERVED_RELATIONS } from './vocabularies.js'

/** A relation between two observables seen together (`ObservedRelation`); the relation name is from a closed list. */
export const ObservedRelationSchema = z
  .strictObject({
    origin: z.string().min(1).max(2048).describe('Who or what established the relation'),
    origin_uri: z.string().max(2048).optional().describe('URI of the origin'),
    relation: z
      .enum(OBSERVED_RELATIONS)
      .describe('The relation, e.g. Sent_To, Contains, Resolved_To'),
    relation_info: z.record(z.string(), z.unknown()).optional().describe('Free-form details'),
    source: ObservableSchema.describe('The observable the relation starts from'),
    related: ObservableSchema.describe('The observable it relates to'),
  })
  .describe('An observed relation')
export type ObservedRelation = z.output<typeof ObservedRelationSchema>

/** What was targeted (`IdentitySpecification`): e.g. a recipient mailbox. */
export const TargetSchema = z
  .strictObject({
    type: z
      .string()
      .min(1)
      .max(1024)
      .describe('Sensor type of the target, e.g. "endpoint" or "process.email-service"'),
    observables: z.array(ObservableSchema).describe('Observables identifying the target'),
    observed_time: ObservedTimeSchema,
    os: z.string().max(1024).optional().describe('Operating system of the target'),
  })
  .describe('A sighting target')

export const SensorCoordinatesSchema = z
  .strictObject({
    type: z.string().min(1).max(1024).describe('Sensor type, e.g. "network.gateway"'),
    observables: z.array(ObservableSchema).describe('Observables identifying the sensor'),
    os: z.string().max(1024).optional(),
  })
  .describe('The device that made the sighting')

export const SightingDataTableSchema = z
  .strictObject({
    columns: z
      .array(
        z.strictObject({
          name: z.string().min(1),
          type: z.enum(['integer', 'markdown', 'number', 'observable', 'string', 'url']),
          description: z.string().max(MARKDOWN).optional(),
          short_description: z.string().optional(),
          required: z.boolean().optional(),
        }),
      )
      .describe('Ordered column definitions'),
    rows: z.array(z.array(z.unknown())).describe('Ordered rows'),
    row_count: z.number().int().nonnegative().optional(),
  })
  .describe('An embedded data table')

const sightingFields = {
  type: z.literal('sighting').describe('Always "sighting"'),
  count: z.number().int().nonnegative().describe('How many times it was seen'),
  confidence: ConfidenceSchema,
  observed_time: ObservedTimeSchema,
  observables: z.array(ObservableSchema).optional().describe('The observables of interest'),
  relations: z.array(ObservedRelationSchema).optional().describe('How the observables relate'),
  targets: z.array(TargetSchema).optional().describe('What was targeted'),
  sensor: z
    .string()
    .max(1024)
    .optional()
    .describe('Sensor that made the sighting, e.g. "network.gateway"'),
  sensor_coordinates: SensorCoordinatesSchema.optional(),
  resolution: z
    .string()
    .max(1024)
    .optional()
    .describe('detected (default), blocked, allowed, contained'),
  severity: SeveritySchema.optional(),
  internal: z.boolean().optional().describe('Whether it was internal to the network'),
  data: SightingDataTableSchema.optional(),
  context: z.record(z.string(), z.unknown()).optional().describe('Event context (CTIM Context)'),
}

/**
 * A sighting as clients create it (CTIA `NewSighting`: only `observed_time` is required; count
 * defaults to 1 and confidence to "High" on the server, as CTIA does).
 *
 * @example
 * NewSightingSchema.parse({ observed_time: { start_time: '2024-03-12T09:30:15.000Z' }, observables: [{ type: 'email', value: 'a@evil.com' }] })
 */
export const NewSightingSchema = z
  .strictObject({
    ...newBaseFields,
    ...sightingFields,
    type: sightingFields.type.optional(),
    count: sightingFields.count.optional(),
    confidence: sightingFields.confidence.optional(),
  })
  .describe('A new sighting')
export type NewSighting = z.output<typeof NewSightingSchema>

/** A sighting as served (CTIM `Sighting`). */
export const SightingSchema = z
  .strictObject({ ...baseFields, ...storedFields, ...sightingFields })
  .describe('A sighting')
export type Sighting = z.output<typeof SightingSchema>
