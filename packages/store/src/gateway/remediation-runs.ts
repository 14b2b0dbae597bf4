import type { Kysely } from 'kysely'
import { systemClock, type Clock } from '@postern/core'
import type { RemediationTables } from './remediation-tables.js'
import type { GatewaySchema } from './schema.js'

export type RemediationAction = 'delete' | 'forward' | 'forward-delete'
export type RemediationRunStatus = 'running' | 'completed' | 'partial' | 'failed'
export type RemediationTargetStatus = 'pending' | 'done' | 'not_found' | 'failed'

export interface RemediationRun {
  id: string
  action: RemediationAction
  status: RemediationRunStatus
  /** `manual` (API, CLI, hub) or `retro` (a block list entry added after delivery). */
  trigger: 'manual' | 'retro'
  reason: string
  actor: { type: string; id: string }
  source: string
  remoteIp: string | null
  forwardTo: string[]
  idempotencyKey: string | null
  details: Record<string, unknown>
  attempts: number
  counts: { total: number; done: number; notFound: number; failed: number }
  createdAt: number
  updatedAt: number
  finishedAt: number | null
}

export interface RemediationTarget {
  id: number
  runId: string
  messageId: string
  recipient: string
  mids: number[]
  profile: string | null
  status: RemediationTargetStatus
  forwarded: boolean
  deleted: boolean
  folders: string[]
  error: { code: string; message: string } | null
  attempts: number
  updatedAt: number
}

export interface NewRemediationRun {
  id: string
  action: RemediationAction
  trigger: 'manual' | 'retro'
  reason: string
  actor: { type: string; id: string }
  source: string
  remoteIp: string | null
  forwardTo: string[]
  idempotencyKey: string | null
  details: Record<string, unknown>
  targets: { messageId: string; recipient: string; mids: number[] }[]
}

export interface TargetUpdate {
  status: RemediationTargetStatus
  profile: string | null
  forwarded: boolean
  deleted: boolean
  folders: string[]
  error: { code: string; message: string } | null
}

export interface RunQuery {
  status?: RemediationRunStatus
  trigger?: 'manual' | 'retro'
  since?: number
  until?: number
  limit?: number
  offset?: number
}

/** A target with the run it belongs to, for a message's remediation history. */
export interface RemediationHistoryEntry extends RemediationTarget {
  run: Pick<
    RemediationRun,
    'id' | 'action' | 'trigger' | 'reason' | 'actor' | 'source' | 'remoteIp' | 'createdAt'
  >
}

/** Persistence of remediation runs and their per-mailbox targets. */
export class RemediationRunRepository {
  constructor(
    private readonly db: Kysely<GatewaySchema>,
    private readonly clock: Clock = systemClock,
  ) {}

  /**
   * Creates a run with its targets in one transaction. With an idempotency key already used,
   * nothing is written and the existing run's id is returned instead.
   */
  async create(run: NewRemediationRun): Promise<{ id: string; created: boolean }> {
    if (run.idempotencyKey !== null) {
      const existing = await this.findByIdempotencyKey(run.idempotencyKey)
      if (existing) return { id: existing.id, created: false }
    }
    const now = this.clock.now()
    try {
      await this.db.transaction().execute(async (trx) => {
        await trx
          .insertInto('remediation_runs')
          .values({
            id: run.id,
            action: run.action,
            status: 'running',
            trigger: run.trigger,
            reason: run.reason,
            actor_type: run.actor.type,
            actor_id: run.actor.id,
            source: run.source,
            remote_ip: run.remoteIp,
            forward_to: JSON.stringify(run.forwardTo),
            idempotency_key: run.idempotencyKey,
            details: JSON.stringify(run.details),
            attempts: 0,
            total: run.targets.length,
            done: 0,
            not_found: 0,
            failed: 0,
            created_at: now,
            updated_at: now,
          })
          .execute()
        // Chunked so that a run over thousands of mailboxes stays under SQLite's bound-variable limit.
        for (let i = 0; i < run.targets.length; i += 500) {
          await trx
            .insertInto('remediation_targets')
            .values(
              run.targets.slice(i, i + 500).map((t) => ({
                run_id: run.id,
                message_id: t.messageId,
                recipient: t.recipient,
                mids: JSON.stringify(t.mids),
                status: 'pending',
                forwarded: 0,
                deleted: 0,
                folders: '[]',
                attempts: 0,
                updated_at: now,
              })),
            )
            .execute()
        }
      })
    } catch (err) {
      // Two requests with the same key at once: the unique index lets one win.
      if (run.idempotencyKey !== null) {
        const existing = await this.findByIdempotencyKey(run.idempotencyKey)
        if (existing) return { id: existing.id, created: false }
      }
      throw err
    }
    return { id: run.id, created: true }
  }

  async findByIdempotencyKey(key: string): Promise<RemediationRun | null> {
    const row = await this.db
      .selectFrom('remediation_runs')
      .selectAll()
      .where('idempotency_key', '=', key)
      .executeTakeFirst()
    return row ? toRun(row) : null
  }

  async get(id: string): Promise<RemediationRun | null> {
    const row = await this.db
      .selectFrom('remediation_runs')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst()
    return row ? toRun(row) : null
  }

  async list(query: RunQuery = {}): Promise<{ total: number; runs: RemediationRun[] }> {
    let q = this.db.selectFrom('remediation_runs')
    if (query.status !== undefined) q = q.where('status', '=', query.status)
    if (query.trigger !== undefined) q = q.where('trigger', '=', query.trigger)
    if (query.since !== undefined) q = q.where('created_at', '>=', query.since)
    if (query.until !== undefined) q = q.where('created_at', '<', query.until)
    const counted = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst()
    const rows = await q
      .selectAll()
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(Math.min(query.limit ?? 50, 1000))
      .offset(query.offset ?? 0)
      .execute()
    return { total: Number(counted?.n ?? 0), runs: rows.map(toRun) }
  }

  async targets(runId: string): Promise<RemediationTarget[]> {
    const rows = await this.db
      .selectFrom('remediation_targets')
      .selectAll()
      .where('run_id', '=', runId)
      .orderBy('id')
      .execute()
    return rows.map(toTarget)
  }

  /** Marks the start of an attempt (first run or retry) and returns the attempt number. */
  async beginAttempt(runId: string): Promise<number> {
    await this.db
      .updateTable('remediation_runs')
      .set((eb) => ({
        attempts: eb('attempts', '+', 1),
        status: 'running',
        finished_at: null,
        updated_at: this.clock.now(),
      }))
      .where('id', '=', runId)
      .execute()
    const row = await this.db
      .selectFrom('remediation_runs')
      .select('attempts')
      .where('id', '=', runId)
      .executeTakeFirstOrThrow()
    return Number(row.attempts)
  }

  async updateTarget(id: number, update: TargetUpdate): Promise<void> {
    await this.db
      .updateTable('remediation_targets')
      .set((eb) => ({
        status: update.status,
        profile: update.profile,
        forwarded: update.forwarded ? 1 : 0,
        deleted: update.deleted ? 1 : 0,
        folders: JSON.stringify(update.folders),
        error_code: update.error?.code ?? null,
        error_message: update.error?.message ?? null,
        attempts: eb('attempts', '+', 1),
        updated_at: this.clock.now(),
      }))
      .where('id', '=', id)
      .execute()
  }

  /** Recounts the targets and closes the attempt with the resulting status. */
  async finish(runId: string): Promise<RemediationRun> {
    const counts = await this.db
      .selectFrom('remediation_targets')
      .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
      .where('run_id', '=', runId)
      .groupBy('status')
      .execute()
    const by = (s: string): number => Number(counts.find((c) => c.status === s)?.n ?? 0)
    const total = counts.reduce((sum, c) => sum + Number(c.n), 0)
    const done = by('done')
    const notFound = by('not_found')
    const failed = by('failed') + by('pending')
    const status: RemediationRunStatus =
      failed === 0 ? 'completed' : failed === total ? 'failed' : 'partial'
    const now = this.clock.now()
    await this.db
      .updateTable('remediation_runs')
      .set({
        status,
        total,
        done,
        not_found: notFound,
        failed,
        updated_at: now,
        finished_at: now,
      })
      .where('id', '=', runId)
      .execute()
    const run = await this.get(runId)
    if (!run) throw new Error(`remediation run ${runId} vanished`)
    return run
  }

  /**
   * Recipients to whom this Message-ID was already forwarded (by any run, to any of `forwardTo`),
   * so that a repeated request does not send the same message to the analysts twice.
   */
  async alreadyForwarded(
    messageId: string,
    forwardTo: string[],
  ): Promise<{ recipient: string; runId: string }[]> {
    const rows = await this.db
      .selectFrom('remediation_targets as t')
      .innerJoin('remediation_runs as r', 'r.id', 't.run_id')
      .select(['t.recipient', 't.run_id', 'r.forward_to'])
      .where('t.message_id', '=', messageId)
      .where('t.forwarded', '=', 1)
      .execute()
    const wanted = new Set(forwardTo.map((a) => a.toLowerCase()))
    return rows
      .filter((r) =>
        (JSON.parse(r.forward_to) as string[]).some((a) => wanted.has(a.toLowerCase())),
      )
      .map((r) => ({ recipient: r.recipient, runId: r.run_id }))
  }

  /** Every remediation target for these Message-IDs with its run, newest first. */
  async history(messageIds: string[]): Promise<RemediationHistoryEntry[]> {
    if (messageIds.length === 0) return []
    const rows = await this.db
      .selectFrom('remediation_targets as t')
      .innerJoin('remediation_runs as r', 'r.id', 't.run_id')
      .selectAll('t')
      .select([
        'r.action',
        'r.trigger',
        'r.reason',
        'r.actor_type',
        'r.actor_id',
        'r.source',
        'r.remote_ip',
        'r.created_at',
      ])
      .where('t.message_id', 'in', messageIds)
      .orderBy('r.created_at', 'desc')
      .orderBy('t.id')
      .execute()
    return rows.map((r) => ({
      ...toTarget(r),
      run: {
        id: r.run_id,
        action: r.action as RemediationAction,
        trigger: r.trigger as 'manual' | 'retro',
        reason: r.reason,
        actor: { type: r.actor_type, id: r.actor_id },
        source: r.source,
        remoteIp: r.remote_ip,
        createdAt: Number(r.created_at),
      },
    }))
  }
}

function toRun(r: RemediationTables['remediation_runs']): RemediationRun {
  return {
    id: r.id,
    action: r.action as RemediationAction,
    status: r.status as RemediationRunStatus,
    trigger: r.trigger as 'manual' | 'retro',
    reason: r.reason,
    actor: { type: r.actor_type, id: r.actor_id },
    source: r.source,
    remoteIp: r.remote_ip,
    forwardTo: JSON.parse(r.forward_to) as string[],
    idempotencyKey: r.idempotency_key,
    details: JSON.parse(r.details) as Record<string, unknown>,
    attempts: Number(r.attempts),
    counts: {
      total: Number(r.total),
      done: Number(r.done),
      notFound: Number(r.not_found),
      failed: Number(r.failed),
    },
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    finishedAt: r.finished_at === null ? null : Number(r.finished_at),
  }
}

function toTarget(
  r: Omit<RemediationTables['remediation_targets'], 'id'> & { id: number },
): RemediationTarget {
  return {
    id: Number(r.id),
    runId: r.run_id,
    messageId: r.message_id,
    recipient: r.recipient,
    mids: JSON.parse(r.mids) as number[],
    profile: r.profile,
    status: r.status as RemediationTargetStatus,
    forwarded: Number(r.forwarded) === 1,
    deleted: Number(r.deleted) === 1,
    folders: JSON.parse(r.folders) as string[],
    error: r.error_code !== null ? { code: r.error_code, message: r.error_message ?? '' } : null,
    attempts: Number(r.attempts),
    updatedAt: Number(r.updated_at),
  }
}
