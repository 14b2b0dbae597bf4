import { z } from 'zod'
import { OBSERVABLE_TYPES } from '../observable-types.js'
import {
  CONFIDENCE_VALUES,
  CTIM_SCHEMA_VERSION,
  DEFAULT_TLP,
  SEVERITY_VALUES,
  TLP_VALUES,
} from './vocabularies.js'

/**
 * Building blocks shared by the CTIM entity schemas. Objects are strict, as CTIA's are: an
 * unknown key is an error (`disallowed-key`), not silently dropped.
 *
 * String limits follow CTIM: ShortString 1024, MedString 2048, Markdown 5000 characters.
 */

export const SHORT_STRING = 1024
export const MED_STRING = 2048
export const MARKDOWN = 5000

// ISO 8601 date or date-time (CTIM `Inst`), e.g. 2018-07-26T16:14:40.000Z.
const ISO_TIME =
  /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?$/i

/**
 * Whether a string is an ISO 8601 timestamp CTIA accepts.
 *
 * @example
 * isIsoTime('2018-07-26T16:14:40.000Z') // true
 * isIsoTime('yesterday')                // false
 */
export function isIsoTime(value: string): boolean {
  return ISO_TIME.test(value) && !Number.isNaN(Date.parse(value))
}

/**
 * The canonical form Postern stores and serves for a CTIM time: UTC, millisecond precision
 * (`2018-07-26T16:14:40.000Z`).
 *
 * @example
 * normalizeTime('2018-07-26T18:14:40+02:00') // '2018-07-26T16:14:40.000Z'
 */
export function normalizeTime(value: string | Date | number): string {
  return new Date(typeof value === 'string' ? Date.parse(value) : value).toISOString()
}

/** A CTIM `Inst`: an ISO 8601 timestamp string. */
export const TimeSchema = z
  .string()
  .refine(isIsoTime, { message: 'must be an ISO 8601 timestamp, e.g. 2018-07-26T16:14:40.000Z' })
  .describe('ISO 8601 timestamp, e.g. 2018-07-26T16:14:40.000Z')

export const TlpSchema = z
  .enum(TLP_VALUES)
  .describe(`Traffic Light Protocol marking (default ${DEFAULT_TLP})`)
export const ConfidenceSchema = z.enum(CONFIDENCE_VALUES).describe('Confidence (CTIM HighMedLow)')
export const SeveritySchema = z.enum(SEVERITY_VALUES).describe('Severity')

/** A CTIM observable `{type, value}`: type from the CTIM vocabulary, value not blank. */
export const ObservableSchema = z
  .strictObject({
    type: z.enum(OBSERVABLE_TYPES).describe('CTIM observable type'),
    value: z.string().min(1).max(8192).describe('The observable value'),
  })
  .describe('A CTIM observable')

/** `valid_time`: both bounds optional. */
export const ValidTimeSchema = z
  .strictObject({
    start_time: TimeSchema.optional().describe('Start of validity; no lower bound when absent'),
    end_time: TimeSchema.optional().describe('End of validity; no upper bound when absent'),
  })
  .describe('Period in which this is valid')

/** `observed_time`: `start_time` required, `end_time` optional and not before the start. */
export const ObservedTimeSchema = z
  .strictObject({
    start_time: TimeSchema.describe('Time of the observation, or start of the observed period'),
    end_time: TimeSchema.optional().describe('End of the observed period'),
  })
  .superRefine((time, ctx) => {
    if (time.end_time !== undefined && Date.parse(time.end_time) < Date.parse(time.start_time)) {
      ctx.addIssue({ code: 'custom', path: ['end_time'], message: 'end_time is before start_time' })
    }
  })
  .describe('When it was observed')

export const ExternalReferenceSchema = z
  .strictObject({
    source_name: z
      .string()
      .min(1)
      .max(MED_STRING)
      .describe('System, registry or organisation the reference is defined in'),
    description: z.string().max(MARKDOWN).optional().describe('Markdown description'),
    url: z.string().max(MED_STRING).optional().describe('URL of the referenced resource'),
    hashes: z.array(z.string()).optional().describe('Hashes of the content at url'),
    external_id: z
      .string()
      .max(MED_STRING)
      .optional()
      .describe('Identifier in the external system'),
  })
  .describe('A pointer to information outside CTIM')

/** Fields every CTIM entity may carry (`base-entity-entries` + describable + sourcable). */
export const baseFields = {
  id: z.string().min(1).max(MED_STRING).describe('Globally unique URI identifying the entity'),
  schema_version: z
    .string()
    .min(1)
    .max(64)
    .describe(`CTIM schema version (Postern writes ${CTIM_SCHEMA_VERSION})`),
  revision: z.number().int().nonnegative().optional().describe('Incremented on each change'),
  external_ids: z
    .array(z.string().max(MED_STRING))
    .optional()
    .describe('Ids of this entity in other systems'),
  external_references: z
    .array(ExternalReferenceSchema)
    .optional()
    .describe('References to non-CTIM information'),
  timestamp: TimeSchema.optional().describe('When the entity was created or last modified'),
  language: z.string().max(SHORT_STRING).optional().describe('Human language of the text fields'),
  tlp: TlpSchema.optional(),
  title: z.string().max(SHORT_STRING).optional().describe('Short title, the primary display value'),
  description: z.string().max(MARKDOWN).optional().describe('Markdown description'),
  short_description: z.string().max(MED_STRING).optional().describe('One-line summary'),
  source: z.string().max(MED_STRING).optional().describe('Where the information comes from'),
  source_uri: z.string().max(MED_STRING).optional().describe('URI of the source'),
}

/** Fields CTIA adds when it stores an entity. Read-only for clients. */
export const storedFields = {
  owner: z.string().optional().describe('User who created the entity'),
  groups: z.array(z.string()).optional().describe('Organisations (groups) the entity belongs to'),
  authorized_users: z.array(z.string()).optional().describe('Users granted access'),
  authorized_groups: z.array(z.string()).optional().describe('Groups granted access'),
  client_id: z.string().optional().describe('API client that created the entity'),
  created: TimeSchema.optional().describe('When CTIA stored the entity'),
  modified: TimeSchema.optional().describe('When CTIA last changed the entity'),
}

/** The base fields with `id` and `schema_version` optional, as on a `New…` entity. */
export const newBaseFields = {
  ...baseFields,
  id: baseFields.id.optional(),
  schema_version: baseFields.schema_version.optional(),
}

/**
 * Fills what the server sets on a new entity: id, type, schema version, default TLP and
 * timestamp, and the stored fields. Fields already present (id from an import, a client's
 * timestamp) are kept except the stored ones, which the server owns.
 *
 * @example
 * const casebook = completeNewEntity(parsed, { type: 'casebook', id: casebookId, now: new Date(), owner: user.id, groups: [org.id] })
 */
export function completeNewEntity<T extends object, K extends string>(
  entity: T,
  options: {
    type: K
    id: string
    now: Date
    owner?: string
    groups?: string[]
    clientId?: string
  },
): Omit<T, 'type'> & {
  id: string
  type: K
  schema_version: string
  tlp: string
  timestamp: string
  created: string
  modified: string
  owner?: string
  groups?: string[]
  client_id?: string
} {
  const now = options.now.toISOString()
  const input = entity as Record<string, unknown>
  return {
    ...entity,
    id: options.id,
    type: options.type,
    schema_version:
      typeof input.schema_version === 'string' ? input.schema_version : CTIM_SCHEMA_VERSION,
    tlp: typeof input.tlp === 'string' ? input.tlp : DEFAULT_TLP,
    timestamp: typeof input.timestamp === 'string' ? normalizeTime(input.timestamp) : now,
    created: now,
    modified: now,
    ...(options.owner !== undefined ? { owner: options.owner } : {}),
    ...(options.groups !== undefined ? { groups: options.groups } : {}),
    ...(options.clientId !== undefined ? { client_id: options.clientId } : {}),
  }
}
