import type { Kysely } from 'kysely'
import type { WatchesTable } from './ctia-tables.js'
import type { HubSchema } from './schema.js'

/** What happens when a watched observable is seen: `open` raises (or updates) an incident. */
export type WatchIncidentMode = 'none' | 'open'

export interface Watch {
  id: string
  orgId: string
  observable: { type: string; value: string }
  note: string | null
  createdBy: string
  notify: { console: boolean; webhook: string | null; email: string | null }
  incidentMode: WatchIncidentMode
  incidentId: string | null
  active: boolean
  sightingCount: number
  lastSightingAt: number | null
  created: number
  modified: number
}

export interface NewWatch {
  id: string
  orgId: string
  observable: { type: string; value: string }
  note?: string | null
  createdBy: string
  notify?: Partial<Watch['notify']>
  incidentMode?: WatchIncidentMode
  at: number
}

export type WatchChanges = Partial<
  Pick<Watch, 'note' | 'incidentMode' | 'active' | 'incidentId'> & {
    notify: Partial<Watch['notify']>
  }
>

export interface WatchSighting {
  id: number
  watchId: string
  observedAt: number
  recordedAt: number
  deviceId: string
  /** The gateway's message reference (its MID). */
  messageRef: string
  messageId: string | null
  details: Record<string, unknown>
}

export type NewWatchSighting = Omit<WatchSighting, 'id'>

/**
 * Watched observables. Values are matched case-insensitively (stored lower-case), so a watch on
 * `Evil.Example` sees mail from `evil.example`.
 */
export class WatchStore {
  constructor(private readonly db: Kysely<HubSchema>) {}

  /** Creates a watch; returns undefined when the org already watches this observable. */
  async create(watch: NewWatch): Promise<Watch | undefined> {
    const row: WatchesTable = {
      id: watch.id,
      org_id: watch.orgId,
      observable_type: watch.observable.type,
      observable_value: watch.observable.value.toLowerCase(),
      note: watch.note ?? null,
      created_by: watch.createdBy,
      notify_console: watch.notify?.console === false ? 0 : 1,
      notify_webhook: watch.notify?.webhook ?? null,
      notify_email: watch.notify?.email ?? null,
      incident_mode: watch.incidentMode ?? 'none',
      incident_id: null,
      active: 1,
      sighting_count: 0,
      last_sighting_at: null,
      created: watch.at,
      modified: watch.at,
    }
    const inserted = await this.db
      .insertInto('watches')
      .values(row)
      .onConflict((oc) => oc.columns(['org_id', 'observable_type', 'observable_value']).doNothing())
      .returning('id')
      .executeTakeFirst()
    return inserted ? fromRow(row) : undefined
  }

  async get(orgId: string, id: string): Promise<Watch | undefined> {
    const row = await this.db
      .selectFrom('watches')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('id', '=', id)
      .executeTakeFirst()
    return row ? fromRow(row) : undefined
  }

  async list(
    orgId: string,
    options: { limit?: number; offset?: number; activeOnly?: boolean } = {},
  ): Promise<{ total: number; watches: Watch[] }> {
    let q = this.db.selectFrom('watches').where('org_id', '=', orgId)
    if (options.activeOnly) q = q.where('active', '=', 1)
    const { total } = await q
      .select((eb) => eb.fn.countAll<number>().as('total'))
      .executeTakeFirstOrThrow()
    const rows = await q
      .selectAll()
      .orderBy('created', 'desc')
      .orderBy('id', 'asc')
      .limit(Math.min(options.limit ?? 100, 1000))
      .offset(options.offset ?? 0)
      .execute()
    return { total: Number(total), watches: rows.map(fromRow) }
  }

  async update(
    orgId: string,
    id: string,
    changes: WatchChanges,
    at: number,
  ): Promise<Watch | undefined> {
    const set: Partial<WatchesTable> = { modified: at }
    if (changes.note !== undefined) set.note = changes.note
    if (changes.incidentMode !== undefined) set.incident_mode = changes.incidentMode
    if (changes.active !== undefined) set.active = changes.active ? 1 : 0
    if (changes.incidentId !== undefined) set.incident_id = changes.incidentId
    if (changes.notify?.console !== undefined) set.notify_console = changes.notify.console ? 1 : 0
    if (changes.notify?.webhook !== undefined) set.notify_webhook = changes.notify.webhook
    if (changes.notify?.email !== undefined) set.notify_email = changes.notify.email
    await this.db
      .updateTable('watches')
      .set(set)
      .where('org_id', '=', orgId)
      .where('id', '=', id)
      .execute()
    return this.get(orgId, id)
  }

  async delete(orgId: string, id: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('watches')
      .where('org_id', '=', orgId)
      .where('id', '=', id)
      .executeTakeFirst()
    return Number(result.numDeletedRows) > 0
  }

  /** Active watches on any of the observables (the gateway event path). */
  async matching(
    orgId: string,
    observables: readonly { type: string; value: string }[],
  ): Promise<Watch[]> {
    if (observables.length === 0) return []
    const rows = await this.db
      .selectFrom('watches')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('active', '=', 1)
      .where((eb) =>
        eb.or(
          observables.map((ob) =>
            eb.and([
              eb('observable_type', '=', ob.type),
              eb('observable_value', '=', ob.value.toLowerCase()),
            ]),
          ),
        ),
      )
      .execute()
    return rows.map(fromRow)
  }

  /**
   * Records that a gateway saw a watched observable in a message. A repeated report of the
   * same message (a gateway retrying after a lost acknowledgement) is ignored: returns false.
   */
  async recordSighting(orgId: string, sighting: NewWatchSighting): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const inserted = await trx
        .insertInto('watch_sightings')
        .values({
          org_id: orgId,
          watch_id: sighting.watchId,
          observed_at: sighting.observedAt,
          recorded_at: sighting.recordedAt,
          device_id: sighting.deviceId,
          message_ref: sighting.messageRef,
          message_id: sighting.messageId,
          details: JSON.stringify(sighting.details),
        })
        .onConflict((oc) => oc.columns(['watch_id', 'device_id', 'message_ref']).doNothing())
        .returning('id')
        .executeTakeFirst()
      if (!inserted) return false
      await trx
        .updateTable('watches')
        .set((eb) => ({
          sighting_count: eb('sighting_count', '+', 1),
          last_sighting_at: sighting.observedAt,
        }))
        .where('org_id', '=', orgId)
        .where('id', '=', sighting.watchId)
        .execute()
      return true
    })
  }

  async sightings(
    orgId: string,
    watchId: string,
    options: { limit?: number; offset?: number } = {},
  ): Promise<WatchSighting[]> {
    const rows = await this.db
      .selectFrom('watch_sightings')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('watch_id', '=', watchId)
      .orderBy('observed_at', 'desc')
      .orderBy('id', 'desc')
      .limit(Math.min(options.limit ?? 100, 1000))
      .offset(options.offset ?? 0)
      .execute()
    return rows.map((r) => ({
      id: Number(r.id),
      watchId: r.watch_id,
      observedAt: Number(r.observed_at),
      recordedAt: Number(r.recorded_at),
      deviceId: r.device_id,
      messageRef: r.message_ref,
      messageId: r.message_id,
      details: JSON.parse(r.details) as Record<string, unknown>,
    }))
  }
}

function fromRow(row: WatchesTable): Watch {
  return {
    id: row.id,
    orgId: row.org_id,
    observable: { type: row.observable_type, value: row.observable_value },
    note: row.note,
    createdBy: row.created_by,
    notify: {
      console: Number(row.notify_console) === 1,
      webhook: row.notify_webhook,
      email: row.notify_email,
    },
    incidentMode: row.incident_mode as WatchIncidentMode,
    incidentId: row.incident_id,
    active: Number(row.active) === 1,
    sightingCount: Number(row.sighting_count),
    lastSightingAt: row.last_sighting_at === null ? null : Number(row.last_sighting_at),
    created: Number(row.created),
    modified: Number(row.modified),
  }
}
