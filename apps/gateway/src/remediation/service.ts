import { setTimeout as sleep } from 'node:timers/promises'
import pLimit, { type LimitFunction } from 'p-limit'
import {
  describeError,
  isAppError,
  newUuid,
  systemClock,
  type Clock,
  type Logger,
} from '@postern/core'
import type {
  AuditLog,
  RemediationAction,
  RemediationHistoryEntry,
  RemediationRun,
  RemediationRunRepository,
  RemediationTarget,
  RunQuery,
  TargetUpdate,
} from '@postern/store'
import type { MailboxAdapter, MailboxHit, MailboxSession } from './adapter.js'
import type { RemediationConfig } from './config.js'
import type { RequestContext } from './context.js'
import { SessionSlot } from './session-slot.js'
import { gwErrors } from '../errors.js'
import type { Forwarder } from './forwarder.js'
import { normalizeMessageId, parseMailboxAddress } from './mailbox-address.js'
import type { RemediationProfiles } from './profiles.js'

/** One message (by Message-ID) and the mailboxes it reached. */
export interface RemediationMessage {
  messageId: string
  recipients: string[]
  /** Tracking MIDs of this message on this gateway (several when it was split or resent). */
  mids: number[]
}

export interface RemediationRequest {
  action: RemediationAction
  messages: RemediationMessage[]
  /** Forward addresses; the configured one when omitted. */
  forwardTo?: string[]
  reason?: string
  /** Same key, same run: a repeated request returns the first run instead of starting another. */
  idempotencyKey?: string
  trigger?: 'manual' | 'retro'
  details?: Record<string, unknown>
  /** Resolve only when the run has finished (CLI, tests); otherwise it runs in the background. */
  wait?: boolean
}

/** A tracking event for one MID, written for every remediation attempt. */
export interface RemediationTrackingEvent {
  mid: number
  at: number
  type: 'REMEDIATION'
  runId: string
  action: RemediationAction
  attempt: number
  trigger: 'manual' | 'retro'
  actor: string
  source: string
  results: { recipient: string; status: string; error?: string }[]
}

export interface RemediationServiceOptions {
  config: RemediationConfig
  profiles: RemediationProfiles
  runs: RemediationRunRepository
  audit: AuditLog
  /** Absent when no relay is configured: forwards then fail with a coded reason. */
  forwarder: Forwarder | null
  logger: Logger
  clock?: Clock
  /** Writes the per-MID tracking event (wired to the tracking events table by the gateway). */
  recordTrackingEvent?: (event: RemediationTrackingEvent) => Promise<void>
}

export interface RunWithTargets {
  run: RemediationRun
  targets: RemediationTarget[]
}

/** A run as `remediate` answers it: `created` is false when the idempotency key named an earlier run. */
export interface StartedRun extends RunWithTargets {
  created: boolean
}

/**
 * Runs remediation: a run is created with one target per (Message-ID, recipient mailbox); each
 * target is worked on through the profile that serves its domain, under a global and a
 * per-profile concurrency limit and a per-mailbox timeout. Each target's result is stored as
 * soon as it is known, forwards before deletes, so an interrupted run resumes without sending
 * anything twice. Every attempt writes an audit record and a tracking event per MID.
 */
export class RemediationService {
  private readonly limit: LimitFunction
  private readonly profileLimits = new Map<string, LimitFunction>()
  private readonly active = new Map<string, Promise<RunWithTargets>>()
  private readonly clock: Clock

  constructor(private readonly options: RemediationServiceOptions) {
    this.limit = pLimit(options.config.concurrency)
    this.clock = options.clock ?? systemClock
  }

  async remediate(request: RemediationRequest, context: RequestContext): Promise<StartedRun> {
    const { config } = this.options
    if (!config.enabled) throw gwErrors.REMEDIATION_DISABLED()
    const forwardTo = request.action === 'delete' ? [] : this.forwardAddresses(request.forwardTo)
    const targets = dedupeTargets(request.messages)
    if (targets.length === 0) {
      throw gwErrors.REMEDIATION_MESSAGE_NOT_FOUND({ what: 'the request (no recipients)' })
    }
    if (targets.length > config.maxTargetsPerRun) {
      throw gwErrors.REMEDIATION_TOO_MANY_TARGETS({
        count: targets.length,
        limit: config.maxTargetsPerRun,
      })
    }
    const { id, created } = await this.options.runs.create({
      id: newUuid(),
      action: request.action,
      trigger: request.trigger ?? 'manual',
      reason: request.reason ?? '',
      actor: context.actor,
      source: context.source,
      remoteIp: context.remoteIp ?? null,
      forwardTo,
      idempotencyKey: request.idempotencyKey ?? null,
      details: request.details ?? {},
      targets,
    })
    if (!created) {
      const running = this.active.get(id)
      return { ...(await (running && request.wait ? running : this.get(id))), created }
    }
    const execution = this.execute(id, context)
    if (request.wait) return { ...(await execution), created }
    execution.catch(() => undefined)
    return { ...(await this.get(id)), created }
  }

  /** Runs again every target that is not done (failed, or pending after a crash). */
  async retry(runId: string, context: RequestContext, wait = true): Promise<RunWithTargets> {
    await this.get(runId)
    const running = this.active.get(runId)
    if (running) return wait ? running : this.get(runId)
    const execution = this.execute(runId, context)
    if (wait) return execution
    execution.catch(() => undefined)
    return this.get(runId)
  }

  async get(runId: string): Promise<RunWithTargets> {
    const run = await this.options.runs.get(runId)
    if (!run) throw gwErrors.REMEDIATION_RUN_NOT_FOUND({ id: runId })
    return { run, targets: await this.options.runs.targets(runId) }
  }

  list(query: RunQuery): Promise<{ total: number; runs: RemediationRun[] }> {
    return this.options.runs.list(query)
  }

  history(messageIds: string[]): Promise<RemediationHistoryEntry[]> {
    return this.options.runs.history(messageIds.map(normalizeMessageId))
  }

  /** Waits for runs in progress (graceful shutdown). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.active.values()])
  }

  private execute(runId: string, context: RequestContext): Promise<RunWithTargets> {
    const execution = this.executeNow(runId, context).finally(() => this.active.delete(runId))
    this.active.set(runId, execution)
    return execution
  }

  private async executeNow(runId: string, context: RequestContext): Promise<RunWithTargets> {
    const { runs, logger } = this.options
    const attempt = await runs.beginAttempt(runId)
    const { run, targets } = await this.get(runId)
    const log = logger.child({ runId, action: run.action, attempt })
    // "not found" is an answer, not a failure: a retry redoes only failed and unfinished targets.
    const todo = targets.filter((t) => t.status === 'failed' || t.status === 'pending')
    log.info(
      {
        event: 'REMEDIATION_RUN_STARTED',
        targets: todo.length,
        trigger: run.trigger,
        actor: run.actor.id,
        source: run.source,
      },
      'remediation run started',
    )
    const forwardedBefore = new Set<string>()
    if (run.action !== 'delete') {
      for (const messageId of new Set(todo.map((t) => t.messageId))) {
        for (const prior of await runs.alreadyForwarded(messageId, run.forwardTo)) {
          if (prior.runId !== run.id) forwardedBefore.add(`${messageId}\n${prior.recipient}`)
        }
      }
    }
    const routes = this.runRoutes()
    const forwards: RunForwards = new Map()
    await Promise.all(
      groupByMailbox(todo).map((mailboxTargets) =>
        this.limit(() =>
          this.remediateMailbox(run, mailboxTargets, routes, forwards, log, (target) =>
            forwardedBefore.has(`${target.messageId}\n${target.recipient}`),
          ),
        ),
      ),
    )
    const finished = await runs.finish(runId)
    const finalTargets = await runs.targets(runId)
    log.info(
      { event: 'REMEDIATION_RUN_FINISHED', status: finished.status, ...finished.counts },
      'remediation run finished',
    )
    await this.options.audit.record({
      actor: context.actor,
      source: context.source,
      remoteIp: context.remoteIp ?? null,
      action: `remediation.${run.action}`,
      target: { type: 'remediation_run', id: runId },
      outcome: finished.status === 'completed' ? 'success' : 'failure',
      details: {
        attempt,
        trigger: run.trigger,
        reason: run.reason,
        status: finished.status,
        counts: finished.counts,
        messageIds: [...new Set(finalTargets.map((t) => t.messageId))],
        mids: [...new Set(finalTargets.flatMap((t) => t.mids))],
      },
    })
    await this.recordTrackingEvents(finished, attempt, finalTargets, todo, context, log)
    return { run: finished, targets: finalTargets }
  }

  /**
   * The targets of one mailbox, one after the other through one session, inside the profile's
   * connection limit (held for the whole mailbox, since its session stays open in between).
   */
  private async remediateMailbox(
    run: RemediationRun,
    targets: RemediationTarget[],
    routes: RunRoutes,
    forwards: RunForwards,
    log: Logger,
    forwardedBefore: (target: RemediationTarget) => boolean,
  ): Promise<void> {
    const slot = new SessionSlot()
    const limit = await this.profileLimitOf((targets[0] as RemediationTarget).recipient, routes)
    await limit(async () => {
      try {
        for (const target of targets) {
          const forwarded = target.forwarded || forwardedBefore(target)
          const update = await this.remediateTarget(
            run,
            { ...target, forwarded },
            routes,
            forwards,
            slot,
            log,
          )
          await this.options.runs.updateTarget(target.id, update)
        }
      } finally {
        await slot.close()
      }
    })
  }

  /** The connection limit of the mailbox's profile; none when it has no usable profile. */
  private async profileLimitOf(
    recipient: string,
    routes: RunRoutes,
  ): Promise<<T>(fn: () => Promise<T>) => Promise<T>> {
    try {
      const name = await routes.resolve(parseMailboxAddress(recipient).domain)
      if (name) {
        const adapter = await routes.adapter(name)
        let limit = this.profileLimits.get(name)
        if (!limit) {
          limit = pLimit(adapter.maxConnections)
          this.profileLimits.set(name, limit)
        }
        return limit
      }
    } catch {
      // The target's own attempt reports why (bad address, broken profile).
    }
    return (fn) => fn()
  }

  private async remediateTarget(
    run: RemediationRun,
    target: RemediationTarget,
    routes: RunRoutes,
    forwards: RunForwards,
    slot: SessionSlot,
    log: Logger,
  ): Promise<TargetUpdate> {
    const state: TargetUpdate = {
      status: 'failed',
      profile: target.profile,
      forwarded: target.forwarded,
      deleted: target.deleted,
      folders: target.folders,
      error: null,
    }
    const { config } = this.options
    for (let attempt = 1; ; attempt++) {
      try {
        await this.withTimeout(target.recipient, slot, (deadline) =>
          this.work(run, target, state, routes, forwards, slot, deadline),
        )
        state.error = null
        return state
      } catch (err) {
        const transient = isAppError(err) && err.params.transient === true
        if (transient && attempt < config.attempts) {
          await sleep(config.retryBackoffMs * 2 ** (attempt - 1))
          continue
        }
        state.status = 'failed'
        state.error = isAppError(err)
          ? { code: err.code, message: err.message }
          : { code: 'GW_ERR_REMEDIATION_BACKEND_FAILED', message: describeError(err) }
        log.warn(
          {
            event: 'REMEDIATION_TARGET_FAILED',
            recipient: target.recipient,
            profile: state.profile,
            code: state.error.code,
            err: state.error.message,
          },
          'remediation of a mailbox failed',
        )
        return state
      }
    }
  }

  /** find → forward (once) → delete, updating `state` as each step succeeds. */
  private async work(
    run: RemediationRun,
    target: RemediationTarget,
    state: TargetUpdate,
    routes: RunRoutes,
    forwards: RunForwards,
    slot: SessionSlot,
    deadline: Deadline,
  ): Promise<void> {
    const mailbox = parseMailboxAddress(target.recipient)
    const profileName = await routes.resolve(mailbox.domain)
    if (!profileName) throw gwErrors.REMEDIATION_NO_PROFILE({ domain: mailbox.domain })
    state.profile = profileName
    const adapter = await routes.adapter(profileName)
    // After the deadline the slot belongs to the next attempt: this one must not touch it.
    if (deadline.passed) return
    const opening = slot.get(() => adapter.open(mailbox))
    const session = await opening
    if (deadline.passed) return
    try {
      state.profile = session.profile
      const hits = await session.find(target.messageId)
      // A chained session may have moved on to another member during the search.
      state.profile = session.profile
      const wantsForward = run.action !== 'delete'
      const wantsDelete = run.action !== 'forward'
      if (hits.length === 0) {
        // Nothing (left) in the mailbox: done if an earlier attempt already did the work.
        const finished = (!wantsForward || state.forwarded) && (!wantsDelete || state.deleted)
        state.status = finished ? 'done' : 'not_found'
        return
      }
      state.folders = [...new Set(hits.map((h) => h.folder))]
      if (wantsForward && !state.forwarded) {
        const hit = hits[0] as MailboxHit
        if (this.options.config.forward.scope === 'message') {
          // The first mailbox to get here forwards; the others wait for that one forward.
          await memo(forwards, target.messageId, () => this.forward(run, target, session, hit))
        } else {
          await this.forward(run, target, session, hit)
        }
        state.forwarded = true
        // Stored at once: a crash or timeout before the delete must not forward again.
        await this.options.runs.updateTarget(target.id, { ...state, status: 'pending' })
      }
      if (wantsDelete) {
        await session.delete(hits)
        state.deleted = true
      }
      state.status = 'done'
    } catch (err) {
      if (!deadline.passed) slot.discard(opening)
      throw err
    }
  }

  /**
   * Profile lookups memoised for one run attempt: a run of thousands of mailboxes in a few
   * domains reads the profile table once per domain instead of twice per mailbox. A profile
   * edited during the run applies from the next attempt on.
   */
  private runRoutes(): RunRoutes {
    const { profiles } = this.options
    const byDomain = new Map<string, Promise<string | null>>()
    const adapters = new Map<string, Promise<MailboxAdapter>>()
    return {
      resolve: (domain) => memo(byDomain, domain, () => profiles.resolve(domain)),
      adapter: (name) => memo(adapters, name, () => profiles.adapter(name)),
    }
  }

  private async forward(
    run: RemediationRun,
    target: RemediationTarget,
    session: MailboxSession,
    hit: MailboxHit,
  ): Promise<void> {
    const requestedBy = `${run.actor.type} ${run.actor.id} via ${run.source}`
    const scope = this.options.config.forward.scope
    if (session.forward) {
      await session.forward(
        hit,
        run.forwardTo,
        `Forwarded by Postern remediation run ${run.id} (${requestedBy}). ${run.reason}`.trim(),
      )
      return
    }
    const forwarder = this.options.forwarder
    if (!forwarder) throw gwErrors.REMEDIATION_FORWARD_NOT_CONFIGURED()
    const raw = await session.fetchRaw(hit, this.options.config.forward.maxMessageBytes)
    await forwarder.send({
      raw,
      to: run.forwardTo,
      mailbox: target.recipient,
      messageId: target.messageId,
      mids: target.mids,
      runId: run.id,
      action: run.action,
      reason: run.reason,
      requestedBy,
      scope,
    })
  }

  private async withTimeout(
    mailbox: string,
    slot: SessionSlot,
    fn: (deadline: Deadline) => Promise<void>,
  ): Promise<void> {
    const ms = this.options.config.mailboxTimeoutMs
    const deadline: Deadline = { passed: false }
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        deadline.passed = true
        // Closing the session aborts whatever the attempt is waiting for.
        slot.discard()
        reject(gwErrors.REMEDIATION_TIMEOUT({ mailbox, ms, transient: true }))
      }, ms)
    })
    try {
      await Promise.race([fn(deadline), timeout])
    } finally {
      clearTimeout(timer)
    }
  }

  private forwardAddresses(requested: string[] | undefined): string[] {
    const { forward } = this.options.config
    const addresses = (
      requested && requested.length > 0 ? requested : forward.address ? [forward.address] : []
    ).map((a) => a.trim())
    if (addresses.length === 0) throw gwErrors.REMEDIATION_FORWARD_NOT_CONFIGURED()
    const allowed = new Set(
      [forward.address ?? '', ...forward.allowedRecipients].map((a) => a.toLowerCase()),
    )
    for (const address of addresses) {
      const lower = address.toLowerCase()
      const domain = lower.slice(lower.lastIndexOf('@'))
      if (!allowed.has(lower) && !allowed.has(domain)) {
        throw gwErrors.REMEDIATION_FORWARD_ADDRESS_NOT_ALLOWED({
          address: address.slice(0, 320),
        })
      }
      parseMailboxAddress(address)
    }
    return addresses
  }

  private async recordTrackingEvents(
    run: RemediationRun,
    attempt: number,
    targets: RemediationTarget[],
    worked: RemediationTarget[],
    context: RequestContext,
    log: Logger,
  ): Promise<void> {
    const record = this.options.recordTrackingEvent
    if (!record) return
    const workedIds = new Set(worked.map((t) => t.id))
    const byMid = new Map<number, RemediationTarget[]>()
    for (const target of targets) {
      if (!workedIds.has(target.id)) continue
      for (const mid of target.mids) byMid.set(mid, [...(byMid.get(mid) ?? []), target])
    }
    for (const [mid, list] of byMid) {
      try {
        await record({
          mid,
          at: this.clock.now(),
          type: 'REMEDIATION',
          runId: run.id,
          action: run.action,
          attempt,
          trigger: run.trigger,
          actor: `${context.actor.type}:${context.actor.id}`,
          source: context.source,
          results: list.map((t) => ({
            recipient: t.recipient,
            status: t.status,
            ...(t.error ? { error: t.error.code } : {}),
          })),
        })
      } catch (err) {
        log.error(
          { event: 'REMEDIATION_TRACKING_EVENT_FAILED', mid, err: describeError(err) },
          'could not record tracking event',
        )
      }
    }
  }
}

/** Set when an attempt on a mailbox ran out of time; the attempt then stops touching it. */
interface Deadline {
  passed: boolean
}

/** Targets grouped by mailbox (recipient address, case-insensitively), in their order. */
function groupByMailbox(targets: RemediationTarget[]): RemediationTarget[][] {
  const groups = new Map<string, RemediationTarget[]>()
  for (const target of targets) {
    const key = target.recipient.toLowerCase()
    const group = groups.get(key)
    if (group) group.push(target)
    else groups.set(key, [target])
  }
  return [...groups.values()]
}

/** Forwards of a run by Message-ID, when one forward covers every mailbox (`forward.scope`). */
type RunForwards = Map<string, Promise<void>>

interface RunRoutes {
  resolve(domain: string): Promise<string | null>
  adapter(profile: string): Promise<MailboxAdapter>
}

/** The cached promise for `key`; a rejected lookup is forgotten so that the next target retries. */
function memo<T>(cache: Map<string, Promise<T>>, key: string, load: () => Promise<T>): Promise<T> {
  const cached = cache.get(key)
  if (cached) return cached
  const loading = load()
  cache.set(key, loading)
  loading.catch(() => cache.delete(key))
  return loading
}

function dedupeTargets(
  messages: RemediationMessage[],
): { messageId: string; recipient: string; mids: number[] }[] {
  const byKey = new Map<string, { messageId: string; recipient: string; mids: number[] }>()
  for (const message of messages) {
    const messageId = normalizeMessageId(message.messageId)
    if (!messageId) continue
    for (const raw of message.recipients) {
      const recipient = raw.trim().replace(/^<|>$/g, '')
      const at = recipient.lastIndexOf('@')
      const normal =
        at > 0 ? `${recipient.slice(0, at)}@${recipient.slice(at + 1).toLowerCase()}` : recipient
      const key = `${messageId}\n${normal.toLowerCase()}`
      const existing = byKey.get(key)
      if (existing) existing.mids = [...new Set([...existing.mids, ...message.mids])]
      else byKey.set(key, { messageId, recipient: normal, mids: [...new Set(message.mids)] })
    }
  }
  return [...byKey.values()]
}
