import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CtiaEntityStore, Database, migrateToLatest, type HubSchema } from '@postern/store'
import { BACKENDS, createTestDatabase, type TestDatabase } from '@postern/store/testing'
import { pagingHeaders, parseSortBy, searchQuerySchema, toCtiaSearch } from './search-request.js'

describe('parseSortBy', () => {
  it.each([
    [undefined, undefined, [{ field: 'created', order: 'asc' }]],
    ['title', 'desc', [{ field: 'title', order: 'desc' }]],
    [
      'title:desc, created',
      'asc',
      [
        { field: 'title', order: 'desc' },
        { field: 'created', order: 'asc' },
      ],
    ],
    ['valid_time.start_time:asc', undefined, [{ field: 'valid_time.start_time', order: 'asc' }]],
  ] as const)('%j %j', (sortBy, order, expected) => {
    expect(parseSortBy(sortBy, order)).toEqual(expected)
  })
})

describe('searchQuerySchema', () => {
  it('coerces query-string values and ignores unknown parameters', () => {
    expect(
      searchQuerySchema.parse({ limit: '5', offset: '10', search_after: 'x', fields: 'title' }),
    ).toEqual({ limit: 5, offset: 10, search_after: 'x' })
  })
  it.each([{ limit: '-1' }, { limit: '10001' }, { sort_order: 'up' }, { limit: 'ten' }])(
    'rejects %j',
    (query) => {
      expect(searchQuerySchema.safeParse(query).success).toBe(false)
    },
  )
})

describe('pagingHeaders', () => {
  const hit = { id: 'x' } as never
  it('announces the next page with search_after and the previous one', () => {
    const search = toCtiaSearch({ limit: 2, offset: 2 })
    expect(
      pagingHeaders(search, { total: 7, hits: [hit, hit], lastSort: ['100', 'casebook-b'] }),
    ).toEqual({
      'X-Total-Hits': '7',
      'X-Previous': 'limit=2&offset=0',
      'X-Next': 'limit=2&offset=4&search_after=100&search_after=casebook-b',
      'X-Sort': '["100","casebook-b"]',
    })
  })
  it('has no next page on the last page and no previous on the first', () => {
    const search = toCtiaSearch({ limit: 5 })
    expect(pagingHeaders(search, { total: 2, hits: [hit, hit], lastSort: ['1', 'a'] })).toEqual({
      'X-Total-Hits': '2',
      'X-Sort': '["1","a"]',
    })
    expect(pagingHeaders(search, { total: 0, hits: [], lastSort: null })).toEqual({
      'X-Total-Hits': '0',
    })
  })
})

describe.each(BACKENDS)('a CTIA search request against the store on %s', (dialect) => {
  let testDb: TestDatabase
  let database: Database<HubSchema>
  let store: CtiaEntityStore

  beforeAll(async () => {
    testDb = await createTestDatabase(dialect)
    database = await Database.open<HubSchema>(testDb.target)
    await migrateToLatest(database, 'hub')
    store = new CtiaEntityStore(database)
    const base = Date.UTC(2026, 0, 1)
    for (let i = 0; i < 25; i++) {
      await store.insert({
        id: `casebook-${String(i).padStart(2, '0')}`,
        orgId: 'org-a',
        entityType: 'casebook',
        owner: 'u1',
        groups: ['org-a'],
        at: base + i * 1000,
        doc: {
          title: i % 2 === 0 ? `Phishing ${i}` : `Malware ${i}`,
          tlp: i % 5 === 0 ? 'red' : 'amber',
          observables: [{ type: 'domain', value: `host${i % 3}.example` }],
        },
      })
    }
  })
  afterAll(async () => {
    await database.close()
    await testDb.drop()
  })

  it('walks every page by following X-Next, without duplicates or gaps', async () => {
    const query = {
      query: 'title:phishing AND NOT tlp:red',
      sort_by: 'created',
      sort_order: 'desc' as const,
      limit: 4,
    }
    const seen: string[] = []
    let search = toCtiaSearch(query)
    for (let page = 0; page < 10; page++) {
      const result = await store.search('org-a', 'casebook', search)
      seen.push(...result.hits.map((h) => h.id))
      const next = pagingHeaders(search, result)['X-Next']
      if (!next) break
      const params = new URLSearchParams(next)
      search = toCtiaSearch(
        searchQuerySchema.parse({
          ...query,
          limit: params.get('limit'),
          search_after: params.getAll('search_after'),
        }),
      )
    }
    // Even i in 0..24 that are not multiples of 5 (which are red): 2,4,6,8,12,14,16,18,22,24.
    const expected = [24, 22, 18, 16, 14, 12, 8, 6, 4, 2].map(
      (i) => `casebook-${String(i).padStart(2, '0')}`,
    )
    expect(seen).toEqual(expected)
  })

  it('combines the query with from/to on created', async () => {
    const result = await store.search(
      'org-a',
      'casebook',
      toCtiaSearch({
        query: 'observables.value:host1.example',
        from: '2026-01-01T00:00:05Z',
        to: '2026-01-01T00:00:14Z',
      }),
    )
    expect(result.hits.map((h) => h.id)).toEqual(['casebook-07', 'casebook-10', 'casebook-13'])
  })
})
