import type { FastifyRequest } from 'fastify'
import { ManualClock, silentLogger, type Clock } from '@postern/core'
import { createHttpApp, type HttpApp } from '@postern/http'
import {
  ActiveCaseStore,
  AuditLog,
  CtiaEntityStore,
  Database,
  IncidentStore,
  WatchStore,
  migrateToLatest,
  type HubSchema,
} from '@postern/store'
import { createTestDatabase, type TestDatabase } from '@postern/store/testing'
import type { Dialect } from '@postern/store'
import type { Caller } from './caller.js'
import { CasebookService } from './casebook-service.js'
import { CtiaEntityService } from './ctia-entity-service.js'
import { ctiaRoutes } from './ctia-routes.js'
import { activeCaseRoutes } from './active-case-routes.js'
import { WatchNotifier, type WatchNotification } from '../watchlist/notifiers.js'
import { WatchlistService } from '../watchlist/watchlist-service.js'
import { watchlistRoutes } from '../watchlist/watchlist-routes.js'
import { IncidentService } from '../incidents/incident-service.js'
import { AutoIncidents } from '../incidents/auto-incidents.js'
import { AutoIncidentPolicyService, GatewayEventHandler } from '../incidents/gateway-events.js'
import { autoPolicyRoutes } from '../incidents/auto-policy-routes.js'
import { JudgementService } from '../judgements/judgement-service.js'
import { BundleService } from '../sharing/bundle-service.js'
import { StixExportService } from '../sharing/stix-export.js'
import { stixRoutes } from '../sharing/stix-routes.js'

/**
 * Test support for the private-intelligence routes: a real HTTP app on a real database with
 * the services wired as the hub wires them. Until the hub's auth layer is on this branch,
 * callers authenticate with `Authorization: Bearer test:<org>:<user>` (or
 * `test:<org>:client:<client id>`); the composition root uses `request.auth` instead.
 */
export interface PrivateIntelHarness {
  app: HttpApp
  database: Database<HubSchema>
  entities: CtiaEntityService
  casebooks: CasebookService
  incidents: IncidentService
  judgements: JudgementService
  watchlist: WatchlistService
  /** What the tunnel calls with each gateway event. */
  gatewayEvents: GatewayEventHandler
  /** Console notifications the watchlist sent. */
  consoleNotifications: WatchNotification[]
  audit: AuditLog
  clock: Clock
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
  const entities = new CtiaEntityService({ store: new CtiaEntityStore(database), audit, clock })
  const incidentStore = new IncidentStore(database.db)
  const incidents = new IncidentService(entities, incidentStore)
  const casebooks = new CasebookService({
    entities,
    activeCases: new ActiveCaseStore(database.db),
    audit,
  })
  const judgements = new JudgementService(entities)
  const consoleNotifications: WatchNotification[] = []
  const watchlist = new WatchlistService({
    watches: new WatchStore(database.db),
    audit,
    entities,
    incidents,
    casebooks,
    clock,
    logger: silentLogger(),
    notifier: new WatchNotifier({
      logger: silentLogger(),
      console: (n) => consoleNotifications.push(n),
    }),
  })
  const gatewayEvents = new GatewayEventHandler({
    autoIncidents: new AutoIncidents({
      entities,
      incidents,
      casebooks,
      campaigns: incidentStore,
      logger: silentLogger(),
    }),
    watchlist,
    policies: incidentStore,
    logger: silentLogger(),
  })
  const autoPolicies = new AutoIncidentPolicyService({
    handler: gatewayEvents,
    policies: incidentStore,
    audit,
    now: () => clock.now(),
  })
  const baseUrl = options.baseUrl ?? 'https://hub.example:443'
  const bundles = new BundleService({ entities, incidents, judgements, baseUrl })
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
  await app.register(ctiaRoutes, {
    prefix: '/ctia',
    entities,
    casebooks,
    incidents,
    judgements,
    bundles,
    baseUrl,
    callerOf: (request) => callers.get(request)!,
  })
  await app.register(
    async (api) => {
      await api.register(activeCaseRoutes, {
        casebooks,
        baseUrl,
        callerOf: (request) => callers.get(request)!,
      })
      await api.register(stixRoutes, {
        stix: new StixExportService({
          entities,
          incidents,
          judgements,
          baseUrl,
          producerName: 'Postern test hub',
        }),
        callerOf: (request) => callers.get(request)!,
      })
      await api.register(autoPolicyRoutes, {
        policies: autoPolicies,
        callerOf: (request) => callers.get(request)!,
      })
      await api.register(watchlistRoutes, {
        watchlist,
        callerOf: (request) => callers.get(request)!,
      })
    },
    { prefix: '/api/v1' },
  )
  await app.ready()
  return {
    app,
    database,
    entities,
    casebooks,
    incidents,
    judgements,
    watchlist,
    gatewayEvents,
    consoleNotifications,
    audit,
    clock,
    close: async () => {
      await app.close()
      await database.close()
      await testDb.drop()
    },
  }
}
