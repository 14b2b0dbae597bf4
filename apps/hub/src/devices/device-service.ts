import { digestToken, newUuid, randomToken, type Clock, type Logger } from '@postern/core'
import type {
  AuditLog,
  Device,
  DeviceFacts,
  DevicesRepo,
  RegistrationToken,
  RegistrationTokensRepo,
} from '@postern/store'
import { hubErrors } from '../errors.js'
import type { Actor } from '../orgs/org-service.js'
import { sourceOf } from '../users/user-service.js'

/** Prefixes make leaked secrets recognisable to secret scanners and people alike. */
export const REGISTRATION_TOKEN_PREFIX = 'prt_'
export const DEVICE_CREDENTIAL_PREFIX = 'pdc_'

export interface RegistrationInput extends DeviceFacts {
  token: string
  name?: string | undefined
}

export interface Registration {
  device: Device
  /** Shown once; the hub keeps only its digest. */
  credential: string
}

/** What the device list shows for one device. */
export interface DeviceView extends Device {
  status: 'connected' | 'disconnected'
  threatResponse: 'enabled' | 'disabled' | 'unknown'
}

/** Hooks the tunnel layer gives the device service (kept as callbacks to avoid a cycle). */
export interface DeviceLinks {
  /** Drops the device's live tunnel at once (credential revoked). */
  revokeConnection(deviceId: string): void
}

/**
 * Devices: registration tokens (single use, expiring, stored as digests), registration in
 * exchange for a device credential, the device list with live status, rename, deregistration.
 */
export class DeviceService {
  private links: DeviceLinks = { revokeConnection: () => undefined }

  constructor(
    private readonly deps: {
      devices: DevicesRepo
      tokens: RegistrationTokensRepo
      audit: AuditLog
      clock: Clock
      logger: Logger
      region: string
      tokenTtlMs: number
      offlineAfterMs: number
    },
  ) {}

  link(links: DeviceLinks): void {
    this.links = links
  }

  async createRegistrationToken(
    input: { orgId: string; label?: string; ttlMs?: number },
    actor: Actor,
    remoteIp: string | null = null,
  ): Promise<{ token: string; record: RegistrationToken }> {
    const token = `${REGISTRATION_TOKEN_PREFIX}${randomToken()}`
    const now = this.deps.clock.now()
    const record = await this.deps.tokens.insert({
      id: newUuid(),
      orgId: input.orgId,
      tokenDigest: digestToken(token),
      label: input.label?.trim() ?? '',
      createdBy: actor,
      now,
      expiresAt: now + (input.ttlMs ?? this.deps.tokenTtlMs),
    })
    await this.deps.audit.record({
      orgId: input.orgId,
      actor,
      source: sourceOf(actor),
      remoteIp,
      action: 'registration-token.create',
      target: { type: 'registration-token', id: record.id },
      outcome: 'success',
      details: { label: record.label, expiresAt: record.expiresAt },
    })
    return { token, record }
  }

  listRegistrationTokens(orgId: string): Promise<RegistrationToken[]> {
    return this.deps.tokens.list(orgId)
  }

  async revokeRegistrationToken(
    orgId: string,
    tokenId: string,
    actor: Actor,
    remoteIp: string | null = null,
  ): Promise<void> {
    if (!(await this.deps.tokens.revoke(orgId, tokenId, this.deps.clock.now()))) {
      throw hubErrors.REGISTRATION_TOKEN_NOT_FOUND({ tokenId })
    }
    await this.deps.audit.record({
      orgId,
      actor,
      source: sourceOf(actor),
      remoteIp,
      action: 'registration-token.revoke',
      target: { type: 'registration-token', id: tokenId },
      outcome: 'success',
    })
  }

  /** Exchanges a registration token for a device credential (seed step 3–4). */
  async register(input: RegistrationInput, remoteIp: string | null): Promise<Registration> {
    const now = this.deps.clock.now()
    const deviceId = newUuid()
    const credential = `${DEVICE_CREDENTIAL_PREFIX}${randomToken()}`
    const outcome = await this.deps.devices.registerWithToken({
      tokenDigest: digestToken(input.token),
      now,
      deviceId,
      name: input.name?.trim() || input.hostname,
      credentialDigest: digestToken(credential),
      region: this.deps.region,
      facts: {
        uid: input.uid,
        model: input.model,
        version: input.version,
        hostname: input.hostname,
        deployment: input.deployment,
        clusterName: input.clusterName,
      },
      remoteIp,
    })
    if (!outcome.ok) {
      const token = 'token' in outcome ? outcome.token : undefined
      await this.deps.audit.record({
        orgId: token?.orgId ?? null,
        actor: { type: 'device', id: input.uid.slice(0, 128) },
        source: 'api',
        remoteIp,
        action: 'device.register',
        target: token ? { type: 'registration-token', id: token.id } : null,
        outcome: 'denied',
        details: { reason: outcome.reason, hostname: input.hostname.slice(0, 253) },
      })
      switch (outcome.reason) {
        case 'unknown':
        case 'revoked':
          throw hubErrors.REGISTRATION_TOKEN_INVALID()
        case 'used':
          throw hubErrors.REGISTRATION_TOKEN_USED({ deviceId: outcome.token.deviceId ?? 'unknown' })
        case 'expired':
          throw hubErrors.REGISTRATION_TOKEN_EXPIRED({
            expiredAt: new Date(outcome.token.expiresAt).toISOString(),
          })
        case 'duplicate':
          throw hubErrors.DEVICE_ALREADY_REGISTERED({
            uid: input.uid,
            deviceId: outcome.existing.id,
          })
      }
    }
    await this.deps.audit.record({
      orgId: outcome.device.orgId,
      actor: { type: 'device', id: outcome.device.id },
      source: 'api',
      remoteIp,
      action: 'device.register',
      target: { type: 'device', id: outcome.device.id },
      outcome: 'success',
      details: {
        registrationTokenId: outcome.token.id,
        uid: outcome.device.uid,
        hostname: outcome.device.hostname,
        deployment: outcome.device.deployment,
        clusterName: outcome.device.clusterName,
      },
    })
    this.deps.logger.info(
      { event: 'DEVICE_REGISTERED', deviceId: outcome.device.id, orgId: outcome.device.orgId },
      'device registered',
    )
    return { device: outcome.device, credential }
  }

  /** The active device holding a credential, or undefined (revoked, unknown). */
  authenticate(credential: string): Promise<Device | undefined> {
    if (!credential.startsWith(DEVICE_CREDENTIAL_PREFIX)) return Promise.resolve(undefined)
    return this.deps.devices.findByCredential(digestToken(credential))
  }

  async list(
    orgId: string,
    options: { includeDeregistered?: boolean } = {},
  ): Promise<DeviceView[]> {
    const devices = await this.deps.devices.list(orgId, options)
    return devices.map((d) => this.view(d))
  }

  async get(orgId: string, deviceId: string): Promise<DeviceView> {
    const device = await this.deps.devices.get(orgId, deviceId)
    if (!device || device.deregisteredAt !== null) throw hubErrors.DEVICE_NOT_FOUND({ deviceId })
    return this.view(device)
  }

  async rename(
    orgId: string,
    deviceId: string,
    name: string,
    actor: Actor,
    remoteIp: string | null = null,
  ): Promise<DeviceView> {
    if (!(await this.deps.devices.rename(orgId, deviceId, name.trim())))
      throw hubErrors.DEVICE_NOT_FOUND({ deviceId })
    await this.deps.audit.record({
      orgId,
      actor,
      source: sourceOf(actor),
      remoteIp,
      action: 'device.rename',
      target: { type: 'device', id: deviceId },
      outcome: 'success',
      details: { name: name.trim() },
    })
    return this.get(orgId, deviceId)
  }

  /** Deregisters: the credential stops working at once and the live tunnel is closed. */
  async deregister(
    orgId: string,
    deviceId: string,
    actor: Actor | { type: 'device'; id: string },
    remoteIp: string | null = null,
  ): Promise<void> {
    if (!(await this.deps.devices.deregister(orgId, deviceId, this.deps.clock.now()))) {
      throw hubErrors.DEVICE_NOT_FOUND({ deviceId })
    }
    this.links.revokeConnection(deviceId)
    await this.deps.audit.record({
      orgId,
      actor,
      source: actor.type === 'device' ? 'api' : sourceOf(actor),
      remoteIp,
      action: 'device.deregister',
      target: { type: 'device', id: deviceId },
      outcome: 'success',
    })
    this.deps.logger.info(
      { event: 'DEVICE_DEREGISTERED', deviceId, orgId, by: actor.type },
      'device deregistered',
    )
  }

  view(device: Device): DeviceView {
    const now = this.deps.clock.now()
    const alive =
      device.connectedAt !== null &&
      device.lastSeenAt !== null &&
      now - device.lastSeenAt <= this.deps.offlineAfterMs
    return {
      ...device,
      status: alive ? 'connected' : 'disconnected',
      threatResponse:
        device.threatResponseEnabled === null
          ? 'unknown'
          : device.threatResponseEnabled
            ? 'enabled'
            : 'disabled',
    }
  }
}
