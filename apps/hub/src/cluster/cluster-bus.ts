import { ErrorCode, JSONCodec, connect, type NatsConnection, type Subscription } from 'nats'
import { describeError, isAppError, type AppError, type Logger } from '@postern/core'
import { remoteError, remoteToError, tunnelErrors } from '@postern/tunnel'
import { z } from 'zod'
import { hubErrors } from '../errors.js'

/** A module call one hub node asks the node holding a device's tunnel to make. */
export const routedCall = z
  .object({
    orgId: z.string().min(1).max(128),
    path: z.string().min(1).max(1024),
    body: z.unknown(),
    timeoutMs: z.number().int().positive().max(600_000),
  })
  .strict()

export type RoutedCall = z.infer<typeof routedCall>

const routedReply = z.union([
  z.object({ ok: z.literal(true), result: z.unknown() }).strict(),
  z.object({ ok: z.literal(false), error: remoteError }).strict(),
])

/** What a node does for the devices whose tunnels it holds. */
export interface DeviceEndpoint {
  call: (call: RoutedCall) => Promise<unknown>
  /** The device was deregistered on another node: drop its tunnel here. */
  revoke: () => void
}

export interface ClusterBusOptions {
  url: string
  /** First subject token(s); hub deployments sharing one NATS server use different prefixes. */
  prefix: string
  nodeId: string
  connectTimeoutMs: number
  /** Added to a call's own timeout for the hop between nodes. */
  routeMarginMs: number
  logger: Logger
}

// Device ids become subject tokens: no dots, wildcards or spaces (NATS subject syntax).
const SUBJECT_TOKEN = /^[A-Za-z0-9_-]{1,128}$/

const codec = JSONCodec()

const NOTABLE_STATUS = new Set<string>(['disconnect', 'reconnect', 'error', 'staleConnection'])

/**
 * The hub nodes' message bus (NATS request/reply). A node subscribes to a subject per device
 * whose tunnel it holds, so that a module call arriving at any node reaches the one tunnel:
 * NATS answers "no responders" at once when no node holds it (the device is offline), and the
 * caller's timeout covers a node that dies mid-call. Nothing here is durable: a module call is
 * answered now or fails with a coded error, as a direct tunnel call does.
 */
export class ClusterBus {
  private constructor(
    private readonly nc: NatsConnection,
    private readonly options: ClusterBusOptions,
  ) {}

  static async connect(options: ClusterBusOptions): Promise<ClusterBus> {
    let nc: NatsConnection
    try {
      nc = await connect({
        servers: options.url,
        name: `postern-hub ${options.nodeId}`,
        timeout: options.connectTimeoutMs,
        // Once up, keep trying for ever: a NATS restart must not take the hub node down.
        maxReconnectAttempts: -1,
        reconnectTimeWait: 1_000,
      })
    } catch (err) {
      throw hubErrors.CLUSTER_UNREACHABLE({ url: redact(options.url), reason: describeError(err) })
    }
    const bus = new ClusterBus(nc, options)
    void bus.watchStatus()
    options.logger.info(
      { event: 'CLUSTER_BUS_CONNECTED', url: redact(options.url), nodeId: options.nodeId },
      'connected to the cluster bus',
    )
    return bus
  }

  /**
   * Answers calls and revocations for one device while this node holds its tunnel; resolves
   * once the NATS server knows the subscription (other nodes' calls reach it from then on).
   */
  async serveDevice(deviceId: string, endpoint: DeviceEndpoint): Promise<() => void> {
    const subject = this.deviceSubject(deviceId)
    const calls: Subscription = this.nc.subscribe(`${subject}.call`, {
      callback: (err, msg) => {
        if (err) return
        void this.answer(deviceId, msg.data, endpoint).then((reply) => {
          try {
            msg.respond(codec.encode(reply))
          } catch (sendErr) {
            msg.respond(
              codec.encode(
                failure(
                  hubErrors.CLUSTER_REPLY_TOO_LARGE({ deviceId, reason: describeError(sendErr) }),
                ),
              ),
            )
          }
        })
      },
    })
    const revocations = this.nc.subscribe(`${subject}.revoke`, {
      callback: (err) => {
        if (!err) endpoint.revoke()
      },
    })
    await this.nc.flush()
    return () => {
      calls.unsubscribe()
      revocations.unsubscribe()
    }
  }

  /** Calls a device through whichever node holds its tunnel. */
  async callDevice(deviceId: string, call: RoutedCall): Promise<unknown> {
    const subject = `${this.deviceSubject(deviceId)}.call`
    let raw: Uint8Array
    try {
      const msg = await this.nc.request(subject, codec.encode(call), {
        timeout: call.timeoutMs + this.options.routeMarginMs,
      })
      raw = msg.data
    } catch (err) {
      throw this.requestError(deviceId, call, err)
    }
    let decoded: unknown
    try {
      decoded = codec.decode(raw)
    } catch {
      decoded = undefined
    }
    const reply = routedReply.safeParse(decoded)
    if (!reply.success) throw hubErrors.CLUSTER_REPLY_INVALID({ deviceId })
    if (reply.data.ok) return reply.data.result
    throw remoteToError(reply.data.error)
  }

  /** Tells every node to drop this device's tunnel (it was deregistered). */
  revokeDevice(deviceId: string): void {
    this.nc.publish(`${this.deviceSubject(deviceId)}.revoke`)
  }

  async close(): Promise<void> {
    if (this.nc.isClosed()) return
    await this.nc.drain().catch(() => this.nc.close())
  }

  private deviceSubject(deviceId: string): string {
    if (!SUBJECT_TOKEN.test(deviceId)) throw hubErrors.DEVICE_NOT_CONNECTED({ deviceId })
    return `${this.options.prefix}.device.${deviceId}`
  }

  private async answer(deviceId: string, data: Uint8Array, endpoint: DeviceEndpoint) {
    let parsed: RoutedCall
    try {
      parsed = routedCall.parse(codec.decode(data))
    } catch {
      return failure(hubErrors.CLUSTER_REPLY_INVALID({ deviceId }))
    }
    try {
      return { ok: true as const, result: await endpoint.call(parsed) }
    } catch (err) {
      if (isAppError(err)) return failure(err)
      this.options.logger.error(
        { event: 'CLUSTER_CALL_FAILED', deviceId, err },
        'routed device call failed',
      )
      return failure(hubErrors.CLUSTER_CALL_FAILED({ deviceId, reason: describeError(err) }))
    }
  }

  private requestError(deviceId: string, call: RoutedCall, err: unknown): AppError {
    const code = (err as { code?: unknown } | null)?.code
    if (code === ErrorCode.NoResponders) return hubErrors.DEVICE_NOT_CONNECTED({ deviceId })
    if (code === ErrorCode.Timeout)
      return tunnelErrors.TIMEOUT({
        method: call.path,
        peer: `device ${deviceId}`,
        timeoutMs: call.timeoutMs,
      })
    return hubErrors.CLUSTER_CALL_FAILED({ deviceId, reason: describeError(err) })
  }

  private async watchStatus(): Promise<void> {
    for await (const status of this.nc.status()) {
      // Connection changes matter to an operator; ping and server-list updates do not.
      const level = NOTABLE_STATUS.has(status.type) ? 'warn' : 'debug'
      this.options.logger[level](
        { event: 'CLUSTER_BUS_STATUS', type: status.type, data: String(status.data) },
        `cluster bus: ${status.type}`,
      )
    }
  }
}

function failure(err: AppError) {
  return {
    ok: false as const,
    error: { code: err.code, message: err.message, hint: err.hint, status: err.status },
  }
}

function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@')
}
