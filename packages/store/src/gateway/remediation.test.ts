import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ManualClock } from '@postern/core'
import { Database } from '../database.js'
import { migrateToLatest } from '../migrate.js'
import { BACKENDS, createTestDatabase, type TestDatabase } from '../testing.js'
import type { GatewaySchema } from './schema.js'
import { RemediationProfileRepository } from './remediation-profiles.js'
import { RemediationRunRepository, type NewRemediationRun } from './remediation-runs.js'

describe.each(BACKENDS)('remediation repositories on %s', (dialect) => {
  let testDb: TestDatabase
  let database: Database<GatewaySchema>
  const clock = new ManualClock(1_000)
  let profiles: RemediationProfileRepository
  let runs: RemediationRunRepository

  beforeAll(async () => {
    testDb = await createTestDatabase(dialect)
    database = await Database.open<GatewaySchema>(testDb.target)
    await migrateToLatest(database, 'gateway')
    profiles = new RemediationProfileRepository(database.db, clock)
    runs = new RemediationRunRepository(database.db, clock)
  })
  afterAll(async () => {
    await database.close()
    await testDb.drop()
  })

  it('stores, replaces and deletes profiles; a name is taken once', async () => {
    const input = {
      name: 'onprem',
      kind: 'imap',
      description: 'Dovecot',
      domains: ['example.org'],
      settings: { host: 'imap.example.org', port: 993 },
      secrets: { masterPassword: 'v1.sealed' },
      enabled: true,
      updatedBy: 'admin',
    }
    expect(await profiles.insert(input)).toBe(true)
    expect(await profiles.insert(input)).toBe(false)
    clock.advance(5)
    expect(await profiles.replace({ ...input, domains: ['example.org', '*.example.org'] })).toBe(
      true,
    )
    expect(await profiles.get('onprem')).toMatchObject({
      domains: ['example.org', '*.example.org'],
      secrets: { masterPassword: 'v1.sealed' },
      enabled: true,
      createdAt: 1_000,
      updatedAt: 1_005,
    })
    expect((await profiles.list()).map((p) => p.name)).toEqual(['onprem'])
    expect(await profiles.delete('onprem')).toBe(true)
    expect(await profiles.get('onprem')).toBeNull()
    expect(await profiles.replace(input)).toBe(false)
  })

  const newRun = (id: string, key: string | null, recipients: string[]): NewRemediationRun => ({
    id,
    action: 'forward-delete',
    trigger: 'manual',
    reason: 'phishing',
    actor: { type: 'user', id: 'analyst' },
    source: 'api',
    remoteIp: '192.0.2.1',
    forwardTo: ['soc@example.org'],
    idempotencyKey: key,
    details: { mids: [7] },
    targets: recipients.map((recipient) => ({ messageId: '<m1@x>', recipient, mids: [7] })),
  })

  it('creates runs with targets, honours idempotency keys and counts results', async () => {
    const recipients = Array.from({ length: 1200 }, (_, i) => `u${i}@example.org`)
    expect(await runs.create(newRun('run-1', 'key-1', recipients))).toEqual({
      id: 'run-1',
      created: true,
    })
    expect(await runs.create(newRun('run-2', 'key-1', ['x@example.org']))).toEqual({
      id: 'run-1',
      created: false,
    })
    expect(await runs.beginAttempt('run-1')).toBe(1)
    const targets = await runs.targets('run-1')
    expect(targets).toHaveLength(1200)
    const [first, second, third] = targets
    await runs.updateTarget(first!.id, {
      status: 'done',
      profile: 'onprem',
      forwarded: true,
      deleted: true,
      folders: ['INBOX'],
      error: null,
    })
    await runs.updateTarget(second!.id, {
      status: 'not_found',
      profile: 'onprem',
      forwarded: false,
      deleted: false,
      folders: [],
      error: null,
    })
    await runs.updateTarget(third!.id, {
      status: 'failed',
      profile: 'onprem',
      forwarded: false,
      deleted: false,
      folders: [],
      error: { code: 'GW_ERR_X', message: 'refused' },
    })
    const run = await runs.finish('run-1')
    expect(run).toMatchObject({
      status: 'partial',
      attempts: 1,
      counts: { total: 1200, done: 1, notFound: 1, failed: 1198 },
      forwardTo: ['soc@example.org'],
    })
    expect(await runs.alreadyForwarded('<m1@x>', ['SOC@example.org'])).toEqual([
      { recipient: 'u0@example.org', runId: 'run-1' },
    ])
    expect(await runs.alreadyForwarded('<m1@x>', ['other@example.org'])).toEqual([])
    const history = await runs.history(['<m1@x>'])
    expect(history).toHaveLength(1200)
    expect(history[2]).toMatchObject({
      status: 'failed',
      error: { code: 'GW_ERR_X', message: 'refused' },
      run: { id: 'run-1', action: 'forward-delete', actor: { type: 'user', id: 'analyst' } },
    })
    expect((await runs.list({ status: 'partial' })).total).toBe(1)
  })
})
