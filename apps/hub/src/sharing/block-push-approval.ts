import { z } from 'zod'
import { describeError } from '@postern/core'
import type { ActionRequest, AuditLog, BlockPushPoliciesRepo } from '@postern/store'
import { auditActorOf, ownerOf, type Caller } from '../casebooks/caller.js'
import type { TriggerInput } from '../investigate/enrich/respond-service.js'
import {
  blockPushView,
  type BlockPushOutcome,
  type BlockPushService,
  type PushContext,
} from './block-push.js'

/**
 * The approval workflow's name for block pushes: `module_instance_id` of their action requests
 * (no module instance has it: instance ids are UUIDs), with one action per kind of source.
 */
export const BLOCK_PUSH_INSTANCE = 'postern-hub'
export const BLOCK_PUSH_ACTIONS = {
  casebook: 'push-casebook-blocks',
  judgement: 'push-judgement-blocks',
} as const
export type BlockSourceType = keyof typeof BLOCK_PUSH_ACTIONS

export const blockPushPolicySchema = z
  .strictObject({
    approval_required: z
      .boolean()
      .describe(
        "Whether pushing a judgement's or casebook's blocks to the gateways waits for another user's approval",
      ),
  })
  .describe('Block push policy')
export type BlockPushPolicyInput = z.infer<typeof blockPushPolicySchema>

/** Whether an org's block pushes need approval (default: they do not), and changing it. */
export class BlockPushPolicyService {
  constructor(
    private readonly deps: { repo: BlockPushPoliciesRepo; audit: AuditLog; now: () => number },
  ) {}

  async approvalRequired(orgId: string): Promise<boolean> {
    return (await this.deps.repo.get(orgId))?.approvalRequired ?? false
  }

  async set(
    caller: Caller,
    input: BlockPushPolicyInput,
    remoteIp: string | null = null,
  ): Promise<BlockPushPolicyInput> {
    await this.deps.repo.set(caller.orgId, {
      approvalRequired: input.approval_required,
      updatedAt: this.deps.now(),
      updatedBy: auditActorOf(caller).id,
    })
    await this.deps.audit.record({
      orgId: caller.orgId,
      actor: auditActorOf(caller),
      source: 'api',
      remoteIp,
      action: 'sharing.block_policy.update',
      target: null,
      outcome: 'success',
      details: { approval_required: input.approval_required },
    })
    return input
  }
}

export type GatedPush =
  { status: 'done'; outcome: BlockPushOutcome } | { status: 'pending'; request: ActionRequest }

/**
 * Block pushes under the org's policy: when approval is required, a push becomes a pending
 * action request (the hub's one approval workflow, `/api/v1/approvals`) naming the casebook or
 * judgement; a second user's approval runs it as the requester asked it, and its outcome is
 * recorded on the request. Rejected or expired requests never run. Removing blocks is not gated:
 * it only ever lets mail through that the gateways let through before the push.
 */
export class GatedBlockPush {
  constructor(
    private readonly deps: {
      blockPush: BlockPushService
      policy: BlockPushPolicyService
      /** Files a pending request (the approval service). */
      requestApproval: (orgId: string, input: TriggerInput) => Promise<ActionRequest>
    },
  ) {}

  async push(
    caller: Caller,
    type: BlockSourceType,
    id: string,
    options: { expiresAt: number | null; context: PushContext },
  ): Promise<GatedPush> {
    if (!(await this.deps.policy.approvalRequired(caller.orgId)))
      return { status: 'done', outcome: await this.run(caller, type, id, options) }
    // Checked now, so a request nobody could ever run is refused at once.
    const { entity, observables } = await this.deps.blockPush.source(caller, type, id)
    const observable =
      type === 'judgement' && observables[0] ? observables[0] : { type, value: entity.id }
    const request = await this.deps.requestApproval(caller.orgId, {
      instance: BLOCK_PUSH_INSTANCE,
      actionId: BLOCK_PUSH_ACTIONS[type],
      observableType: observable.type,
      observableValue: observable.value,
      extras: {
        entity_id: entity.id,
        requester_kind: caller.kind,
        ...(caller.clientId ? { requester_client: caller.clientId } : {}),
        ...(options.expiresAt === null
          ? {}
          : { expires_at: new Date(options.expiresAt).toISOString() }),
      },
      actor: { type: caller.kind === 'client' ? 'client' : 'user', id: ownerOf(caller) },
      requestedBy: ownerOf(caller),
      requesterUserId: caller.userId,
    })
    return { status: 'pending', request }
  }

  /** Whether an action request is a block push (the approval service runs those here). */
  static handles(input: Pick<TriggerInput, 'instance'>): boolean {
    return input.instance === BLOCK_PUSH_INSTANCE
  }

  /**
   * Runs an approved request as its requester asked it; the outcome (or why it could not run:
   * the casebook was deleted meanwhile…) is what the request records.
   */
  async runApproved(orgId: string, input: TriggerInput): Promise<Record<string, unknown>> {
    const type = (Object.keys(BLOCK_PUSH_ACTIONS) as BlockSourceType[]).find(
      (t) => BLOCK_PUSH_ACTIONS[t] === input.actionId,
    )
    const id = input.extras.entity_id
    if (!type || !id) return { status: 'failure', error: 'not a block push request' }
    const caller: Caller = {
      kind: input.extras.requester_kind === 'client' ? 'client' : 'user',
      orgId,
      userId: input.requesterUserId,
      clientId: input.extras.requester_client ?? null,
    }
    const expires = input.extras.expires_at
    try {
      const outcome = await this.run(caller, type, id, {
        expiresAt: expires ? Date.parse(expires) : null,
        context: { source: 'api', ...(input.approvalId ? { approvalId: input.approvalId } : {}) },
      })
      const failed = outcome.gateways.some((g) => !g.ok)
      return { status: failed ? 'failure' : 'success', ...blockPushView(outcome) }
    } catch (err) {
      return { status: 'failure', error: describeError(err).slice(0, 2000) }
    }
  }

  private run(
    caller: Caller,
    type: BlockSourceType,
    id: string,
    options: { expiresAt: number | null; context: PushContext },
  ): Promise<BlockPushOutcome> {
    return type === 'casebook'
      ? this.deps.blockPush.pushCasebook(caller, id, { ...options, action: 'add' })
      : this.deps.blockPush.pushJudgement(caller, id, options.context, 'add')
  }
}
