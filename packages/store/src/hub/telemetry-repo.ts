import type { Kysely } from 'kysely'
import type { HubSchema } from './schema.js'

export interface TelemetryRecord {
  id: number
  orgId: string
  deviceId: string
  receivedAt: number
  payload: unknown
}

/** Usage telemetry reports received from devices (seed §5, "Cisco Success Network"). */
export class TelemetryRepo {
  constructor(private readonly db: Kysely<HubSchema>) {}

  async insert(record: {
    orgId: string
    deviceId: string
    receivedAt: number
    payload: unknown
  }): Promise<number> {
    const row = await this.db
      .insertInto('device_telemetry')
      .values({
        org_id: record.orgId,
        device_id: record.deviceId,
        received_at: record.receivedAt,
        payload: JSON.stringify(record.payload),
      })
      .returning('id')
      .executeTakeFirstOrThrow()
    return row.id
  }

  /** Reports of one device, newest first. */
  async listForDevice(orgId: string, deviceId: string, limit = 50): Promise<TelemetryRecord[]> {
    const rows = await this.db
      .selectFrom('device_telemetry')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('device_id', '=', deviceId)
      .orderBy('received_at', 'desc')
      .orderBy('id', 'desc')
      .limit(Math.min(limit, 1000))
      .execute()
    return rows.map((r) => ({
      id: r.id,
      orgId: r.org_id,
      deviceId: r.device_id,
      receivedAt: r.received_at,
      payload: JSON.parse(r.payload) as unknown,
    }))
  }

  /** Drops reports older than `before`, keeping history bounded. */
  async deleteOlderThan(before: number): Promise<number> {
    const result = await this.db
      .deleteFrom('device_telemetry')
      .where('received_at', '<', before)
      .executeTakeFirst()
    return Number(result.numDeletedRows)
  }
}
