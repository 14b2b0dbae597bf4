import { sql, type Expression, type RawBuilder, type SqlBool } from 'kysely'
import type { Dialect } from '../database.js'

/**
 * A structured search over private-intelligence entities. The hub parses the CTIA `query`
 * string (a Lucene subset) into this tree; the store turns it into SQL. Field names are the
 * CTIM ones (`title`, `observables.value`, …) and are resolved through `CTIA_SEARCH_FIELDS`.
 */
export type CtiaFilter =
  | { op: 'all' }
  | { op: 'and' | 'or'; filters: CtiaFilter[] }
  | { op: 'not'; filter: CtiaFilter }
  /** `field:value`; with `wildcard`, `*` and `?` in value match any run / any one character. */
  | { op: 'match'; field: string; value: string; wildcard: boolean }
  /** Unqualified term: matches any of the entity type's free-text fields. */
  | { op: 'text'; value: string; wildcard: boolean }
  /** `field:[a TO b]`; bounds are strings as the user wrote them (numbers or ISO times). */
  | { op: 'range'; field: string; gte?: string; lte?: string; gt?: string; lt?: string }
  /** `field:*` — the field has a value. */
  | { op: 'exists'; field: string }

export type CtiaFieldKind =
  'text' | 'keyword' | 'number' | 'time' | 'observable_type' | 'observable_value' | 'external_id'

export interface CtiaField {
  kind: CtiaFieldKind
  /** Column of `ctia_entities` for the column kinds. */
  column?: string
  sortable?: boolean
}

const COMMON_FIELDS: Record<string, CtiaField> = {
  id: { kind: 'keyword', column: 'id', sortable: true },
  type: { kind: 'keyword', column: 'entity_type' },
  owner: { kind: 'keyword', column: 'owner', sortable: true },
  client_id: { kind: 'keyword', column: 'client_id' },
  title: { kind: 'text', column: 'title', sortable: true },
  short_description: { kind: 'text', column: 'short_description' },
  description: { kind: 'text', column: 'description' },
  source: { kind: 'text', column: 'source', sortable: true },
  tlp: { kind: 'keyword', column: 'tlp', sortable: true },
  timestamp: { kind: 'time', column: 'timestamp', sortable: true },
  created: { kind: 'time', column: 'created', sortable: true },
  modified: { kind: 'time', column: 'modified', sortable: true },
  external_ids: { kind: 'external_id' },
}

/** Searchable (and sortable) fields per entity type. */
export const CTIA_SEARCH_FIELDS: Record<string, Record<string, CtiaField>> = {
  casebook: {
    ...COMMON_FIELDS,
    'observables.type': { kind: 'observable_type' },
    'observables.value': { kind: 'observable_value' },
  },
  incident: {
    ...COMMON_FIELDS,
    status: { kind: 'keyword', column: 'status', sortable: true },
    severity: { kind: 'keyword', column: 'severity', sortable: true },
    confidence: { kind: 'keyword', column: 'confidence', sortable: true },
    'incident_time.opened': { kind: 'time', column: 'valid_from', sortable: true },
    'incident_time.closed': { kind: 'time', column: 'valid_until', sortable: true },
  },
  judgement: {
    ...COMMON_FIELDS,
    disposition: { kind: 'number', column: 'disposition', sortable: true },
    disposition_name: { kind: 'keyword', column: 'status', sortable: true },
    priority: { kind: 'number', column: 'priority', sortable: true },
    severity: { kind: 'keyword', column: 'severity', sortable: true },
    confidence: { kind: 'keyword', column: 'confidence', sortable: true },
    'observable.type': { kind: 'observable_type' },
    'observable.value': { kind: 'observable_value' },
    'valid_time.start_time': { kind: 'time', column: 'valid_from', sortable: true },
    'valid_time.end_time': { kind: 'time', column: 'valid_until', sortable: true },
  },
  relationship: {
    ...COMMON_FIELDS,
    relationship_type: { kind: 'keyword', column: 'relationship_type', sortable: true },
    source_ref: { kind: 'keyword', column: 'source_ref' },
    target_ref: { kind: 'keyword', column: 'target_ref' },
  },
}

/** Fields an unqualified term searches. */
export const CTIA_TEXT_FIELDS = ['title', 'short_description', 'description', 'source'] as const

export class CtiaFilterError extends Error {
  constructor(
    readonly reason: 'unknown_field' | 'bad_value' | 'not_sortable',
    readonly field: string,
    readonly value?: string,
  ) {
    super(`${reason}: ${field}${value === undefined ? '' : ` = ${value}`}`)
    this.name = 'CtiaFilterError'
  }
}

export function resolveField(entityType: string, field: string): CtiaField {
  const resolved = CTIA_SEARCH_FIELDS[entityType]?.[field]
  if (!resolved) throw new CtiaFilterError('unknown_field', field)
  return resolved
}

/** Parses a time as CTIM writes it (ISO 8601) or as epoch milliseconds. */
export function parseTimeValue(value: string): number | undefined {
  if (/^-?\d{1,15}$/.test(value)) return Number(value)
  const ms = Date.parse(value)
  return Number.isNaN(ms) ? undefined : ms
}

function scalarValue(field: string, kind: CtiaFieldKind, value: string): string | number {
  if (kind === 'number') {
    if (!/^-?\d+$/.test(value)) throw new CtiaFilterError('bad_value', field, value)
    return Number(value)
  }
  if (kind === 'time') {
    const ms = parseTimeValue(value)
    if (ms === undefined) throw new CtiaFilterError('bad_value', field, value)
    return ms
  }
  return value
}

/** LIKE pattern from user text: escapes LIKE's own metacharacters, maps `*`/`?` when asked. */
export function likePattern(value: string, wildcard: boolean): string {
  let out = ''
  for (const ch of value) {
    if (ch === '\\' || ch === '%' || ch === '_') out += `\\${ch}`
    else if (wildcard && ch === '*') out += '%'
    else if (wildcard && ch === '?') out += '_'
    else out += ch
  }
  return out
}

function hasWildcard(value: string, wildcard: boolean): boolean {
  return wildcard && /[*?]/.test(value)
}

const col = (column: string) => sql.ref(`ctia_entities.${column}`)

/** Compiles a filter to a boolean SQL expression over `ctia_entities`. */
export function compileCtiaFilter(
  filter: CtiaFilter,
  entityType: string,
  dialect: Dialect,
): Expression<SqlBool> {
  const like = (target: RawBuilder<unknown>, pattern: string) =>
    dialect === 'postgres'
      ? sql<SqlBool>`${target} ilike ${pattern} escape '\\'`
      : sql<SqlBool>`${target} like ${pattern} escape '\\'`

  const compile = (f: CtiaFilter): RawBuilder<SqlBool> => {
    switch (f.op) {
      case 'all':
        return sql<SqlBool>`1 = 1`
      case 'and':
      case 'or': {
        if (f.filters.length === 0) return f.op === 'and' ? sql`1 = 1` : sql`1 = 0`
        const parts = f.filters.map(compile)
        return sql<SqlBool>`(${sql.join(parts, sql.raw(f.op === 'and' ? ' and ' : ' or '))})`
      }
      case 'not':
        return sql<SqlBool>`not (${compile(f.filter)})`
      case 'text': {
        const pattern = `%${likePattern(f.value, f.wildcard)}%`
        const parts = CTIA_TEXT_FIELDS.map((name) => like(col(name), pattern))
        return sql<SqlBool>`(${sql.join(parts, sql.raw(' or '))})`
      }
      case 'exists':
        return compileExists(f.field)
      case 'match':
        return compileMatch(f.field, f.value, f.wildcard)
      case 'range':
        return compileRange(f)
    }
  }

  const compileExists = (field: string): RawBuilder<SqlBool> => {
    const resolved = resolveField(entityType, field)
    if (resolved.column) return sql<SqlBool>`${col(resolved.column)} is not null`
    const table = resolved.kind === 'external_id' ? 'ctia_external_ids' : 'ctia_observables'
    return sql<SqlBool>`exists (select 1 from ${sql.table(table)} x where x.entity_id = ${col('id')})`
  }

  const compileMatch = (field: string, value: string, wildcard: boolean): RawBuilder<SqlBool> => {
    const resolved = resolveField(entityType, field)
    switch (resolved.kind) {
      case 'text':
        return like(col(resolved.column!), `%${likePattern(value, wildcard)}%`)
      case 'keyword':
        return hasWildcard(value, wildcard)
          ? like(col(resolved.column!), likePattern(value, true))
          : sql<SqlBool>`${col(resolved.column!)} = ${value}`
      case 'number':
      case 'time': {
        const v = scalarValue(field, resolved.kind, value)
        return sql<SqlBool>`${col(resolved.column!)} = ${v}`
      }
      case 'observable_type':
      case 'observable_value': {
        const part = resolved.kind === 'observable_type' ? 'type' : 'value'
        const target = sql.ref(`o.${part}`)
        const test = hasWildcard(value, wildcard)
          ? like(target as RawBuilder<unknown>, likePattern(value.toLowerCase(), true))
          : sql<SqlBool>`${target} = ${part === 'value' ? value.toLowerCase() : value}`
        return sql<SqlBool>`exists (select 1 from ctia_observables o where o.entity_id = ${col('id')} and ${test})`
      }
      case 'external_id': {
        const test = hasWildcard(value, wildcard)
          ? like(sql.ref('x.external_id') as RawBuilder<unknown>, likePattern(value, true))
          : sql<SqlBool>`x.external_id = ${value}`
        return sql<SqlBool>`exists (select 1 from ctia_external_ids x where x.entity_id = ${col('id')} and ${test})`
      }
    }
  }

  const compileRange = (f: Extract<CtiaFilter, { op: 'range' }>): RawBuilder<SqlBool> => {
    const resolved = resolveField(entityType, f.field)
    if (!resolved.column) throw new CtiaFilterError('bad_value', f.field, 'range')
    const target = col(resolved.column)
    const bound = (v: string) =>
      resolved.kind === 'number' || resolved.kind === 'time'
        ? scalarValue(f.field, resolved.kind, v)
        : v
    const parts: RawBuilder<SqlBool>[] = []
    if (f.gte !== undefined) parts.push(sql`${target} >= ${bound(f.gte)}`)
    if (f.gt !== undefined) parts.push(sql`${target} > ${bound(f.gt)}`)
    if (f.lte !== undefined) parts.push(sql`${target} <= ${bound(f.lte)}`)
    if (f.lt !== undefined) parts.push(sql`${target} < ${bound(f.lt)}`)
    if (parts.length === 0) return sql<SqlBool>`${target} is not null`
    return sql<SqlBool>`(${sql.join(parts, sql.raw(' and '))})`
  }

  return compile(filter)
}

export interface CtiaSortKey {
  field: string
  order: 'asc' | 'desc'
}

export interface CompiledSortKey {
  field: string
  order: 'asc' | 'desc'
  kind: 'text' | 'number'
  /** The expression to order by; null-free so keyset comparisons behave. */
  expression: RawBuilder<unknown>
  column: string
}

/** Sort keys resolved to columns, always ending with the id as the tie-breaker. */
export function compileCtiaSort(entityType: string, keys: CtiaSortKey[]): CompiledSortKey[] {
  const compiled: CompiledSortKey[] = []
  for (const key of keys) {
    const resolved = resolveField(entityType, key.field)
    if (!resolved.sortable || !resolved.column) throw new CtiaFilterError('not_sortable', key.field)
    const numeric = resolved.kind === 'number' || resolved.kind === 'time'
    compiled.push({
      field: key.field,
      order: key.order,
      kind: numeric ? 'number' : 'text',
      column: resolved.column,
      expression: numeric
        ? sql`coalesce(${col(resolved.column)}, 0)`
        : sql`coalesce(${col(resolved.column)}, '')`,
    })
  }
  if (!compiled.some((k) => k.column === 'id')) {
    const last = compiled.at(-1)
    compiled.push({
      field: 'id',
      order: last?.order ?? 'asc',
      kind: 'text',
      column: 'id',
      expression: sql`${col('id')}`,
    })
  }
  return compiled
}

/**
 * `search_after`: the rows strictly after `values` in the sort order (a lexicographic keyset
 * condition: k1 > v1, or k1 = v1 and k2 > v2, …, with `<` for descending keys).
 */
export function compileSearchAfter(
  keys: CompiledSortKey[],
  values: readonly string[],
): RawBuilder<SqlBool> {
  if (values.length !== keys.length)
    throw new CtiaFilterError('bad_value', 'search_after', values.join(','))
  const typed = keys.map((key, i) => {
    const raw = values[i]!
    if (key.kind === 'text') return raw
    const n = Number(raw)
    if (!Number.isFinite(n)) throw new CtiaFilterError('bad_value', 'search_after', raw)
    return n
  })
  const branches = keys.map((key, i) => {
    const equalities = keys.slice(0, i).map((k, j) => sql<SqlBool>`${k.expression} = ${typed[j]}`)
    const cmp = key.order === 'asc' ? sql.raw('>') : sql.raw('<')
    const strict = sql<SqlBool>`${key.expression} ${cmp} ${typed[i]}`
    return sql<SqlBool>`(${sql.join([...equalities, strict], sql.raw(' and '))})`
  })
  return sql<SqlBool>`(${sql.join(branches, sql.raw(' or '))})`
}
