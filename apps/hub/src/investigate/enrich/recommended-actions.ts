import { isAppError } from '@postern/core'
import type { Observable } from '@postern/ctim'
import type { AuditLog } from '@postern/store'
import type { Caller } from '../../casebooks/caller.js'
import type { ModuleService, ResolvedModule } from '../modules/module-service.js'
import type { AddToCase } from './add-to-case.js'
import {
  errorEntries,
  identityOf,
  type FanOut,
  type LegResult,
  type ModuleErrorEntry,
} from './fan-out.js'
import {
  addVerdict,
  observableKey,
  recommend,
  type Evidence,
  type Recommendation,
} from './recommend.js'
import type { RespondService, TriggerInput } from './respond-service.js'

type ActionEntry = Record<string, unknown>

/** Titles of the steps a recommendation may add that no listed action carries. */
const TITLES: Record<Recommendation['actionId'], string> = {
  forward: 'Forward',
  'forward-and-delete': 'Forward and delete',
  block: 'Block',
  'block-user': 'Block user’s outgoing mail',
  'add-to-case': 'Add to active case',
}

/** The hub itself as the "module" of the add-to-case step. */
const HUB_IDENTITY = {
  module: 'Postern hub',
  module_instance_id: 'hub',
  module_type_id: 'hub',
  'module-type': 'Postern hub',
}

export const ADD_TO_CASE_URL = '/api/v1/casebooks/active/observables'

function triggerUrl(instanceId: string, actionId: string, observable: Observable): string {
  const params = new URLSearchParams({
    observable_type: observable.type,
    observable_value: observable.value,
  })
  return `/respond/trigger/${encodeURIComponent(instanceId)}/${encodeURIComponent(actionId)}?${params}`
}

function paramsOf(action: ActionEntry): Observable | null {
  const params = action['query-params'] as Record<string, unknown> | undefined
  if (typeof params?.observable_type !== 'string' || typeof params.observable_value !== 'string')
    return null
  return { type: params.observable_type, value: params.observable_value } as Observable
}

/** One entry per module (and gateway) and code: the advice calls the same modules again. */
function uniqueErrors(errors: ModuleErrorEntry[]): ModuleErrorEntry[] {
  const seen = new Set<string>()
  return errors.filter((e) => {
    const key = `${e.module_instance_id}|${e.device_id ?? ''}|${e.code}`
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}

/** Verdicts from every deliberate answer, and Message-IDs from the gateways' sightings. */
function gather(deliberate: LegResult[], observe: LegResult[]): Evidence {
  const evidence: Evidence = { verdicts: new Map(), messages: new Map() }
  for (const leg of deliberate) {
    const docs = (leg.data as { verdicts?: { docs?: unknown[] } } | undefined)?.verdicts?.docs
    for (const doc of docs ?? []) {
      const verdict = doc as { observable?: Observable; disposition?: number }
      if (!verdict.observable || typeof verdict.disposition !== 'number') continue
      const by = leg.device ? `${leg.identity.module} (${leg.device.name})` : leg.identity.module
      addVerdict(evidence, verdict.observable, verdict.disposition, by)
    }
  }
  for (const leg of observe) {
    const docs = (leg.data as { sightings?: { docs?: unknown[] } } | undefined)?.sightings?.docs
    for (const doc of docs ?? []) {
      const sighting = doc as {
        observables?: Observable[]
        relations?: { relation?: string; related?: Observable }[]
      }
      const about = sighting.observables?.[0]
      if (!about) continue
      for (const relation of sighting.relations ?? []) {
        if (relation.relation !== 'Contains' || relation.related?.type !== 'email_messageid')
          continue
        const key = observableKey(about)
        const ids = evidence.messages.get(key) ?? new Set<string>()
        ids.add(relation.related.value)
        evidence.messages.set(key, ids)
      }
    }
  }
  return evidence
}

/**
 * Recommended actions (seed §1): the respond action list with what to do first marked — from
 * the verdicts every module gives and the messages the gateways saw — and running that set as
 * one step. Each step goes through the respond service, so approval policies apply to it.
 */
export class RecommendedActions {
  constructor(
    private readonly deps: {
      modules: ModuleService
      fanOut: FanOut
      respond: RespondService
      audit: AuditLog
      addToCase: AddToCase
    },
  ) {}

  /** The action list (respond/observables) with recommended steps first, each with its reason. */
  async list(orgId: string, observables: Observable[], signal?: AbortSignal) {
    const listed = await this.deps.respond.actions(orgId, observables, signal)
    const { recommendations, errors } = await this.recommendations(
      orgId,
      observables,
      listed.data,
      signal,
    )
    const data = listed.data.map((action) => ({ ...action }))
    const added: ActionEntry[] = []
    for (const rec of recommendations) {
      const instanceId = rec.module?.module_instance_id ?? HUB_IDENTITY.module_instance_id
      const match = data.find((action) => {
        const params = paramsOf(action)
        return (
          action.module_instance_id === instanceId &&
          action.id === rec.actionId &&
          params !== null &&
          observableKey(params) === observableKey(rec.observable)
        )
      })
      const marks = { recommended: true, priority: rec.priority, reason: rec.reason }
      if (match) {
        Object.assign(match, marks)
        continue
      }
      added.push({
        ...(rec.module ?? HUB_IDENTITY),
        id: rec.actionId,
        title: `${TITLES[rec.actionId]} ${rec.observable.value}`,
        description: rec.reason,
        categories: ['Recommended'],
        'query-params': {
          observable_type: rec.observable.type,
          observable_value: rec.observable.value,
        },
        url: rec.module
          ? triggerUrl(rec.module.module_instance_id, rec.actionId, rec.observable)
          : ADD_TO_CASE_URL,
        ...marks,
      })
    }
    const all = [...data, ...added]
    const rank = (a: ActionEntry) => (a.recommended === true ? (a.priority as number) : 99)
    all.sort((a, b) => rank(a) - rank(b))
    return { data: all, errors: uniqueErrors([...listed.errors, ...errors]) }
  }

  /**
   * Runs every recommended step for the observables, mailbox actions first: each email module
   * action through the respond service (a step whose action needs approval comes back
   * pending), then one add-to-case with every observable that has a verdict. A step that
   * fails is reported with its code beside the others; it does not stop them.
   */
  async run(
    orgId: string,
    observables: Observable[],
    who: Pick<TriggerInput, 'actor' | 'requestedBy' | 'requesterUserId'> & { caller: Caller },
  ) {
    const listed = await this.deps.respond.actions(orgId, observables)
    const { recommendations, errors } = await this.recommendations(orgId, observables, listed.data)
    const steps: Record<string, unknown>[] = []
    const toCase: Observable[] = []
    for (const rec of recommendations) {
      if (!rec.module) {
        toCase.push(rec.observable)
        continue
      }
      const outcome = await this.deps.respond.trigger(orgId, {
        instance: rec.module.module_instance_id,
        actionId: rec.actionId,
        observableType: rec.observable.type,
        observableValue: rec.observable.value,
        extras: { reason: rec.reason.slice(0, 500) },
        actor: who.actor,
        requestedBy: who.requestedBy,
        requesterUserId: who.requesterUserId,
      })
      steps.push({
        ...rec.module,
        id: rec.actionId,
        observable: rec.observable,
        reason: rec.reason,
        ...outcome.data,
      })
      errors.push(...outcome.errors)
    }
    if (toCase.length > 0) {
      const step = await this.addToCase(who.caller, toCase)
      steps.push(step.result)
      if (step.error) errors.push(step.error)
    }
    const status =
      steps.length === 0
        ? 'nothing to do'
        : steps.some((s) => s.status === 'pending')
          ? 'pending'
          : steps.every((s) => s.status === 'success')
            ? 'success'
            : 'failure'
    await this.deps.audit.record({
      orgId,
      actor: who.actor,
      source: 'api',
      action: 'respond.recommended',
      outcome: status === 'failure' ? 'failure' : status === 'pending' ? 'pending' : 'success',
      details: {
        observables: observables.slice(0, 20),
        steps: steps.map((s) => ({
          id: s.id,
          observable: s.observable,
          status: s.status,
          ...(s.casebook_id !== undefined ? { casebookId: s.casebook_id, created: s.created } : {}),
          ...(s.error !== undefined ? { code: (s.error as { code: string }).code } : {}),
        })),
        errors: errors.map((e) => ({ code: e.code, message: e.message })),
      },
    })
    return { data: { status, steps }, errors: uniqueErrors(errors) }
  }

  /**
   * The hub's own step: the observables into the caller's active case. A coded refusal (an API
   * client without a user has no active case) is this step's answer, not the request's.
   */
  private async addToCase(
    caller: Caller,
    observables: Observable[],
  ): Promise<{ result: Record<string, unknown>; error?: ModuleErrorEntry }> {
    const step = { ...HUB_IDENTITY, id: 'add-to-case', observables }
    try {
      const added = await this.deps.addToCase(caller, observables)
      return {
        result: {
          ...step,
          status: 'success',
          casebook_id: added.casebookId,
          casebook_title: added.title,
          created: added.created,
        },
      }
    } catch (err) {
      if (!isAppError(err)) throw err
      const error = { code: err.code, message: err.message, hint: err.hint }
      return {
        result: { ...step, status: 'failure', error },
        error: { ...HUB_IDENTITY, code: err.code, message: err.message, type: 'error' },
      }
    }
  }

  private async recommendations(
    orgId: string,
    observables: Observable[],
    listed: ActionEntry[],
    signal?: AbortSignal,
  ): Promise<{ recommendations: Recommendation[]; errors: ModuleErrorEntry[] }> {
    const modules = await this.deps.modules.enabledModules(orgId)
    const email = modules.filter(
      (m): m is ResolvedModule & { kind: 'email-gateway' } => m.kind === 'email-gateway',
    )
    if (email.length === 0) return { recommendations: [], errors: [] }
    const [deliberate, observe] = await Promise.all([
      this.deps.fanOut.call(orgId, 'deliberate', observables, modules, { signal }),
      this.deps.fanOut.call(orgId, 'observe', observables, email, { signal }),
    ])
    const blockUser = new Set(
      listed
        .filter((action) => action.id === 'block-user')
        .map(paramsOf)
        .filter((o): o is Observable => o !== null)
        .map(observableKey),
    )
    return {
      recommendations: recommend(
        observables,
        gather(deliberate, observe),
        email.map(identityOf),
        blockUser,
      ),
      // Module failures of these calls already show in enrich; here only what made advice partial.
      errors: [...deliberate, ...observe].flatMap(errorEntries),
    }
  }
}
