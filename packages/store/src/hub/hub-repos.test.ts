import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Database } from '../database.js'
import { migrateToLatest } from '../migrate.js'
import { BACKENDS, createTestDatabase, type TestDatabase } from '../testing.js'
import { DevicesRepo } from './devices-repo.js'
import { OrgsRepo } from './orgs-repo.js'
import { RegistrationTokensRepo } from './registration-tokens-repo.js'
import type { HubSchema } from './schema.js'
import { SigningKeysRepo } from './signing-keys-repo.js'
import { TelemetryRepo } from './telemetry-repo.js'
import { UsersRepo } from './users-repo.js'

const facts = {
  uid: 'UID-1',
  model: 'postern-gateway',
  version: '0.1.0',
  hostname: 'gw1.example.com',
  deployment: 'standalone' as const,
  clusterName: null,
}

describe.each(BACKENDS)('hub repositories on %s', (dialect) => {
  let testDb: TestDatabase
  let database: Database<HubSchema>
  let devices: DevicesRepo
  let tokens: RegistrationTokensRepo

  beforeAll(async () => {
    testDb = await createTestDatabase(dialect)
    database = await Database.open<HubSchema>(testDb.target)
    await migrateToLatest(database, 'hub')
    const orgs = new OrgsRepo(database.db)
    await orgs.insert({ id: 'o1', name: 'Acme', now: 1 })
    await orgs.insert({ id: 'o2', name: 'Other', now: 1 })
    devices = new DevicesRepo(database.db)
    tokens = new RegistrationTokensRepo(database.db)
  })
  afterAll(async () => {
    await database.close()
    await testDb.drop()
  })

  function register(tokenDigest: string, deviceId: string, now = 100, uid = facts.uid) {
    return devices.registerWithToken({
      tokenDigest,
      now,
      deviceId,
      name: 'gw1',
      credentialDigest: `cred-${deviceId}`,
      region: 'nam',
      facts: { ...facts, uid },
      remoteIp: '127.0.0.1',
    })
  }

  it('consumes a registration token exactly once, even under a race', async () => {
    const createdBy = { type: 'user', id: 'u1' }
    await tokens.insert({
      id: 't1',
      orgId: 'o1',
      tokenDigest: 'd1',
      label: '',
      createdBy,
      now: 0,
      expiresAt: 1_000,
    })
    const outcomes = await Promise.all([register('d1', 'dev-a'), register('d1', 'dev-b')])
    expect(outcomes.filter((o) => o.ok)).toHaveLength(1)
    expect(outcomes.find((o) => !o.ok)).toMatchObject({ reason: 'used' })
    const winner = outcomes.find((o) => o.ok)
    expect(winner).toMatchObject({ device: { orgId: 'o1', region: 'nam' } })
    expect(await devices.list('o1')).toHaveLength(1)
    expect(await devices.list('o2')).toHaveLength(0)
  })

  it.each([
    ['unknown', 'nope', 100],
    ['expired', 'd2', 2_000],
  ])('refuses an %s token', async (reason, digest, now) => {
    await tokens
      .insert({
        id: 't2',
        orgId: 'o1',
        tokenDigest: 'd2',
        label: '',
        createdBy: { type: 'user', id: 'u1' },
        now: 0,
        expiresAt: 1_000,
      })
      .catch(() => undefined)
    expect(await register(digest, 'dev-x', now, 'UID-2')).toMatchObject({ ok: false, reason })
  })

  it('refuses a second active device with the same UID without consuming the token', async () => {
    await tokens.insert({
      id: 't3',
      orgId: 'o1',
      tokenDigest: 'd3',
      label: '',
      createdBy: { type: 'user', id: 'u1' },
      now: 0,
      expiresAt: 1_000,
    })
    expect(await register('d3', 'dev-c')).toMatchObject({ ok: false, reason: 'duplicate' })
    expect((await tokens.list('o1')).find((t) => t.id === 't3')?.usedAt).toBeNull()
  })

  it('forgets a deregistered device credential and scopes reads by org', async () => {
    const [device] = await devices.list('o1')
    expect(await devices.findByCredential(`cred-${device?.id}`)).toBeDefined()
    expect(await devices.get('o2', device?.id ?? '')).toBeUndefined()
    expect(await devices.deregister('o2', device?.id ?? '', 200)).toBe(false)
    expect(await devices.deregister('o1', device?.id ?? '', 200)).toBe(true)
    expect(await devices.findByCredential(`cred-${device?.id}`)).toBeUndefined()
    expect(await devices.list('o1')).toHaveLength(0)
    expect(await devices.list('o1', { includeDeregistered: true })).toHaveLength(1)
  })

  it('keeps users unique by e-mail, case-insensitively', async () => {
    const users = new UsersRepo(database.db)
    await users.insert({
      id: 'u1',
      orgId: 'o1',
      email: 'Admin@Example.com',
      name: 'A',
      role: 'admin',
      passwordHash: 'x',
      now: 1,
    })
    await expect(
      users.insert({
        id: 'u2',
        orgId: 'o2',
        email: 'admin@example.com',
        name: 'B',
        role: 'admin',
        passwordHash: 'x',
        now: 1,
      }),
    ).rejects.toThrow()
    expect((await users.findForLogin('ADMIN@example.com'))?.user.id).toBe('u1')
  })

  it('publishes signing keys until they expire and stores telemetry per device', async () => {
    const keys = new SigningKeysRepo(database.db)
    const base = { alg: 'RS256', publicJwk: { kty: 'RSA' }, privateKeySealed: 'sealed' }
    await keys.insert({ ...base, kid: 'k1', createdAt: 1, retiresAt: 10, expiresAt: 20 })
    await keys.insert({ ...base, kid: 'k2', createdAt: 5, retiresAt: 100, expiresAt: 200 })
    expect((await keys.listPublished(15)).map((k) => k.kid)).toEqual(['k2', 'k1'])
    expect((await keys.listPublished(25)).map((k) => k.kid)).toEqual(['k2'])

    const telemetry = new TelemetryRepo(database.db)
    const [device] = await devices.list('o1', { includeDeregistered: true })
    await telemetry.insert({
      orgId: 'o1',
      deviceId: device?.id ?? '',
      receivedAt: 1,
      payload: { a: 1 },
    })
    await telemetry.insert({
      orgId: 'o1',
      deviceId: device?.id ?? '',
      receivedAt: 2,
      payload: { a: 2 },
    })
    expect((await telemetry.listForDevice('o1', device?.id ?? '')).map((r) => r.payload)).toEqual([
      { a: 2 },
      { a: 1 },
    ])
    expect(await telemetry.listForDevice('o2', device?.id ?? '')).toEqual([])
  })
})
