import { hostname } from 'node:os'
import type { Kysely } from 'kysely'
import type { Logger } from '@postern/core'
import {
  HubOutboxStore,
  type AuditLog,
  type AuditLogTable,
  type CloudRepo,
  type CloudRegistration,
} from '@postern/store'
import {
  INTEL_EVENTS_BATCH,
  INTEL_METHODS,
  intelEventsResult,
  TUNNEL_METHODS,
  TunnelClient,
  moduleCall,
  type DeviceEvent,
  type TunnelClientStatus,
} from '@postern/tunnel'
import type { CloudService } from './cloud-service.js'
import type { CloudConfig } from './config.js'
import { cloudErrors } from './errors.js'
import { trimOutbox } from './outbox-cap.js'
import type { ModuleRegistry } from './modules.js'
import { telemetryDigest } from './telemetry.js'

export interface ConnectorDeps {
  cloud: CloudService
  repo: CloudRepo
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the gateway database (any schema with audit_log)
  db: Kysely<any>
  config: CloudConfig
  modules: ModuleRegistry
  audit: AuditLog
  logger: Logger
}

/**
 * The running side of cloud services, inside the gateway process: keeps the tunnel to the hub up
 * while cloud services are enabled and this machine is registered, reports the gateway's status
 * to the hub, answers the hub's module calls (refusing them all while Threat Response is off),
 * pushes the cloud audit events and, when enabled, usage telemetry (daily and on change). It
 * re-reads the settings every few seconds, so a change made by the CLI or by another cluster
 * node takes effect without a restart.
 */
export class CloudConnector {
  private client: TunnelClient | null = null
  private clientKey = ''
  private timer: NodeJS.Timeout | null = null
  private reconciling: Promise<void> = Promise.resolve()
  private threatResponse = false
  private registered = false
  private lastReported = ''
  private flushWaiting: Promise<void> | null = null
  private readonly withHubListeners: (() => void)[] = []
  private readonly logger: Logger
  private readonly outbox: HubOutboxStore

  constructor(private readonly deps: ConnectorDeps) {
    this.logger = deps.logger.child({ component: 'cloud' })
    this.outbox = new HubOutboxStore(deps.db)
  }

  start(): void {
    if (this.timer) return
    this.reconcile()
    this.timer = setInterval(() => this.reconcile(), this.deps.config.settingsPollSeconds * 1000)
    this.timer.unref()
  }

  /** Applies the current settings now (after a change through the API). */
  reconcile(): Promise<void> {
    this.reconciling = this.reconciling.then(() =>
      this.apply().catch((err: unknown) =>
        this.logger.error({ event: 'CLOUD_RECONCILE_FAILED', err }, 'cloud reconcile failed'),
      ),
    )
    return this.reconciling
  }

  /**
   * Sends the queued private-intelligence events now (after a message raised some), first
   * keeping the queue within `cloud.outbox` — also while the hub is away; also done on every
   * reconcile, so what was queued while the hub was away goes once it is back.
   */
  flushOutbox(): Promise<void> {
    // A burst of messages asks many times: one send not yet started serves them all.
    if (this.flushWaiting) return this.flushWaiting
    const flush = this.reconciling.then(() => {
      this.flushWaiting = null
      return this.sendOutbox().catch((err: unknown) =>
        this.logger.warn({ event: 'HUB_EVENTS_NOT_SENT', err }, 'hub events stay queued'),
      )
    })
    this.flushWaiting = flush
    this.reconciling = flush
    return flush
  }

  /**
   * Whether this gateway works with a hub (cloud services on and registered), connected or
   * not: what it owes the hub is queued only then.
   */
  get withHub(): boolean {
    return this.registered
  }

  /** `listener` runs whenever `withHub` changes (the SMTP processes of the node follow it). */
  onWithHubChange(listener: () => void): void {
    this.withHubListeners.push(listener)
  }

  get tunnelStatus(): TunnelClientStatus | null {
    return this.client?.status ?? null
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    await this.reconciling
    await this.stopClient()
  }

  private async apply(): Promise<void> {
    const { settings } = await this.deps.cloud.settings()
    const registration = await this.deps.cloud.registration()
    this.threatResponse = settings.threatResponse
    const wanted = settings.enabled && registration !== undefined
    if (wanted !== this.registered) {
      this.registered = wanted
      for (const listener of this.withHubListeners) listener()
    }
    if (!wanted) {
      await this.stopClient()
      return
    }
    const key = `${registration.deviceId}|${registration.tunnelUrl}`
    if (this.client && this.clientKey !== key) await this.stopClient()
    if (!this.client) this.startClient(registration, key)
    await this.writeStatus()
    const connection = this.client?.connection
    if (!connection) return
    const report = JSON.stringify([settings.threatResponse, settings.csn])
    if (report !== this.lastReported) {
      await this.client?.request(TUNNEL_METHODS.deviceUpdate, {
        threatResponseEnabled: settings.threatResponse,
        telemetryEnabled: settings.csn,
      })
      this.lastReported = report
    }
    await this.pushEvents()
    // A hub that cannot take the events now must not hold back telemetry: they stay queued.
    await this.sendOutbox().catch((err: unknown) =>
      this.logger.warn({ event: 'HUB_EVENTS_NOT_SENT', err }, 'hub events stay queued'),
    )
    if (settings.csn) await this.pushTelemetry()
  }

  /**
   * Sends the outbox oldest first in batches; the hub answers per event, and only what it took
   * (or refused for good) leaves the queue. Stops at the first event the hub asks to retry, so
   * order is kept; goes on at once when the hub answered for only part of a batch (its time
   * budget per request). Events past the queue's age limit are dropped first, and the count of
   * dropped events goes with the next batch (alone if nothing else is queued).
   */
  private async sendOutbox(): Promise<void> {
    const machine = this.deps.cloud.machine
    await trimOutbox(this.outbox, machine, this.deps.config.outbox, Date.now(), this.logger)
    for (;;) {
      if (!this.client?.connection) return
      const items = await this.outbox.oldest(machine, INTEL_EVENTS_BATCH)
      const losses = await this.outbox.losses(machine)
      if (items.length === 0 && !losses) return
      const lost = losses && {
        count: losses.dropped,
        firstDroppedAt: losses.firstDroppedAt,
        lastDroppedAt: losses.lastDroppedAt,
      }
      const reply = intelEventsResult.parse(
        await this.client.request(INTEL_METHODS.events, {
          events: items.map((i) => i.body),
          ...(lost ? { lost } : {}),
        }),
      )
      if (lost) {
        await this.outbox.reportedLosses(machine, lost.count)
        this.logger.warn(
          { event: 'HUB_EVENTS_LOSS_REPORTED', lost: lost.count },
          'the hub was told of the events dropped while it was unreachable',
        )
      }
      const done: number[] = []
      let retryLater = false
      for (const [index, item] of items.entries()) {
        const result = reply.results[index]
        if (!result) break
        if (result.retry) {
          retryLater = true
          break
        }
        if (!result.ok)
          this.logger.warn(
            { event: 'HUB_EVENT_REFUSED', outboxId: item.id, reason: result.error ?? null },
            'the hub refused an event',
          )
        done.push(item.id)
      }
      await this.outbox.remove(done)
      if (retryLater || done.length === 0) return
    }
  }

  private startClient(registration: CloudRegistration, key: string): void {
    const cloud = this.deps.cloud
    const credential = cloud.credentialOf(registration)
    this.clientKey = key
    this.lastReported = ''
    const client = new TunnelClient({
      url: registration.tunnelUrl,
      fallbackUrls: failoverTunnelUrls(
        registration.tunnelUrl,
        this.deps.config.failoverServers[registration.region] ?? [],
      ),
      credential: () => credential,
      logger: this.logger,
      heartbeatMs: this.deps.config.heartbeatSeconds * 1000,
      backoff: {
        initialMs: this.deps.config.reconnectMinMs,
        maxMs: this.deps.config.reconnectMaxSeconds * 1000,
      },
      handlers: {
        requests: {
          [TUNNEL_METHODS.moduleCall]: async (params, call) => {
            if (!this.threatResponse) throw cloudErrors.THREAT_RESPONSE_DISABLED()
            const parsed = moduleCall.parse(params)
            return this.deps.modules.call(parsed.path, parsed.body, call.signal)
          },
        },
      },
      onStatus: (status) => {
        void this.writeStatus().catch(() => undefined)
        if (status.state === 'refused') void this.auditRefusal(registration, status.lastError)
      },
      onConnected: () => void this.hello(),
    })
    this.client = client
    client.start()
    this.logger.info(
      {
        event: 'CLOUD_TUNNEL_STARTING',
        deviceId: registration.deviceId,
        url: registration.tunnelUrl,
      },
      'connecting to the hub',
    )
  }

  /** The hub refused the device credential (revoked or deregistered there): audited once. */
  private async auditRefusal(
    registration: CloudRegistration,
    error: { message: string } | null,
  ): Promise<void> {
    try {
      await this.deps.audit.record({
        actor: { type: 'system', id: 'cloud-connector' },
        source: 'system',
        action: 'cloud.credential.refused',
        target: { type: 'device', id: registration.deviceId },
        outcome: 'denied',
        details: { hubUrl: registration.hubUrl, reason: error?.message ?? 'refused' },
      })
    } catch (err) {
      this.logger.error({ event: 'CLOUD_AUDIT_FAILED', err }, 'could not audit the refusal')
    }
  }

  private async hello(): Promise<void> {
    const { settings } = await this.deps.cloud.settings()
    try {
      await this.client?.request(TUNNEL_METHODS.deviceHello, {
        version: this.deps.cloud.version,
        hostname: hostname(),
        model: this.deps.cloud.model,
        threatResponseEnabled: settings.threatResponse,
        telemetryEnabled: settings.csn,
      })
      this.lastReported = JSON.stringify([settings.threatResponse, settings.csn])
      // Telemetry is due again on each new connection only if it changed; events catch up now.
      await this.reconcile()
    } catch (err) {
      this.logger.warn({ event: 'CLOUD_HELLO_FAILED', err }, 'hello to the hub failed')
    }
  }

  private async pushEvents(): Promise<void> {
    const status = await this.deps.repo.status(this.deps.cloud.machine)
    const after = status?.eventsPushedThrough ?? 0
    const db = this.deps.db as Kysely<{ audit_log: AuditLogTable }>
    const rows = await db
      .selectFrom('audit_log')
      .selectAll()
      .where('id', '>', after)
      .where((eb) => eb.or([eb('action', 'like', 'cloud.%'), eb('action', 'like', 'cluster.%')]))
      .orderBy('id')
      .limit(100)
      .execute()
    if (rows.length === 0) return
    const events: DeviceEvent[] = rows.map((r) => ({
      action: r.action,
      at: r.at,
      outcome: r.outcome === 'success' || r.outcome === 'denied' ? r.outcome : 'failure',
      actor: `${r.actor_type}:${r.actor_id}`.slice(0, 200),
      details: JSON.parse(r.details) as Record<string, unknown>,
    }))
    await this.client?.request(TUNNEL_METHODS.eventsPush, { events })
    await this.deps.repo.putStatus(this.deps.cloud.machine, {
      eventsPushedThrough: rows[rows.length - 1]?.id ?? after,
      updatedAt: Date.now(),
    })
  }

  private async pushTelemetry(): Promise<void> {
    const payload = await this.deps.cloud.telemetryPreview()
    const digest = telemetryDigest(payload)
    const status = await this.deps.repo.status(this.deps.cloud.machine)
    const due =
      status?.telemetryDigest !== digest ||
      status.telemetrySentAt === null ||
      Date.now() - status.telemetrySentAt >= this.deps.config.telemetryIntervalHours * 3_600_000
    if (!due) return
    await this.client?.request(TUNNEL_METHODS.telemetryPush, payload)
    await this.deps.repo.putStatus(this.deps.cloud.machine, {
      telemetryDigest: digest,
      telemetrySentAt: Date.now(),
      updatedAt: Date.now(),
    })
    this.logger.info(
      { event: 'CLOUD_TELEMETRY_SENT', features: payload.features.length },
      'usage telemetry sent',
    )
  }

  private async writeStatus(): Promise<void> {
    const status = this.client?.status
    if (!status) return
    await this.deps.repo.putStatus(this.deps.cloud.machine, {
      state: status.state === 'connected' ? 'connected' : status.state,
      connectedSince: status.connectedSince,
      lastError: status.lastError?.message ?? null,
      lastErrorAt: status.lastError?.at ?? null,
      updatedAt: Date.now(),
    })
  }

  private async stopClient(): Promise<void> {
    const client = this.client
    if (!client) return
    this.client = null
    this.clientKey = ''
    await client.stop()
    await this.deps.repo.putStatus(this.deps.cloud.machine, {
      state: 'idle',
      connectedSince: null,
      updatedAt: Date.now(),
    })
    this.logger.info({ event: 'CLOUD_TUNNEL_STOPPED' }, 'tunnel to the hub stopped')
  }
}

/**
 * The tunnel URLs of a region's other hub nodes: each node URL with the ws(s) scheme and the
 * tunnel path the hub gave at registration.
 */
export function failoverTunnelUrls(tunnelUrl: string, nodes: readonly string[]): string[] {
  const path = new URL(tunnelUrl).pathname
  return nodes
    .map((node) => `${node.replace(/^http/, 'ws').replace(/\/+$/, '')}${path}`)
    .filter((url) => url !== tunnelUrl)
}
