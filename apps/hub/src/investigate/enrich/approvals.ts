import { randomUUID } from 'node:crypto'
import type { Clock } from '@postern/core'
import type {
  ActionRequest,
  ActionRequestsRepo,
  ActionRequestStatus,
  AuditLog,
} from '@postern/store'
import { auditActor, type Principal } from '../../auth/principal.js'
import { hubErrors } from '../../errors.js'
import type { TriggerInput } from './respond-service.js'

/** An action request as the API shows it. */
export function approvalView(request: ActionRequest) {
  return {
    id: request.id,
    module_instance_id: request.moduleInstanceId,
    action_id: request.actionId,
    observable: request.observable,
    extras: request.extras,
    requested_by: request.requestedBy,
    requested_at: new Date(request.requestedAt).toISOString(),
    expires_at: new Date(request.expiresAt).toISOString(),
    status: request.status,
    decided_by: request.decidedBy,
    decided_at: request.decidedAt === null ? null : new Date(request.decidedAt).toISOString(),
    comment: request.comment,
    result: request.result,
  }
}

/**
 * The approval workflow (seed §1): an action whose policy needs approval becomes a pending
 * request; another user approves (which runs it) or rejects it with a comment; a request past
 * its lifetime expires. Nobody decides their own request, and one decision wins.
 */
export class ApprovalService {
  constructor(
    private readonly deps: {
      repo: ActionRequestsRepo
      audit: AuditLog
      clock: Clock
      ttlMs: number
      /** Runs an approved action (the respond service, bypassing the approval policy). */
      run: (orgId: string, input: TriggerInput) => Promise<unknown>
    },
  ) {}

  async request(orgId: string, input: TriggerInput): Promise<ActionRequest> {
    const now = this.deps.clock.now()
    const request = await this.deps.repo.insert({
      id: randomUUID(),
      orgId,
      moduleInstanceId: input.instance,
      actionId: input.actionId,
      observable: { type: input.observableType, value: input.observableValue },
      extras: input.extras,
      requestedBy: input.actor,
      requestedByUser: input.requesterUserId,
      requestedAt: now,
      expiresAt: now + this.deps.ttlMs,
      status: 'pending',
      decidedBy: null,
      decidedAt: null,
      comment: null,
      result: null,
    })
    await this.deps.audit.record({
      orgId,
      actor: input.actor,
      source: 'api',
      action: 'approval.request',
      target: { type: 'action_request', id: request.id },
      outcome: 'pending',
      details: {
        actionId: input.actionId,
        observable: request.observable,
        instance: input.instance,
      },
    })
    return request
  }

  async list(orgId: string, status?: ActionRequestStatus): Promise<ActionRequest[]> {
    await this.expire(orgId)
    return this.deps.repo.list(orgId, status)
  }

  async get(orgId: string, id: string): Promise<ActionRequest> {
    await this.expire(orgId)
    const request = await this.deps.repo.get(orgId, id)
    if (!request) throw hubErrors.APPROVAL_NOT_FOUND({ id })
    return request
  }

  /**
   * Requests past their lifetime expire when the org's requests are next looked at (the update
   * names each one once, so each expiry is audited once).
   */
  private async expire(orgId: string): Promise<void> {
    for (const request of await this.deps.repo.expire(orgId, this.deps.clock.now()))
      await this.deps.audit.record({
        orgId,
        actor: { type: 'system', id: 'postern-hub' },
        source: 'system',
        action: 'approval.expire',
        target: { type: 'action_request', id: request.id },
        outcome: 'success',
        details: { actionId: request.actionId, observable: request.observable },
      })
  }

  async decide(
    orgId: string,
    id: string,
    approver: Principal,
    decision: 'approved' | 'rejected',
    comment: string | null,
  ): Promise<ActionRequest> {
    const request = await this.get(orgId, id)
    if (approver.userId === null) throw hubErrors.APPROVAL_NEEDS_USER()
    if (request.requestedByUser !== null && request.requestedByUser === approver.userId)
      throw hubErrors.APPROVAL_OWN_REQUEST()
    if (request.status !== 'pending')
      throw hubErrors.APPROVAL_NOT_PENDING({ id, status: request.status })
    const now = this.deps.clock.now()
    const won = await this.deps.repo.decide(orgId, id, {
      status: decision,
      by: approver.userId,
      comment,
      now,
    })
    if (!won) {
      const current = await this.get(orgId, id)
      throw hubErrors.APPROVAL_NOT_PENDING({ id, status: current.status })
    }
    const actor = auditActor(approver)
    await this.deps.audit.record({
      orgId,
      actor,
      source: 'api',
      action: decision === 'approved' ? 'approval.approve' : 'approval.reject',
      target: { type: 'action_request', id },
      outcome: 'success',
      details: { comment, actionId: request.actionId, observable: request.observable },
    })
    if (decision === 'approved') {
      const result = await this.deps.run(orgId, {
        instance: request.moduleInstanceId,
        actionId: request.actionId,
        observableType: request.observable.type,
        observableValue: request.observable.value,
        extras: request.extras,
        actor,
        requestedBy: request.requestedByUser ?? request.requestedBy.id,
        requesterUserId: request.requestedByUser,
        approvalId: id,
      })
      await this.deps.repo.recordResult(orgId, id, result)
    }
    return this.get(orgId, id)
  }
}
