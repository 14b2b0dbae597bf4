import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { Database } from '../database.js'
import { migrateToLatest } from '../migrate.js'
import { BACKENDS, createTestDatabase, type TestDatabase } from '../testing.js'
import type { HubSchema } from './schema.js'
import { CtiaEntityStore, type CtiaEntityType, type NewCtiaEntity } from './ctia-entities.js'
import type { CtiaFilter } from './ctia-filter.js'

const T0 = Date.UTC(2026, 0, 1)

function entity(
  id: string,
  doc: Record<string, unknown>,
  overrides: Partial<NewCtiaEntity> = {},
): NewCtiaEntity {
  return {
    id,
    orgId: 'org-a',
    entityType: 'casebook',
    owner: 'user-1',
    clientId: 'client-1',
    groups: ['org-a'],
    at: T0,
    doc,
    ...overrides,
  }
}

describe.each(BACKENDS)('CtiaEntityStore on %s', (dialect) => {
  let testDb: TestDatabase
  let database: Database<HubSchema>
  let store: CtiaEntityStore

  beforeAll(async () => {
    testDb = await createTestDatabase(dialect)
    database = await Database.open<HubSchema>(testDb.target)
    await migrateToLatest(database, 'hub')
    store = new CtiaEntityStore(database)
  })
  afterAll(async () => {
    await database.close()
    await testDb.drop()
  })
  beforeEach(async () => {
    await database.db.deleteFrom('ctia_entities').execute()
  })

  it('stores, reads, updates and deletes within one org only', async () => {
    const created = await store.insert(
      entity('casebook-1', {
        title: 'Phishing wave',
        observables: [{ type: 'domain', value: 'Evil.Example' }],
        external_ids: ['3', '3', 'x'],
      }),
    )
    expect(created).toMatchObject({ id: 'casebook-1', created: T0, modified: T0 })
    expect(await store.get('org-a', 'casebook', 'casebook-1')).toEqual(created)
    expect(await store.get('org-b', 'casebook', 'casebook-1')).toBeUndefined()
    expect(await store.get('org-a', 'incident', 'casebook-1')).toBeUndefined()

    expect(await store.update('org-b', 'casebook', 'casebook-1', T0 + 5, (c) => c.doc)).toBe(
      undefined,
    )
    const updated = await store.update('org-a', 'casebook', 'casebook-1', T0 + 5, (c) => ({
      ...c.doc,
      title: 'Renamed',
      external_ids: ['4'],
    }))
    expect(updated).toMatchObject({ modified: T0 + 5, doc: { title: 'Renamed' } })
    expect(await store.findByExternalId('org-a', 'casebook', '3')).toEqual([])
    expect((await store.findByExternalId('org-a', 'casebook', '4')).map((e) => e.id)).toEqual([
      'casebook-1',
    ])
    expect(await store.findByExternalId('org-b', 'casebook', '4')).toEqual([])

    expect(await store.delete('org-b', 'casebook', 'casebook-1')).toBe(false)
    expect(await store.delete('org-a', 'casebook', 'casebook-1')).toBe(true)
    expect(await store.get('org-a', 'casebook', 'casebook-1')).toBeUndefined()
    expect(await store.findByExternalId('org-a', 'casebook', '4')).toEqual([])
  })

  it('abandons an update when the change throws', async () => {
    await store.insert(entity('casebook-2', { title: 'Keep' }))
    await expect(
      store.update('org-a', 'casebook', 'casebook-2', T0 + 1, () => {
        throw new Error('refused')
      }),
    ).rejects.toThrow('refused')
    expect((await store.get('org-a', 'casebook', 'casebook-2'))?.doc.title).toBe('Keep')
  })

  describe('search', () => {
    beforeEach(async () => {
      const docs: [string, Record<string, unknown>, Partial<NewCtiaEntity>][] = [
        [
          'casebook-a',
          {
            title: 'Invoice phishing',
            description: 'Fake invoices from evil.example',
            tlp: 'amber',
            timestamp: '2026-01-01T10:00:00.000Z',
            observables: [
              { type: 'domain', value: 'evil.example' },
              { type: 'email', value: 'Boss@Evil.Example' },
            ],
            external_ids: ['ext-1'],
          },
          { at: T0 + 1 },
        ],
        [
          'casebook-b',
          {
            title: 'Malware 100% real_thing',
            tlp: 'red',
            timestamp: '2026-02-01T10:00:00.000Z',
            observables: [{ type: 'sha256', value: 'ab'.repeat(32) }],
          },
          { at: T0 + 2 },
        ],
        ['casebook-c', { title: 'Quiet case', tlp: 'green' }, { at: T0 + 3 }],
        ['casebook-other', { title: 'Invoice phishing' }, { at: T0 + 4, orgId: 'org-b' }],
      ]
      for (const [id, doc, overrides] of docs) await store.insert(entity(id, doc, overrides))
    })

    const ids = async (filter: CtiaFilter, type: CtiaEntityType = 'casebook') =>
      (
        await store.search('org-a', type, {
          filter,
          limit: 50,
          sort: [{ field: 'id', order: 'asc' }],
        })
      ).hits.map((h) => h.id)

    it.each<[string, CtiaFilter, string[]]>([
      ['everything in the org', { op: 'all' }, ['casebook-a', 'casebook-b', 'casebook-c']],
      ['free text, any case', { op: 'text', value: 'INVOICE', wildcard: false }, ['casebook-a']],
      [
        'text field wildcard',
        { op: 'match', field: 'title', value: 'ph*ing', wildcard: true },
        ['casebook-a'],
      ],
      [
        'LIKE metacharacters are literal',
        { op: 'match', field: 'title', value: '100%', wildcard: false },
        ['casebook-b'],
      ],
      [
        'percent inside a term is literal',
        { op: 'match', field: 'title', value: 'l%t', wildcard: false },
        [],
      ],
      ['underscore is literal', { op: 'match', field: 'title', value: 'a_e', wildcard: false }, []],
      [
        'keyword exact',
        { op: 'match', field: 'tlp', value: 'red', wildcard: false },
        ['casebook-b'],
      ],
      [
        'keyword wildcard',
        { op: 'match', field: 'tlp', value: 'a*', wildcard: true },
        ['casebook-a'],
      ],
      [
        'observable value, any case',
        { op: 'match', field: 'observables.value', value: 'boss@evil.example', wildcard: false },
        ['casebook-a'],
      ],
      [
        'observable type',
        { op: 'match', field: 'observables.type', value: 'sha256', wildcard: false },
        ['casebook-b'],
      ],
      [
        'external id',
        { op: 'match', field: 'external_ids', value: 'ext-1', wildcard: false },
        ['casebook-a'],
      ],
      ['exists', { op: 'exists', field: 'timestamp' }, ['casebook-a', 'casebook-b']],
      [
        'exists on observables',
        { op: 'exists', field: 'observables.value' },
        ['casebook-a', 'casebook-b'],
      ],
      [
        'time range',
        { op: 'range', field: 'timestamp', gte: '2026-01-15T00:00:00Z' },
        ['casebook-b'],
      ],
      [
        'not',
        { op: 'not', filter: { op: 'match', field: 'tlp', value: 'red', wildcard: false } },
        ['casebook-a', 'casebook-c'],
      ],
      [
        'or of ands',
        {
          op: 'or',
          filters: [
            { op: 'match', field: 'tlp', value: 'green', wildcard: false },
            {
              op: 'and',
              filters: [
                { op: 'match', field: 'tlp', value: 'amber', wildcard: false },
                { op: 'text', value: 'invoice', wildcard: false },
              ],
            },
          ],
        },
        ['casebook-a', 'casebook-c'],
      ],
    ])('%s', async (_name, filter, expected) => {
      expect(await ids(filter)).toEqual(expected)
    })

    it('rejects unknown fields and values of the wrong kind', async () => {
      await expect(
        ids({ op: 'match', field: 'nope', value: 'x', wildcard: false }),
      ).rejects.toMatchObject({
        name: 'CtiaFilterError',
        reason: 'unknown_field',
      })
      await expect(
        ids({ op: 'range', field: 'timestamp', gte: 'yesterday-ish' }),
      ).rejects.toMatchObject({
        reason: 'bad_value',
      })
    })

    it('pages with offset and with search_after, counting the whole match', async () => {
      const first = await store.search('org-a', 'casebook', {
        limit: 2,
        sort: [{ field: 'created', order: 'desc' }],
      })
      expect(first.total).toBe(3)
      expect(first.hits.map((h) => h.id)).toEqual(['casebook-c', 'casebook-b'])
      expect(first.lastSort).toEqual([String(T0 + 2), 'casebook-b'])
      const after = await store.search('org-a', 'casebook', {
        limit: 2,
        sort: [{ field: 'created', order: 'desc' }],
        searchAfter: first.lastSort!,
      })
      expect(after.total).toBe(3)
      expect(after.hits.map((h) => h.id)).toEqual(['casebook-a'])
      const offset = await store.search('org-a', 'casebook', {
        limit: 2,
        offset: 2,
        sort: [{ field: 'created', order: 'desc' }],
      })
      expect(offset.hits.map((h) => h.id)).toEqual(['casebook-a'])
      const byTitle = await store.search('org-a', 'casebook', {
        limit: 5,
        sort: [{ field: 'title', order: 'asc' }],
      })
      expect(byTitle.hits.map((h) => h.doc.title)).toEqual([
        'Invoice phishing',
        'Malware 100% real_thing',
        'Quiet case',
      ])
      expect(
        await store.count('org-a', 'casebook', {
          op: 'match',
          field: 'tlp',
          value: 'red',
          wildcard: false,
        }),
      ).toBe(1)
    })

    it('finds casebooks by observable and deletes by filter within the org', async () => {
      const found = await store.withObservables('org-a', 'casebook', [
        { type: 'domain', value: 'EVIL.example' },
      ])
      expect(found.map((e) => e.id)).toEqual(['casebook-a'])
      const deleted = await store.deleteMatching('org-a', 'casebook', {
        op: 'text',
        value: 'invoice',
        wildcard: false,
      })
      expect(deleted).toEqual(['casebook-a'])
      expect(await store.get('org-b', 'casebook', 'casebook-other')).toBeDefined()
    })
  })

  it('answers active judgements for observables by validity window', async () => {
    const judgement = (id: string, value: string, start: string, end?: string) =>
      entity(
        id,
        {
          observable: { type: 'domain', value },
          disposition: 2,
          disposition_name: 'Malicious',
          priority: 95,
          valid_time: { start_time: start, ...(end ? { end_time: end } : {}) },
        },
        { entityType: 'judgement' as const },
      )
    await store.insert(
      judgement('judgement-1', 'Evil.Example', '2025-12-01T00:00:00Z', '2026-02-01T00:00:00Z'),
    )
    await store.insert(judgement('judgement-2', 'evil.example', '2026-03-01T00:00:00Z'))
    await store.insert(judgement('judgement-3', 'other.example', '2025-01-01T00:00:00Z'))
    const at = (iso: string) => Date.parse(iso)
    const active = async (iso: string) =>
      (
        await store.activeJudgements('org-a', [{ type: 'domain', value: 'evil.EXAMPLE' }], at(iso))
      ).map((j) => j.id)
    expect(await active('2026-01-10T00:00:00Z')).toEqual(['judgement-1'])
    expect(await active('2026-02-10T00:00:00Z')).toEqual([])
    expect(await active('2026-04-10T00:00:00Z')).toEqual(['judgement-2'])
    expect(
      await store.activeJudgements(
        'org-b',
        [{ type: 'domain', value: 'evil.example' }],
        at('2026-01-10T00:00:00Z'),
      ),
    ).toEqual([])
  })

  it('lists the relationships of an entity', async () => {
    await store.insert(
      entity(
        'relationship-1',
        { relationship_type: 'related-to', source_ref: 'incident-1', target_ref: 'casebook-9' },
        { entityType: 'relationship' },
      ),
    )
    expect((await store.relationshipsOf('org-a', 'casebook-9')).map((r) => r.id)).toEqual([
      'relationship-1',
    ])
    expect(await store.relationshipsOf('org-b', 'casebook-9')).toEqual([])
  })
})
