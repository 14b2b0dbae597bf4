import { Worker } from 'node:worker_threads'
import { sql, type Kysely } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ManualClock } from '@postern/core'
import { Database, resolveDatabaseTarget } from './database.js'
import { migrateToLatest } from './migrate.js'
import { hubMigrations } from './migrations/hub/index.js'
import { AuditLog } from './shared/audit-log.js'
import type { HubSchema } from './hub/schema.js'
import { BACKENDS, createTestDatabase, type TestDatabase } from './testing.js'

describe('resolveDatabaseTarget', () => {
  it.each([
    ['sqlite', { dialect: 'sqlite', location: '/data/gateway.db' }],
    ['sqlite:/tmp/x.db', { dialect: 'sqlite', location: '/tmp/x.db' }],
    [
      'postgres://postgres@127.0.0.1:5432/p',
      { dialect: 'postgres', location: 'postgres://postgres@127.0.0.1:5432/p' },
    ],
  ])('%s', (value, expected) => {
    expect(resolveDatabaseTarget(value, '/data', 'gateway.db')).toEqual(expected)
  })

  it.each(['mysql://x', 'sqlite:', ''])('rejects %j', (value) => {
    expect(() => resolveDatabaseTarget(value, '/data', 'gateway.db')).toThrow(
      expect.objectContaining({ code: 'STORE_ERR_DATABASE_URL_INVALID' }),
    )
  })
})

describe.each(BACKENDS)('store on %s', (dialect) => {
  let testDb: TestDatabase
  let database: Database<HubSchema>

  beforeAll(async () => {
    testDb = await createTestDatabase(dialect)
    database = await Database.open<HubSchema>(testDb.target)
  })
  afterAll(async () => {
    await database.close()
    await testDb.drop()
  })

  it('migrates once and is idempotent', async () => {
    expect(await migrateToLatest(database, 'hub')).toEqual(Object.keys(hubMigrations))
    expect(await migrateToLatest(database, 'hub')).toEqual([])
  })

  it('keeps an audit log filtered by org, newest first', async () => {
    const clock = new ManualClock(1_000)
    const audit = new AuditLog(database.db, clock)
    await audit.record({
      orgId: 'o1',
      actor: { type: 'user', id: 'u1' },
      source: 'api',
      action: 'device.register',
      outcome: 'success',
      details: { name: 'gw1' },
    })
    clock.advance(10)
    await audit.record({
      orgId: 'o2',
      actor: { type: 'client', id: 'c1' },
      source: 'api',
      action: 'enrich.observe',
      outcome: 'failure',
    })
    clock.advance(10)
    await audit.record({
      orgId: 'o1',
      actor: { type: 'user', id: 'u1' },
      source: 'console',
      action: 'device.deregister',
      target: { type: 'device', id: 'd1' },
      outcome: 'success',
    })

    const o1 = await audit.list({ orgId: 'o1' })
    expect(o1.total).toBe(2)
    expect(o1.entries.map((e) => e.action)).toEqual(['device.deregister', 'device.register'])
    expect(o1.entries[0]).toMatchObject({
      at: 1_020,
      target: { type: 'device', id: 'd1' },
      details: {},
    })
    expect(o1.entries[1]?.details).toEqual({ name: 'gw1' })
    expect((await audit.list({ orgId: 'o2' })).entries[0]?.actor).toEqual({
      type: 'client',
      id: 'c1',
    })
  })

  it('refuses a database migrated by a newer version', async () => {
    const db = database.db as unknown as Kysely<Record<string, Record<string, unknown>>>
    await db
      .insertInto('postern_migrations_hub')
      .values({ name: '9999_future', timestamp: new Date().toISOString() })
      .execute()
    await expect(migrateToLatest(database, 'hub')).rejects.toMatchObject({
      code: 'STORE_ERR_SCHEMA_TOO_NEW',
    })
  })
})

describe('Database.open', () => {
  it('explains an unreachable server', async () => {
    await expect(
      Database.open({ dialect: 'postgres', location: 'postgres://postgres:pw@127.0.0.1:1/none' }),
    ).rejects.toMatchObject({
      code: 'STORE_ERR_DATABASE_UNREACHABLE',
      message: expect.not.stringContaining(':pw@'),
    })
  })
})

describe('SQLite transactions beside another connection (the tracking worker thread)', () => {
  it('reads then writes in one transaction while another thread commits meanwhile', async () => {
    const testDb = await createTestDatabase('sqlite')
    const database = await Database.open<{ t: { v: string } }>(testDb.target)
    try {
      await sql`create table t (v text not null)`.execute(database.db)
      let other: Worker | undefined
      await database.db.transaction().execute(async (trx) => {
        await trx.selectFrom('t').selectAll().execute()
        // Another connection writes now: with a deferred BEGIN our snapshot would be stale and
        // our write refused at once with SQLITE_BUSY; with BEGIN IMMEDIATE it waits for us.
        other = new Worker(
          `const SQLite = require('better-sqlite3')
           const { workerData, parentPort } = require('node:worker_threads')
           const db = new SQLite(workerData)
           db.pragma('busy_timeout = 5000')
           db.prepare("insert into t (v) values ('other')").run()
           parentPort.postMessage('committed')`,
          { eval: true, workerData: testDb.target.location },
        )
        await new Promise((resolve) => setTimeout(resolve, 300))
        await trx.insertInto('t').values({ v: 'ours' }).execute()
      })
      await new Promise((resolve, reject) => {
        other?.once('message', resolve)
        other?.once('error', reject)
      })
      const rows = await database.db.selectFrom('t').select('v').execute()
      expect(rows.map((r) => r.v)).toEqual(['ours', 'other'])
    } finally {
      await database.close()
      await testDb.drop()
    }
  })
})
