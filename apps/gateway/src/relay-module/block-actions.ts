import type { Observable } from '@postern/ctim'
import type { Action, RelayResult, TriggerData, TriggerRequest } from '@postern/relay'
import type { BlocklistKind } from '@postern/store'
import { AppError } from '@postern/core'
import type { Actor, BlocklistService } from '../blocklists/blocklist-service.js'
import { normaliseBlocklistValue } from '../blocklists/values.js'
import { gwErrors } from '../errors.js'
import { MODULE_SOURCE } from './sightings.js'

/** What the block actions need of the gateway: its one block list service, and who is internal. */
export interface BlockActionDeps {
  blocklists: BlocklistService
  /** True for an address of the organisation (its outgoing mail can be blocked). */
  isInternalAddress: (address: string) => boolean
}

/**
 * The block list kinds an observable type is blocked as. A domain is refused as a sender domain
 * at SMTP time and as a link domain in message bodies: "block this domain" means both.
 */
const KINDS: Record<string, { kinds: BlocklistKind[]; noun: string }> = {
  email: { kinds: ['sender_address'], noun: 'sender' },
  domain: { kinds: ['sender_domain', 'url_domain'], noun: 'domain' },
  url: { kinds: ['url'], noun: 'URL' },
  sha256: { kinds: ['attachment_hash'], noun: 'attachment hash' },
  sha1: { kinds: ['attachment_hash'], noun: 'attachment hash' },
  md5: { kinds: ['attachment_hash'], noun: 'attachment hash' },
  ip: { kinds: ['sender_ip'], noun: 'client IP' },
  ipv6: { kinds: ['sender_ip'], noun: 'client IP' },
}

export const BLOCK_ACTION_IDS = ['block', 'unblock', 'block-user', 'unblock-user'] as const

/** An internal sender (an `email` of the organisation, or a `user` given as an address). */
function internalUser(observable: Observable, deps: BlockActionDeps): string | null {
  if (observable.type !== 'email' && observable.type !== 'user') return null
  const value = observable.value.trim()
  if (!value.includes('@')) return null
  return observable.type === 'user' || deps.isInternalAddress(value) ? value : null
}

function action(
  id: (typeof BLOCK_ACTION_IDS)[number],
  observable: Observable,
  title: string,
  description: string,
): Action {
  return {
    id,
    title,
    description,
    categories: [MODULE_SOURCE, 'Block list'],
    'query-params': { observable_type: observable.type, observable_value: observable.value },
  }
}

/**
 * Block actions this gateway offers for an observable: `block` always (it is idempotent),
 * `unblock` where this gateway's list holds it; for an internal sender `block-user` and, when
 * blocked, `unblock-user` (its outgoing mail is refused at MAIL FROM).
 */
export async function blockActionsFor(
  observable: Observable,
  deps: BlockActionDeps,
): Promise<Action[]> {
  const user = internalUser(observable, deps)
  if (user !== null) {
    const actions = [
      action(
        'block-user',
        observable,
        'Block user’s outgoing mail',
        `Refuse every message ${user} sends through this gateway until unblocked (compromised account)`,
      ),
    ]
    if (deps.blocklists.blockedSender(user)) {
      actions.push(
        action(
          'unblock-user',
          observable,
          'Unblock user',
          `Accept outgoing mail from ${user} again`,
        ),
      )
    }
    return actions
  }
  const spec = KINDS[observable.type]
  if (!spec) return []
  const actions = [
    action(
      'block',
      observable,
      `Block ${spec.noun}`,
      `Add ${observable.value} to this gateway’s block list (${spec.kinds.join(', ')})`,
    ),
  ]
  const held = await Promise.all(
    spec.kinds.map((kind) => deps.blocklists.findValue(kind, observable.value)),
  )
  if (held.some(Boolean)) {
    actions.push(
      action(
        'unblock',
        observable,
        `Unblock ${spec.noun}`,
        `Remove ${observable.value} from this gateway’s block list`,
      ),
    )
  }
  return actions
}

/** The canonical list value, or the raw value when it is not valid (nothing then matches it). */
function canonical(kind: BlocklistKind, value: string): string {
  try {
    return normaliseBlocklistValue(kind, value)
  } catch {
    return value
  }
}

function failure(code: string, message: string): RelayResult<TriggerData> {
  return { data: { status: 'failure' }, errors: [{ code, message, type: 'fatal' }] }
}

function coded(err: unknown): { code: string; message: string } {
  if (err instanceof AppError) return { code: err.code, message: err.message }
  return { code: 'block list error', message: err instanceof Error ? err.message : String(err) }
}

/**
 * Runs a block action from the hub through the gateway's block list service (the one place
 * entries are added): the entry records the hub action (`externalRef`) and the user who asked
 * (`createdBy`), and applies at once to this process's SMTP sessions and pipeline.
 */
export async function runBlockAction(
  request: TriggerRequest,
  deps: BlockActionDeps,
): Promise<RelayResult<TriggerData>> {
  const actionId = request['action-id']
  const observable = {
    type: request.observable_type,
    value: request.observable_value,
  } as Observable
  const requestedBy = (
    typeof request.requested_by === 'string' ? request.requested_by : 'hub'
  ).slice(0, 200)
  const hubAction = typeof request.hub_action_id === 'string' ? request.hub_action_id : null
  const actor: Actor = { source: 'hub', id: requestedBy }
  const reason = (
    typeof request.reason === 'string' && request.reason.trim() !== ''
      ? request.reason
      : `hub action ${actionId}`
  ).slice(0, 500)
  const externalRef = `hub:${actionId}${hubAction ? `:${hubAction}` : ''}`.slice(0, 200)

  if (actionId === 'block-user' || actionId === 'unblock-user') {
    const user = internalUser(observable, deps)
    if (user === null) {
      return failure(
        'invalid action',
        `${observable.value} is not a user of this organisation; block it as a sender instead`,
      )
    }
    try {
      if (actionId === 'block-user') {
        const { sender, created } = await deps.blocklists.blockSender(user, reason, actor)
        return {
          data: {
            status: 'success',
            results: [{ kind: 'blocked_user', value: sender.address, created }],
          },
        }
      }
      const removed = await deps.blocklists.unblockSender(user, actor)
      return {
        data: {
          status: 'success',
          results: [{ kind: 'blocked_user', value: removed.address, removed: true }],
        },
      }
    } catch (err) {
      const { code, message } = coded(err)
      return failure(code, message)
    }
  }

  const spec = KINDS[observable.type]
  if (!spec || (actionId !== 'block' && actionId !== 'unblock')) {
    return failure('invalid action', `Action "${actionId}" does not apply to ${observable.type}`)
  }
  const results: Record<string, unknown>[] = []
  const errors: { code: string; message: string; type: 'error' }[] = []
  for (const kind of spec.kinds) {
    try {
      if (actionId === 'block') {
        const entry = await deps.blocklists.add(
          { kind, value: observable.value, reason, externalRef },
          actor,
        )
        results.push({ kind, value: entry.value, entry_id: entry.id, created: true })
      } else {
        const entry = await deps.blocklists.removeValue(kind, observable.value, actor)
        results.push({ kind, value: entry.value, entry_id: entry.id, removed: true })
      }
    } catch (err) {
      if (gwErrors.BLOCKLIST_ENTRY_EXISTS.is(err)) {
        results.push({ kind, value: canonical(kind, observable.value), created: false })
      } else if (gwErrors.BLOCKLIST_ENTRY_NOT_FOUND.is(err)) {
        results.push({ kind, value: canonical(kind, observable.value), removed: false })
      } else {
        errors.push({ ...coded(err), type: 'error' })
      }
    }
  }
  return {
    data: { status: errors.length === 0 ? 'success' : 'failure', results },
    ...(errors.length > 0 ? { errors } : {}),
  }
}
