import type { Kysely } from 'kysely'
import { systemClock, type Clock } from '@postern/core'
import type { RemediationTables } from './remediation-tables.js'
import type { GatewaySchema } from './schema.js'

/** A remediation profile as stored: settings in clear, secrets sealed by the caller. */
export interface StoredRemediationProfile {
  name: string
  kind: string
  description: string
  domains: string[]
  settings: Record<string, unknown>
  /** Field name → SecretBox-sealed value. */
  secrets: Record<string, string>
  enabled: boolean
  createdAt: number
  updatedAt: number
  updatedBy: string
}

export type RemediationProfileInput = Omit<StoredRemediationProfile, 'createdAt' | 'updatedAt'>

/** Persistence of remediation profiles (validation and sealing happen in the gateway app). */
export class RemediationProfileRepository {
  constructor(
    private readonly db: Kysely<GatewaySchema>,
    private readonly clock: Clock = systemClock,
  ) {}

  async list(): Promise<StoredRemediationProfile[]> {
    const rows = await this.db
      .selectFrom('remediation_profiles')
      .selectAll()
      .orderBy('name')
      .execute()
    return rows.map(toProfile)
  }

  async get(name: string): Promise<StoredRemediationProfile | null> {
    const row = await this.db
      .selectFrom('remediation_profiles')
      .selectAll()
      .where('name', '=', name)
      .executeTakeFirst()
    return row ? toProfile(row) : null
  }

  /** Inserts a new profile; returns false when the name is taken. */
  async insert(profile: RemediationProfileInput): Promise<boolean> {
    const now = this.clock.now()
    const result = await this.db
      .insertInto('remediation_profiles')
      .values({ ...toRow(profile), created_at: now, updated_at: now })
      .onConflict((oc) => oc.column('name').doNothing())
      .executeTakeFirst()
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0
  }

  /** Replaces a profile's fields; returns false when it does not exist. */
  async replace(profile: RemediationProfileInput): Promise<boolean> {
    const result = await this.db
      .updateTable('remediation_profiles')
      .set({ ...toRow(profile), updated_at: this.clock.now() })
      .where('name', '=', profile.name)
      .executeTakeFirst()
    return Number(result.numUpdatedRows) > 0
  }

  async delete(name: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('remediation_profiles')
      .where('name', '=', name)
      .executeTakeFirst()
    return Number(result.numDeletedRows) > 0
  }
}

function toRow(p: RemediationProfileInput) {
  return {
    name: p.name,
    kind: p.kind,
    description: p.description,
    domains: JSON.stringify(p.domains),
    settings: JSON.stringify(p.settings),
    secrets: JSON.stringify(p.secrets),
    enabled: p.enabled ? 1 : 0,
    updated_by: p.updatedBy,
  }
}

function toProfile(r: RemediationTables['remediation_profiles']): StoredRemediationProfile {
  return {
    name: r.name,
    kind: r.kind,
    description: r.description,
    domains: JSON.parse(r.domains) as string[],
    settings: JSON.parse(r.settings) as Record<string, unknown>,
    secrets: JSON.parse(r.secrets) as Record<string, string>,
    enabled: Number(r.enabled) === 1,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    updatedBy: r.updated_by,
  }
}
