import type { RemediationAction } from '@postern/store'
import type { RequestContext } from './context.js'
import type { RunWithTargets } from './service.js'
import type { TrackedRemediation } from './tracked.js'

/** Observable types whose messages can be remediated (Threat Response / CTIM names). */
export const REMEDIABLE_TYPES = ['cisco_mid', 'email_messageid'] as const

const ACTIONS: { id: string; action: RemediationAction; title: string; description: string }[] = [
  {
    id: 'postern-remediate-delete',
    action: 'delete',
    title: 'Delete message from mailboxes',
    description: 'Delete the delivered message from every recipient mailbox (all folders)',
  },
  {
    id: 'postern-remediate-forward',
    action: 'forward',
    title: 'Forward message',
    description: 'Forward the delivered message to the configured remediation forward address',
  },
  {
    id: 'postern-remediate-forward-delete',
    action: 'forward-delete',
    title: 'Forward and delete message',
    description:
      'Forward the message to the remediation forward address, then delete it from every mailbox',
  },
]

export interface ResponseAction {
  id: string
  title: string
  description: string
  categories: string[]
  'query-params': { observable_type: string; observable_value: string }
}

/**
 * The remediation actions the gateway offers for an observable through the relay-module
 * contract (`/respond/observables`): Delete, Forward, Forward and Delete on a Cisco MID or an
 * email Message-ID, as the vendor guide's remediation from Threat Response.
 */
export function remediationActions(observable: { type: string; value: string }): ResponseAction[] {
  if (!(REMEDIABLE_TYPES as readonly string[]).includes(observable.type)) return []
  return ACTIONS.map((a) => ({
    id: a.id,
    title: a.title,
    description: a.description,
    categories: ['Postern', 'Email', 'Remediation'],
    'query-params': { observable_type: observable.type, observable_value: observable.value },
  }))
}

/**
 * Runs a remediation action triggered through `/respond/trigger` and waits for its results.
 * Returns null when the action id is not a remediation action (another area's action).
 */
export async function triggerRemediation(
  tracked: TrackedRemediation,
  request: { 'action-id': string; observable_type: string; observable_value: string },
  context: RequestContext,
): Promise<{ status: 'success' | 'failure'; result: RunWithTargets } | null> {
  const action = ACTIONS.find((a) => a.id === request['action-id'])
  if (!action || !(REMEDIABLE_TYPES as readonly string[]).includes(request.observable_type))
    return null
  const value = request.observable_value.trim()
  const result = await tracked.remediate(
    {
      action: action.action,
      // A Cisco MID may carry a "-suffix" (serial or host) after the number.
      ...(request.observable_type === 'cisco_mid'
        ? {
            mids: [Number(/^\d+/.exec(value)?.[0] ?? Number.NaN)].filter(
              (n) => Number.isSafeInteger(n) && n > 0,
            ),
          }
        : { messageIds: [value] }),
      reason: `${action.title} from the threat response hub`,
      wait: true,
    },
    context,
  )
  return { status: result.run.counts.failed === 0 ? 'success' : 'failure', result }
}
