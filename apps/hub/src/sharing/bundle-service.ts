import type { z } from 'zod'
import type { CtiaEntity, CtiaEntityType } from '@postern/store'
import type { Caller } from '../casebooks/caller.js'
import type { BaseUrl } from '../casebooks/ctia-http.js'
import type { CtiaEntityService, WriteContext } from '../casebooks/ctia-entity-service.js'
import { renderEntity } from '../casebooks/ctia-http.js'
import {
  NewCasebookSchema,
  NewIncidentSchema,
  NewJudgementSchema,
  NewRelationshipSchema,
} from '@postern/ctim'
import { privateIntelErrors } from '../casebooks/private-intel-errors.js'
import type { IncidentService } from '../incidents/incident-service.js'
import type { JudgementService } from '../judgements/judgement-service.js'

/** Bundle keys of the entity types the hub stores, as CTIA names them. */
export const BUNDLE_KEYS: Record<CtiaEntityType, string> = {
  casebook: 'casebooks',
  incident: 'incidents',
  judgement: 'judgements',
  relationship: 'relationships',
}

/** The largest bundle imported in one request. */
export const MAX_IMPORT_ENTITIES = 2000

export interface ImportResult {
  id?: string
  original_id?: string
  result: 'created' | 'exists' | 'error'
  type: string
  external_ids?: string[]
  error?: string
}

const SHORT_ID = /^([a-z-]+)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

function shortOf(ref: string): string {
  return ref.slice(ref.lastIndexOf('/') + 1)
}

const SCHEMAS: Record<CtiaEntityType, z.ZodType> = {
  casebook: NewCasebookSchema,
  incident: NewIncidentSchema,
  judgement: NewJudgementSchema,
  relationship: NewRelationshipSchema,
}

/**
 * CTIM bundles in and out (`/ctia/bundle/export`, `/ctia/bundle/import`, seed §1 "share with
 * other devices"). Export gathers entities by id, with the relationships that touch them and
 * the entities at their other end when asked. Import creates each entity anew in the caller's
 * org (ids are never taken from the bundle), maps relationship refs from the bundle's ids to
 * the new ones, and reports one result per entity as CTIA does. The bundle's id of each entity
 * is kept among its external ids; an entity whose external id already names one of the org's
 * entities is reported as `exists`, so importing twice adds nothing.
 */
export class BundleService {
  constructor(
    private readonly deps: {
      entities: CtiaEntityService
      incidents: IncidentService
      judgements: JudgementService
      baseUrl: BaseUrl
    },
  ) {}

  async export(
    caller: Caller,
    ids: readonly string[],
    options: { includeRelated: boolean },
  ): Promise<Record<string, unknown>> {
    const store = this.deps.entities.store
    const found = new Map<string, CtiaEntity>()
    const fetch = async (shortId: string) => {
      if (found.has(shortId)) return
      const type = SHORT_ID.exec(shortId)?.[1]?.toLowerCase() as CtiaEntityType | undefined
      if (!type || !(type in BUNDLE_KEYS)) return
      const entity = await store.get(caller.orgId, type, shortId)
      if (entity) found.set(shortId, entity)
    }
    for (const id of ids) await fetch(shortOf(id))
    if (options.includeRelated) {
      for (const entity of [...found.values()]) {
        if (entity.entityType === 'relationship') continue
        for (const relationship of await store.relationshipsOf(caller.orgId, entity.id)) {
          found.set(relationship.id, relationship)
          for (const ref of [relationship.doc.source_ref, relationship.doc.target_ref]) {
            if (typeof ref === 'string') await fetch(shortOf(ref))
          }
        }
      }
    }
    const bundle: Record<string, unknown> = {
      type: 'bundle',
      source: 'Postern hub',
      schema_version: '1.3.29',
      valid_time: { start_time: new Date(this.deps.entities.now()).toISOString() },
    }
    for (const entity of found.values()) {
      const key = BUNDLE_KEYS[entity.entityType]
      const list = (bundle[key] as unknown[] | undefined) ?? []
      list.push(renderEntity(entity, this.deps.baseUrl))
      bundle[key] = list
    }
    return bundle
  }

  async import(
    caller: Caller,
    bundle: Record<string, unknown>,
    context: WriteContext = {},
  ): Promise<ImportResult[]> {
    const lists = Object.entries(bundle).filter(([, v]) => Array.isArray(v)) as [
      string,
      unknown[],
    ][]
    const total = lists.reduce((n, [, list]) => n + list.length, 0)
    if (total > MAX_IMPORT_ENTITIES)
      throw privateIntelErrors.BUNDLE_TOO_LARGE({ count: total, max: MAX_IMPORT_ENTITIES })

    const results: ImportResult[] = []
    const newIds = new Map<string, string>()
    const byKey = new Map(Object.entries(BUNDLE_KEYS).map(([type, key]) => [key, type]))
    // Relationships last, so that their refs can point at what this import created.
    const ordered = [...lists].sort(([a], [b]) =>
      a === 'relationships' ? 1 : b === 'relationships' ? -1 : 0,
    )
    for (const [key, list] of ordered) {
      const type = byKey.get(key) as CtiaEntityType | undefined
      for (const raw of list) {
        const doc = (raw ?? {}) as Record<string, unknown>
        const originalId = typeof doc.id === 'string' ? doc.id : undefined
        const entityType = type ?? key.replace(/s$/, '')
        if (!type) {
          results.push({
            ...(originalId ? { original_id: originalId } : {}),
            result: 'error',
            type: entityType,
            error: `This hub does not store ${key}`,
          })
          continue
        }
        results.push(await this.importOne(caller, type, doc, originalId, newIds, context))
      }
    }
    return results
  }

  private async importOne(
    caller: Caller,
    type: CtiaEntityType,
    doc: Record<string, unknown>,
    originalId: string | undefined,
    newIds: Map<string, string>,
    context: WriteContext,
  ): Promise<ImportResult> {
    const base = { ...(originalId ? { original_id: originalId } : {}), type }
    const {
      id: _id,
      owner: _o,
      groups: _g,
      client_id: _c,
      created: _cr,
      modified: _m,
      ...rest
    } = doc
    if (type === 'relationship') {
      for (const field of ['source_ref', 'target_ref'] as const) {
        const ref = rest[field]
        if (typeof ref === 'string' && newIds.has(ref)) rest[field] = newIds.get(ref)
        else if (typeof ref === 'string' && SHORT_ID.test(shortOf(ref))) rest[field] = shortOf(ref)
      }
    }
    const parsed = SCHEMAS[type].safeParse(rest)
    if (!parsed.success) {
      return {
        ...base,
        result: 'error',
        error: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
      }
    }
    const value = parsed.data as Record<string, unknown>
    // The bundle's id is kept as an external id, so that importing the same bundle again finds
    // what the first import created.
    const externalIds = [
      ...new Set([
        ...(Array.isArray(value.external_ids) ? (value.external_ids as string[]) : []),
        ...(originalId ? [originalId] : []),
      ]),
    ]
    if (externalIds.length > 0) value.external_ids = externalIds
    for (const externalId of externalIds) {
      const [existing] = await this.deps.entities.byExternalId(caller, type, externalId, 1)
      if (existing) {
        if (originalId) newIds.set(originalId, existing.id)
        return { ...base, result: 'exists', id: existing.id, external_ids: externalIds }
      }
    }
    const created =
      type === 'incident'
        ? await this.deps.incidents.create(caller, value, context)
        : type === 'judgement'
          ? await this.deps.judgements.create(caller, value, context)
          : await this.deps.entities.create(caller, type, value, context)
    if (originalId) newIds.set(originalId, created.id)
    return {
      ...base,
      result: 'created',
      id: renderEntity(created, this.deps.baseUrl).id as string,
      ...(externalIds.length > 0 ? { external_ids: externalIds } : {}),
    }
  }
}
