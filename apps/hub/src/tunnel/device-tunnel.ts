import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import type { AppError, Clock, Logger } from '@postern/core'
import { isAppError } from '@postern/core'
import type { AuditLog, DevicesRepo } from '@postern/store'
import {
  CLOSE_CODES,
  TUNNEL_METHODS,
  TunnelServer,
  deviceStatus,
  deviceUpdate,
  eventsPush,
  moduleCall,
  type CallContext,
  type HelloResult,
  type TunnelPeer,
} from '@postern/tunnel'
import type { z } from 'zod'
import type { ClusterBus } from '../cluster/cluster-bus.js'
import type { DeviceService } from '../devices/device-service.js'
import { hubErrors } from '../errors.js'
import { DEVICE_SCOPES, type TelemetryService } from '../telemetry/telemetry-service.js'

export const TUNNEL_PATH = '/api/v1/tunnel'

/** What the hub knows about the device on the other end of a tunnel connection. */
export interface DeviceConnection {
  deviceId: string
  orgId: string
  name: string
  region: string
  remoteIp: string | null
}

export interface DeviceTunnelOptions {
  devices: DeviceService
  devicesRepo: DevicesRepo
  telemetry: TelemetryService
  audit: AuditLog
  clock: Clock
  logger: Logger
  nodeId: string
  heartbeatMs: number
  requestTimeoutMs: number
  maxFrameBytes: number
  /** With several hub nodes: routes calls to devices whose tunnel another node holds. */
  bus?: ClusterBus
  /** Extra handlers for events gateways push (later features subscribe here). */
  onDeviceEvent?: (device: DeviceConnection, topic: string, data: unknown) => void
  /** Extra methods gateways call (later features serve theirs here), by method name. */
  requests?: Readonly<
    Record<string, (params: unknown, device: DeviceConnection) => Promise<unknown>>
  >
  /** Called after a device said hello (it is ready for the hub's calls). */
  onDeviceReady?: (device: DeviceConnection) => void
}

/**
 * The hub end of the gateway tunnels: authenticates each upgrade with the device credential,
 * records presence (connected, last seen) in the database so every hub node and the device list
 * see it, serves the gateways' calls (hello, status updates, telemetry, audit events) and lets
 * hub features call a gateway's relay-module endpoints.
 */
export class DeviceTunnel {
  readonly server: TunnelServer<DeviceConnection>
  private touchTimer: NodeJS.Timeout | null = null
  /** Cluster bus subscriptions of the devices whose tunnel this node holds. */
  private readonly served = new Map<string, () => void>()

  constructor(private readonly options: DeviceTunnelOptions) {
    const { logger } = options
    this.server = new TunnelServer<DeviceConnection>({
      path: TUNNEL_PATH,
      logger: logger.child({ component: 'tunnel' }),
      heartbeatMs: options.heartbeatMs,
      defaultTimeoutMs: options.requestTimeoutMs,
      maxPayload: options.maxFrameBytes,
      authenticate: (request) => this.authenticate(request),
      handlers: {
        requests: {
          [TUNNEL_METHODS.deviceHello]: (params, call) => this.hello(params, call),
          [TUNNEL_METHODS.deviceUpdate]: (params, call) => this.update(params, call),
          [TUNNEL_METHODS.telemetryPush]: (params, call) =>
            options.telemetry.ingest(
              { id: call.context.deviceId, orgId: call.context.orgId, scopes: DEVICE_SCOPES },
              params,
            ),
          [TUNNEL_METHODS.eventsPush]: (params, call) => this.events(params, call),
          ...Object.fromEntries(
            Object.entries(options.requests ?? {}).map(([method, handler]) => [
              method,
              (params: unknown, call: CallContext<DeviceConnection>) =>
                handler(params, call.context),
            ]),
          ),
        },
        onEvent: (topic, data, peer) => options.onDeviceEvent?.(peer.context, topic, data),
      },
      onConnect: (peer) =>
        void this.connected(peer).catch((err: unknown) =>
          logger.error(
            { event: 'DEVICE_CONNECT_RECORD_FAILED', deviceId: peer.context.deviceId, err },
            'could not record the device connection',
          ),
        ),
      onDisconnect: (peer, code) => void this.disconnected(peer, code),
    })
    options.devices.link({
      revokeConnection: (id) => {
        this.revokeLocal(id)
        options.bus?.revokeDevice(id)
      },
    })
  }

  /** Clears presence this node left behind (after a crash) and starts the last-seen heartbeat. */
  async start(): Promise<void> {
    await this.options.devicesRepo.clearConnectionsOfNode(
      this.options.nodeId,
      this.options.clock.now(),
    )
    this.touchTimer = setInterval(() => {
      void this.options.devicesRepo
        .touch(this.server.connectedPeers(), this.options.clock.now())
        .catch((err: unknown) =>
          this.options.logger.warn(
            { event: 'DEVICE_TOUCH_FAILED', err },
            'could not record last seen',
          ),
        )
    }, this.options.heartbeatMs)
    this.touchTimer.unref()
  }

  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    return this.server.handleUpgrade(request, socket, head)
  }

  isConnected(deviceId: string): boolean {
    return this.server.get(deviceId) !== undefined
  }

  /**
   * Calls a relay-module endpoint of a gateway (POST `path` with `body`) through its tunnel and
   * returns the gateway's JSON reply. The device must belong to `orgId`. When another hub node
   * holds the tunnel, the call travels there over the cluster bus.
   */
  async callModule(
    orgId: string,
    deviceId: string,
    path: string,
    body: unknown,
    options: { timeoutMs?: number } = {},
  ): Promise<unknown> {
    const call = moduleCall.safeParse({ path, body })
    if (!call.success)
      throw hubErrors.DEVICE_CALL_INVALID({ reason: call.error.issues[0]?.message ?? 'invalid' })
    const { bus } = this.options
    if (this.server.get(deviceId) || !bus)
      return this.callLocal(orgId, deviceId, call.data, options)
    return bus.callDevice(deviceId, {
      orgId,
      ...call.data,
      timeoutMs: options.timeoutMs ?? this.options.requestTimeoutMs,
    })
  }

  private async callLocal(
    orgId: string,
    deviceId: string,
    call: z.output<typeof moduleCall>,
    options: { timeoutMs?: number },
  ): Promise<unknown> {
    const peer = this.server.get(deviceId)
    if (!peer || peer.context.orgId !== orgId) throw hubErrors.DEVICE_NOT_CONNECTED({ deviceId })
    return peer.request(TUNNEL_METHODS.moduleCall, call, options)
  }

  private revokeLocal(deviceId: string): void {
    this.server.disconnect(deviceId, CLOSE_CODES.REVOKED, 'device deregistered')
  }

  async close(): Promise<void> {
    if (this.touchTimer) clearInterval(this.touchTimer)
    for (const unsubscribe of this.served.values()) unsubscribe()
    this.served.clear()
    const ids = this.server.connectedPeers()
    await this.server.close()
    const now = this.options.clock.now()
    for (const id of ids)
      await this.options.devicesRepo
        .markDisconnected(id, this.options.nodeId, now)
        .catch(() => undefined)
  }

  private async authenticate(request: IncomingMessage) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')
    const device = match?.[1] ? await this.options.devices.authenticate(match[1]) : undefined
    if (!device) {
      this.options.logger.warn(
        { event: 'TUNNEL_AUTH_REFUSED', remoteIp: request.socket.remoteAddress },
        'tunnel refused: invalid device credential',
      )
      return {
        ok: false as const,
        status: 401,
        body: hubErrors.DEVICE_CREDENTIAL_INVALID().toJSON(),
      }
    }
    return {
      ok: true as const,
      peerId: device.id,
      context: {
        deviceId: device.id,
        orgId: device.orgId,
        name: device.name,
        region: device.region,
        remoteIp: request.socket.remoteAddress ?? null,
      },
    }
  }

  private async connected(peer: TunnelPeer<DeviceConnection>): Promise<void> {
    const { deviceId, orgId, remoteIp } = peer.context
    const { bus } = this.options
    if (bus && !this.served.has(deviceId)) {
      // Claimed before the await so that a second connection of the device does not subscribe twice.
      this.served.set(deviceId, () => undefined)
      const unsubscribe = await bus.serveDevice(deviceId, {
        call: (routed) =>
          this.callLocal(
            routed.orgId,
            deviceId,
            { path: routed.path, body: routed.body },
            { timeoutMs: routed.timeoutMs },
          ),
        revoke: () => this.revokeLocal(deviceId),
      })
      if (this.served.has(deviceId)) this.served.set(deviceId, unsubscribe)
      else unsubscribe()
    }
    await this.options.devicesRepo.markConnected(deviceId, {
      now: this.options.clock.now(),
      node: this.options.nodeId,
      remoteIp,
    })
    this.options.logger.info(
      { event: 'DEVICE_CONNECTED', deviceId, orgId },
      'device tunnel connected',
    )
  }

  private async disconnected(peer: TunnelPeer<DeviceConnection>, code: number): Promise<void> {
    const { deviceId, orgId } = peer.context
    // A replacement connection of the same device on this node keeps it connected.
    if (this.server.get(deviceId)) return
    this.served.get(deviceId)?.()
    this.served.delete(deviceId)
    await this.options.devicesRepo
      .markDisconnected(deviceId, this.options.nodeId, this.options.clock.now())
      .catch(() => undefined)
    this.options.logger.info(
      { event: 'DEVICE_DISCONNECTED', deviceId, orgId, code },
      'device tunnel closed',
    )
  }

  private async hello(params: unknown, call: CallContext<DeviceConnection>): Promise<HelloResult> {
    const status = parse(deviceStatus, params)
    await this.options.devicesRepo.updateFacts(call.context.deviceId, status)
    // After the reply is on its way: the device serves the hub's calls once it said hello.
    setImmediate(() => this.options.onDeviceReady?.(call.context))
    return {
      deviceId: call.context.deviceId,
      orgId: call.context.orgId,
      name: call.context.name,
      region: call.context.region,
      serverTime: this.options.clock.now(),
    }
  }

  private async update(
    params: unknown,
    call: CallContext<DeviceConnection>,
  ): Promise<{ ok: true }> {
    const change = parse(deviceUpdate, params)
    await this.options.devicesRepo.updateFacts(call.context.deviceId, change)
    return { ok: true }
  }

  private async events(
    params: unknown,
    call: CallContext<DeviceConnection>,
  ): Promise<{ recorded: number }> {
    const { events } = parse(eventsPush, params)
    for (const event of events) {
      await this.options.audit.record({
        orgId: call.context.orgId,
        actor: { type: 'device', id: call.context.deviceId },
        source: 'tunnel',
        action: `gateway.${event.action}`,
        target: { type: 'device', id: call.context.deviceId },
        outcome: event.outcome,
        details: { ...event.details, gatewayActor: event.actor, gatewayAt: event.at },
      })
    }
    return { recorded: events.length }
  }
}

function parse<S extends z.ZodType>(schema: S, params: unknown): z.output<S> {
  const result = schema.safeParse(params)
  if (!result.success) {
    const issue = result.error.issues[0]
    throw hubErrors.DEVICE_CALL_INVALID({
      reason: `${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`,
    })
  }
  return result.data
}

export function isTunnelError(err: unknown): err is AppError {
  return isAppError(err) && err.code.startsWith('TUNNEL_')
}
