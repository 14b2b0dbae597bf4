import { z } from 'zod'
import { describeError, type Logger } from '@postern/core'
import { OBSERVABLE_TYPES } from '@postern/ctim'
import type { AuditLog, IncidentStore } from '@postern/store'
import { auditActorOf, type Caller } from '../casebooks/caller.js'
import type { WatchlistService } from '../watchlist/watchlist-service.js'
import {
  DETECTIONS,
  type AutoIncidentPolicy,
  type AutoIncidentResult,
  type AutoIncidents,
  type Detection,
} from './auto-incidents.js'

/** What an org gets until it chooses: incidents for malware, malicious URLs and retro-remediation. */
export const DEFAULT_AUTO_INCIDENT_POLICY: AutoIncidentPolicy = {
  detections: ['virus', 'malicious_url', 'retro_remediation'],
  windowMs: 60 * 60_000,
}

export const autoIncidentPolicySchema = z
  .strictObject({
    detections: z
      .array(z.enum(DETECTIONS))
      .max(DETECTIONS.length)
      .describe(
        'Detections that raise incidents: virus, malicious_url, retro_remediation, blocked_user',
      ),
    window_minutes: z
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 60)
      .describe(
        'Messages with the same URL, sender, hash or user within this many minutes join one incident',
      ),
  })
  .describe('Automatic incident policy')

const observable = z.strictObject({
  type: z.enum(OBSERVABLE_TYPES),
  value: z.string().min(1).max(2048),
})
const message = z.strictObject({
  mid: z.string().min(1).max(64),
  messageId: z.string().max(998).nullable().optional(),
  subject: z.string().max(998).nullable().optional(),
  sender: z.string().max(320).nullable().optional(),
  recipients: z.array(z.string().max(320)).max(1000).optional(),
  direction: z.enum(['incoming', 'outgoing']).optional(),
})

/**
 * Event bodies a gateway sends through the tunnel for this area. The org and device come from
 * the tunnel's authenticated device, never from the body: a gateway cannot report for another org.
 */
export const gatewayEventSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('detection'),
    detection: z.enum(DETECTIONS),
    key: observable,
    at: z.number().int().nonnegative(),
    message,
    verdict: z.string().max(512).nullable().optional(),
  }),
  z.strictObject({
    kind: z.literal('message_observed'),
    at: z.number().int().nonnegative(),
    message,
    observables: z.array(observable).max(5000),
  }),
])
export type GatewayEvent = z.infer<typeof gatewayEventSchema>

export type GatewayEventOutcome =
  | { ok: true; kind: 'detection'; result: AutoIncidentResult }
  | { ok: true; kind: 'message_observed'; sightings: number }
  /** `retry`: the hub could not process a valid event now; the gateway sends it again later. */
  | { ok: false; error: string; retry: boolean }

/**
 * The hub side of the gateways' private-intelligence events: detections feed automatic
 * incidents under the org's policy, message reports feed the watchlist. Bodies are validated
 * (a gateway may be compromised); a bad body is refused with a reason and logged, never thrown
 * into the tunnel.
 */
export class GatewayEventHandler {
  constructor(
    private readonly deps: {
      autoIncidents: AutoIncidents
      watchlist: WatchlistService
      policies: IncidentStore
      logger: Logger
    },
  ) {}

  async policy(orgId: string): Promise<AutoIncidentPolicy> {
    const stored = await this.deps.policies.autoPolicy(orgId)
    return stored
      ? { detections: stored.detections as Detection[], windowMs: stored.windowMs }
      : DEFAULT_AUTO_INCIDENT_POLICY
  }

  async handle(
    device: { orgId: string; deviceId: string },
    payload: unknown,
  ): Promise<GatewayEventOutcome> {
    const parsed = gatewayEventSchema.safeParse(payload)
    if (!parsed.success) {
      const error = parsed.error.issues
        .slice(0, 5)
        .map((i) => `${i.path.join('.')}: ${i.message}`)
        .join('; ')
      this.deps.logger.warn(
        { event: 'GATEWAY_EVENT_REJECTED', orgId: device.orgId, deviceId: device.deviceId, error },
        'gateway event refused',
      )
      return { ok: false, error, retry: false }
    }
    const event = parsed.data
    try {
      if (event.kind === 'detection') {
        const result = await this.deps.autoIncidents.handle(
          { ...event, orgId: device.orgId, deviceId: device.deviceId },
          await this.policy(device.orgId),
        )
        return { ok: true, kind: 'detection', result }
      }
      const outcomes = await this.deps.watchlist.onMessageObserved({
        ...event,
        orgId: device.orgId,
        deviceId: device.deviceId,
      })
      return { ok: true, kind: 'message_observed', sightings: outcomes.length }
    } catch (err) {
      this.deps.logger.error(
        {
          event: 'GATEWAY_EVENT_FAILED',
          orgId: device.orgId,
          deviceId: device.deviceId,
          kind: event.kind,
          err: describeError(err),
        },
        'gateway event handling failed',
      )
      return {
        ok: false,
        error: 'the hub could not process the event; it will be retried',
        retry: true,
      }
    }
  }
}

/** Reads and changes an org's automatic-incident policy, auditing changes. */
export class AutoIncidentPolicyService {
  constructor(
    private readonly deps: {
      handler: GatewayEventHandler
      policies: IncidentStore
      audit: AuditLog
      now: () => number
    },
  ) {}

  get(caller: Caller): Promise<AutoIncidentPolicy> {
    return this.deps.handler.policy(caller.orgId)
  }

  async set(
    caller: Caller,
    input: z.infer<typeof autoIncidentPolicySchema>,
    remoteIp: string | null = null,
  ): Promise<AutoIncidentPolicy> {
    const policy = {
      detections: [...new Set(input.detections)],
      windowMs: input.window_minutes * 60_000,
    }
    await this.deps.policies.setAutoPolicy(caller.orgId, {
      ...policy,
      updatedAt: this.deps.now(),
      updatedBy: auditActorOf(caller).id,
    })
    await this.deps.audit.record({
      orgId: caller.orgId,
      actor: auditActorOf(caller),
      source: 'api',
      remoteIp,
      action: 'incident.auto_policy.update',
      target: null,
      outcome: 'success',
      details: { detections: policy.detections, window_minutes: input.window_minutes },
    })
    return policy
  }
}
