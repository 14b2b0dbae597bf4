import { OBSERVABLE_TYPES } from '@postern/ctim'
import { z } from 'zod'

/**
 * The relay-module contract (reference §4): what a platform sends to a module and what the module
 * answers. Every answer is HTTP 200 with `{"data": …}`, `{"errors": […]}` or both (a partial
 * answer).
 *
 * Request validation follows the public relay template (`tr-05-serverless-relay`
 * `api/schemas.py`, marshmallow): blank strings are refused with "Field may not be blank.", and
 * the trigger body keeps unknown keys (an action's extra `query-params` come back in it).
 * Answer schemas are deliberately tolerant: they are what the hub accepts from third-party
 * modules, so they check the envelope and the parts the hub reads, and keep the rest.
 */

/** Routes of the contract, relative to the module URL. */
export const RELAY_ROUTES = {
  health: '/health',
  observe: '/observe/observables',
  deliberate: '/deliberate/observables',
  refer: '/refer/observables',
  respondObservables: '/respond/observables',
  respondTrigger: '/respond/trigger',
  tiles: '/tiles',
  tile: '/tiles/tile',
  tileData: '/tiles/tile-data',
  version: '/version',
  watchdog: '/watchdog',
} as const
export type RelayRoute = keyof typeof RELAY_ROUTES

/** The `supported-apis` names of a module type (`properties.supported-apis`). */
export const SUPPORTED_API_NAMES: Partial<Record<RelayRoute, string>> = {
  health: 'health',
  observe: 'observe/observables',
  deliberate: 'deliberate/observables',
  refer: 'refer/observables',
  respondObservables: 'respond/observables',
  respondTrigger: 'respond/trigger',
  tiles: 'tiles',
  tile: 'tiles/tile',
  tileData: 'tiles/tile-data',
}

/** One entry of `errors`: `type` is fatal, error or warning. */
export const RelayErrorSchema = z
  .looseObject({
    code: z
      .string()
      .describe('Machine-readable code, e.g. "authorization failed", "too many requests"'),
    message: z.string().describe('Human-readable message'),
    type: z.string().describe('fatal, error or warning'),
  })
  .describe('A module error')
export type RelayError = z.output<typeof RelayErrorSchema>

const blank = 'Field may not be blank.'
const notString = 'Not a valid string.'
const missing = 'Missing data for required field.'

function requiredString() {
  return z
    .string({ error: (issue) => (issue.input === undefined ? missing : notString) })
    .min(1, { error: blank })
}

const TYPE_CHOICES = `Must be one of: ${OBSERVABLE_TYPES.map((t) => `'${t}'`).join(', ')}.`
const observableType = requiredString().pipe(z.enum(OBSERVABLE_TYPES, { error: TYPE_CHOICES }))

/** One observable in a request body; blank fields are refused as the relay template does. */
export const RelayObservableSchema = z
  .object({ type: observableType, value: requiredString() })
  .strict()
  .describe('An observable')

/** Body of the observable routes: a list of `{type, value}`. */
export const ObservablesRequestSchema = z
  .array(RelayObservableSchema, { error: 'Invalid input type.' })
  .describe('Observables to look up')

/** Body of `/respond/trigger`: the action, the observable, and any extra query parameters. */
export const TriggerRequestSchema = z
  .looseObject({
    'action-id': requiredString(),
    observable_type: observableType,
    observable_value: requiredString(),
  })
  .describe('The action to run')
export type TriggerRequest = z.output<typeof TriggerRequestSchema>

/** Body of `/tiles/tile`. */
export const TileRequestSchema = z.looseObject({ tile_id: requiredString() })
/** Body of `/tiles/tile-data`. */
export const TileDataRequestSchema = z.looseObject({
  tile_id: requiredString(),
  period: requiredString(),
})

/**
 * An entity: any JSON object. Checked in place — an object schema would copy every entity of
 * every answer (a hub fans out to dozens of gateways, each answering hundreds of kB).
 */
const entity = z.custom<Record<string, unknown>>(
  (value) => typeof value === 'object' && value !== null && !Array.isArray(value),
  { message: 'an entity is a JSON object' },
)

const docs = z.looseObject({
  count: z.number().int().nonnegative(),
  docs: z.array(entity),
})

/** `data` of an observe answer: entity lists as `{count, docs}` (sightings, judgements, …). */
export const ObserveDataSchema = z
  .record(z.string(), docs)
  .describe(
    'Entity lists keyed by plural type: sightings, judgements, indicators, relationships, verdicts, …',
  )
export type ObserveData = z.output<typeof ObserveDataSchema>

/** `data` of a deliberate answer. */
export const DeliberateDataSchema = z
  .looseObject({ verdicts: docs.optional() })
  .describe('Verdicts')
export type DeliberateData = z.output<typeof DeliberateDataSchema>

/** A reference (refer answer): a link into the module's own console. */
export const RefSchema = z
  .looseObject({
    id: z.string().describe('e.g. ref-<vendor>-search-<type>-<value>'),
    title: z.string(),
    description: z.string(),
    url: z.string(),
    categories: z.array(z.string()),
  })
  .describe('A link into another console')
export type Ref = z.output<typeof RefSchema>

/** An action a module offers for an observable (respond/observables answer). */
export const ActionSchema = z
  .looseObject({
    id: z.string().describe('Action id, sent back as "action-id" on trigger'),
    title: z.string(),
    description: z.string(),
    categories: z.array(z.string()),
    'query-params': z
      .looseObject({ observable_type: z.string(), observable_value: z.string() })
      .describe('Sent back in the trigger body'),
  })
  .describe('A response action')
export type Action = z.output<typeof ActionSchema>

/** `data` of a trigger answer. */
export const TriggerDataSchema = z
  .looseObject({ status: z.enum(['success', 'failure']) })
  .describe('Outcome')
export type TriggerData = z.output<typeof TriggerDataSchema>

/** `data` of a health answer. */
export const HealthDataSchema = z.looseObject({ status: z.string() }).describe('Health')
export type HealthData = z.output<typeof HealthDataSchema>

function buildAnswerSchema<T extends z.ZodType>(data: T) {
  return z
    .looseObject({ data: data.optional(), errors: z.array(RelayErrorSchema).optional() })
    .refine((answer) => answer.data !== undefined || answer.errors !== undefined, {
      message: 'an answer has "data" or "errors"',
    })
}

/**
 * Built once per data schema: zod compiles an object schema on its first parse, and the hub
 * parses one answer per gateway of every fan-out (rebuilding it cost milliseconds per call).
 */
const answerSchemas = new WeakMap<z.ZodType, ReturnType<typeof buildAnswerSchema>>()

/** The answer envelope: `data`, `errors`, or both. */
export function relayAnswerSchema<T extends z.ZodType>(data: T) {
  let schema = answerSchemas.get(data)
  if (!schema) {
    schema = buildAnswerSchema(data)
    answerSchemas.set(data, schema)
  }
  return schema as ReturnType<typeof buildAnswerSchema<T>>
}

/** What a module handler returns: its data, and errors for a partial answer. */
export interface RelayResult<T> {
  data: T
  errors?: RelayError[]
}

/**
 * Converts zod issues on a request body to the marshmallow error map the relay template puts in
 * its message: `{"0": {"value": ["Field may not be blank."]}}`.
 *
 * @example
 * marshmallowErrors(ObservablesRequestSchema.safeParse([{ type: 'ip', value: '' }]).error!)
 */
export function marshmallowErrors(error: z.ZodError): Record<string, unknown> {
  const tree: Record<string, unknown> = {}
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        addMessage(tree, [...issue.path.map(String), key], 'Unknown field.')
      }
      continue
    }
    const path = issue.path.map(String)
    if (path.length === 0) {
      const list = (tree._schema as string[] | undefined) ?? []
      list.push(issue.message)
      tree._schema = list
      continue
    }
    addMessage(tree, path, issue.message)
  }
  return tree
}

function addMessage(tree: Record<string, unknown>, path: string[], message: string): void {
  let node = tree
  for (const key of path.slice(0, -1)) {
    node[key] = (node[key] as Record<string, unknown> | undefined) ?? {}
    node = node[key] as Record<string, unknown>
  }
  const leaf = path[path.length - 1] as string
  const list = (node[leaf] as string[] | undefined) ?? []
  list.push(message)
  node[leaf] = list
}
