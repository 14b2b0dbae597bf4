import type { FastifyRequest } from 'fastify'
import type { Transporter } from 'nodemailer'
import type { Clock, Logger } from '@postern/core'
import type { HttpApp } from '@postern/http'
import {
  ActiveCaseStore,
  BlockPushPoliciesRepo,
  CtiaEntityStore,
  IncidentStore,
  WatchStore,
  type ActionRequest,
  type AuditLog,
  type Database,
  type HubSchema,
} from '@postern/store'
import type { Caller } from './caller.js'
import { CasebookService } from './casebook-service.js'
import { activeCaseRoutes } from './active-case-routes.js'
import { CtiaEntityService } from './ctia-entity-service.js'
import type { BaseUrl } from './ctia-http.js'
import { ctiaRoutes } from './ctia-routes.js'
import { AutoIncidents } from '../incidents/auto-incidents.js'
import { autoPolicyRoutes } from '../incidents/auto-policy-routes.js'
import {
  AutoIncidentPolicyService,
  GatewayEventHandler,
  type GatewayEventOutcome,
} from '../incidents/gateway-events.js'
import { IncidentService } from '../incidents/incident-service.js'
import { JudgementService } from '../judgements/judgement-service.js'
import { BlockPushService, type GatewayBlockPusher } from '../sharing/block-push.js'
import { blockPolicyRoutes } from '../sharing/block-policy-routes.js'
import { BlockPushPolicyService, GatedBlockPush } from '../sharing/block-push-approval.js'
import { blockPushRoutes } from '../sharing/block-push-routes.js'
import type { TriggerInput } from '../investigate/enrich/respond-service.js'
import { BundleService } from '../sharing/bundle-service.js'
import { StixExportService } from '../sharing/stix-export.js'
import { stixRoutes } from '../sharing/stix-routes.js'
import { WatchNotifier, type WatchNotification } from '../watchlist/notifiers.js'
import { watchlistRoutes } from '../watchlist/watchlist-routes.js'
import { WatchlistService } from '../watchlist/watchlist-service.js'

export interface PrivateIntelDeps {
  database: Database<HubSchema>
  audit: AuditLog
  clock: Clock
  logger: Logger
  /** The hub's public origin (ids are `<baseUrl>/ctia/<type>/<id>`). */
  baseUrl: BaseUrl
  /** The authenticated caller of a request (the hub's `request.auth`). */
  callerOf: (request: FastifyRequest) => Caller
  /** Name in the `identity` of STIX exports. */
  producerName?: string
  /** Live console delivery of watch sightings. */
  onConsoleNotification?: (n: WatchNotification) => void
  /** Mail transport and sender for watch e-mails. */
  mail?: { transport: Transporter; from: string }
  /** The tunnel's block-list push; without it `blockPush` is absent. */
  blockPusher?: GatewayBlockPusher
  /**
   * Files a block push for approval (the hub's approval service) when the org's policy says
   * so; the push routes need it.
   */
  requestApproval?: (orgId: string, input: TriggerInput) => Promise<ActionRequest>
  /** Called after any change to an org's watches (the tunnel re-sends the watched set). */
  onWatchChange?: (orgId: string) => void
}

export interface PrivateIntel {
  entities: CtiaEntityService
  casebooks: CasebookService
  incidents: IncidentService
  judgements: JudgementService
  watchlist: WatchlistService
  bundles: BundleService
  stix: StixExportService
  /** What the tunnel calls with each gateway event body. */
  gatewayEvents: GatewayEventHandler
  autoPolicies: AutoIncidentPolicyService
  blockPushPolicy: BlockPushPolicyService
  blockPush?: BlockPushService
  /** Block pushes under the approval policy (with `blockPusher` and `requestApproval`). */
  gatedBlockPush?: GatedBlockPush
}

/** Builds the private-intelligence services over the hub's database. */
export function createPrivateIntel(deps: PrivateIntelDeps): PrivateIntel {
  const { database, audit, clock, logger, baseUrl } = deps
  const entities = new CtiaEntityService({ store: new CtiaEntityStore(database), audit, clock })
  const incidentStore = new IncidentStore(database.db)
  const incidents = new IncidentService(entities, incidentStore)
  const casebooks = new CasebookService({
    entities,
    activeCases: new ActiveCaseStore(database.db),
    audit,
  })
  const judgements = new JudgementService(entities)
  const watchlist = new WatchlistService({
    watches: new WatchStore(database.db),
    audit,
    entities,
    incidents,
    casebooks,
    clock,
    logger,
    ...(deps.onWatchChange ? { onChange: deps.onWatchChange } : {}),
    notifier: new WatchNotifier({
      logger,
      ...(deps.onConsoleNotification ? { console: deps.onConsoleNotification } : {}),
      ...(deps.mail ? { mail: deps.mail } : {}),
    }),
  })
  const gatewayEvents = new GatewayEventHandler({
    autoIncidents: new AutoIncidents({
      entities,
      incidents,
      campaigns: incidentStore,
      logger,
    }),
    watchlist,
    policies: incidentStore,
    logger,
  })
  const blockPushPolicy = new BlockPushPolicyService({
    repo: new BlockPushPoliciesRepo(database.db),
    audit,
    now: () => clock.now(),
  })
  const blockPush =
    deps.blockPusher && new BlockPushService({ entities, pusher: deps.blockPusher, audit, baseUrl })
  return {
    entities,
    casebooks,
    incidents,
    judgements,
    watchlist,
    gatewayEvents,
    autoPolicies: new AutoIncidentPolicyService({
      handler: gatewayEvents,
      policies: incidentStore,
      audit,
      now: () => clock.now(),
    }),
    bundles: new BundleService({ entities, incidents, judgements, baseUrl }),
    stix: new StixExportService({
      entities,
      incidents,
      judgements,
      baseUrl,
      producerName: deps.producerName ?? 'Postern hub',
    }),
    blockPushPolicy,
    ...(blockPush ? { blockPush } : {}),
    ...(blockPush && deps.requestApproval
      ? {
          gatedBlockPush: new GatedBlockPush({
            blockPush,
            policy: blockPushPolicy,
            requestApproval: deps.requestApproval,
          }),
        }
      : {}),
  }
}

/**
 * Tunnel event topic gateways publish this area's events on (detections and message reports;
 * bodies in `gatewayEventSchema`).
 */
export const GATEWAY_EVENT_TOPIC = 'private-intel.event'

/**
 * For the tunnel's event hook: hands events of this area's topic to the handler, with the org
 * and device of the authenticated connection, and returns the outcome (the handler never
 * rejects); null for other topics.
 */
export function onGatewayEvent(
  pi: PrivateIntel,
  device: { orgId: string; deviceId: string },
  topic: string,
  data: unknown,
): Promise<GatewayEventOutcome> | null {
  if (topic !== GATEWAY_EVENT_TOPIC) return null
  return pi.gatewayEvents.handle({ orgId: device.orgId, deviceId: device.deviceId }, data)
}

/**
 * Registers the area's routes on the hub's app (behind its auth layer): `/ctia/...` and, under
 * `/api/v1`, the active case, watchlist, automatic-incident policy, block push policy, STIX
 * exports and (with a block pusher and the approval service) the block pushes.
 */
export async function registerPrivateIntelRoutes(
  app: HttpApp,
  pi: PrivateIntel,
  deps: Pick<PrivateIntelDeps, 'baseUrl' | 'callerOf'>,
): Promise<void> {
  const { callerOf, baseUrl } = deps
  await app.register(ctiaRoutes, {
    prefix: '/ctia',
    entities: pi.entities,
    casebooks: pi.casebooks,
    incidents: pi.incidents,
    judgements: pi.judgements,
    bundles: pi.bundles,
    baseUrl,
    callerOf,
  })
  await app.register(
    async (api) => {
      await api.register(activeCaseRoutes, { casebooks: pi.casebooks, baseUrl, callerOf })
      await api.register(watchlistRoutes, { watchlist: pi.watchlist, callerOf })
      await api.register(autoPolicyRoutes, { policies: pi.autoPolicies, callerOf })
      await api.register(stixRoutes, { stix: pi.stix, callerOf })
      await api.register(blockPolicyRoutes, { policy: pi.blockPushPolicy, callerOf })
      if (pi.blockPush && pi.gatedBlockPush)
        await api.register(blockPushRoutes, {
          blockPush: pi.blockPush,
          gated: pi.gatedBlockPush,
          callerOf,
        })
    },
    { prefix: '/api/v1' },
  )
}

/** `createPrivateIntel` and `registerPrivateIntelRoutes` in one call. */
export async function mountPrivateIntel(
  app: HttpApp,
  deps: PrivateIntelDeps,
): Promise<PrivateIntel> {
  const pi = createPrivateIntel(deps)
  await registerPrivateIntelRoutes(app, pi, deps)
  return pi
}
