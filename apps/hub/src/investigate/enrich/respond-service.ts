import { randomUUID } from 'node:crypto'
import type { ActionRequest, AuditLog } from '@postern/store'
import type { Observable } from '@postern/ctim'
import { hubErrors } from '../../errors.js'
import type { Actor, ModuleService, ResolvedModule } from '../modules/module-service.js'
import { errorEntries, type FanOut, type LegResult, type ModuleErrorEntry } from './fan-out.js'

export interface TriggerInput {
  instance: string
  actionId: string
  observableType: string
  observableValue: string
  /** Extra query parameters of the action (`query-params`), sent back to the module. */
  extras: Record<string, string>
  actor: Actor
  /** Shown to modules and gateways as who asked (user or client id). */
  requestedBy: string
  /** The user behind the request (a client's owner), who may not approve it. */
  requesterUserId: string | null
  /** Set when an approved request runs: the approval policy is not applied again. */
  approvalId?: string
}

export interface TriggerOutcome {
  data:
    | { status: 'success' | 'failure'; hub_action_id: string; results: Record<string, unknown>[] }
    | { status: 'pending'; approval_id: string; expires_at: string }
  errors: ModuleErrorEntry[]
}

function actionKey(action: Record<string, unknown>): string {
  return `${String(action.id)}|${JSON.stringify(action['query-params'] ?? {})}`
}

/**
 * Respond (reference §2 `/iroh/iroh-response/…`): the actions every enabled module offers for
 * observables, and triggering one. For the email module an action runs on every gateway of
 * the instance that offers it for the observable — the gateways holding the message for a
 * mailbox action, every gateway with block lists for a block — with each gateway's results.
 */
export class RespondService {
  constructor(
    private readonly deps: {
      modules: ModuleService
      fanOut: FanOut
      audit: AuditLog
      /** Longest a triggered action may run on a module. */
      triggerTimeoutMs: number
      /** Files a pending request for an action that needs approval. */
      requestApproval: (orgId: string, input: TriggerInput) => Promise<ActionRequest>
    },
  ) {}

  async actions(orgId: string, observables: Observable[], signal?: AbortSignal) {
    const legs = await this.deps.fanOut.call(
      orgId,
      'respondObservables',
      observables,
      await this.deps.modules.enabledModules(orgId),
      { signal },
    )
    const data: Record<string, unknown>[] = []
    const seen = new Set<string>()
    for (const leg of legs) {
      for (const action of (leg.data as Record<string, unknown>[] | undefined) ?? []) {
        const key = `${leg.identity.module_instance_id}|${actionKey(action)}`
        if (seen.has(key)) continue
        seen.add(key)
        const params = new URLSearchParams(
          Object.entries((action['query-params'] as Record<string, unknown>) ?? {}).map(
            ([k, v]): [string, string] => [k, String(v)],
          ),
        )
        data.push({
          ...leg.identity,
          ...action,
          url: `/respond/trigger/${encodeURIComponent(leg.identity.module_instance_id)}/${encodeURIComponent(String(action.id))}?${params}`,
        })
      }
    }
    return { data, errors: legs.flatMap(errorEntries) }
  }

  async trigger(orgId: string, input: TriggerInput): Promise<TriggerOutcome> {
    const record = await this.deps.modules.findInstance(orgId, input.instance)
    const module = await this.deps.modules.resolve(orgId, record)
    if (!module || !record.enabled)
      throw hubErrors.MODULE_INSTANCE_NOT_FOUND({ id: input.instance })
    if (
      input.approvalId === undefined &&
      module.kind === 'email-gateway' &&
      (module.settings.approval_required as string[]).includes(input.actionId)
    ) {
      const request = await this.deps.requestApproval(orgId, { ...input, instance: record.id })
      return {
        data: {
          status: 'pending',
          approval_id: request.id,
          expires_at: new Date(request.expiresAt).toISOString(),
        },
        errors: [],
      }
    }
    const observable = { type: input.observableType, value: input.observableValue } as Observable
    // Names this run on every gateway it touches (block list entries record it as their origin).
    const hubActionId = randomUUID()
    const body: Record<string, unknown> = {
      ...input.extras,
      'action-id': input.actionId,
      observable_type: input.observableType,
      observable_value: input.observableValue,
      requested_by: input.requestedBy,
      hub_action_id: hubActionId,
    }
    let targets: ResolvedModule[] = [module]
    let legs: LegResult[]
    if (module.kind === 'email-gateway') {
      if (module.settings.remediation_forward_address && body.forward_to === undefined)
        body.forward_to = module.settings.remediation_forward_address
      // Only the gateways that can run it offer the action (mailbox actions: those holding the
      // message; block actions: every gateway with block lists).
      const offers = await this.deps.fanOut.call(orgId, 'respondObservables', [observable], targets)
      const holding = new Set(
        offers
          .filter((leg) =>
            ((leg.data as Record<string, unknown>[] | undefined) ?? []).some(
              (a) => a.id === input.actionId,
            ),
          )
          .map((leg) => leg.device?.id),
      )
      const devices = [...holding].filter((id): id is string => id !== undefined)
      targets = [{ ...module, settings: { ...module.settings, devices } }]
      legs =
        devices.length === 0
          ? []
          : await this.deps.fanOut.call(orgId, 'respondTrigger', body, targets, {
              timeoutMs: this.deps.triggerTimeoutMs,
            })
    } else {
      legs = await this.deps.fanOut.call(orgId, 'respondTrigger', body, targets, {
        timeoutMs: this.deps.triggerTimeoutMs,
      })
    }
    const results: Record<string, unknown>[] = legs.map((leg) => ({
      ...(leg.device ? { device_id: leg.device.id, gateway: leg.device.name } : {}),
      ...((leg.data as Record<string, unknown> | undefined) ?? { status: 'failure' }),
    }))
    const errors = legs.flatMap(errorEntries)
    if (legs.length === 0) {
      errors.push({
        module: record.name,
        module_instance_id: record.id,
        module_type_id: record.moduleTypeId,
        'module-type': module.typeName,
        code: 'not found',
        message: `No gateway of "${record.name}" offers "${input.actionId}" for ${input.observableType} ${input.observableValue}`,
        type: 'error',
      })
    }
    const status =
      legs.length > 0 && results.every((r) => r.status === 'success') ? 'success' : 'failure'
    await this.deps.audit.record({
      orgId,
      actor: input.actor,
      source: 'api',
      action: 'respond.trigger',
      target: { type: 'module_instance', id: record.id },
      outcome: status === 'success' ? 'success' : 'failure',
      details: {
        actionId: input.actionId,
        hubActionId,
        observable,
        extras: input.extras,
        ...(input.approvalId ? { approvalId: input.approvalId } : {}),
        results,
        errors: errors.map((e) => ({ code: e.code, message: e.message })),
      },
    })
    return { data: { status, hub_action_id: hubActionId, results }, errors }
  }
}
