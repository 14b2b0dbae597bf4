import { hostname } from 'node:os'
import type { AuditLog, CloudRegistration, CloudRepo, SettingLevel } from '@postern/store'
import type { Clock, Logger, SecretBox } from '@postern/core'
import type { CloudConfig } from './config.js'
import { cloudErrors } from './errors.js'
import { HubClient } from './hub-client.js'
import type { MachineIdentity } from './machine.js'
import { buildTelemetryPayload, type FeatureState } from './telemetry.js'
import type { TelemetryPayload } from '@postern/tunnel'

/** Settings of the cloud connector (seed "Cloud Service Settings"), with their defaults. */
export interface CloudSettings {
  /** Cloud services on or off. */
  enabled: boolean
  /** Selected hub server (a region of cloud.servers), or null. */
  server: string | null
  /** Threat Response on: the hub may call this gateway's module endpoints. */
  threatResponse: boolean
  /** Usage telemetry ("Cisco Success Network"): opt-in. */
  csn: boolean
}

export const DEFAULT_SETTINGS: CloudSettings = {
  enabled: false,
  server: null,
  threatResponse: false,
  csn: false,
}

export type CloudState = 'disabled' | 'not registered' | 'registering' | 'registered' | 'connected'

export interface CloudStatus {
  machine: string
  uid: string
  state: CloudState
  settings: CloudSettings
  /** Where each effective setting comes from. */
  sources: Record<keyof CloudSettings, SettingLevel | 'default'>
  hubUrl: string | null
  cluster: { name: string; group: string } | null
  registration: Omit<CloudRegistration, 'credentialSealed'> | null
  lastError: { message: string; at: number } | null
  connectedSince: number | null
}

export interface Actor {
  type: 'cli' | 'user' | 'system'
  id: string
}

export interface CloudServiceDeps {
  repo: CloudRepo
  audit: AuditLog
  box: SecretBox
  clock: Clock
  logger: Logger
  config: CloudConfig
  identity: MachineIdentity
  /** Gateway version and model reported to the hub. */
  version: string
  model: string
  /** What the gateway's configuration has switched on (scanners, remediation, tracking, policies …). */
  features?: () => FeatureState[]
}

/** A `connected` status older than this is stale (the gateway process is not running). */
const STATUS_FRESH_MS = 30_000

/**
 * The gateway's cloud-services settings and registration, with the seed's rules: changing the
 * hub server requires deregistering first; a cluster node registers in machine mode only; a
 * node registered standalone must deregister before joining a cluster. Settings live at
 * cluster, group or machine level (machine overrides group overrides cluster). Used by the
 * CLI, the gateway's API and the running connector alike.
 */
export class CloudService {
  constructor(private readonly deps: CloudServiceDeps) {}

  get machine(): string {
    return this.deps.config.machineName
  }

  get identity(): MachineIdentity {
    return this.deps.identity
  }

  get version(): string {
    return this.deps.version
  }

  get model(): string {
    return this.deps.model
  }

  /** Cluster name and this machine's group, or null when standalone. */
  async membership(): Promise<{ name: string; group: string } | null> {
    const name = await this.deps.repo.clusterName()
    if (!name) return null
    const me = (await this.deps.repo.members()).find((m) => m.machine === this.machine)
    return me ? { name, group: me.group } : null
  }

  async settings(): Promise<{ settings: CloudSettings; sources: CloudStatus['sources'] }> {
    const membership = await this.membership()
    const rows = await this.deps.repo.settings()
    const settings: CloudSettings = { ...DEFAULT_SETTINGS }
    const sources = {
      enabled: 'default',
      server: 'default',
      threatResponse: 'default',
      csn: 'default',
    } as CloudStatus['sources']
    const layers: { level: SettingLevel; scope: string }[] = membership
      ? [
          { level: 'cluster', scope: '' },
          { level: 'group', scope: membership.group },
          { level: 'machine', scope: this.machine },
        ]
      : [{ level: 'machine', scope: this.machine }]
    for (const layer of layers) {
      for (const row of rows.filter((r) => r.level === layer.level && r.scope === layer.scope)) {
        if (row.key in settings) {
          ;(settings as unknown as Record<string, unknown>)[row.key] = row.value
          sources[row.key as keyof CloudSettings] = layer.level
        }
      }
    }
    return { settings, sources }
  }

  async registration(): Promise<CloudRegistration | undefined> {
    return this.deps.repo.registration(this.machine)
  }

  /** The device credential of this machine's registration (decrypted for the tunnel). */
  credentialOf(registration: CloudRegistration): string {
    return this.deps.box.decrypt(
      registration.credentialSealed,
      `cloud-credential:${registration.machine}`,
    )
  }

  async status(): Promise<CloudStatus> {
    const { settings, sources } = await this.settings()
    const registration = await this.registration()
    const live = await this.deps.repo.status(this.machine)
    const now = this.deps.clock.now()
    const fresh = live !== undefined && now - live.updatedAt <= STATUS_FRESH_MS
    let state: CloudState
    if (!settings.enabled) state = 'disabled'
    else if (!registration)
      state = fresh && live?.state === 'registering' ? 'registering' : 'not registered'
    else state = fresh && live?.state === 'connected' ? 'connected' : 'registered'
    const { credentialSealed: _secret, ...publicRegistration } = registration ?? {
      credentialSealed: '',
    }
    return {
      machine: this.machine,
      uid: this.deps.identity.uid,
      state,
      settings,
      sources,
      hubUrl: settings.server ? (this.deps.config.servers[settings.server] ?? null) : null,
      cluster: await this.membership(),
      registration: registration ? (publicRegistration as CloudStatus['registration']) : null,
      lastError: live?.lastError
        ? { message: live.lastError, at: live.lastErrorAt ?? live.updatedAt }
        : null,
      connectedSince: fresh && live?.state === 'connected' ? live.connectedSince : null,
    }
  }

  /** The server list of the configuration (region → hub URL or null). */
  servers(): Record<string, string | null> {
    return { ...this.deps.config.servers }
  }

  async setEnabled(enabled: boolean, actor: Actor, level?: SettingLevel): Promise<void> {
    await this.put('enabled', enabled, actor, level)
  }

  async setThreatResponse(enabled: boolean, actor: Actor, level?: SettingLevel): Promise<void> {
    await this.put('threatResponse', enabled, actor, level)
  }

  async setCsn(enabled: boolean, actor: Actor, level?: SettingLevel): Promise<void> {
    if (enabled && !(await this.registration())) {
      await this.auditDenied('cloud.csn.enable', actor, 'not registered')
      throw cloudErrors.CSN_REQUIRES_REGISTRATION()
    }
    await this.put('csn', enabled, actor, level)
  }

  /** Chooses the hub server (seed "settrs"); refused while an affected machine is registered elsewhere. */
  async setServer(region: string, actor: Actor, level?: SettingLevel): Promise<void> {
    const servers = this.deps.config.servers
    if (!Object.hasOwn(servers, region)) {
      throw cloudErrors.SERVER_UNKNOWN({ region, known: Object.keys(servers).join(', ') })
    }
    if (!servers[region]) throw cloudErrors.SERVER_NOT_CONFIGURED({ region })
    const resolved = await this.resolveLevel(level)
    const affected = await this.machinesAt(resolved)
    for (const registration of await this.deps.repo.registrations()) {
      if (affected.includes(registration.machine) && registration.region !== region) {
        await this.auditDenied(
          'cloud.server.change',
          actor,
          `registered with ${registration.region}`,
          { region },
        )
        throw cloudErrors.REGION_CHANGE_REGISTERED({
          region,
          machine: registration.machine,
          current: registration.region,
        })
      }
    }
    await this.put('server', region, actor, level)
  }

  /** Registers this machine with the selected hub using a registration token. */
  async register(
    token: string,
    actor: Actor,
    options: { mode?: 'standalone' | 'machine' | 'cluster'; name?: string } = {},
  ): Promise<CloudRegistration> {
    const membership = await this.membership()
    const deployment = membership ? 'cluster' : 'standalone'
    const expected = membership ? 'machine' : 'standalone'
    if (options.mode === 'cluster') throw cloudErrors.MODE_CLUSTER_UNSUPPORTED()
    if (options.mode !== undefined && options.mode !== expected) {
      throw cloudErrors.MODE_MISMATCH({
        mode: options.mode,
        deployment: membership ? `a node of cluster ${membership.name}` : 'standalone',
        expected,
      })
    }
    const { settings } = await this.settings()
    if (!settings.enabled) throw cloudErrors.DISABLED()
    if (!settings.server) throw cloudErrors.SERVER_NOT_SELECTED()
    const hubUrl = this.deps.config.servers[settings.server]
    if (!hubUrl) throw cloudErrors.SERVER_NOT_CONFIGURED({ region: settings.server })
    const existing = await this.registration()
    if (existing)
      throw cloudErrors.ALREADY_REGISTERED({
        machine: this.machine,
        deviceId: existing.deviceId,
        hubUrl: existing.hubUrl,
      })

    const now = this.deps.clock.now()
    await this.deps.repo.putStatus(this.machine, {
      state: 'registering',
      updatedAt: now,
      lastError: null,
      lastErrorAt: null,
    })
    const client = new HubClient(hubUrl, this.deps.config.requestTimeoutSeconds * 1000)
    try {
      const info = await client.info()
      if (info.region !== settings.server) {
        throw cloudErrors.REGION_MISMATCH({ hubUrl, actual: info.region, region: settings.server })
      }
      const reply = await client.register({
        token: token.trim(),
        uid: this.deps.identity.uid,
        model: this.deps.model,
        version: this.deps.version,
        hostname: hostname(),
        deployment,
        clusterName: membership?.name ?? null,
        ...(options.name ? { name: options.name } : {}),
      })
      const registration: CloudRegistration = {
        machine: this.machine,
        deviceId: reply.deviceId,
        orgId: reply.orgId,
        deviceName: reply.name,
        hubUrl,
        tunnelUrl: reply.tunnelUrl,
        region: reply.region,
        mode: expected,
        clusterName: membership?.name ?? null,
        credentialSealed: this.deps.box.encrypt(
          reply.credential,
          `cloud-credential:${this.machine}`,
        ),
        registeredAt: this.deps.clock.now(),
      }
      await this.deps.repo.insertRegistration(registration)
      await this.deps.repo.putStatus(this.machine, {
        state: 'registered',
        updatedAt: this.deps.clock.now(),
      })
      await this.deps.audit.record({
        actor,
        source: actor.type === 'cli' ? 'cli' : 'api',
        action: 'cloud.register',
        target: { type: 'device', id: reply.deviceId },
        outcome: 'success',
        details: {
          hubUrl,
          region: reply.region,
          mode: expected,
          orgId: reply.orgId,
          tokenUsed: true,
        },
      })
      this.deps.logger.info(
        { event: 'CLOUD_REGISTERED', deviceId: reply.deviceId, hubUrl },
        'registered with the hub',
      )
      return registration
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err)
      await this.deps.repo.putStatus(this.machine, {
        state: 'idle',
        updatedAt: this.deps.clock.now(),
        lastError: message,
        lastErrorAt: this.deps.clock.now(),
      })
      await this.auditDenied(
        'cloud.register',
        actor,
        message,
        { hubUrl, tokenUsed: true },
        'failure',
      )
      throw err
    }
  }

  /**
   * Deregisters this machine: the hub revokes the device credential, then the registration is
   * forgotten here. With `force`, a hub that cannot be reached is not asked.
   */
  async deregister(actor: Actor, options: { force?: boolean } = {}): Promise<void> {
    const registration = await this.registration()
    if (!registration) throw cloudErrors.NOT_REGISTERED({ machine: this.machine })
    const client = new HubClient(registration.hubUrl, this.deps.config.requestTimeoutSeconds * 1000)
    let confirmed = true
    try {
      await client.deregister(this.credentialOf(registration))
    } catch (err) {
      if (!options.force) {
        await this.auditDenied(
          'cloud.deregister',
          actor,
          err instanceof Error ? err.message : String(err),
          {},
          'failure',
        )
        throw cloudErrors.DEREGISTER_UNCONFIRMED(
          { reason: err instanceof Error ? err.message : String(err) },
          { cause: err },
        )
      }
      confirmed = false
    }
    await this.deps.repo.deleteRegistration(this.machine)
    await this.deps.repo.putStatus(this.machine, {
      state: 'idle',
      updatedAt: this.deps.clock.now(),
      connectedSince: null,
      lastError: null,
      lastErrorAt: null,
    })
    await this.deps.audit.record({
      actor,
      source: actor.type === 'cli' ? 'cli' : 'api',
      action: 'cloud.deregister',
      target: { type: 'device', id: registration.deviceId },
      outcome: 'success',
      details: { hubUrl: registration.hubUrl, confirmedByHub: confirmed },
    })
    this.deps.logger.info(
      { event: 'CLOUD_DEREGISTERED', deviceId: registration.deviceId, confirmed },
      'deregistered from the hub',
    )
  }

  /** `postern gateway cluster join`: refused while registered standalone (seed rule). */
  async joinCluster(name: string, group: string, actor: Actor): Promise<void> {
    const registration = await this.registration()
    if (registration?.mode === 'standalone') {
      await this.auditDenied('cluster.join', actor, 'registered standalone', { cluster: name })
      throw cloudErrors.CLUSTER_JOIN_REGISTERED_STANDALONE({ machine: this.machine })
    }
    const existing = await this.deps.repo.clusterName()
    if (existing && existing !== name) throw cloudErrors.CLUSTER_NAME_MISMATCH({ existing, name })
    const now = this.deps.clock.now()
    if (!existing) await this.deps.repo.createCluster(name, now)
    await this.deps.repo.addMember(this.machine, group, now)
    await this.deps.audit.record({
      actor,
      source: actor.type === 'cli' ? 'cli' : 'api',
      action: 'cluster.join',
      outcome: 'success',
      details: { cluster: name, group, machine: this.machine },
    })
  }

  async leaveCluster(actor: Actor): Promise<void> {
    const membership = await this.membership()
    if (!membership) throw cloudErrors.NOT_IN_CLUSTER({ machine: this.machine })
    if (await this.registration()) {
      await this.auditDenied('cluster.leave', actor, 'registered in machine mode', {
        cluster: membership.name,
      })
      throw cloudErrors.CLUSTER_LEAVE_REGISTERED({ machine: this.machine })
    }
    await this.deps.repo.removeMember(this.machine)
    await this.deps.audit.record({
      actor,
      source: actor.type === 'cli' ? 'cli' : 'api',
      action: 'cluster.leave',
      outcome: 'success',
      details: { cluster: membership.name, machine: this.machine },
    })
  }

  async clusterMembers(): Promise<{
    name: string | null
    members: { machine: string; group: string; joinedAt: number }[]
  }> {
    return { name: await this.deps.repo.clusterName(), members: await this.deps.repo.members() }
  }

  /** Exactly what usage telemetry would send now (`csn show`). */
  async telemetryPreview(): Promise<TelemetryPayload> {
    const { settings } = await this.settings()
    const registration = await this.registration()
    const membership = await this.membership()
    const cloudFeatures: FeatureState[] = [
      { name: 'Cloud Services', enabled: settings.enabled },
      { name: 'Threat Response', enabled: settings.threatResponse },
      { name: 'Usage Telemetry', enabled: settings.csn },
    ]
    return buildTelemetryPayload({
      uid: this.deps.identity.uid,
      model: this.deps.model,
      version: this.deps.version,
      installDate: this.deps.identity.installDate,
      deployment: membership ? 'cluster' : 'standalone',
      accountId: registration?.orgId ?? null,
      features: [...cloudFeatures, ...(this.deps.features?.() ?? [])],
      now: this.deps.clock.now(),
    })
  }

  private async resolveLevel(
    level: SettingLevel | undefined,
  ): Promise<{ level: SettingLevel; scope: string }> {
    const membership = await this.membership()
    const chosen = level ?? (membership ? 'cluster' : 'machine')
    if (!membership && chosen !== 'machine') {
      throw cloudErrors.LEVEL_INVALID({ level: chosen, reason: 'this gateway is not in a cluster' })
    }
    return {
      level: chosen,
      scope:
        chosen === 'cluster' ? '' : chosen === 'group' ? (membership?.group ?? '') : this.machine,
    }
  }

  private async machinesAt(target: { level: SettingLevel; scope: string }): Promise<string[]> {
    if (target.level === 'machine') return [target.scope]
    const members = await this.deps.repo.members()
    return members
      .filter((m) => target.level === 'cluster' || m.group === target.scope)
      .map((m) => m.machine)
  }

  private async put<K extends keyof CloudSettings>(
    key: K,
    value: CloudSettings[K],
    actor: Actor,
    level?: SettingLevel,
  ): Promise<void> {
    const target = await this.resolveLevel(level)
    await this.deps.repo.putSetting({
      ...target,
      key,
      value,
      now: this.deps.clock.now(),
      by: `${actor.type}:${actor.id}`,
    })
    await this.deps.audit.record({
      actor,
      source: actor.type === 'cli' ? 'cli' : 'api',
      action: 'cloud.settings.update',
      outcome: 'success',
      details: { key, value, level: target.level, scope: target.scope },
    })
  }

  private async auditDenied(
    action: string,
    actor: Actor,
    reason: string,
    details: Record<string, unknown> = {},
    outcome: 'denied' | 'failure' = 'denied',
  ): Promise<void> {
    await this.deps.audit.record({
      actor,
      source: actor.type === 'cli' ? 'cli' : 'api',
      action,
      outcome,
      details: { ...details, reason, machine: this.machine },
    })
  }
}
