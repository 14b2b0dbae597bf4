import type { Generated, Kysely } from 'kysely'
import { systemClock, type Clock } from '@postern/core'

export interface AuditLogTable {
  id: Generated<number>
  at: number
  org_id: string | null
  actor_type: string
  actor_id: string
  source: string
  remote_ip: string | null
  action: string
  target_type: string | null
  target_id: string | null
  outcome: string
  details: string
}

export type ActorType = 'user' | 'client' | 'device' | 'system' | 'cli' | 'hub'
export type AuditSource = 'api' | 'cli' | 'console' | 'hub' | 'tunnel' | 'system'
export type AuditOutcome = 'success' | 'failure' | 'denied' | 'pending'

export interface AuditEntryInput {
  orgId?: string | null
  actor: { type: ActorType; id: string }
  source: AuditSource
  remoteIp?: string | null
  /** Dotted verb, e.g. `device.register`, `remediation.delete`, `settings.update`. */
  action: string
  target?: { type: string; id: string } | null
  outcome: AuditOutcome
  /** Inputs and results worth keeping. Never secrets: callers pass what is safe to show. */
  details?: Record<string, unknown>
}

export interface AuditEntry extends Required<Omit<AuditEntryInput, 'details' | 'target'>> {
  id: number
  at: number
  target: { type: string; id: string } | null
  details: Record<string, unknown>
}

export interface AuditQuery {
  orgId?: string | null
  action?: string
  actorId?: string
  since?: number
  until?: number
  limit?: number
  offset?: number
}

/** Append-only record of who did what, when, from where, and how it ended. */
/** Any schema with the audit_log table (Kysely's types are invariant, hence the generic). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AuditLogSchema = any

export class AuditLog {
  private readonly db: Kysely<{ audit_log: AuditLogTable }>

  /** Takes either app's database (any schema that has the `audit_log` table). */
  constructor(
    db: Kysely<AuditLogSchema>,
    private readonly clock: Clock = systemClock,
  ) {
    this.db = db as unknown as Kysely<{ audit_log: AuditLogTable }>
  }

  async record(entry: AuditEntryInput): Promise<number> {
    const row = await this.db
      .insertInto('audit_log')
      .values(this.row(entry, this.clock.now()))
      .returning('id')
      .executeTakeFirstOrThrow()
    return row.id
  }

  /** Several entries in one statement (each with the time it happened). */
  async recordMany(entries: readonly { entry: AuditEntryInput; at: number }[]): Promise<void> {
    if (entries.length === 0) return
    await this.db
      .insertInto('audit_log')
      .values(entries.map(({ entry, at }) => this.row(entry, at)))
      .execute()
  }

  private row(entry: AuditEntryInput, at: number) {
    return {
      at,
      org_id: entry.orgId ?? null,
      actor_type: entry.actor.type,
      actor_id: entry.actor.id,
      source: entry.source,
      remote_ip: entry.remoteIp ?? null,
      action: entry.action,
      target_type: entry.target?.type ?? null,
      target_id: entry.target?.id ?? null,
      outcome: entry.outcome,
      details: JSON.stringify(entry.details ?? {}),
    }
  }

  async list(query: AuditQuery = {}): Promise<{ total: number; entries: AuditEntry[] }> {
    let q = this.db.selectFrom('audit_log')
    if (query.orgId !== undefined) {
      q = query.orgId === null ? q.where('org_id', 'is', null) : q.where('org_id', '=', query.orgId)
    }
    if (query.action !== undefined) q = q.where('action', '=', query.action)
    if (query.actorId !== undefined) q = q.where('actor_id', '=', query.actorId)
    if (query.since !== undefined) q = q.where('at', '>=', query.since)
    if (query.until !== undefined) q = q.where('at', '<', query.until)
    const [{ total }] = (await q
      .select((eb) => eb.fn.countAll<number>().as('total'))
      .execute()) as [{ total: number }]
    const rows = await q
      .selectAll()
      .orderBy('at', 'desc')
      .orderBy('id', 'desc')
      .limit(Math.min(query.limit ?? 100, 1000))
      .offset(query.offset ?? 0)
      .execute()
    return {
      total: Number(total),
      entries: rows.map((r) => ({
        id: r.id,
        at: r.at,
        orgId: r.org_id,
        actor: { type: r.actor_type as ActorType, id: r.actor_id },
        source: r.source as AuditSource,
        remoteIp: r.remote_ip,
        action: r.action,
        target: r.target_type && r.target_id ? { type: r.target_type, id: r.target_id } : null,
        outcome: r.outcome as AuditOutcome,
        details: JSON.parse(r.details) as Record<string, unknown>,
      })),
    }
  }
}
