import { z } from 'zod'

/**
 * The calls carried by the tunnel between a gateway and its hub, with the schemas both sides
 * validate against. Gateway → hub: `device.hello` (first call after connecting), `device.update`,
 * `telemetry.push`, `events.push`. Hub → gateway: `module.call` (a relay-module endpoint of the
 * gateway, e.g. `/health` or `/observe/observables`: POST path + JSON body → JSON reply).
 */
export const TUNNEL_METHODS = {
  deviceHello: 'device.hello',
  deviceUpdate: 'device.update',
  telemetryPush: 'telemetry.push',
  eventsPush: 'events.push',
  moduleCall: 'module.call',
} as const

const text = (max: number) => z.string().max(max)

/** What a gateway reports about itself at connect time and whenever it changes. */
export const deviceStatus = z
  .object({
    version: text(64).min(1),
    hostname: text(253).min(1),
    model: text(64).min(1),
    threatResponseEnabled: z.boolean(),
    telemetryEnabled: z.boolean(),
  })
  .strict()
export type DeviceStatus = z.infer<typeof deviceStatus>

export const deviceUpdate = deviceStatus.partial().strict()
export type DeviceUpdate = z.infer<typeof deviceUpdate>

export const helloResult = z
  .object({
    deviceId: z.string(),
    orgId: z.string(),
    name: z.string(),
    region: z.string(),
    serverTime: z.number(),
  })
  .strict()
export type HelloResult = z.infer<typeof helloResult>

/**
 * Usage telemetry ("Cisco Success Network" in the seed §5): the gateway's identity and, per
 * feature, whether it is enabled. Field names follow the seed's table.
 */
export const telemetryFeature = z
  .object({
    name: text(128).min(1),
    enabled: z.boolean(),
    /** Licence-style status; Postern features are always `compliance` (nothing to license). */
    status: text(64).min(1),
    /** Expiry in epoch seconds; null when the feature does not expire. */
    expiry: z.number().int().nonnegative().nullable(),
    /** Stable id of the feature (the same on every gateway). */
    featureId: z.uuid(),
  })
  .strict()
export type TelemetryFeature = z.infer<typeof telemetryFeature>

export const telemetryPayload = z
  .object({
    uid: text(128).min(1),
    model: text(64).min(1),
    /** Smart-licensing virtual account name in the seed; Postern has no licensing, so null. */
    sIVAN: text(128).nullable(),
    deployment: z.enum(['cluster', 'standalone']),
    /** The account the gateway is registered to (the hub organisation id). */
    userAccountID: text(128).nullable(),
    version: text(64).min(1),
    /** Epoch milliseconds. */
    installDate: z.number().int().nonnegative(),
    features: z.array(telemetryFeature).max(256),
    /** When the payload was built, epoch milliseconds. */
    generatedAt: z.number().int().nonnegative(),
  })
  .strict()
export type TelemetryPayload = z.infer<typeof telemetryPayload>

export const telemetryPushResult = z.object({ id: z.number(), receivedAt: z.number() }).strict()

/** Audit-worthy events a gateway reports to its hub (registration, settings changes …). */
export const deviceEvent = z
  .object({
    action: z.string().regex(/^[a-z][a-z0-9.-]{0,63}$/),
    at: z.number().int().nonnegative(),
    outcome: z.enum(['success', 'failure', 'denied']),
    actor: text(200).min(1),
    details: z.record(z.string(), z.unknown()).default({}),
  })
  .strict()
export type DeviceEvent = z.infer<typeof deviceEvent>

export const eventsPush = z.object({ events: z.array(deviceEvent).min(1).max(100) }).strict()

export const moduleCall = z
  .object({
    path: z
      .string()
      .regex(/^\/[A-Za-z0-9/_.-]{0,200}$/, 'a module path like /health or /observe/observables'),
    body: z.unknown(),
  })
  .strict()
export type ModuleCall = z.infer<typeof moduleCall>
