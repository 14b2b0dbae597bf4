import type { Clock, Logger } from '@postern/core'
import type { AuditLog, DevicesRepo, TelemetryRecord, TelemetryRepo } from '@postern/store'
import { telemetryPayload, type TelemetryPayload } from '@postern/tunnel'
import { scopesCover } from '../auth/scopes.js'
import { hubErrors } from '../errors.js'

/** Scopes a device holds on its tunnel: it may only write its own usage telemetry. */
export const DEVICE_SCOPES: readonly string[] = ['telemetry:write']

/** Usage telemetry from gateways: validated, stored per device, listed, aged out. */
export class TelemetryService {
  constructor(
    private readonly deps: {
      telemetry: TelemetryRepo
      devices: DevicesRepo
      audit: AuditLog
      clock: Clock
      logger: Logger
      retentionMs: number
    },
  ) {}

  async ingest(
    device: { id: string; orgId: string; scopes: readonly string[] },
    raw: unknown,
  ): Promise<{ id: number; receivedAt: number }> {
    if (!scopesCover(device.scopes, 'telemetry:write')) throw hubErrors.TELEMETRY_SCOPE_MISSING()
    const parsed = telemetryPayload.safeParse(raw)
    if (!parsed.success) {
      const issue = parsed.error.issues[0]
      throw hubErrors.TELEMETRY_INVALID({
        reason: `${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`,
      })
    }
    const payload: TelemetryPayload = parsed.data
    const receivedAt = this.deps.clock.now()
    const id = await this.deps.telemetry.insert({
      orgId: device.orgId,
      deviceId: device.id,
      receivedAt,
      payload,
    })
    await this.deps.devices.updateFacts(device.id, { telemetryEnabled: true })
    this.deps.logger.info(
      {
        event: 'TELEMETRY_RECEIVED',
        deviceId: device.id,
        orgId: device.orgId,
        features: payload.features.length,
      },
      'usage telemetry received',
    )
    return { id, receivedAt }
  }

  listForDevice(orgId: string, deviceId: string, limit?: number): Promise<TelemetryRecord[]> {
    return this.deps.telemetry.listForDevice(orgId, deviceId, limit)
  }

  async prune(): Promise<number> {
    return this.deps.telemetry.deleteOlderThan(this.deps.clock.now() - this.deps.retentionMs)
  }
}
