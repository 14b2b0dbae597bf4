import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ManualClock, silentLogger } from '@postern/core'
import {
  TrackingStore,
  emptyBatch,
  nodeIdRange,
  type Database,
  type GatewaySchema,
} from '@postern/store'
import { BACKENDS, openMigratedTestDatabase } from '@postern/store/testing'
import { PURGE_BATCH, TrackingRetention } from './retention.js'

const DAY = 86_400_000

describe.each(BACKENDS)('tracking retention on %s', (dialect) => {
  let opened: { database: Database<GatewaySchema>; close(): Promise<void> }
  let database: Database<GatewaySchema>
  let store: TrackingStore
  const clock = new ManualClock(Date.UTC(2026, 5, 1))

  beforeAll(async () => {
    opened = await openMigratedTestDatabase<GatewaySchema>(dialect, 'gateway')
    database = opened.database
    store = new TrackingStore(database.db, database.dialect)
    // More old messages than one batch, a day apart from the recent ones.
    const batch = emptyBatch()
    const total = PURGE_BATCH + 250
    for (let mid = 1; mid <= total; mid++) {
      const receivedAt = mid <= PURGE_BATCH + 200 ? clock.now() - 100 * DAY : clock.now() - DAY
      batch.messages.push({
        mid,
        icid: mid,
        receivedAt,
        listener: 'inbound',
        senderGroup: null,
        hatPolicy: 'ACCEPTED',
        direction: 'incoming',
        senderIp: '192.0.2.1',
        senderRdns: null,
        helo: null,
        tls: null,
        authUser: null,
        envelopeSender: 'a@sender.example',
        messageId: null,
        subject: `m${mid}`,
        headerFrom: null,
        headerTo: null,
        headerReplyTo: null,
        size: 10,
        status: 'delivered',
        reply: null,
        recipients: [{ address: 'b@corp.example', status: 'delivered' }],
      })
    }
    await store.writeBatch(batch)
  })
  afterAll(async () => opened.close())

  it.each([
    ['keeps everything when retention is 0s', 0, 0],
    ['deletes what is older than 90 days, over several batches', 90 * DAY, PURGE_BATCH + 200],
  ])('%s', async (_name, retentionMs, expected) => {
    const purged: number[] = []
    const retention = new TrackingRetention({
      store,
      retentionMs,
      intervalMs: 3_600_000,
      range: nodeIdRange(0),
      clock,
      logger: silentLogger(),
      onPurged: (n) => purged.push(n),
    })
    expect(await retention.sweep()).toBe(expected)
    expect(purged.reduce((a, b) => a + b, 0)).toBe(expected)
    const left = await database.db
      .selectFrom('messages')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow()
    expect(Number(left.n)).toBe(PURGE_BATCH + 250 - expected)
  })
})
