import { sql, type Kysely, type Transaction } from 'kysely'
import type { Database, Dialect } from '../database.js'
import type { CtiaEntitiesTable } from './ctia-tables.js'
import type { HubSchema } from './schema.js'
import {
  CtiaFilterError,
  resolveField,
  compileCtiaFilter,
  compileCtiaSort,
  compileSearchAfter,
  parseTimeValue,
  type CtiaFilter,
  type CtiaSortKey,
} from './ctia-filter.js'

/** Entity types this store keeps. */
export type CtiaEntityType = 'casebook' | 'incident' | 'judgement' | 'relationship'

export type CtiaDocument = Record<string, unknown>

/**
 * One stored entity. `doc` is the CTIM document without the store-owned fields (`id`, `owner`,
 * `groups`, `client_id`, `created`, `modified`), which live beside it; the API layer assembles
 * the two, so a client can never overwrite who owns an entity or when it was made.
 */
export interface CtiaEntity {
  id: string
  orgId: string
  entityType: CtiaEntityType
  owner: string
  clientId: string | null
  groups: string[]
  created: number
  modified: number
  doc: CtiaDocument
}

export interface NewCtiaEntity {
  id: string
  orgId: string
  entityType: CtiaEntityType
  owner: string
  clientId?: string | null
  groups: string[]
  /** Creation time (epoch ms); `modified` starts equal to it. */
  at: number
  doc: CtiaDocument
}

export interface CtiaSearch {
  filter?: CtiaFilter
  sort?: CtiaSortKey[]
  limit: number
  offset?: number
  /** Sort values of the last hit of the previous page (see `CtiaSearchResult.lastSort`). */
  searchAfter?: readonly string[]
}

export interface CtiaSearchResult {
  total: number
  hits: CtiaEntity[]
  /** Sort values of the last hit, for `search_after` and the `X-Sort` header. */
  lastSort: string[] | null
}

type Db = Kysely<HubSchema>

/**
 * Storage of private-intelligence entities. Every method takes the organisation first and
 * every statement filters on it: an id from another organisation behaves as if it did not exist.
 */
export class CtiaEntityStore {
  private readonly db: Db
  private readonly dialect: Dialect

  constructor(database: Database<HubSchema> | { db: Db; dialect: Dialect }) {
    this.db = database.db
    this.dialect = database.dialect
  }

  async insert(entity: NewCtiaEntity): Promise<CtiaEntity> {
    const stored: CtiaEntity = {
      id: entity.id,
      orgId: entity.orgId,
      entityType: entity.entityType,
      owner: entity.owner,
      clientId: entity.clientId ?? null,
      groups: entity.groups,
      created: entity.at,
      modified: entity.at,
      doc: entity.doc,
    }
    await this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('ctia_entities')
        .values({
          id: stored.id,
          org_id: stored.orgId,
          entity_type: stored.entityType,
          owner: stored.owner,
          client_id: stored.clientId,
          groups: JSON.stringify(stored.groups),
          created: stored.created,
          modified: stored.modified,
          doc: JSON.stringify(stored.doc),
          ...indexColumns(stored.entityType, stored.doc),
        })
        .execute()
      await writeSideIndexes(trx, stored)
    })
    return stored
  }

  async get(
    orgId: string,
    entityType: CtiaEntityType,
    id: string,
  ): Promise<CtiaEntity | undefined> {
    const row = await this.db
      .selectFrom('ctia_entities')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('entity_type', '=', entityType)
      .where('id', '=', id)
      .executeTakeFirst()
    return row ? fromRow(row) : undefined
  }

  /** Several entities by id, in no particular order; unknown ids are left out. */
  async getMany(orgId: string, entityType: CtiaEntityType, ids: string[]): Promise<CtiaEntity[]> {
    if (ids.length === 0) return []
    const rows = await this.db
      .selectFrom('ctia_entities')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('entity_type', '=', entityType)
      .where('id', 'in', ids)
      .execute()
    return rows.map(fromRow)
  }

  /**
   * Reads, changes and writes back one entity in a transaction (the row is locked on
   * PostgreSQL; SQLite serialises writers). `change` returns the new document, or throws to
   * abandon the update. Returns undefined when the entity does not exist in this org.
   */
  async update(
    orgId: string,
    entityType: CtiaEntityType,
    id: string,
    at: number,
    change: (current: CtiaEntity) => CtiaDocument | Promise<CtiaDocument>,
  ): Promise<CtiaEntity | undefined> {
    return this.db.transaction().execute(async (trx) => {
      let query = trx
        .selectFrom('ctia_entities')
        .selectAll()
        .where('org_id', '=', orgId)
        .where('entity_type', '=', entityType)
        .where('id', '=', id)
      if (this.dialect === 'postgres') query = query.forUpdate()
      const row = await query.executeTakeFirst()
      if (!row) return undefined
      const current = fromRow(row)
      const doc = await change(current)
      const updated: CtiaEntity = { ...current, doc, modified: Math.max(at, current.created) }
      await trx
        .updateTable('ctia_entities')
        .set({
          doc: JSON.stringify(doc),
          modified: updated.modified,
          ...indexColumns(entityType, doc),
        })
        .where('id', '=', id)
        .where('org_id', '=', orgId)
        .execute()
      await trx.deleteFrom('ctia_external_ids').where('entity_id', '=', id).execute()
      await trx.deleteFrom('ctia_observables').where('entity_id', '=', id).execute()
      await writeSideIndexes(trx, updated)
      return updated
    })
  }

  async delete(orgId: string, entityType: CtiaEntityType, id: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('ctia_entities')
      .where('org_id', '=', orgId)
      .where('entity_type', '=', entityType)
      .where('id', '=', id)
      .executeTakeFirst()
    return Number(result.numDeletedRows) > 0
  }

  async findByExternalId(
    orgId: string,
    entityType: CtiaEntityType,
    externalId: string,
    limit = 100,
  ): Promise<CtiaEntity[]> {
    const rows = await this.db
      .selectFrom('ctia_entities')
      .innerJoin('ctia_external_ids', 'ctia_external_ids.entity_id', 'ctia_entities.id')
      .selectAll('ctia_entities')
      .where('ctia_external_ids.org_id', '=', orgId)
      .where('ctia_external_ids.entity_type', '=', entityType)
      .where('ctia_external_ids.external_id', '=', externalId)
      .orderBy('ctia_entities.created', 'asc')
      .orderBy('ctia_entities.id', 'asc')
      .limit(limit)
      .execute()
    return rows.map(fromRow)
  }

  async search(
    orgId: string,
    entityType: CtiaEntityType,
    search: CtiaSearch,
  ): Promise<CtiaSearchResult> {
    const where = compileCtiaFilter(search.filter ?? { op: 'all' }, entityType, this.dialect)
    const keys = compileCtiaSort(entityType, search.sort ?? [{ field: 'created', order: 'desc' }])
    const base = this.db
      .selectFrom('ctia_entities')
      .where('org_id', '=', orgId)
      .where('entity_type', '=', entityType)
      .where(where)
    const countRow = await base
      .select((eb) => eb.fn.countAll<number>().as('total'))
      .executeTakeFirstOrThrow()
    let page = base.selectAll()
    if (search.searchAfter && search.searchAfter.length > 0) {
      page = page.where(compileSearchAfter(keys, search.searchAfter))
    }
    for (const key of keys) page = page.orderBy(key.expression, key.order)
    const rows = await page
      .limit(search.limit)
      .offset(search.searchAfter && search.searchAfter.length > 0 ? 0 : (search.offset ?? 0))
      .execute()
    const hits = rows.map(fromRow)
    const last = rows.at(-1)
    return {
      total: Number(countRow.total),
      hits,
      lastSort: last
        ? keys.map((key) => {
            const value = last[key.column as keyof CtiaEntitiesTable]
            return value === null || value === undefined
              ? key.kind === 'number'
                ? '0'
                : ''
              : String(value)
          })
        : null,
    }
  }

  async count(orgId: string, entityType: CtiaEntityType, filter?: CtiaFilter): Promise<number> {
    const row = await this.db
      .selectFrom('ctia_entities')
      .where('org_id', '=', orgId)
      .where('entity_type', '=', entityType)
      .where(compileCtiaFilter(filter ?? { op: 'all' }, entityType, this.dialect))
      .select((eb) => eb.fn.countAll<number>().as('total'))
      .executeTakeFirstOrThrow()
    return Number(row.total)
  }

  /** `DELETE /ctia/{entity}/search`: removes what the filter matches and returns the ids. */
  async deleteMatching(
    orgId: string,
    entityType: CtiaEntityType,
    filter: CtiaFilter,
  ): Promise<string[]> {
    return this.db.transaction().execute(async (trx) => {
      const rows = await trx
        .selectFrom('ctia_entities')
        .select('id')
        .where('org_id', '=', orgId)
        .where('entity_type', '=', entityType)
        .where(compileCtiaFilter(filter, entityType, this.dialect))
        .execute()
      const ids = rows.map((r) => r.id)
      for (let i = 0; i < ids.length; i += 500) {
        await trx
          .deleteFrom('ctia_entities')
          .where('org_id', '=', orgId)
          .where('id', 'in', ids.slice(i, i + 500))
          .execute()
      }
      return ids
    })
  }

  /**
   * Terms aggregation (`/metric/topn`, `/metric/cardinality`): how many matching entities have
   * each value of a column field or of their observables' type/value, most frequent first.
   */
  async valueCounts(
    orgId: string,
    entityType: CtiaEntityType,
    field: string,
    filter: CtiaFilter,
    limit: number,
  ): Promise<{ values: { key: string; count: number }[]; distinct: number }> {
    const resolved = resolveField(entityType, field)
    const where = compileCtiaFilter(filter, entityType, this.dialect)
    let rows: { key: string | number | null; count: number | string }[]
    if (resolved.kind === 'observable_type' || resolved.kind === 'observable_value') {
      const part = resolved.kind === 'observable_type' ? 'type' : 'value'
      rows = await this.db
        .selectFrom('ctia_observables as o')
        .innerJoin('ctia_entities', 'ctia_entities.id', 'o.entity_id')
        .select((eb) => [
          sql.ref<string>(`o.${part}`).as('key'),
          eb.fn.countAll<number>().as('count'),
        ])
        .where('ctia_entities.org_id', '=', orgId)
        .where('ctia_entities.entity_type', '=', entityType)
        .where(where)
        .groupBy(sql.ref(`o.${part}`))
        .execute()
    } else if (resolved.column) {
      const column = sql.ref<string>(`ctia_entities.${resolved.column}`)
      rows = await this.db
        .selectFrom('ctia_entities')
        .select((eb) => [column.as('key'), eb.fn.countAll<number>().as('count')])
        .where('org_id', '=', orgId)
        .where('entity_type', '=', entityType)
        .where(where)
        .where(column, 'is not', null)
        .groupBy(column)
        .execute()
    } else {
      throw new CtiaFilterError('not_sortable', field)
    }
    const values = rows
      .map((r) => ({ key: String(r.key), count: Number(r.count) }))
      .sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : 1))
    return { values: values.slice(0, limit), distinct: values.length }
  }

  /** Values of a time column of the matching entities (for histograms), at most `max`. */
  async timeValues(
    orgId: string,
    entityType: CtiaEntityType,
    field: string,
    filter: CtiaFilter,
    max: number,
  ): Promise<number[]> {
    const resolved = resolveField(entityType, field)
    if (resolved.kind !== 'time' || !resolved.column)
      throw new CtiaFilterError('not_sortable', field)
    const column = sql.ref<number>(`ctia_entities.${resolved.column}`)
    const rows = await this.db
      .selectFrom('ctia_entities')
      .select(column.as('t'))
      .where('org_id', '=', orgId)
      .where('entity_type', '=', entityType)
      .where(compileCtiaFilter(filter, entityType, this.dialect))
      .where(column, 'is not', null)
      .limit(max)
      .execute()
    return rows.map((r) => Number(r.t))
  }

  /** Entities of a type that carry one of the observables (casebooks, judgements). */
  async withObservables(
    orgId: string,
    entityType: CtiaEntityType,
    observables: readonly { type: string; value: string }[],
  ): Promise<CtiaEntity[]> {
    if (observables.length === 0) return []
    const rows = await this.db
      .selectFrom('ctia_entities')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('entity_type', '=', entityType)
      .where((eb) =>
        eb.exists(
          eb
            .selectFrom('ctia_observables as o')
            .select('o.entity_id')
            .whereRef('o.entity_id', '=', 'ctia_entities.id')
            .where((inner) =>
              inner.or(
                observables.map((ob) =>
                  inner.and([
                    inner('o.type', '=', ob.type),
                    inner('o.value', '=', ob.value.toLowerCase()),
                  ]),
                ),
              ),
            ),
        ),
      )
      .orderBy('created', 'desc')
      .limit(1000)
      .execute()
    return rows.map(fromRow)
  }

  /** Relationships whose source or target is `ref` (a short id). */
  async relationshipsOf(orgId: string, ref: string): Promise<CtiaEntity[]> {
    const rows = await this.db
      .selectFrom('ctia_entities')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('entity_type', '=', 'relationship')
      .where((eb) => eb.or([eb('source_ref', '=', ref), eb('target_ref', '=', ref)]))
      .orderBy('created', 'asc')
      .execute()
    return rows.map(fromRow)
  }

  /** Judgements on the observables whose validity covers `at`, newest first. */
  async activeJudgements(
    orgId: string,
    observables: readonly { type: string; value: string }[],
    at: number,
  ): Promise<CtiaEntity[]> {
    if (observables.length === 0) return []
    const rows = await this.db
      .selectFrom('ctia_entities')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('entity_type', '=', 'judgement')
      .where((eb) =>
        eb.or(
          observables.map((ob) =>
            eb.and([
              eb('observable_type', '=', ob.type),
              eb('observable_value', '=', ob.value.toLowerCase()),
            ]),
          ),
        ),
      )
      .where((eb) => eb.or([eb('valid_from', 'is', null), eb('valid_from', '<=', at)]))
      .where((eb) => eb.or([eb('valid_until', 'is', null), eb('valid_until', '>', at)]))
      .orderBy('created', 'desc')
      .orderBy('id', 'desc')
      .execute()
    return rows.map(fromRow)
  }
}

function fromRow(row: CtiaEntitiesTable): CtiaEntity {
  return {
    id: row.id,
    orgId: row.org_id,
    entityType: row.entity_type as CtiaEntityType,
    owner: row.owner,
    clientId: row.client_id,
    groups: JSON.parse(row.groups) as string[],
    created: Number(row.created),
    modified: Number(row.modified),
    doc: JSON.parse(row.doc) as CtiaDocument,
  }
}

async function writeSideIndexes(trx: Transaction<HubSchema>, entity: CtiaEntity): Promise<void> {
  const externalIds = [...new Set(stringList(entity.doc.external_ids))]
  if (externalIds.length > 0) {
    await trx
      .insertInto('ctia_external_ids')
      .values(
        externalIds.map((externalId) => ({
          entity_id: entity.id,
          org_id: entity.orgId,
          entity_type: entity.entityType,
          external_id: externalId,
        })),
      )
      .execute()
  }
  const seen = new Set<string>()
  const observables = observablesOf(entity.entityType, entity.doc).filter((ob) => {
    const key = `${ob.type}\u0000${ob.value}`
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
  for (let i = 0; i < observables.length; i += 500) {
    await trx
      .insertInto('ctia_observables')
      .values(
        observables.slice(i, i + 500).map((ob) => ({
          entity_id: entity.id,
          org_id: entity.orgId,
          entity_type: entity.entityType,
          type: ob.type,
          value: ob.value,
        })),
      )
      .execute()
  }
}

/** Observables the index keeps for an entity, values lower-cased for case-insensitive lookup. */
function observablesOf(
  entityType: CtiaEntityType,
  doc: CtiaDocument,
): { type: string; value: string }[] {
  const raw =
    entityType === 'casebook' ? doc.observables : entityType === 'judgement' ? [doc.observable] : []
  if (!Array.isArray(raw)) return []
  return raw.flatMap((item) => {
    if (typeof item !== 'object' || item === null) return []
    const { type, value } = item as { type?: unknown; value?: unknown }
    return typeof type === 'string' && typeof value === 'string'
      ? [{ type, value: value.toLowerCase() }]
      : []
  })
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []
}

function text(value: unknown): string | null {
  return typeof value === 'string' ? value : null
}

function time(value: unknown): number | null {
  return typeof value === 'string' ? (parseTimeValue(value) ?? null) : null
}

function int(value: unknown): number | null {
  return typeof value === 'number' && Number.isInteger(value) ? value : null
}

type IndexColumns = Omit<
  CtiaEntitiesTable,
  | 'id'
  | 'org_id'
  | 'entity_type'
  | 'owner'
  | 'client_id'
  | 'groups'
  | 'created'
  | 'modified'
  | 'doc'
>

/**
 * The typed columns copied out of a document for filtering and sorting. Columns are shared
 * between entity types where the meaning lines up: `status` holds an incident's status and a
 * judgement's disposition name; `valid_from`/`valid_until` hold a judgement's valid_time and
 * an incident's opened/closed times.
 */
export function indexColumns(entityType: CtiaEntityType, doc: CtiaDocument): IndexColumns {
  const observable = (doc.observable ?? {}) as { type?: unknown; value?: unknown }
  const validTime = (doc.valid_time ?? {}) as { start_time?: unknown; end_time?: unknown }
  const incidentTime = (doc.incident_time ?? {}) as { opened?: unknown; closed?: unknown }
  return {
    title: text(doc.title),
    short_description: text(doc.short_description),
    description: text(doc.description),
    source: text(doc.source),
    tlp: text(doc.tlp),
    timestamp: time(doc.timestamp),
    status:
      entityType === 'incident'
        ? text(doc.status)
        : entityType === 'judgement'
          ? text(doc.disposition_name)
          : null,
    severity: text(doc.severity),
    confidence: text(doc.confidence),
    priority: int(doc.priority),
    disposition: int(doc.disposition),
    observable_type: entityType === 'judgement' ? text(observable.type) : null,
    observable_value:
      entityType === 'judgement' ? (text(observable.value)?.toLowerCase() ?? null) : null,
    valid_from:
      entityType === 'judgement'
        ? time(validTime.start_time)
        : entityType === 'incident'
          ? time(incidentTime.opened)
          : null,
    valid_until:
      entityType === 'judgement'
        ? time(validTime.end_time)
        : entityType === 'incident'
          ? time(incidentTime.closed)
          : null,
    relationship_type: text(doc.relationship_type),
    source_ref: text(doc.source_ref),
    target_ref: text(doc.target_ref),
  }
}
