import { z } from 'zod'
import type { CtiaFilter, CtiaSearch, CtiaSearchResult, CtiaSortKey } from '@postern/store'
import { parseCtiaQuery } from './query-parser.js'

/** CTIA's page size when none is asked for, and the largest it accepts. */
export const DEFAULT_LIMIT = 100
export const MAX_LIMIT = 10_000

/**
 * Query string of `GET /ctia/{entity}/search` (and `/search/count`, `DELETE /search`), as CTIA
 * takes it. `search_after` repeats, one value per sort key (CTIA sends back what `X-Sort` held).
 */
export const searchQuerySchema = z
  .object({
    query: z.string().max(4096).optional().describe('Lucene query string (CTIA subset)'),
    limit: z.coerce
      .number()
      .int()
      .min(0)
      .max(MAX_LIMIT)
      .optional()
      .describe(`Page size (default ${DEFAULT_LIMIT})`),
    offset: z.coerce.number().int().min(0).max(1_000_000).optional().describe('Hits to skip'),
    search_after: z
      .union([z.string().max(1024), z.array(z.string().max(1024)).max(8)])
      .optional()
      .describe('Sort values of the last hit of the previous page (from X-Sort)'),
    sort_by: z
      .string()
      .max(256)
      .optional()
      .describe('Field, or comma-separated fields with optional ":asc"/":desc"'),
    sort_order: z.enum(['asc', 'desc']).optional().describe('Order of fields without their own'),
    from: z.string().max(64).optional().describe('Only entities created at or after (ISO 8601)'),
    to: z.string().max(64).optional().describe('Only entities created before (ISO 8601)'),
    wait_for: z.enum(['true', 'false']).optional().describe('Accepted for compatibility'),
  })
  // Unknown parameters are ignored, as CTIA does, so that newer clients keep working.
  .strip()

export type SearchQuery = z.infer<typeof searchQuerySchema>

export function parseSortBy(
  sortBy: string | undefined,
  sortOrder: 'asc' | 'desc' | undefined,
): CtiaSortKey[] {
  const order = sortOrder ?? 'asc'
  if (!sortBy) return [{ field: 'created', order }]
  return sortBy
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0)
    .map((part) => {
      const match = /^(.+?)(?::(asc|desc))?$/.exec(part)!
      return { field: match[1]!, order: (match[2] as 'asc' | 'desc' | undefined) ?? order }
    })
}

/** The filter a search request selects: its query, narrowed by `from`/`to` on `created`. */
export function searchFilter(query: SearchQuery): CtiaFilter {
  const parts: CtiaFilter[] = []
  if (query.query !== undefined && query.query.trim().length > 0)
    parts.push(parseCtiaQuery(query.query))
  if (query.from !== undefined || query.to !== undefined) {
    const range: CtiaFilter = { op: 'range', field: 'created' }
    if (query.from !== undefined) range.gte = query.from
    if (query.to !== undefined) range.lt = query.to
    parts.push(range)
  }
  if (parts.length === 0) return { op: 'all' }
  return parts.length === 1 ? parts[0]! : { op: 'and', filters: parts }
}

export function toCtiaSearch(query: SearchQuery): CtiaSearch {
  const searchAfter =
    query.search_after === undefined
      ? undefined
      : Array.isArray(query.search_after)
        ? query.search_after
        : [query.search_after]
  return {
    filter: searchFilter(query),
    sort: parseSortBy(query.sort_by, query.sort_order),
    limit: query.limit ?? DEFAULT_LIMIT,
    offset: query.offset ?? 0,
    ...(searchAfter ? { searchAfter } : {}),
  }
}

/**
 * CTIA's paging headers: `X-Total-Hits`; `X-Previous` and `X-Next` as query strings to append
 * to the same search (only when there is such a page); `X-Sort` with the last hit's sort
 * values, which a client passes back as `search_after`.
 */
export function pagingHeaders(
  search: CtiaSearch,
  result: CtiaSearchResult,
): Record<string, string> {
  const headers: Record<string, string> = { 'X-Total-Hits': String(result.total) }
  const offset = search.searchAfter ? 0 : (search.offset ?? 0)
  if (offset > 0 && !search.searchAfter) {
    headers['X-Previous'] = new URLSearchParams({
      limit: String(search.limit),
      offset: String(Math.max(0, offset - search.limit)),
    }).toString()
  }
  const seen = offset + result.hits.length
  if (
    result.lastSort &&
    result.hits.length === search.limit &&
    (search.searchAfter || seen < result.total)
  ) {
    const next = new URLSearchParams({
      limit: String(search.limit),
      offset: String(offset + search.limit),
    })
    for (const value of result.lastSort) next.append('search_after', value)
    headers['X-Next'] = next.toString()
  }
  if (result.lastSort) headers['X-Sort'] = JSON.stringify(result.lastSort)
  return headers
}
