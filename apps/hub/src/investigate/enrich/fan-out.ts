import type { Logger } from '@postern/core'
import type { Observable } from '@postern/ctim'
import {
  ActionSchema,
  DeliberateDataSchema,
  HealthDataSchema,
  ObserveDataSchema,
  RELAY_ROUTES,
  RefSchema,
  TriggerDataSchema,
  createRelayClient,
  mintConfigurationToken,
  relayAnswerSchema,
  type RelayCallResult,
  type RelayError,
  type SigningKey,
} from '@postern/relay'
import { z } from 'zod'
import type { KeyStore } from '../../auth/key-store.js'
import type { DeviceName } from '../../orgs/org-cache.js'
import type { DeviceTunnel } from '../../tunnel/device-tunnel.js'
import type { InvestigateConfig } from '../config.js'
import type { ResolvedModule } from '../modules/module-service.js'
import { GatewayLatency } from './gateway-latency.js'
import { settleLimited } from './limit.js'

/** Relay routes the hub fans out. */
export type FanOutRoute =
  'health' | 'observe' | 'deliberate' | 'refer' | 'respondObservables' | 'respondTrigger'

const SUPPORTED_API: Record<FanOutRoute, string> = {
  health: 'health',
  observe: 'observe/observables',
  deliberate: 'deliberate/observables',
  refer: 'refer/observables',
  respondObservables: 'respond/observables',
  respondTrigger: 'respond/trigger',
}

const DATA_SCHEMAS: Record<FanOutRoute, z.ZodType> = {
  health: HealthDataSchema,
  observe: ObserveDataSchema,
  deliberate: DeliberateDataSchema,
  refer: z.array(RefSchema),
  respondObservables: z.array(ActionSchema),
  respondTrigger: TriggerDataSchema,
}

/** Who answered, as every enrich `data` and `errors` entry names it (reference §2). */
export interface ModuleIdentity {
  module: string
  module_instance_id: string
  module_type_id: string
  'module-type': string
}

export interface ModuleErrorEntry extends ModuleIdentity, RelayError {
  /** The gateway, for the email module (one instance spans several gateways). */
  device_id?: string
}

/** One call: a relay module, or one gateway of the email module. */
export interface LegResult {
  identity: ModuleIdentity
  device?: DeviceName
  data?: unknown
  errors: RelayError[]
}

export interface FanOutDeps {
  /** The organisation's registered devices (the org cache's, read on every call). */
  devices: (orgId: string) => Promise<readonly DeviceName[]>
  tunnel: DeviceTunnel
  keys: KeyStore
  publicUrl: () => string
  issuer: string
  config: InvestigateConfig
  logger: Logger
}

export function identityOf(module: ResolvedModule): ModuleIdentity {
  return {
    module: module.instance.name,
    module_instance_id: module.instance.id,
    module_type_id: module.instance.moduleTypeId,
    'module-type': module.typeName,
  }
}

function errorOf(err: unknown): RelayError {
  const code =
    err && typeof err === 'object' && 'code' in err && typeof err.code === 'string'
      ? err.code
      : 'module error'
  const message = err instanceof Error ? err.message : String(err)
  const timeout = /TIMEOUT/i.test(code)
  return {
    code: timeout ? 'module timeout' : code,
    message: message.slice(0, 1000),
    type: 'fatal',
  }
}

/**
 * Calls one relay route on module instances: each gateway of the email module through its
 * tunnel, each relay module over HTTP(S) with a configuration token the hub mints (`aud` = the
 * module URL, `jwks_host` = the hub, so the module verifies it against the hub's JWKS). Every
 * call has its own timeout; relay module calls run under a concurrency limit, gateway calls all
 * at once; a failing or late call becomes error entries, never a failed request.
 */
export class FanOut {
  private readonly latency = new GatewayLatency()

  constructor(private readonly deps: FanOutDeps) {}

  async call(
    orgId: string,
    route: FanOutRoute,
    body: unknown,
    modules: readonly ResolvedModule[],
    options: {
      signal?: AbortSignal
      timeoutMs?: number
      /** Called as each call ends, with its position in the result: work that need not wait. */
      onLeg?: (position: number, leg: LegResult) => void
    } = {},
  ): Promise<LegResult[]> {
    const timeoutMs = options.timeoutMs ?? this.deps.config.moduleTimeoutSeconds * 1000
    const relayTasks: (() => Promise<LegResult>)[] = []
    const gatewayCalls: Promise<LegResult>[] = []
    /** Gateway calls to start, each writing its outcome at its index in `gatewayCalls`. */
    const gatewayLaunches: { id: string; launch: () => void }[] = []
    /** Where each leg's outcome comes from, in module order. */
    const order: { relay: boolean; index: number }[] = []
    const settled = (position: number) => (leg: LegResult) => {
      options.onLeg?.(position, leg)
      return leg
    }
    let orgDevices: readonly DeviceName[] | undefined
    for (const module of modules) {
      const identity = identityOf(module)
      if (module.kind === 'relay') {
        if (!module.supportedApis.includes(SUPPORTED_API[route])) continue
        const position = order.push({ relay: true, index: relayTasks.length }) - 1
        relayTasks.push(() =>
          this.callRelay(module, identity, route, body, timeoutMs, options.signal).then(
            settled(position),
          ),
        )
        continue
      }
      orgDevices ??= await this.deps.devices(orgId)
      const wanted = module.settings.devices
      const devices =
        wanted === 'all' ? orgDevices : orgDevices.filter((d) => wanted.includes(d.id))
      // Every gateway at once: each call is one frame on that gateway's own open tunnel (bounded
      // by the tunnel's in-flight limit), so a limit here would only make the request wait for
      // gateways in waves — 50 gateways under a limit of 16 took four of the slowest's answers.
      for (const device of devices) {
        const index = gatewayLaunches.length
        const position = order.push({ relay: false, index }) - 1
        gatewayLaunches.push({
          id: device.id,
          launch: () => {
            gatewayCalls[index] = this.callGateway(
              orgId,
              device,
              identity,
              route,
              body,
              timeoutMs,
            ).then(settled(position))
          },
        })
      }
    }
    // The slowest gateways get their frames first (see GatewayLatency); results keep module order.
    for (const { launch } of this.latency.slowestFirst(gatewayLaunches)) launch()
    // Relay modules are HTTPS requests to other services: those run under the limit.
    const [relays, gateways] = await Promise.all([
      settleLimited(relayTasks, this.deps.config.concurrency),
      Promise.allSettled(gatewayCalls),
    ])
    return order.map(({ relay, index }) => {
      const outcome = (relay ? relays : gateways)[index] as PromiseSettledResult<LegResult>
      if (outcome.status === 'fulfilled') return outcome.value
      this.deps.logger.error(
        { event: 'ENRICH_LEG_FAILED', err: outcome.reason },
        'a module call failed unexpectedly',
      )
      return {
        identity: { module: '?', module_instance_id: '?', module_type_id: '?', 'module-type': '?' },
        errors: [errorOf(outcome.reason)],
      }
    })
  }

  private async callRelay(
    module: Extract<ResolvedModule, { kind: 'relay' }>,
    identity: ModuleIdentity,
    route: FanOutRoute,
    body: unknown,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<LegResult> {
    const publicUrl = this.deps.publicUrl()
    const client = createRelayClient({
      url: module.url,
      timeoutMs,
      headers: { 'user-agent': 'postern-hub' },
      token: async () => {
        const key = await this.deps.keys.current()
        return mintConfigurationToken({
          // jose signs with a node KeyObject as well as a WebCrypto key.
          key: { kid: key.kid, privateKey: key.privateKey as unknown as SigningKey['privateKey'] },
          jwksHost: new URL(publicUrl).host,
          moduleUrl: module.url,
          settings: module.settings,
          issuer: this.deps.issuer,
          subject: module.instance.id,
        })
      },
    })
    const options = { ...(signal ? { signal } : {}) }
    let result: RelayCallResult<unknown>
    switch (route) {
      case 'health':
        result = await client.health(options)
        break
      case 'observe':
        result = await client.observe(body as Observable[], options)
        break
      case 'deliberate':
        result = await client.deliberate(body as Observable[], options)
        break
      case 'refer':
        result = await client.refer(body as Observable[], options)
        break
      case 'respondObservables':
        result = await client.respondObservables(body as Observable[], options)
        break
      case 'respondTrigger':
        result = await client.respondTrigger(
          body as Parameters<typeof client.respondTrigger>[0],
          options,
        )
        break
    }
    return { identity, data: result.data, errors: result.errors }
  }

  private async callGateway(
    orgId: string,
    device: DeviceName,
    identity: ModuleIdentity,
    route: FanOutRoute,
    body: unknown,
    timeoutMs: number,
  ): Promise<LegResult> {
    const leg = {
      identity,
      device: { id: device.id, name: device.name, hostname: device.hostname },
    }
    let reply: unknown
    const started = performance.now()
    try {
      reply = await this.deps.tunnel.callModule(orgId, device.id, RELAY_ROUTES[route], body, {
        timeoutMs,
      })
    } catch (err) {
      return { ...leg, errors: [errorOf(err)] }
    } finally {
      this.latency.record(device.id, performance.now() - started)
    }
    const parsed = relayAnswerSchema(DATA_SCHEMAS[route]).safeParse(reply)
    if (!parsed.success) {
      return {
        ...leg,
        errors: [
          {
            code: 'invalid module response',
            message: `Gateway ${device.name} answered outside the relay contract`,
            type: 'fatal',
          },
        ],
      }
    }
    return {
      ...leg,
      data: parsed.data.data,
      errors: (parsed.data.errors ?? []) as RelayError[],
    }
  }
}

/** Error entries of a leg, named after the module (and gateway). */
export function errorEntries(leg: LegResult): ModuleErrorEntry[] {
  return leg.errors.map((error) => ({
    ...leg.identity,
    ...error,
    ...(leg.device ? { device_id: leg.device.id } : {}),
  }))
}
