import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Database } from '../database.js'
import { migrateToLatest } from '../migrate.js'
import { BACKENDS, createTestDatabase, type TestDatabase } from '../testing.js'
import { ApiClientsRepo } from './api-clients-repo.js'
import { DevicesRepo } from './devices-repo.js'
import { ModulesRepo } from './modules-repo.js'
import { OrgVersionsRepo } from './org-versions.js'
import { OrgsRepo } from './orgs-repo.js'
import { RegistrationTokensRepo } from './registration-tokens-repo.js'
import type { HubSchema } from './schema.js'

const by = { type: 'user', id: 'u1' }

describe.each(BACKENDS)("an organisation's change counter on %s", (dialect) => {
  let testDb: TestDatabase
  let database: Database<HubSchema>
  let versions: OrgVersionsRepo
  let orgs: OrgsRepo
  let clients: ApiClientsRepo
  let devices: DevicesRepo
  let modules: ModulesRepo

  beforeAll(async () => {
    testDb = await createTestDatabase(dialect)
    database = await Database.open<HubSchema>(testDb.target)
    await migrateToLatest(database, 'hub')
    versions = new OrgVersionsRepo(database.db)
    orgs = new OrgsRepo(database.db)
    clients = new ApiClientsRepo(database.db)
    devices = new DevicesRepo(database.db)
    modules = new ModulesRepo(database.db)
    await orgs.insert({ id: 'o1', name: 'Acme', now: 1 })
    await orgs.insert({ id: 'o2', name: 'Other', now: 1 })
    await new RegistrationTokensRepo(database.db).insert({
      id: 't1',
      orgId: 'o1',
      tokenDigest: 'digest-t1',
      label: 'gw',
      createdBy: by,
      now: 1,
      expiresAt: 10_000,
    })
  })
  afterAll(async () => {
    await database.close()
    await testDb.drop()
  })

  const instance = {
    id: 'mi1',
    orgId: 'o1',
    moduleTypeId: 'relay',
    name: 'Intel',
    enabled: true,
    visibility: 'org',
    settingsSealed: 'sealed',
    createdBy: by,
    createdAt: 1,
    updatedAt: 1,
  }
  const type = {
    id: 'mt1',
    orgId: 'o1',
    name: 'Intel type',
    title: 'Intel type',
    description: '',
    properties: {},
    configurationSpec: [],
    createdBy: by,
    createdAt: 1,
    updatedAt: 1,
  }

  // In order: each write is what a hub node caches of org o1, so each must bump its counter.
  const changes: [string, () => Promise<unknown>][] = [
    [
      'API client created',
      () =>
        clients.insert({
          id: 'c1',
          orgId: 'o1',
          name: 'analyst',
          description: '',
          secretDigest: 'secret',
          scopes: ['enrich'],
          ownerUserId: null,
          createdBy: by,
          now: 1,
          expiresAt: null,
        }),
    ],
    ['API client revoked', () => clients.revoke('o1', 'c1', 2)],
    [
      'device registered',
      () =>
        devices.registerWithToken({
          tokenDigest: 'digest-t1',
          now: 2,
          deviceId: 'd1',
          name: 'gw1',
          credentialDigest: 'cred-d1',
          region: 'nam',
          facts: {
            uid: 'UID-1',
            model: 'postern-gateway',
            version: '0.1.0',
            hostname: 'gw1.example.org',
            deployment: 'standalone',
            clusterName: null,
          },
          remoteIp: null,
        }),
    ],
    ['device renamed', () => devices.rename('o1', 'd1', 'gateway one')],
    ['device hostname changed', () => devices.updateFacts('d1', { hostname: 'gw1.example.net' })],
    ['device deregistered', () => devices.deregister('o1', 'd1', 3)],
    ['module type created', () => modules.insertType(type)],
    ['module type changed', () => modules.updateType('o1', 'mt1', { title: 'Intel' }, 2)],
    ['module type deleted', () => modules.deleteType('o1', 'mt1')],
    ['module instance created', () => modules.insertInstance(instance)],
    ['module instance changed', () => modules.updateInstance('o1', 'mi1', { enabled: false }, 2)],
    ['module instance deleted', () => modules.deleteInstance('o1', 'mi1')],
    ['org disabled', () => orgs.setEnabled('o1', false, 3)],
  ]

  it.each(changes)('%s: the counter moves on, other orgs are untouched', async (_name, change) => {
    const before = await versions.current('o1')
    await change()
    expect(await versions.current('o1')).toBe(before + 1)
    expect(await versions.current('o2')).toBe(0)
  })

  // Presence and facts no hub node caches change often (every heartbeat): they leave it alone.
  const presence: [string, () => Promise<unknown>][] = [
    ['connected', () => devices.markConnected('d1', { now: 4, node: 'n1', remoteIp: null })],
    ['last seen', () => devices.touch(['d1'], 5)],
    ['disconnected', () => devices.markDisconnected('d1', 'n1', 6)],
    ['same hostname and a new version', () => devices.updateFacts('d1', { version: '0.2.0' })],
    ['API client used', () => clients.touch('c1', 7)],
  ]

  it.each(presence)('%s: the counter stays', async (_name, change) => {
    const before = await versions.current('o1')
    await change()
    expect(await versions.current('o1')).toBe(before)
  })
})
