import type { AddressInfo } from 'node:net'
import cookie from '@fastify/cookie'
import formbody from '@fastify/formbody'
import { formatHostPort, parseHostPort, silentLogger, type Clock, type Logger } from '@postern/core'
import { createHttpApp, serveConsole, type HttpApp } from '@postern/http'
import { consoleDir } from '@postern/web'
import { HubAdmin } from './admin.js'
import { AuditBatcher } from './audit/audit-batcher.js'
import { registerAuditRoutes } from './audit/routes.js'
import { installAuth, type RouteRecord } from './auth/auth-plugin.js'
import { registerSessionRoutes } from './auth/session-routes.js'
import { registerClientRoutes } from './clients/routes.js'
import { ClusterBus } from './cluster/cluster-bus.js'
import type { HubConfig } from './config.js'
import { registerDeviceRoutes } from './devices/routes.js'
import { registerInspectRoutes } from './investigate/inspect-routes.js'
import { registerModuleRoutes } from './investigate/modules/routes.js'
import { ActionRequestsRepo } from '@postern/store'
import { ApprovalService } from './investigate/enrich/approvals.js'
import { GatedBlockPush } from './sharing/block-push-approval.js'
import { EnrichService } from './investigate/enrich/enrich-service.js'
import { FanOut } from './investigate/enrich/fan-out.js'
import { casebookAddToCase } from './investigate/enrich/add-to-case.js'
import { registerTicketRoutes } from './tickets/routes.js'
import { RecommendedActions } from './investigate/enrich/recommended-actions.js'
import { RespondService } from './investigate/enrich/respond-service.js'
import { registerEnrichRoutes } from './investigate/enrich/routes.js'
import { registerOAuthRoutes } from './oauth/routes.js'
import { installBearerCors } from './api/cors.js'
import { openHubServices, type HubServices } from './services.js'
import { DeviceTunnel } from './tunnel/device-tunnel.js'
import { GatewayIntel } from './tunnel/gateway-intel.js'
import {
  createPrivateIntel,
  registerPrivateIntelRoutes,
  type PrivateIntel,
} from './casebooks/mount.js'
import { INTEL_METHODS } from '@postern/tunnel'
import { registerUserRoutes } from './users/routes.js'
import { registerPreferenceRoutes } from './preferences/routes.js'

export const HUB_VERSION = '0.1.0'

export interface HubStartOptions {
  config: HubConfig
  logger?: Logger
  clock?: Clock
  /** Lets later features add routes (they go through the same auth layer). */
  extend?: (
    app: HttpApp,
    hub: { services: HubServices; tunnel: DeviceTunnel; privateIntel: PrivateIntel },
  ) => Promise<void> | void
}

const HOUR = 3_600_000

/**
 * The hub's composition root: opens the database, builds the services, mounts every route
 * behind the one auth layer, accepts device tunnels on the same listener, and runs the
 * housekeeping timers (key rotation, telemetry retention). `stop()` undoes all of it.
 */
export class Hub {
  private timers: NodeJS.Timeout[] = []

  private constructor(
    readonly services: HubServices,
    readonly app: HttpApp,
    readonly tunnel: DeviceTunnel,
    /** Every registered route with its protection (walked by the auth tests). */
    readonly routes: readonly RouteRecord[],
    /** Operator actions (create org/admin, registration tokens, API clients) for programs like the demo. */
    readonly admin: HubAdmin,
    /** Casebooks, incidents, judgements, sharing and the watchlist (CTIA routes and services). */
    readonly privateIntel: PrivateIntel,
    private readonly bus: ClusterBus | undefined,
    /** Audit entries of enrich lookups, written after their answers. */
    private readonly lookupAudit: AuditBatcher,
  ) {}

  /** The URL gateways and clients use (config publicUrl, or the bound address). */
  get url(): string {
    return this.services.publicUrl
  }

  static async start(options: HubStartOptions): Promise<Hub> {
    const { config } = options
    const logger = options.logger ?? silentLogger()
    const services = await openHubServices({ config, logger, clock: options.clock })
    let app: HttpApp | undefined
    let tunnel: DeviceTunnel | undefined
    let bus: ClusterBus | undefined
    let lookupAudit: AuditBatcher | undefined
    try {
      const { cluster } = config
      if (cluster.natsUrl !== undefined) {
        bus = await ClusterBus.connect({
          url: cluster.natsUrl,
          prefix: cluster.subjectPrefix,
          nodeId: config.nodeId,
          connectTimeoutMs: cluster.connectTimeoutSeconds * 1000,
          routeMarginMs: cluster.routeMarginMs,
          logger: logger.child({ component: 'cluster' }),
        })
      }
      app = await createHttpApp({
        logger,
        title: 'Postern hub API',
        description:
          'Threat response hub: organisations, users, API clients and OAuth2, devices and their tunnel, telemetry, audit, and the Threat Response compatible routes.',
        version: HUB_VERSION,
        trustProxy: config.trustProxy,
      })
      await app.register(cookie)
      await app.register(formbody, { bodyLimit: 16 * 1024 })
      const routes = installAuth(app, {
        authenticator: services.authenticator,
        authenticateDevice: (credential) => services.devices.authenticate(credential),
      })
      // The tunnel serves the gateways' intel events and the intel pushes through the tunnel:
      // each needs the other, so the events handler reaches `gatewayIntel` once it exists.
      // eslint-disable-next-line prefer-const -- assigned once the private-intel services exist
      let gatewayIntel: GatewayIntel | undefined
      tunnel = new DeviceTunnel({
        devices: services.devices,
        devicesRepo: services.repos.devices,
        telemetry: services.telemetry,
        audit: services.audit,
        clock: services.clock,
        logger,
        nodeId: config.nodeId,
        heartbeatMs: config.tunnel.heartbeatSeconds * 1000,
        requestTimeoutMs: config.tunnel.requestTimeoutSeconds * 1000,
        maxFrameBytes: config.tunnel.maxFrameBytes,
        ...(bus ? { bus } : {}),
        requests: {
          [INTEL_METHODS.events]: (params, device) => gatewayIntel!.events(params, device),
        },
        onDeviceReady: (device) => void gatewayIntel?.deviceReady(device),
      })
      // One approval workflow for response actions and block pushes; an approved request runs
      // where it came from (both exist once the services below are built).
      // eslint-disable-next-line prefer-const -- the approvals run actions through respond
      let respond: RespondService
      // eslint-disable-next-line prefer-const -- and block pushes through private intel
      let privateIntel: PrivateIntel
      const approvals = new ApprovalService({
        repo: new ActionRequestsRepo(services.database.db),
        audit: services.audit,
        clock: services.clock,
        ttlMs: config.investigate.approvalTtlHours * 3_600_000,
        run: (orgId, input) =>
          GatedBlockPush.handles(input)
            ? privateIntel.gatedBlockPush!.runApproved(orgId, input)
            : respond.trigger(orgId, input),
      })
      const intelLogger = logger.child({ component: 'private-intel' })
      privateIntel = createPrivateIntel({
        database: services.database,
        audit: services.audit,
        clock: services.clock,
        logger: intelLogger,
        baseUrl: () => services.publicUrl,
        callerOf: (request) => request.auth,
        producerName: 'Postern hub',
        blockPusher: {
          push: (orgId, entries, action) => gatewayIntel!.push(orgId, entries, action),
        },
        onWatchChange: (orgId) => void gatewayIntel?.syncWatchlist(orgId),
        requestApproval: (orgId, input) => approvals.request(orgId, input),
      })
      gatewayIntel = new GatewayIntel({
        tunnel,
        devices: services.repos.devices,
        logger: intelLogger,
        watched: (orgId) => privateIntel.watchlist.watchedObservables(orgId),
        handleEvent: (device, body) => privateIntel.gatewayEvents.handle(device, body),
        recordLost: async (device, lost) => {
          intelLogger.warn(
            { event: 'GATEWAY_EVENTS_LOST', ...device, lost: lost.count },
            'a gateway dropped events for the hub while it was unreachable',
          )
          await services.audit.record({
            orgId: device.orgId,
            actor: { type: 'device', id: device.deviceId },
            source: 'tunnel',
            action: 'intel.events_lost',
            target: { type: 'device', id: device.deviceId },
            outcome: 'failure',
            details: {
              lost: lost.count,
              firstDroppedAt: new Date(lost.firstDroppedAt).toISOString(),
              lastDroppedAt: new Date(lost.lastDroppedAt).toISOString(),
            },
          })
        },
      })
      await registerOAuthRoutes(app, services)
      registerSessionRoutes(app, services)
      registerUserRoutes(app, services)
      registerPreferenceRoutes(app, services)
      registerClientRoutes(app, services)
      registerDeviceRoutes(app, services, tunnel)
      registerAuditRoutes(app, services)
      await registerInspectRoutes(app)
      await registerModuleRoutes(app, services.modules)
      const fanOut = new FanOut({
        devices: (orgId) => services.orgCache.devices(orgId),
        tunnel,
        keys: services.keys,
        publicUrl: () => services.publicUrl,
        issuer: config.auth.issuer,
        config: config.investigate,
        logger: logger.child({ component: 'enrich' }),
      })
      const fanOutDeps = { modules: services.modules, fanOut, audit: services.audit }
      lookupAudit = new AuditBatcher({ audit: services.audit, clock: services.clock, logger })
      respond = new RespondService({
        ...fanOutDeps,
        triggerTimeoutMs: config.investigate.triggerTimeoutSeconds * 1000,
        requestApproval: (orgId, input) => approvals.request(orgId, input),
      })
      await registerEnrichRoutes(app, {
        enrich: new EnrichService({ ...fanOutDeps, audit: lookupAudit }),
        respond,
        recommended: new RecommendedActions({
          ...fanOutDeps,
          respond,
          addToCase: casebookAddToCase(privateIntel.casebooks, () => services.publicUrl),
        }),
        approvals,
        maxObservables: config.investigate.maxObservables,
      })
      registerTicketRoutes(app, services.tickets)
      await registerPrivateIntelRoutes(app, privateIntel, {
        baseUrl: () => services.publicUrl,
        callerOf: (request) => request.auth,
      })
      await options.extend?.(app, { services, tunnel, privateIntel })
      // The console and the ribbon script are public files; every call they make is authenticated.
      serveConsole(app, { dir: consoleDir('hub'), routeConfig: { public: true } })
      installBearerCors(app)

      const liveTunnel = tunnel
      app.server.on('upgrade', (request, socket, head) => {
        if (!liveTunnel.handleUpgrade(request, socket, head)) socket.destroy()
      })
      const { host, port } = parseHostPort(config.listen, '127.0.0.1')
      await app.listen({ host, port })
      const bound = app.server.address() as AddressInfo
      services.publicUrl = (
        config.publicUrl ?? `http://${formatHostPort({ host: bound.address, port: bound.port })}`
      ).replace(/\/+$/, '')
      await tunnel.start()

      const hub = new Hub(
        services,
        app,
        tunnel,
        routes,
        new HubAdmin(services),
        privateIntel,
        bus,
        lookupAudit,
      )
      hub.startHousekeeping()
      logger.info(
        {
          event: 'HUB_LISTENING',
          url: services.publicUrl,
          region: config.region,
          nodeId: config.nodeId,
        },
        `hub listening on ${services.publicUrl}`,
      )
      return hub
    } catch (err) {
      await tunnel?.close().catch(() => undefined)
      await app?.close().catch(() => undefined)
      await lookupAudit?.drain()
      await bus?.close().catch(() => undefined)
      await services.database.close()
      throw err
    }
  }

  async stop(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer)
    this.timers = []
    await this.tunnel.close()
    await this.app.close()
    await this.lookupAudit.drain()
    await this.bus?.close()
    await this.services.database.close()
    this.services.logger.info({ event: 'HUB_STOPPED' }, 'hub stopped')
  }

  private startHousekeeping(): void {
    const { services } = this
    const every = (ms: number, what: string, task: () => Promise<unknown>): void => {
      const timer = setInterval(() => {
        task().catch((err: unknown) =>
          services.logger.error(
            { event: 'HUB_HOUSEKEEPING_FAILED', task: what, err },
            `${what} failed`,
          ),
        )
      }, ms)
      timer.unref()
      this.timers.push(timer)
    }
    every(HOUR, 'signing key rotation', () => services.keys.ensureCurrent())
    every(24 * HOUR, 'telemetry retention', () => services.telemetry.prune())
  }
}
