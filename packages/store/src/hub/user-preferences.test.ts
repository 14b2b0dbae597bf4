import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Database } from '../database.js'
import { migrateToLatest } from '../migrate.js'
import { BACKENDS, createTestDatabase, type TestDatabase } from '../testing.js'
import type { HubSchema } from './schema.js'
import { UserPreferencesStore } from './user-preferences.js'

describe.each(BACKENDS)('user preferences on %s', (dialect) => {
  let testDb: TestDatabase
  let database: Database<HubSchema>
  let store: UserPreferencesStore

  beforeAll(async () => {
    testDb = await createTestDatabase(dialect)
    database = await Database.open<HubSchema>(testDb.target)
    await migrateToLatest(database, 'hub')
    store = new UserPreferencesStore(database.db)
  })
  afterAll(async () => {
    await database.close()
    await testDb.drop()
  })

  it('keeps one value per org, user and name, the last write winning', async () => {
    expect(await store.get('org-a', 'u1', 'ribbon')).toBeUndefined()
    await store.set('org-a', 'u1', 'ribbon', { expanded: true, app: 'casebook' }, 1)
    await store.set('org-a', 'u1', 'ribbon', { expanded: false, app: 'home', note: '<b>' }, 2)
    await store.set('org-a', 'u2', 'ribbon', { expanded: true, app: 'enrich' }, 3)
    await store.set('org-b', 'u1', 'ribbon', { expanded: true, app: 'incidents' }, 4)
    expect(await store.get('org-a', 'u1', 'ribbon')).toEqual({
      expanded: false,
      app: 'home',
      note: '<b>',
    })
    expect(await store.get('org-a', 'u2', 'ribbon')).toEqual({ expanded: true, app: 'enrich' })
    expect(await store.get('org-b', 'u1', 'ribbon')).toEqual({ expanded: true, app: 'incidents' })
    expect(await store.get('org-a', 'u1', 'other')).toBeUndefined()
  })
})
