import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Database } from '../database.js'
import { migrateToLatest } from '../migrate.js'
import { BACKENDS, createTestDatabase, type TestDatabase } from '../testing.js'
import type { GatewaySchema } from './schema.js'
import { HubOutboxStore } from './hub-outbox.js'

const HOUR = 3_600_000
const NOW = Date.UTC(2026, 5, 1)

/** The hub outbox's cap: oldest first, by count and by age, per machine, with the losses kept. */
describe.each(BACKENDS)('HubOutboxStore cap on %s', (dialect) => {
  let testDb: TestDatabase
  let database: Database<GatewaySchema>
  let outbox: HubOutboxStore

  beforeAll(async () => {
    testDb = await createTestDatabase(dialect)
    database = await Database.open<GatewaySchema>(testDb.target)
    await migrateToLatest(database, 'gateway')
    outbox = new HubOutboxStore(database.db)
  })
  afterAll(async () => {
    await database.close()
    await testDb.drop()
  })

  const queue = (machine: string, first: number, count: number, at: number) =>
    outbox.enqueue(
      machine,
      Array.from({ length: count }, (_, i) => ({ n: first + i })),
      at,
    )
  const queued = async (machine: string) =>
    (await outbox.oldest(machine, 1000)).map((item) => item.body.n)

  it('drops the oldest events beyond the count, counts them, and leaves other machines alone', async () => {
    await queue('gw-1', 1, 5, NOW)
    await queue('gw-2', 100, 3, NOW)
    expect(await outbox.trim('gw-1', { maxEvents: 5, createdBefore: 0 }, NOW)).toBe(0)
    expect(await outbox.losses('gw-1')).toBeNull()

    await queue('gw-1', 6, 2, NOW + 1)
    expect(await outbox.trim('gw-1', { maxEvents: 5, createdBefore: 0 }, NOW + 2)).toBe(2)
    expect(await queued('gw-1')).toEqual([3, 4, 5, 6, 7])
    expect(await queued('gw-2')).toEqual([100, 101, 102])
    expect(await outbox.losses('gw-1')).toEqual({
      dropped: 2,
      firstDroppedAt: NOW + 2,
      lastDroppedAt: NOW + 2,
    })
    expect(await outbox.losses('gw-2')).toBeNull()
  })

  it('drops events older than the age limit and adds them to the losses', async () => {
    await queue('gw-1', 8, 1, NOW + 2 * HOUR)
    expect(
      await outbox.trim('gw-1', { maxEvents: 100, createdBefore: NOW + HOUR }, NOW + 3 * HOUR),
    ).toBe(5)
    expect(await queued('gw-1')).toEqual([8])
    expect(await outbox.losses('gw-1')).toEqual({
      dropped: 7,
      firstDroppedAt: NOW + 2,
      lastDroppedAt: NOW + 3 * HOUR,
    })
  })

  it('takes reported losses off the count, keeping those dropped meanwhile', async () => {
    await outbox.reportedLosses('gw-1', 4)
    expect(await outbox.losses('gw-1')).toMatchObject({ dropped: 3 })
    await outbox.reportedLosses('gw-1', 3)
    expect(await outbox.losses('gw-1')).toBeNull()
    // Reporting again (a retried batch) cannot make the count negative.
    await outbox.reportedLosses('gw-1', 3)
    await queue('gw-1', 9, 2, NOW + 4 * HOUR)
    expect(await outbox.trim('gw-1', { maxEvents: 1, createdBefore: 0 }, NOW + 5 * HOUR)).toBe(2)
    expect(await outbox.losses('gw-1')).toMatchObject({ dropped: 2 })
  })
})
