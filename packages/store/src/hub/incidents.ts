import type { Kysely } from 'kysely'
import type { HubSchema } from './schema.js'

export interface IncidentStatusChange {
  status: string
  previousStatus: string | null
  at: number
  actor: string
}

export interface IncidentCampaign {
  orgId: string
  detection: string
  keyType: string
  keyValue: string
  incidentId: string
  firstSeen: number
  lastSeen: number
  events: number
}

export interface StoredAutoIncidentPolicy {
  detections: string[]
  windowMs: number
  updatedAt: number
  updatedBy: string
}

/**
 * What incidents need beyond their CTIM document: the history of status changes and the
 * campaign table that groups automatic detections into one incident per window.
 */
export class IncidentStore {
  constructor(private readonly db: Kysely<HubSchema>) {}

  async recordStatus(
    orgId: string,
    incidentId: string,
    change: IncidentStatusChange,
  ): Promise<void> {
    await this.db
      .insertInto('incident_status_history')
      .values({
        org_id: orgId,
        incident_id: incidentId,
        status: change.status,
        previous_status: change.previousStatus,
        at: change.at,
        actor: change.actor,
      })
      .execute()
  }

  async statusHistory(orgId: string, incidentId: string): Promise<IncidentStatusChange[]> {
    const rows = await this.db
      .selectFrom('incident_status_history')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('incident_id', '=', incidentId)
      .orderBy('at', 'asc')
      .orderBy('id', 'asc')
      .execute()
    return rows.map((r) => ({
      status: r.status,
      previousStatus: r.previous_status,
      at: Number(r.at),
      actor: r.actor,
    }))
  }

  /** The campaign for (detection, key), if its last event is at or after `since`. */
  async openCampaign(
    orgId: string,
    detection: string,
    key: { type: string; value: string },
    since: number,
  ): Promise<IncidentCampaign | undefined> {
    const row = await this.db
      .selectFrom('incident_campaigns')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('detection', '=', detection)
      .where('key_type', '=', key.type)
      .where('key_value', '=', key.value)
      .where('last_seen', '>=', since)
      .executeTakeFirst()
    return row
      ? {
          orgId: row.org_id,
          detection: row.detection,
          keyType: row.key_type,
          keyValue: row.key_value,
          incidentId: row.incident_id,
          firstSeen: Number(row.first_seen),
          lastSeen: Number(row.last_seen),
          events: Number(row.events),
        }
      : undefined
  }

  /**
   * Makes `campaign.incidentId` the incident of its key unless another campaign for the key is
   * still open (its last event at or after `since`). Atomic on both engines (one
   * INSERT … ON CONFLICT DO UPDATE … WHERE), so two hub nodes handling the same burst agree on
   * one incident. Returns true when the claim won.
   */
  async claimCampaign(
    campaign: Omit<IncidentCampaign, 'events' | 'lastSeen'>,
    since: number,
  ): Promise<boolean> {
    const values = {
      org_id: campaign.orgId,
      detection: campaign.detection,
      key_type: campaign.keyType,
      key_value: campaign.keyValue,
      incident_id: campaign.incidentId,
      first_seen: campaign.firstSeen,
      last_seen: campaign.firstSeen,
      events: 1,
    }
    const row = await this.db
      .insertInto('incident_campaigns')
      .values(values)
      .onConflict((oc) =>
        oc
          .columns(['org_id', 'detection', 'key_type', 'key_value'])
          .doUpdateSet({
            incident_id: values.incident_id,
            first_seen: values.first_seen,
            last_seen: values.last_seen,
            events: 1,
          })
          .where('incident_campaigns.last_seen', '<', since),
      )
      .returning('incident_id')
      .executeTakeFirst()
    return row?.incident_id === campaign.incidentId
  }

  async touchCampaign(
    orgId: string,
    detection: string,
    key: { type: string; value: string },
    at: number,
  ): Promise<void> {
    await this.db
      .updateTable('incident_campaigns')
      .set((eb) => ({ last_seen: at, events: eb('events', '+', 1) }))
      .where('org_id', '=', orgId)
      .where('detection', '=', detection)
      .where('key_type', '=', key.type)
      .where('key_value', '=', key.value)
      .execute()
  }

  async autoPolicy(orgId: string): Promise<StoredAutoIncidentPolicy | undefined> {
    const row = await this.db
      .selectFrom('auto_incident_policies')
      .selectAll()
      .where('org_id', '=', orgId)
      .executeTakeFirst()
    return row
      ? {
          detections: JSON.parse(row.detections) as string[],
          windowMs: Number(row.window_ms),
          updatedAt: Number(row.updated_at),
          updatedBy: row.updated_by,
        }
      : undefined
  }

  async setAutoPolicy(orgId: string, policy: StoredAutoIncidentPolicy): Promise<void> {
    const values = {
      detections: JSON.stringify(policy.detections),
      window_ms: policy.windowMs,
      updated_at: policy.updatedAt,
      updated_by: policy.updatedBy,
    }
    await this.db
      .insertInto('auto_incident_policies')
      .values({ org_id: orgId, ...values })
      .onConflict((oc) => oc.column('org_id').doUpdateSet(values))
      .execute()
  }
}
