import { randomUUID } from 'node:crypto'
import type { z } from 'zod'
import {
  BUNDLE_ENTITY_KEYS,
  NewBundleSchema,
  type Bundle,
  type BundleEntityKey,
  type NewBundle,
} from './entities/bundle.js'
import { CTIM_SCHEMA_VERSION, type Tlp } from './entities/vocabularies.js'
import { ctimErrors } from './errors.js'
import { transientId } from './ids.js'
import { tryNormalizeObservable, uniqueObservables } from './normalize.js'
import type { Observable } from './observable-types.js'

/**
 * CTIM bundle exchange: building the bundles Postern exports (a casebook or an incident with what
 * hangs off it) and reading the bundles it imports (a CTIA export, a casebook's `bundle`, a
 * partner's feed).
 */

/** Entity lists to put into a bundle. */
export type BundleEntities = Partial<Record<BundleEntityKey, unknown[]>>

export interface BuildBundleInput {
  /** Who produced the bundle (CTIM `source`), e.g. "Postern hub (Example Corp)". */
  source: string
  /** Bundle id; a transient id is made when absent. */
  id?: string
  title?: string
  description?: string
  shortDescription?: string
  tlp?: Tlp
  externalIds?: string[]
  entities?: BundleEntities
  now?: Date
}

function clean<T extends Record<string, unknown>>(object: T): T {
  return Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined)) as T
}

/**
 * A CTIM bundle with the given entities; empty lists are left out.
 *
 * @example
 * const bundle = buildCtimBundle({ source: 'Postern hub', title: 'Incident 42', entities: { incidents: [incident], sightings } })
 */
export function buildCtimBundle(input: BuildBundleInput): Bundle {
  const now = (input.now ?? new Date()).toISOString()
  const bundle: Record<string, unknown> = clean({
    id: input.id ?? `transient:bundle-${randomUUID()}`,
    type: 'bundle',
    schema_version: CTIM_SCHEMA_VERSION,
    source: input.source,
    valid_time: { start_time: now },
    timestamp: now,
    title: input.title,
    description: input.description,
    short_description: input.shortDescription,
    tlp: input.tlp,
    external_ids:
      input.externalIds !== undefined && input.externalIds.length > 0
        ? input.externalIds
        : undefined,
  })
  for (const key of BUNDLE_ENTITY_KEYS) {
    const list = input.entities?.[key]
    if (list !== undefined && list.length > 0) bundle[key] = list
  }
  return bundle as Bundle
}

/** The parts of a casebook a bundle export needs. */
export interface CasebookForExport {
  id: string
  title?: string
  description?: string
  short_description?: string
  tlp?: Tlp
  timestamp?: string
  created?: string
  observables?: Observable[]
  texts?: Array<{ type: string; text: string }>
  bundle?: NewBundle
}

/**
 * A casebook as a CTIM bundle: its own `bundle` entities, its notes appended to the description,
 * and its observables as one sighting (source = the exporter) so that any CTIA importer stores
 * them. The casebook id is kept in `external_ids`.
 *
 * @example
 * const bundle = casebookToCtimBundle(casebook, { source: 'Postern hub (Example Corp)' })
 */
export function casebookToCtimBundle(
  casebook: CasebookForExport,
  options: { source: string; now?: Date },
): Bundle {
  const now = options.now ?? new Date()
  const entities: BundleEntities = {}
  for (const key of BUNDLE_ENTITY_KEYS) {
    const list = casebook.bundle?.[key] as unknown[] | undefined
    if (list !== undefined) entities[key] = [...list]
  }
  const observables = casebook.observables ?? []
  if (observables.length > 0) {
    const observedAt = casebook.timestamp ?? casebook.created ?? now.toISOString()
    const sighting = {
      id: transientId('sighting'),
      type: 'sighting',
      schema_version: CTIM_SCHEMA_VERSION,
      source: options.source,
      title: `Observables of casebook "${casebook.title ?? casebook.id}"`.slice(0, 1024),
      count: 1,
      confidence: 'Medium',
      observed_time: { start_time: observedAt },
      observables,
      external_ids: [casebook.id],
      ...(casebook.tlp !== undefined ? { tlp: casebook.tlp } : {}),
    }
    entities.sightings = [...(entities.sightings ?? []), sighting]
  }
  const notes = (casebook.texts ?? []).filter((t) => t.text.trim() !== '')
  const description = [casebook.description ?? '', ...notes.map((t) => `**${t.type}:** ${t.text}`)]
    .filter((part) => part !== '')
    .join('\n\n')
  return buildCtimBundle({
    source: options.source,
    ...(casebook.title !== undefined ? { title: casebook.title } : {}),
    ...(description !== '' ? { description } : {}),
    ...(casebook.short_description !== undefined
      ? { shortDescription: casebook.short_description }
      : {}),
    ...(casebook.tlp !== undefined ? { tlp: casebook.tlp } : {}),
    externalIds: [casebook.id],
    entities,
    now,
  })
}

/**
 * The observables a bundle talks about, normalised and unique: judgement and verdict
 * observables, sighting observables and both ends of their relations. Sighting targets are left
 * out: they are the victim's own assets, not indicators.
 *
 * @example
 * bundleObservables(bundle) // [{ type: 'domain', value: 'evil.com' }, …]
 */
export function bundleObservables(bundle: NewBundle): Observable[] {
  const raw: Array<{ type: string; value: string }> = []
  for (const judgement of bundle.judgements ?? []) raw.push(judgement.observable)
  for (const verdict of bundle.verdicts ?? []) raw.push(verdict.observable)
  for (const sighting of bundle.sightings ?? []) {
    raw.push(...(sighting.observables ?? []))
    for (const relation of sighting.relations ?? []) raw.push(relation.source, relation.related)
  }
  const normalized: Observable[] = []
  for (const item of raw) {
    const result = tryNormalizeObservable(item)
    if (result.ok) normalized.push(result.observable)
  }
  return uniqueObservables(normalized)
}

/** What an imported bundle holds. */
export interface ImportedBundle {
  bundle: NewBundle
  observables: Observable[]
  /** Number of entities per list, for progress and audit lines. */
  counts: Partial<Record<BundleEntityKey, number>>
}

function summarize(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.join('.') || '(bundle)'}: ${issue.message}`)
    .join('; ')
}

/**
 * Validates a CTIM bundle (CTIA `NewBundle`) and lists what it holds. Throws
 * `CTIM_ERR_BUNDLE_INVALID` naming the first problems; use `NewBundleSchema.safeParse` directly
 * for the CTIA error body.
 *
 * @example
 * const { bundle, observables, counts } = importCtimBundle(JSON.parse(text))
 */
export function importCtimBundle(input: unknown): ImportedBundle {
  const parsed = NewBundleSchema.safeParse(input)
  if (!parsed.success) throw ctimErrors.BUNDLE_INVALID({ issues: summarize(parsed.error) })
  const bundle = parsed.data
  const counts: Partial<Record<BundleEntityKey, number>> = {}
  for (const key of BUNDLE_ENTITY_KEYS) {
    const list = bundle[key] as unknown[] | undefined
    if (list !== undefined && list.length > 0) counts[key] = list.length
  }
  return { bundle, observables: bundleObservables(bundle), counts }
}
