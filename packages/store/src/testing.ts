import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Migrator, type Kysely, type Migration } from 'kysely'
import pg from 'pg'
import { randomToken } from '@postern/core'
import { Database, type DatabaseTarget, type Dialect } from './database.js'
import type { NewMessage } from './gateway/tracking.js'
import { migrateToLatest, type SchemaArea } from './migrate.js'
import { gatewayMigrations } from './migrations/gateway/index.js'

/**
 * Test support: every store test runs on both backends. PostgreSQL is the server already
 * running on the machine (POSTERN_TEST_PG_URL, default postgres://postgres@127.0.0.1:5432/postgres);
 * each test database is created here and dropped afterwards.
 */
export const BACKENDS: readonly Dialect[] = ['sqlite', 'postgres']

export function testPostgresAdminUrl(): string {
  return process.env.POSTERN_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
}

export interface TestDatabase {
  target: DatabaseTarget
  /** The value a `database:` config key would hold for this database. */
  configValue: string
  drop(): Promise<void>
}

export async function createTestDatabase(dialect: Dialect): Promise<TestDatabase> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'postern-sqlite-'))
    const location = join(dir, 'test.db')
    return {
      target: { dialect, location },
      configValue: `sqlite:${location}`,
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    }
  }
  const adminUrl = testPostgresAdminUrl()
  const name = `postern_test_${randomToken(6)
    .toLowerCase()
    .replace(/[^a-z0-9]/g, 'x')}`
  await withAdmin(adminUrl, (client) => client.query(`CREATE DATABASE ${name}`))
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  return {
    target: { dialect, location: url.toString() },
    configValue: url.toString(),
    drop: () =>
      withAdmin(adminUrl, (client) =>
        client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
      ).then(() => undefined),
  }
}

async function withAdmin<T>(adminUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl })
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end()
  }
}

/** A fresh test database of `dialect`, opened and migrated for `area`; `close` also drops it. */
export async function openMigratedTestDatabase<Schema>(
  dialect: Dialect,
  area: SchemaArea,
): Promise<{ database: Database<Schema>; close(): Promise<void> }> {
  const testDb = await createTestDatabase(dialect)
  const database = await Database.open<Schema>(testDb.target)
  await migrateToLatest(database, area)
  return {
    database,
    async close() {
      await database.close()
      await testDb.drop()
    },
  }
}

/** A delivered message with one recipient, for tests that need tracked mail at given times. */
/**
 * Applies the gateway migrations named before `below` only: the database as an older release
 * left it, for a test that fills it and then upgrades it with `migrateToLatest`.
 */
export async function migrateGatewayBefore<Schema>(
  database: Database<Schema>,
  below: string,
): Promise<void> {
  const earlier: Record<string, Migration> = {}
  for (const [name, migration] of Object.entries(gatewayMigrations)) {
    if (name < below) earlier[name] = { up: (db) => migration.up(db, database.dialect) }
  }
  const migrator = new Migrator({
    db: database.db as unknown as Kysely<unknown>,
    provider: { getMigrations: async () => earlier },
    migrationTableName: 'postern_migrations_gateway',
    migrationLockTableName: 'postern_migrations_gateway_lock',
  })
  const { error } = await migrator.migrateToLatest()
  if (error) throw error
}

export function trackedMessage(
  mid: number,
  receivedAt: number,
  overrides: Partial<NewMessage> = {},
): NewMessage {
  return {
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
    ...overrides,
  }
}
