import type { Kysely } from 'kysely'
import type { ActionRequestsTable, HubSchema } from './schema.js'

export type ActionRequestStatus = 'pending' | 'approved' | 'rejected' | 'expired'

export interface ActionRequest {
  id: string
  orgId: string
  moduleInstanceId: string
  actionId: string
  observable: { type: string; value: string }
  extras: Record<string, string>
  requestedBy: { type: string; id: string }
  requestedByUser: string | null
  requestedAt: number
  expiresAt: number
  status: ActionRequestStatus
  decidedBy: string | null
  decidedAt: number | null
  comment: string | null
  result: unknown
}

function toRequest(row: ActionRequestsTable): ActionRequest {
  return {
    id: row.id,
    orgId: row.org_id,
    moduleInstanceId: row.module_instance_id,
    actionId: row.action_id,
    observable: { type: row.observable_type, value: row.observable_value },
    extras: JSON.parse(row.extras) as Record<string, string>,
    requestedBy: { type: row.requested_by_type, id: row.requested_by_id },
    requestedByUser: row.requested_by_user,
    requestedAt: Number(row.requested_at),
    expiresAt: Number(row.expires_at),
    status: row.status as ActionRequestStatus,
    decidedBy: row.decided_by,
    decidedAt: row.decided_at === null ? null : Number(row.decided_at),
    comment: row.comment,
    result: row.result === null ? null : (JSON.parse(row.result) as unknown),
  }
}

/** Response actions waiting for approval, per organisation. */
export class ActionRequestsRepo {
  constructor(private readonly db: Kysely<HubSchema>) {}

  async insert(request: ActionRequest): Promise<ActionRequest> {
    await this.db
      .insertInto('action_requests')
      .values({
        id: request.id,
        org_id: request.orgId,
        module_instance_id: request.moduleInstanceId,
        action_id: request.actionId,
        observable_type: request.observable.type,
        observable_value: request.observable.value,
        extras: JSON.stringify(request.extras),
        requested_by_type: request.requestedBy.type,
        requested_by_id: request.requestedBy.id,
        requested_by_user: request.requestedByUser,
        requested_at: request.requestedAt,
        expires_at: request.expiresAt,
        status: request.status,
        decided_by: null,
        decided_at: null,
        comment: null,
        result: null,
      })
      .execute()
    return request
  }

  async get(orgId: string, id: string): Promise<ActionRequest | undefined> {
    const row = await this.db
      .selectFrom('action_requests')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('id', '=', id)
      .executeTakeFirst()
    return row && toRequest(row)
  }

  async list(orgId: string, status?: ActionRequestStatus, limit = 200): Promise<ActionRequest[]> {
    let query = this.db.selectFrom('action_requests').selectAll().where('org_id', '=', orgId)
    if (status !== undefined) query = query.where('status', '=', status)
    const rows = await query.orderBy('requested_at', 'desc').orderBy('id').limit(limit).execute()
    return rows.map(toRequest)
  }

  /** Marks pending requests past their expiry as expired; returns them (as they now are). */
  async expire(orgId: string, now: number): Promise<ActionRequest[]> {
    const rows = await this.db
      .updateTable('action_requests')
      .set({ status: 'expired', decided_at: now, decided_by: 'system' })
      .where('org_id', '=', orgId)
      .where('status', '=', 'pending')
      .where('expires_at', '<=', now)
      .returningAll()
      .execute()
    return rows.map(toRequest)
  }

  /**
   * Decides a pending request. Only one decision wins: the update matches the row only while it
   * is still pending and not expired, so two approvers at once cannot both run the action.
   */
  async decide(
    orgId: string,
    id: string,
    decision: { status: 'approved' | 'rejected'; by: string; comment: string | null; now: number },
  ): Promise<boolean> {
    const result = await this.db
      .updateTable('action_requests')
      .set({
        status: decision.status,
        decided_by: decision.by,
        decided_at: decision.now,
        comment: decision.comment,
      })
      .where('org_id', '=', orgId)
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .where('expires_at', '>', decision.now)
      .executeTakeFirst()
    return Number(result.numUpdatedRows) === 1
  }

  async recordResult(orgId: string, id: string, result: unknown): Promise<void> {
    await this.db
      .updateTable('action_requests')
      .set({ result: JSON.stringify(result) })
      .where('org_id', '=', orgId)
      .where('id', '=', id)
      .execute()
  }
}
