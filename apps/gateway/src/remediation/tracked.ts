import type { RemediationAction, TrackingSearchRepository } from '@postern/store'
import type { RequestContext } from './context.js'
import { gwErrors } from '../errors.js'
import { normalizeMessageId } from './mailbox-address.js'
import type { RemediationMessage, RemediationService, StartedRun } from './service.js'

export interface TrackedRemediationRequest {
  action: RemediationAction
  /** Gateway MIDs. */
  mids?: number[]
  /** Message-IDs: every MID this gateway tracked with them. */
  messageIds?: string[]
  /** Only these recipients (default: every recipient the message was delivered to). */
  recipients?: string[]
  forwardTo?: string[]
  reason?: string
  idempotencyKey?: string
  wait?: boolean
  trigger?: 'manual' | 'retro'
  details?: Record<string, unknown>
}

/**
 * Remediation by what tracking knows: MIDs or Message-IDs become (Message-ID, delivered
 * recipients) targets. Only recipients the gateway delivered to are looked for; a MID without a
 * Message-ID header cannot be found in a mailbox and is refused with its own error.
 */
export class TrackedRemediation {
  constructor(
    private readonly tracking: TrackingSearchRepository,
    private readonly service: RemediationService,
  ) {}

  async remediate(
    request: TrackedRemediationRequest,
    context: RequestContext,
  ): Promise<StartedRun> {
    const messages = await this.resolve(request)
    return this.service.remediate(
      {
        action: request.action,
        messages,
        forwardTo: request.forwardTo,
        reason: request.reason,
        idempotencyKey: request.idempotencyKey,
        wait: request.wait,
        trigger: request.trigger,
        details: request.details,
      },
      context,
    )
  }

  async resolve(
    request: Pick<TrackedRemediationRequest, 'mids' | 'messageIds' | 'recipients'>,
  ): Promise<RemediationMessage[]> {
    const mids = new Set(request.mids ?? [])
    for (const messageId of request.messageIds ?? []) {
      const found = await this.tracking.midsByMessageId(messageId)
      if (found.length === 0)
        throw gwErrors.REMEDIATION_MESSAGE_NOT_FOUND({
          what: `Message-ID <${normalizeMessageId(messageId)}>`,
        })
      for (const mid of found) mids.add(mid)
    }
    if (mids.size === 0)
      throw gwErrors.REMEDIATION_MESSAGE_NOT_FOUND({
        what: 'the request (give mids or messageIds)',
      })
    const tracked = await this.tracking.deliveredTargets([...mids])
    const known = new Set(tracked.map((t) => t.mid))
    const unknown = [...mids].filter((mid) => !known.has(mid))
    if (unknown.length > 0)
      throw gwErrors.REMEDIATION_MESSAGE_NOT_FOUND({
        what: `MID ${unknown.slice(0, 10).join(', ')}`,
      })
    const only =
      request.recipients && request.recipients.length > 0
        ? new Set(request.recipients.map((r) => r.toLowerCase()))
        : null
    const byMessageId = new Map<string, RemediationMessage>()
    for (const message of tracked) {
      if (!message.messageId || normalizeMessageId(message.messageId) === '') {
        throw gwErrors.REMEDIATION_NO_MESSAGE_ID({ mid: message.mid })
      }
      const id = normalizeMessageId(message.messageId)
      const entry = byMessageId.get(id) ?? { messageId: id, recipients: [], mids: [] }
      entry.mids.push(message.mid)
      for (const recipient of message.recipients) {
        if (!only || only.has(recipient.toLowerCase())) entry.recipients.push(recipient)
      }
      byMessageId.set(id, entry)
    }
    const messages = [...byMessageId.values()].filter((m) => m.recipients.length > 0)
    if (messages.length === 0) {
      throw gwErrors.REMEDIATION_MESSAGE_NOT_FOUND({
        what: `MID ${[...mids].slice(0, 10).join(', ')} with a delivered recipient`,
      })
    }
    return messages
  }
}
