import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ManualClock, silentLogger } from '@postern/core'
import {
  TrackingPartitions,
  TrackingStore,
  emptyBatch,
  nodeIdRange,
  type Database,
  type GatewaySchema,
} from '@postern/store'
import { BACKENDS, openMigratedTestDatabase, trackedMessage } from '@postern/store/testing'
import { PURGE_BATCH, TrackingRetention } from './retention.js'

const DAY = 86_400_000

describe.each(BACKENDS)('tracking retention on %s', (dialect) => {
  let opened: { database: Database<GatewaySchema>; close(): Promise<void> }
  let database: Database<GatewaySchema>
  let store: TrackingStore
  let partitions: TrackingPartitions
  const clock = new ManualClock(Date.UTC(2026, 5, 1))

  beforeAll(async () => {
    opened = await openMigratedTestDatabase<GatewaySchema>(dialect, 'gateway')
    database = opened.database
    store = new TrackingStore(database.db, database.dialect)
    partitions = new TrackingPartitions(database.db, database.dialect)
    // More old messages than one batch, a day apart from the recent ones.
    const batch = emptyBatch()
    const total = PURGE_BATCH + 250
    for (let mid = 1; mid <= total; mid++) {
      const receivedAt = mid <= PURGE_BATCH + 200 ? clock.now() - 100 * DAY : clock.now() - DAY
      batch.messages.push(trackedMessage(mid, receivedAt))
    }
    await store.writeBatch(batch)
  })
  afterAll(async () => opened.close())

  function retention(retentionMs: number, purged: number[]) {
    return new TrackingRetention({
      store,
      partitions,
      retentionMs,
      intervalMs: 3_600_000,
      range: nodeIdRange(0),
      clock,
      logger: silentLogger(),
      onPurged: (n) => purged.push(n),
    })
  }

  async function messageCount(): Promise<number> {
    const left = await database.db
      .selectFrom('messages')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow()
    return Number(left.n)
  }

  it.each([
    ['keeps everything when retention is 0s', 0, 0],
    ['deletes what is older than 90 days, over several batches', 90 * DAY, PURGE_BATCH + 200],
  ])('%s', async (_name, retentionMs, expected) => {
    const purged: number[] = []
    expect(await retention(retentionMs, purged).sweep()).toBe(expected)
    expect(purged.reduce((a, b) => a + b, 0)).toBe(expected)
    expect(await messageCount()).toBe(PURGE_BATCH + 250 - expected)
  })

  it('retires a week past retention whole (a partition drop on PostgreSQL)', async () => {
    const old = clock.now() - 200 * DAY
    await partitions.ensure(old)
    const batch = emptyBatch()
    batch.messages.push(
      trackedMessage(1, old),
      trackedMessage(2, old + 1),
      trackedMessage(3, old + 2),
    )
    await store.writeBatch(batch)
    const weeks = (await partitions.list()).length
    const purged: number[] = []
    expect(await retention(90 * DAY, purged).sweep()).toBe(3)
    expect(purged).toEqual([3])
    expect(await messageCount()).toBe(50)
    // PostgreSQL: the week of `old` and the two after it, all past retention, are dropped.
    expect((await partitions.list()).length).toBe(dialect === 'postgres' ? weeks - 3 : 0)
  })
})
