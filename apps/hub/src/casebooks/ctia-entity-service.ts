import { systemClock, type Clock } from '@postern/core'
import { CTIM_SCHEMA_VERSION, newShortId } from '@postern/ctim'
import {
  CtiaFilterError,
  type AuditLog,
  type AuditSource,
  type CtiaDocument,
  type CtiaEntity,
  type CtiaEntityStore,
  type CtiaEntityType,
  type CtiaFilter,
  type CtiaSearch,
  type CtiaSearchResult,
} from '@postern/store'
import { auditActorOf, ownerOf, type Caller } from './caller.js'
import { patchDocument, type PatchOperation } from './casebook-operations.js'
import { privateIntelErrors } from './private-intel-errors.js'

/** CTIM schema version the hub writes on entities it stores (reference §3). */
export { CTIM_SCHEMA_VERSION }

/** Fields the server owns: never taken from a client's document. */
const SERVER_FIELDS = ['id', 'owner', 'groups', 'client_id', 'created', 'modified'] as const

export interface CtiaEntityServiceOptions {
  store: CtiaEntityStore
  audit: AuditLog
  clock?: Clock
}

export interface WriteContext {
  /** Where the change came from, for the audit log (default `api`). */
  source?: AuditSource
  remoteIp?: string | null
}

/**
 * Create, read, update, delete and search of private-intelligence entities for one caller's
 * organisation, with every change written to the audit log. Documents reaching this service
 * are already validated against their CTIM schema; the service only strips the fields the
 * server owns and fills `type` and `schema_version`.
 */
export class CtiaEntityService {
  readonly store: CtiaEntityStore
  private readonly audit: AuditLog
  private readonly clock: Clock

  constructor(options: CtiaEntityServiceOptions) {
    this.store = options.store
    this.audit = options.audit
    this.clock = options.clock ?? systemClock
  }

  now(): number {
    return this.clock.now()
  }

  async create(
    caller: Caller,
    entityType: CtiaEntityType,
    doc: CtiaDocument,
    context: WriteContext = {},
  ): Promise<CtiaEntity> {
    const entity = await this.store.insert({
      id: newShortId(entityType),
      orgId: caller.orgId,
      entityType,
      owner: ownerOf(caller),
      clientId: caller.clientId,
      groups: [caller.orgId],
      at: this.clock.now(),
      doc: prepareDocument(entityType, doc),
    })
    await this.record(caller, `${entityType}.create`, entity.id, entityType, context, {
      title: entity.doc.title ?? null,
    })
    return entity
  }

  async get(caller: Caller, entityType: CtiaEntityType, id: string): Promise<CtiaEntity> {
    const entity = await this.store.get(caller.orgId, entityType, id)
    if (!entity) throw privateIntelErrors.ENTITY_NOT_FOUND({ entity: entityType, id })
    return entity
  }

  /** PUT: the new document replaces the stored one entirely. */
  async replace(
    caller: Caller,
    entityType: CtiaEntityType,
    id: string,
    doc: CtiaDocument,
    context: WriteContext = {},
  ): Promise<CtiaEntity> {
    return this.change(caller, entityType, id, 'update', context, () =>
      prepareDocument(entityType, doc),
    )
  }

  /** PATCH (`replace`) and the casebook operations (`add`, `remove`, `replace` on one field). */
  async patch(
    caller: Caller,
    entityType: CtiaEntityType,
    id: string,
    partial: CtiaDocument,
    operation: PatchOperation,
    context: WriteContext & { action?: string } = {},
  ): Promise<CtiaEntity> {
    return this.change(caller, entityType, id, context.action ?? 'patch', context, (current) =>
      prepareDocument(
        entityType,
        patchDocument(current.doc, stripServerFields(partial), operation),
      ),
    )
  }

  /**
   * Any read-modify-write of one entity (incident status, links): `change` gets the stored
   * entity and returns the new document; it runs inside the store's transaction.
   */
  async change(
    caller: Caller,
    entityType: CtiaEntityType,
    id: string,
    action: string,
    context: WriteContext,
    change: (current: CtiaEntity) => CtiaDocument | Promise<CtiaDocument>,
    details: Record<string, unknown> = {},
  ): Promise<CtiaEntity> {
    const updated = await this.store.update(caller.orgId, entityType, id, this.clock.now(), change)
    if (!updated) throw privateIntelErrors.ENTITY_NOT_FOUND({ entity: entityType, id })
    await this.record(caller, `${entityType}.${action}`, id, entityType, context, details)
    return updated
  }

  async delete(
    caller: Caller,
    entityType: CtiaEntityType,
    id: string,
    context: WriteContext = {},
  ): Promise<void> {
    if (!(await this.store.delete(caller.orgId, entityType, id)))
      throw privateIntelErrors.ENTITY_NOT_FOUND({ entity: entityType, id })
    await this.record(caller, `${entityType}.delete`, id, entityType, context)
  }

  async search(
    caller: Caller,
    entityType: CtiaEntityType,
    search: CtiaSearch,
  ): Promise<CtiaSearchResult> {
    return withQueryErrors(() =>
      this.store.search(caller.orgId, entityType, {
        ...search,
        ...(search.filter ? { filter: normaliseIds(search.filter) } : {}),
      }),
    )
  }

  async count(caller: Caller, entityType: CtiaEntityType, filter: CtiaFilter): Promise<number> {
    return withQueryErrors(() => this.store.count(caller.orgId, entityType, normaliseIds(filter)))
  }

  async deleteMatching(
    caller: Caller,
    entityType: CtiaEntityType,
    filter: CtiaFilter,
    context: WriteContext = {},
  ): Promise<number> {
    const ids = await withQueryErrors(() =>
      this.store.deleteMatching(caller.orgId, entityType, normaliseIds(filter)),
    )
    for (const id of ids) await this.record(caller, `${entityType}.delete`, id, entityType, context)
    return ids.length
  }

  /** `/metric/topn` and `/metric/cardinality`. */
  async valueCounts(
    caller: Caller,
    entityType: CtiaEntityType,
    field: string,
    filter: CtiaFilter,
    limit: number,
  ): Promise<{ values: { key: string; count: number }[]; distinct: number }> {
    return withQueryErrors(() =>
      this.store.valueCounts(caller.orgId, entityType, field, normaliseIds(filter), limit),
    )
  }

  /** `/metric/histogram`: the time values to bucket (bounded). */
  async timeValues(
    caller: Caller,
    entityType: CtiaEntityType,
    field: string,
    filter: CtiaFilter,
  ): Promise<number[]> {
    return withQueryErrors(() =>
      this.store.timeValues(caller.orgId, entityType, field, normaliseIds(filter), 100_000),
    )
  }

  async byExternalId(
    caller: Caller,
    entityType: CtiaEntityType,
    externalId: string,
    limit?: number,
  ): Promise<CtiaEntity[]> {
    return this.store.findByExternalId(caller.orgId, entityType, externalId, limit)
  }

  private async record(
    caller: Caller,
    action: string,
    id: string,
    entityType: string,
    context: WriteContext,
    details: Record<string, unknown> = {},
  ): Promise<void> {
    await this.audit.record({
      orgId: caller.orgId,
      actor: auditActorOf(caller),
      source: context.source ?? 'api',
      remoteIp: context.remoteIp ?? null,
      action,
      target: { type: entityType, id },
      outcome: 'success',
      details,
    })
  }
}

function stripServerFields(doc: CtiaDocument): CtiaDocument {
  const copy: CtiaDocument = { ...doc }
  for (const field of SERVER_FIELDS) delete copy[field]
  return copy
}

/** What is stored: the client's document without server fields, typed and versioned. */
export function prepareDocument(entityType: CtiaEntityType, doc: CtiaDocument): CtiaDocument {
  return {
    ...stripServerFields(doc),
    type: entityType,
    schema_version: CTIM_SCHEMA_VERSION,
  }
}

/**
 * Clients search ids by the full URL (`id:"https://…/ctia/casebook/casebook-…"`) or with a
 * leading wildcard on the short id (`id:*casebook-…`, as the official client's tests do); the
 * store keeps short ids, so URL values are cut to their last path segment.
 */
export function normaliseIds(filter: CtiaFilter): CtiaFilter {
  switch (filter.op) {
    case 'and':
    case 'or':
      return { ...filter, filters: filter.filters.map(normaliseIds) }
    case 'not':
      return { ...filter, filter: normaliseIds(filter.filter) }
    case 'match':
      return filter.field === 'id' && /^https?:\/\//i.test(filter.value)
        ? { ...filter, value: filter.value.slice(filter.value.lastIndexOf('/') + 1) }
        : filter
    default:
      return filter
  }
}

async function withQueryErrors<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run()
  } catch (err) {
    if (err instanceof CtiaFilterError) {
      const reason =
        err.reason === 'unknown_field'
          ? `unknown field "${err.field}"`
          : err.reason === 'not_sortable'
            ? `cannot sort by "${err.field}"`
            : `invalid value for ${err.field}: "${err.value ?? ''}"`
      throw privateIntelErrors.INVALID_QUERY({ reason }, { cause: err })
    }
    throw err
  }
}
