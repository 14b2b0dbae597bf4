import type { FastifyRequest } from 'fastify'
import { ManualClock, silentLogger, type Clock } from '@postern/core'
import { createHttpApp, type HttpApp } from '@postern/http'
import { AuditLog, Database, migrateToLatest, type Dialect, type HubSchema } from '@postern/store'
import { createTestDatabase, type TestDatabase } from '@postern/store/testing'
import type { Caller } from './caller.js'
import { mountPrivateIntel, type PrivateIntel } from './mount.js'
import type { WatchNotification } from '../watchlist/notifiers.js'

/**
 * Test support for the private-intelligence routes: a real HTTP app on a real database with
 * the area mounted exactly as the hub mounts it (`mountPrivateIntel`). Callers authenticate
 * with `Authorization: Bearer test:<org>:<user>` (or `test:<org>:client:<client id>`), standing
 * in for the hub's auth layer, which the hub's own route-walk tests cover.
 */
export interface PrivateIntelHarness extends PrivateIntel {
  app: HttpApp
  database: Database<HubSchema>
  audit: AuditLog
  clock: Clock
  /** Console notifications the watchlist sent. */
  consoleNotifications: WatchNotification[]
  close(): Promise<void>
}

const callers = new WeakMap<FastifyRequest, Caller>()

export function parseTestBearer(header: string | undefined): Caller | undefined {
  const match = /^Bearer test:([^:]+):(client:)?([^:]+)$/.exec(header ?? '')
  if (!match) return undefined
  return match[2]
    ? { kind: 'client', orgId: match[1]!, userId: null, clientId: match[3]! }
    : { kind: 'user', orgId: match[1]!, userId: match[3]!, clientId: null }
}

export async function startPrivateIntelHarness(
  dialect: Dialect,
  options: { baseUrl?: string; clock?: Clock } = {},
): Promise<PrivateIntelHarness> {
  const testDb: TestDatabase = await createTestDatabase(dialect)
  const database = await Database.open<HubSchema>(testDb.target)
  await migrateToLatest(database, 'hub')
  const clock = options.clock ?? new ManualClock(Date.UTC(2026, 5, 1, 9))
  const audit = new AuditLog(database.db, clock)
  const consoleNotifications: WatchNotification[] = []
  const app = await createHttpApp({
    logger: silentLogger(),
    title: 'test hub',
    description: 'private intelligence routes under test',
    version: '0',
  })
  app.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.config.public) return
    const caller = parseTestBearer(request.headers.authorization)
    if (!caller) {
      await reply.code(401).send({
        error: 'invalid_request',
        error_description: 'No JWT found in HTTP Authorization header',
      })
      return
    }
    callers.set(request, caller)
  })
  const pi = await mountPrivateIntel(app, {
    database,
    audit,
    clock,
    logger: silentLogger(),
    baseUrl: options.baseUrl ?? 'https://hub.example:443',
    callerOf: (request) => callers.get(request)!,
    producerName: 'Postern test hub',
    onConsoleNotification: (n) => consoleNotifications.push(n),
  })
  await app.ready()
  return {
    ...pi,
    app,
    database,
    audit,
    clock,
    consoleNotifications,
    close: async () => {
      await app.close()
      await database.close()
      await testDb.drop()
    },
  }
}
