import type { Kysely } from 'kysely'
import { bumpOrgVersion, changingOrg } from './org-versions.js'
import type { DevicesTable, HubSchema } from './schema.js'
import { toRegistrationToken, type RegistrationToken } from './registration-tokens-repo.js'

export type Deployment = 'standalone' | 'cluster'

export interface Device {
  id: string
  orgId: string
  name: string
  uid: string
  model: string
  version: string
  hostname: string
  deployment: Deployment
  clusterName: string | null
  region: string
  registrationTokenId: string
  registeredAt: number
  deregisteredAt: number | null
  lastSeenAt: number | null
  connectedAt: number | null
  connectedNode: string | null
  threatResponseEnabled: boolean | null
  telemetryEnabled: boolean | null
  remoteIp: string | null
}

export interface DeviceFacts {
  uid: string
  model: string
  version: string
  hostname: string
  deployment: Deployment
  clusterName: string | null
}

export type RegisterOutcome =
  | { ok: true; device: Device; token: RegistrationToken }
  | { ok: false; reason: 'unknown' }
  | { ok: false; reason: 'used' | 'expired' | 'revoked'; token: RegistrationToken }
  | { ok: false; reason: 'duplicate'; token: RegistrationToken; existing: Device }

function flag(value: number | null): boolean | null {
  return value === null ? null : value === 1
}

function toDevice(row: DevicesTable): Device {
  return {
    id: row.id,
    orgId: row.org_id,
    name: row.name,
    uid: row.uid,
    model: row.model,
    version: row.version,
    hostname: row.hostname,
    deployment: row.deployment as Deployment,
    clusterName: row.cluster_name,
    region: row.region,
    registrationTokenId: row.registration_token_id,
    registeredAt: row.registered_at,
    deregisteredAt: row.deregistered_at,
    lastSeenAt: row.last_seen_at,
    connectedAt: row.connected_at,
    connectedNode: row.connected_node,
    threatResponseEnabled: flag(row.threat_response_enabled),
    telemetryEnabled: flag(row.telemetry_enabled),
    remoteIp: row.remote_ip,
  }
}

/** Registered devices (gateways). Deregistered devices are kept, marked, for the audit trail. */
export class DevicesRepo {
  constructor(private readonly db: Kysely<HubSchema>) {}

  /**
   * Consumes a registration token and creates the device in one transaction. The conditional
   * update (`used_at IS NULL`) makes the token single-use even when two registrations race.
   */
  async registerWithToken(input: {
    tokenDigest: string
    now: number
    deviceId: string
    name: string
    credentialDigest: string
    region: string
    facts: DeviceFacts
    remoteIp: string | null
  }): Promise<RegisterOutcome> {
    return this.db.transaction().execute(async (trx): Promise<RegisterOutcome> => {
      // Lock the token's row before reading anything (a no-op update: SQLite has no FOR
      // UPDATE). On PostgreSQL a concurrent registration with the same token waits here and
      // then reads it as used; without the lock it could read it unused, then see the winner's
      // new device and answer "duplicate" for what is a used token. SQLite's BEGIN IMMEDIATE
      // already runs one registration at a time.
      await trx
        .updateTable('registration_tokens')
        .set((eb) => ({ token_digest: eb.ref('token_digest') }))
        .where('token_digest', '=', input.tokenDigest)
        .execute()
      const tokenRow = await trx
        .selectFrom('registration_tokens')
        .selectAll()
        .where('token_digest', '=', input.tokenDigest)
        .executeTakeFirst()
      if (!tokenRow) return { ok: false, reason: 'unknown' }
      const token = toRegistrationToken(tokenRow)
      if (token.revokedAt !== null) return { ok: false, reason: 'revoked', token }
      if (token.usedAt !== null) return { ok: false, reason: 'used', token }
      if (token.expiresAt <= input.now) return { ok: false, reason: 'expired', token }
      const existing = await trx
        .selectFrom('devices')
        .selectAll()
        .where('org_id', '=', token.orgId)
        .where('uid', '=', input.facts.uid)
        .where('deregistered_at', 'is', null)
        .executeTakeFirst()
      if (existing) return { ok: false, reason: 'duplicate', token, existing: toDevice(existing) }
      const consumed = await trx
        .updateTable('registration_tokens')
        .set({ used_at: input.now, device_id: input.deviceId })
        .where('id', '=', token.id)
        .where('used_at', 'is', null)
        .executeTakeFirst()
      if (consumed.numUpdatedRows === 0n) return { ok: false, reason: 'used', token }
      const row: DevicesTable = {
        id: input.deviceId,
        org_id: token.orgId,
        name: input.name,
        uid: input.facts.uid,
        model: input.facts.model,
        version: input.facts.version,
        hostname: input.facts.hostname,
        deployment: input.facts.deployment,
        cluster_name: input.facts.clusterName,
        region: input.region,
        credential_digest: input.credentialDigest,
        registration_token_id: token.id,
        registered_at: input.now,
        deregistered_at: null,
        last_seen_at: null,
        connected_at: null,
        connected_node: null,
        threat_response_enabled: null,
        telemetry_enabled: null,
        remote_ip: input.remoteIp,
      }
      await trx.insertInto('devices').values(row).execute()
      await bumpOrgVersion(trx, token.orgId)
      return {
        ok: true,
        device: toDevice(row),
        token: { ...token, usedAt: input.now, deviceId: input.deviceId },
      }
    })
  }

  /** The active device holding this credential (a deregistered device's credential finds nothing). */
  async findByCredential(credentialDigest: string): Promise<Device | undefined> {
    const row = await this.db
      .selectFrom('devices')
      .selectAll()
      .where('credential_digest', '=', credentialDigest)
      .where('deregistered_at', 'is', null)
      .executeTakeFirst()
    return row && toDevice(row)
  }

  async get(orgId: string, id: string): Promise<Device | undefined> {
    const row = await this.db
      .selectFrom('devices')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('id', '=', id)
      .executeTakeFirst()
    return row && toDevice(row)
  }

  async list(orgId: string, options: { includeDeregistered?: boolean } = {}): Promise<Device[]> {
    let query = this.db.selectFrom('devices').selectAll().where('org_id', '=', orgId)
    if (!options.includeDeregistered) query = query.where('deregistered_at', 'is', null)
    const rows = await query.orderBy('registered_at').orderBy('id').execute()
    return rows.map(toDevice)
  }

  async rename(orgId: string, id: string, name: string): Promise<boolean> {
    const result = await changingOrg(this.db, orgId, (trx) =>
      trx
        .updateTable('devices')
        .set({ name })
        .where('org_id', '=', orgId)
        .where('id', '=', id)
        .where('deregistered_at', 'is', null)
        .executeTakeFirst(),
    )
    return result.numUpdatedRows > 0n
  }

  async deregister(orgId: string, id: string, now: number): Promise<boolean> {
    const result = await changingOrg(this.db, orgId, (trx) =>
      trx
        .updateTable('devices')
        .set({ deregistered_at: now, connected_at: null, connected_node: null })
        .where('org_id', '=', orgId)
        .where('id', '=', id)
        .where('deregistered_at', 'is', null)
        .executeTakeFirst(),
    )
    return result.numUpdatedRows > 0n
  }

  async markConnected(
    id: string,
    change: { now: number; node: string; remoteIp: string | null },
  ): Promise<void> {
    await this.db
      .updateTable('devices')
      .set({
        connected_at: change.now,
        connected_node: change.node,
        last_seen_at: change.now,
        remote_ip: change.remoteIp,
      })
      .where('id', '=', id)
      .where('deregistered_at', 'is', null)
      .execute()
  }

  /** Marks a device disconnected unless another hub node has taken its connection since. */
  async markDisconnected(id: string, node: string, now: number): Promise<void> {
    await this.db
      .updateTable('devices')
      .set({ connected_at: null, connected_node: null, last_seen_at: now })
      .where('id', '=', id)
      .where('connected_node', '=', node)
      .execute()
  }

  /** After a crash a node's devices still look connected; it clears them when it starts. */
  async clearConnectionsOfNode(node: string, now: number): Promise<void> {
    await this.db
      .updateTable('devices')
      .set({ connected_at: null, connected_node: null, last_seen_at: now })
      .where('connected_node', '=', node)
      .execute()
  }

  async touch(ids: string[], now: number): Promise<void> {
    if (ids.length === 0) return
    await this.db.updateTable('devices').set({ last_seen_at: now }).where('id', 'in', ids).execute()
  }

  async updateFacts(
    id: string,
    change: {
      version?: string
      hostname?: string
      model?: string
      threatResponseEnabled?: boolean
      telemetryEnabled?: boolean
    },
  ): Promise<void> {
    const set = {
      ...(change.version !== undefined ? { version: change.version } : {}),
      ...(change.hostname !== undefined ? { hostname: change.hostname } : {}),
      ...(change.model !== undefined ? { model: change.model } : {}),
      ...(change.threatResponseEnabled !== undefined
        ? { threat_response_enabled: change.threatResponseEnabled ? 1 : 0 }
        : {}),
      ...(change.telemetryEnabled !== undefined
        ? { telemetry_enabled: change.telemetryEnabled ? 1 : 0 }
        : {}),
    }
    if (Object.keys(set).length === 0) return
    await this.db.transaction().execute(async (trx) => {
      const before = await trx
        .selectFrom('devices')
        .select(['org_id', 'hostname'])
        .where('id', '=', id)
        .executeTakeFirst()
      if (!before) return
      await trx.updateTable('devices').set(set).where('id', '=', id).execute()
      // Hub nodes cache the org's devices by name and hostname (presence and facts are not cached).
      if (change.hostname !== undefined && change.hostname !== before.hostname)
        await bumpOrgVersion(trx, before.org_id)
    })
  }
}
