import type { Kysely } from 'kysely'
import type {
  CloudRegistrationsTable,
  CloudStatusTable,
  GatewayCloudSchema,
} from './cloud-schema.js'

export type SettingLevel = 'cluster' | 'group' | 'machine'

export interface SettingRow {
  level: SettingLevel
  scope: string
  key: string
  value: unknown
  updatedAt: number
  updatedBy: string
}

export interface CloudRegistration {
  machine: string
  deviceId: string
  orgId: string
  deviceName: string
  hubUrl: string
  tunnelUrl: string
  region: string
  /** `standalone`, or `machine` for a node of a cluster (the only mode a cluster offers). */
  mode: 'standalone' | 'machine'
  clusterName: string | null
  credentialSealed: string
  registeredAt: number
}

export interface CloudStatusRow {
  machine: string
  state: string
  lastError: string | null
  lastErrorAt: number | null
  connectedSince: number | null
  updatedAt: number
  eventsPushedThrough: number
  telemetryDigest: string | null
  telemetrySentAt: number | null
}

function toRegistration(r: CloudRegistrationsTable): CloudRegistration {
  return {
    machine: r.machine,
    deviceId: r.device_id,
    orgId: r.org_id,
    deviceName: r.device_name,
    hubUrl: r.hub_url,
    tunnelUrl: r.tunnel_url,
    region: r.region,
    mode: r.mode as CloudRegistration['mode'],
    clusterName: r.cluster_name,
    credentialSealed: r.credential_sealed,
    registeredAt: r.registered_at,
  }
}

function toStatus(r: CloudStatusTable): CloudStatusRow {
  return {
    machine: r.machine,
    state: r.state,
    lastError: r.last_error,
    lastErrorAt: r.last_error_at,
    connectedSince: r.connected_since,
    updatedAt: r.updated_at,
    eventsPushedThrough: r.events_pushed_through,
    telemetryDigest: r.telemetry_digest,
    telemetrySentAt: r.telemetry_sent_at,
  }
}

/** Cloud-services settings, registrations, connector status and cluster membership of a gateway. */
export class CloudRepo {
  private readonly db: Kysely<GatewayCloudSchema>

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any schema that has the cloud tables
  constructor(db: Kysely<any>) {
    this.db = db as Kysely<GatewayCloudSchema>
  }

  async settings(): Promise<SettingRow[]> {
    const rows = await this.db.selectFrom('cloud_settings').selectAll().execute()
    return rows.map((r) => ({
      level: r.level as SettingLevel,
      scope: r.scope,
      key: r.key,
      value: JSON.parse(r.value) as unknown,
      updatedAt: r.updated_at,
      updatedBy: r.updated_by,
    }))
  }

  async putSetting(row: {
    level: SettingLevel
    scope: string
    key: string
    value: unknown
    now: number
    by: string
  }): Promise<void> {
    const values = {
      level: row.level,
      scope: row.scope,
      key: row.key,
      value: JSON.stringify(row.value),
      updated_at: row.now,
      updated_by: row.by,
    }
    await this.db
      .insertInto('cloud_settings')
      .values(values)
      .onConflict((oc) =>
        oc
          .columns(['level', 'scope', 'key'])
          .doUpdateSet({ value: values.value, updated_at: row.now, updated_by: row.by }),
      )
      .execute()
  }

  async deleteSetting(level: SettingLevel, scope: string, key: string): Promise<void> {
    await this.db
      .deleteFrom('cloud_settings')
      .where('level', '=', level)
      .where('scope', '=', scope)
      .where('key', '=', key)
      .execute()
  }

  async registration(machine: string): Promise<CloudRegistration | undefined> {
    const row = await this.db
      .selectFrom('cloud_registrations')
      .selectAll()
      .where('machine', '=', machine)
      .executeTakeFirst()
    return row && toRegistration(row)
  }

  async registrations(): Promise<CloudRegistration[]> {
    const rows = await this.db
      .selectFrom('cloud_registrations')
      .selectAll()
      .orderBy('machine')
      .execute()
    return rows.map(toRegistration)
  }

  async insertRegistration(r: CloudRegistration): Promise<void> {
    await this.db
      .insertInto('cloud_registrations')
      .values({
        machine: r.machine,
        device_id: r.deviceId,
        org_id: r.orgId,
        device_name: r.deviceName,
        hub_url: r.hubUrl,
        tunnel_url: r.tunnelUrl,
        region: r.region,
        mode: r.mode,
        cluster_name: r.clusterName,
        credential_sealed: r.credentialSealed,
        registered_at: r.registeredAt,
      })
      .execute()
  }

  async deleteRegistration(machine: string): Promise<void> {
    await this.db.deleteFrom('cloud_registrations').where('machine', '=', machine).execute()
  }

  async status(machine: string): Promise<CloudStatusRow | undefined> {
    const row = await this.db
      .selectFrom('cloud_status')
      .selectAll()
      .where('machine', '=', machine)
      .executeTakeFirst()
    return row && toStatus(row)
  }

  async putStatus(
    machine: string,
    change: Partial<Omit<CloudStatusRow, 'machine'>> & { updatedAt: number },
  ): Promise<void> {
    const set = {
      ...(change.state !== undefined ? { state: change.state } : {}),
      ...(change.lastError !== undefined ? { last_error: change.lastError } : {}),
      ...(change.lastErrorAt !== undefined ? { last_error_at: change.lastErrorAt } : {}),
      ...(change.connectedSince !== undefined ? { connected_since: change.connectedSince } : {}),
      ...(change.eventsPushedThrough !== undefined
        ? { events_pushed_through: change.eventsPushedThrough }
        : {}),
      ...(change.telemetryDigest !== undefined ? { telemetry_digest: change.telemetryDigest } : {}),
      ...(change.telemetrySentAt !== undefined
        ? { telemetry_sent_at: change.telemetrySentAt }
        : {}),
      updated_at: change.updatedAt,
    }
    await this.db
      .insertInto('cloud_status')
      .values({
        machine,
        state: change.state ?? 'idle',
        last_error: change.lastError ?? null,
        last_error_at: change.lastErrorAt ?? null,
        connected_since: change.connectedSince ?? null,
        updated_at: change.updatedAt,
        events_pushed_through: change.eventsPushedThrough ?? 0,
        telemetry_digest: change.telemetryDigest ?? null,
        telemetry_sent_at: change.telemetrySentAt ?? null,
      })
      .onConflict((oc) => oc.column('machine').doUpdateSet(set))
      .execute()
  }

  async clusterName(): Promise<string | null> {
    const row = await this.db
      .selectFrom('cluster_info')
      .select('name')
      .where('id', '=', 1)
      .executeTakeFirst()
    return row?.name ?? null
  }

  async createCluster(name: string, now: number): Promise<void> {
    await this.db
      .insertInto('cluster_info')
      .values({ id: 1, name, created_at: now })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute()
  }

  async members(): Promise<{ machine: string; group: string; joinedAt: number }[]> {
    const rows = await this.db
      .selectFrom('cluster_members')
      .selectAll()
      .orderBy('machine')
      .execute()
    return rows.map((r) => ({ machine: r.machine, group: r.group_name, joinedAt: r.joined_at }))
  }

  async addMember(machine: string, group: string, now: number): Promise<void> {
    await this.db
      .insertInto('cluster_members')
      .values({ machine, group_name: group, joined_at: now })
      .onConflict((oc) => oc.column('machine').doUpdateSet({ group_name: group }))
      .execute()
  }

  async removeMember(machine: string): Promise<void> {
    await this.db.deleteFrom('cluster_members').where('machine', '=', machine).execute()
    const left = await this.db.selectFrom('cluster_members').select('machine').executeTakeFirst()
    if (!left) await this.db.deleteFrom('cluster_info').execute()
  }
}
