import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ManualClock, createLogger } from '@postern/core'
import { AuditLog, Database, migrateToLatest, type HubSchema } from '@postern/store'
import { BACKENDS, createTestDatabase, type TestDatabase } from '@postern/store/testing'
import { AuditBatcher } from './audit-batcher.js'

const entry = (action: string) => ({
  orgId: 'o1',
  actor: { type: 'client' as const, id: 'c1' },
  source: 'api' as const,
  action,
  outcome: 'success' as const,
  details: { calls: 50 },
})

describe.each(BACKENDS)('audit batcher on %s', (dialect) => {
  let testDb: TestDatabase
  let database: Database<HubSchema>
  const clock = new ManualClock(1_000)
  const logged: Record<string, unknown>[] = []
  const logger = createLogger({
    level: 'error',
    destination: { write: (line: string) => void logged.push(JSON.parse(line)) },
  })

  beforeAll(async () => {
    testDb = await createTestDatabase(dialect)
    database = await Database.open<HubSchema>(testDb.target)
    await migrateToLatest(database, 'hub')
  })
  afterAll(async () => {
    await database.close()
    await testDb.drop()
  })

  it('writes the entries of one turn together, each with the time it happened', async () => {
    const audit = new AuditLog(database.db, clock)
    const batcher = new AuditBatcher({ audit, clock, logger })
    batcher.record(entry('enrich.observe'))
    clock.advance(5)
    batcher.record(entry('enrich.deliberate'))
    expect((await audit.list({ orgId: 'o1' })).total).toBe(0)
    await batcher.drain()
    const { entries } = await audit.list({ orgId: 'o1' })
    expect(entries.map((e) => [e.action, e.at, e.details])).toEqual([
      ['enrich.deliberate', 1_005, { calls: 50 }],
      ['enrich.observe', 1_000, { calls: 50 }],
    ])
  })

  it('logs a write that fails with what it held, and drains anyway', async () => {
    const broken = await createTestDatabase(dialect)
    const closed = await Database.open<HubSchema>(broken.target)
    await closed.close()
    const batcher = new AuditBatcher({ audit: new AuditLog(closed.db, clock), clock, logger })
    batcher.record(entry('enrich.refer'))
    await batcher.drain()
    expect(logged).toEqual([
      expect.objectContaining({
        event: 'AUDIT_WRITE_FAILED',
        count: 1,
        actions: ['enrich.refer'],
      }),
    ])
    await broken.drop()
  })
})
