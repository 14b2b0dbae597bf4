import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Database } from '../database.js'
import { migrateToLatest } from '../migrate.js'
import { BACKENDS, createTestDatabase, type TestDatabase } from '../testing.js'
import { BlockPushPoliciesRepo } from './block-push-policies.js'
import { OrgsRepo } from './orgs-repo.js'
import type { HubSchema } from './schema.js'

describe.each(BACKENDS)('block push policies on %s', (dialect) => {
  let testDb: TestDatabase
  let database: Database<HubSchema>
  let policies: BlockPushPoliciesRepo

  beforeAll(async () => {
    testDb = await createTestDatabase(dialect)
    database = await Database.open<HubSchema>(testDb.target)
    await migrateToLatest(database, 'hub')
    const orgs = new OrgsRepo(database.db)
    await orgs.insert({ id: 'o1', name: 'Acme', now: 1 })
    await orgs.insert({ id: 'o2', name: 'Other', now: 1 })
    policies = new BlockPushPoliciesRepo(database.db)
  })
  afterAll(async () => {
    await database.close()
    await testDb.drop()
  })

  it('stores one policy per organisation, replaced on each change', async () => {
    expect(await policies.get('o1')).toBeUndefined()
    await policies.set('o1', { approvalRequired: true, updatedAt: 10, updatedBy: 'alice' })
    expect(await policies.get('o1')).toEqual({
      approvalRequired: true,
      updatedAt: 10,
      updatedBy: 'alice',
    })
    expect(await policies.get('o2')).toBeUndefined()
    await policies.set('o1', { approvalRequired: false, updatedAt: 20, updatedBy: 'bob' })
    expect(await policies.get('o1')).toEqual({
      approvalRequired: false,
      updatedAt: 20,
      updatedBy: 'bob',
    })
  })

  it('refuses a policy for an organisation that does not exist', async () => {
    await expect(
      policies.set('nobody', { approvalRequired: true, updatedAt: 1, updatedBy: 'x' }),
    ).rejects.toThrow()
  })
})
