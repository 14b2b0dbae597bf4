import { z } from 'zod'
import { observableKey } from '../normalize.js'
import { ObservableSchema, baseFields, newBaseFields, storedFields } from './common.js'
import { BUNDLE_ENTITY_KEYS, NewBundleSchema, type NewBundle } from './bundle.js'

/** A note in a casebook (`texts[]`): a free-form type (e.g. "note", "summary") and Markdown text. */
export const CasebookTextSchema = z
  .strictObject({
    type: z.string().min(1).max(1024).describe('Kind of text, e.g. "note"'),
    text: z.string().max(65536).describe('The text (Markdown)'),
  })
  .describe('A casebook text')
export type CasebookText = z.output<typeof CasebookTextSchema>

/** Most observables one casebook holds. */
export const CASEBOOK_MAX_OBSERVABLES = 10_000
/** Most notes one casebook holds. */
export const CASEBOOK_MAX_TEXTS = 1000

const casebookFields = {
  type: z.literal('casebook').describe('Always "casebook"'),
  observables: z
    .array(ObservableSchema)
    .max(CASEBOOK_MAX_OBSERVABLES)
    .optional()
    .describe('Observables collected in the case'),
  texts: z.array(CasebookTextSchema).max(CASEBOOK_MAX_TEXTS).optional().describe('Notes'),
  bundle: NewBundleSchema.optional().describe('CTIM entities attached to the case'),
}

/**
 * A casebook as clients create or replace it (CTIA `NewCasebook`: nothing required).
 *
 * @example
 * NewCasebookSchema.parse({ type: 'casebook', title: 'Invoice phish', observables: [{ type: 'domain', value: 'evil.com' }], tlp: 'amber' })
 */
export const NewCasebookSchema = z
  .strictObject({ ...newBaseFields, ...casebookFields, type: casebookFields.type.optional() })
  .describe('A new casebook')
export type NewCasebook = z.output<typeof NewCasebookSchema>

/** A PATCH body: any subset of the casebook fields. */
export const CasebookPatchSchema = NewCasebookSchema.partial().describe('Casebook fields to change')
export type CasebookPatch = z.output<typeof CasebookPatchSchema>

/** A casebook as served. */
export const CasebookSchema = z
  .strictObject({ ...baseFields, ...storedFields, ...casebookFields })
  .describe('A casebook')
export type Casebook = z.output<typeof CasebookSchema>

export const CasebookOperationSchema = z
  .enum(['add', 'remove', 'replace'])
  .describe('add, remove or replace')
export type CasebookOperation = z.output<typeof CasebookOperationSchema>

/** Body of `POST /ctia/casebook/{id}/observables`. */
export const CasebookObservablesOperationSchema = z
  .strictObject({
    operation: CasebookOperationSchema,
    observables: z.array(ObservableSchema).max(CASEBOOK_MAX_OBSERVABLES),
  })
  .describe('Change the observables of a casebook')

/** Body of `POST /ctia/casebook/{id}/texts`. */
export const CasebookTextsOperationSchema = z
  .strictObject({
    operation: CasebookOperationSchema,
    texts: z.array(CasebookTextSchema).max(CASEBOOK_MAX_TEXTS),
  })
  .describe('Change the texts of a casebook')

/** Body of `POST /ctia/casebook/{id}/bundle`. */
export const CasebookBundleOperationSchema = z
  .strictObject({ operation: CasebookOperationSchema, bundle: NewBundleSchema })
  .describe('Change the bundle of a casebook')

function applyList<T>(
  current: T[],
  change: T[],
  operation: CasebookOperation,
  key: (item: T) => string,
): T[] {
  if (operation === 'replace') return [...change]
  const changeKeys = new Set(change.map(key))
  if (operation === 'remove') return current.filter((item) => !changeKeys.has(key(item)))
  const seen = new Set(current.map(key))
  const added = change.filter((item) => {
    const k = key(item)
    if (seen.has(k)) return false
    seen.add(k)
    return true
  })
  return [...current, ...added]
}

function entityKey(entity: unknown): string {
  const record = entity as { id?: unknown }
  return typeof record.id === 'string' ? `id:${record.id}` : `json:${JSON.stringify(entity)}`
}

function applyBundle(
  current: NewBundle,
  change: NewBundle,
  operation: CasebookOperation,
): NewBundle {
  if (operation === 'replace') return change
  const result: Record<string, unknown> = { ...current }
  for (const key of BUNDLE_ENTITY_KEYS) {
    const incoming = change[key] as unknown[] | undefined
    if (incoming === undefined) continue
    const existing = (current[key] as unknown[] | undefined) ?? []
    result[key] = applyList(existing, incoming, operation, entityKey)
  }
  return result as NewBundle
}

/**
 * Applies an `{operation: add|remove|replace}` change to a casebook's observables, texts or
 * bundle, as CTIA's casebook sub-routes do: `add` appends what is not there yet (observables by
 * type and value, texts by type and text, bundle entities by id), `remove` drops matches,
 * `replace` substitutes the whole field. Returns a new casebook; the input is not changed.
 *
 * @example
 * applyCasebookOperation(casebook, { field: 'observables', operation: 'add', items: [{ type: 'ip', value: '203.0.113.5' }] })
 */
export function applyCasebookOperation<
  T extends {
    observables?: z.output<typeof ObservableSchema>[]
    texts?: CasebookText[]
    bundle?: NewBundle
  },
>(
  casebook: T,
  change:
    | {
        field: 'observables'
        operation: CasebookOperation
        items: z.output<typeof ObservableSchema>[]
      }
    | { field: 'texts'; operation: CasebookOperation; items: CasebookText[] }
    | { field: 'bundle'; operation: CasebookOperation; bundle: NewBundle },
): T {
  switch (change.field) {
    case 'observables':
      return {
        ...casebook,
        observables: applyList(
          casebook.observables ?? [],
          change.items,
          change.operation,
          observableKey,
        ),
      }
    case 'texts':
      return {
        ...casebook,
        texts: applyList(
          casebook.texts ?? [],
          change.items,
          change.operation,
          (t) => `${t.type}\u0000${t.text}`,
        ),
      }
    case 'bundle':
      return {
        ...casebook,
        bundle: applyBundle(casebook.bundle ?? {}, change.bundle, change.operation),
      }
  }
}
