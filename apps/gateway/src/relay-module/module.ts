import { CTIM_SCHEMA_VERSION, DISPOSITIONS, transientId, type Observable } from '@postern/ctim'
import type {
  Action,
  ObserveData,
  Ref,
  RelayModule,
  RelayResult,
  TriggerData,
  TriggerRequest,
} from '@postern/relay'
import type { Clock } from '@postern/core'
import type { RemediationAction, TrackingSearchRepository } from '@postern/store'
import type { TrackedRemediation } from '../remediation/tracked.js'
import {
  BLOCK_ACTION_IDS,
  blockActionsFor,
  runBlockAction,
  type BlockActionDeps,
} from './block-actions.js'
import { messagesFor, supportsObservable } from './lookup.js'
import { MODULE_SOURCE, dispositionOf, messageSighting } from './sightings.js'
import { GATEWAY_VERSION } from '../cloud/context.js'

export interface GatewayRelayModuleOptions {
  search: TrackingSearchRepository
  /** Mailbox remediation by MID or Message-ID (absent: the module offers no actions). */
  tracked?: TrackedRemediation
  /** Block list actions (absent without the content pipeline: no block actions). */
  blocks?: BlockActionDeps
  /** This gateway's name (its hostname) in titles and sensor coordinates. */
  gatewayName: string
  /** Base URL of the gateway's console/API, for links (read at each call). */
  consoleUrl: () => string
  maxMessagesPerObservable: number
  clock: Clock
}

/** Response actions on a delivered message, keyed by the action id the hub sends back. */
const MESSAGE_ACTIONS: Record<
  string,
  { action: RemediationAction; title: string; description: string }
> = {
  delete: {
    action: 'delete',
    title: 'Delete from mailboxes',
    description: 'Delete this message from every mailbox this gateway delivered it to',
  },
  forward: {
    action: 'forward',
    title: 'Forward',
    description: 'Forward a copy of this message from every mailbox to the remediation address',
  },
  'forward-and-delete': {
    action: 'forward-delete',
    title: 'Forward and delete',
    description:
      'Forward a copy to the remediation address, then delete it from every mailbox this gateway delivered it to',
  },
}
const MESSAGE_TYPES = new Set(['cisco_mid', 'email_messageid'])
/** How long a verdict from tracking stays valid (a week: detections age). */
const VERDICT_VALID_MS = 7 * 86_400_000

function asList(value: unknown): string[] | undefined {
  if (typeof value === 'string' && value.trim() !== '')
    return value
      .split(',')
      .map((v) => v.trim())
      .filter(Boolean)
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string')
  return undefined
}

/**
 * The gateway as a relay module (reference §4 and §6): observe answers one sighting per tracked
 * message, deliberate answers verdicts from the gateway's own detections, refer links to the
 * messages on this gateway, respond offers and runs mailbox remediation. Served through the hub
 * tunnel ({@link serveRelayModuleOverTunnel}) and optionally over HTTPS.
 */
export function createGatewayRelayModule(options: GatewayRelayModuleOptions): RelayModule {
  const messageUrl = (mid: number) =>
    `${options.consoleUrl().replace(/\/+$/, '')}/api/v1/tracking/messages/${mid}/detail`
  const limit = options.maxMessagesPerObservable
  const context = { gatewayName: options.gatewayName, messageUrl }

  const module: RelayModule = {
    async health() {
      return { data: { status: 'ok', version: GATEWAY_VERSION, gateway: options.gatewayName } }
    },

    async observe(observables, ctx) {
      const docs = []
      for (const observable of observables.filter(supportsObservable)) {
        if (ctx.signal.aborted) break
        for (const row of await messagesFor(options.search, observable, limit)) {
          const detail = await options.search.detail(row.mid, row.receivedAt)
          docs.push(messageSighting(observable, row, detail, context))
        }
      }
      const data: ObserveData = docs.length > 0 ? { sightings: { count: docs.length, docs } } : {}
      return { data }
    },

    async deliberate(observables, ctx) {
      const now = options.clock.now()
      const docs = []
      for (const observable of observables.filter(supportsObservable)) {
        if (ctx.signal.aborted) break
        const rows = await messagesFor(options.search, observable, limit)
        let worst: 2 | 3 | null = null
        for (const row of rows) {
          const disposition = dispositionOf(row.verdicts)
          if (disposition !== null && (worst === null || disposition < worst)) worst = disposition
        }
        if (worst === null) continue
        // A message verdict convicts what the message carried (URL, attachment); its sender,
        // domain or IP only become suspicious by it.
        const carried = ['url', 'sha256', 'sha1', 'md5', 'cisco_mid', 'email_messageid']
        const disposition = carried.includes(observable.type) ? worst : 3
        docs.push({
          type: 'verdict',
          schema_version: CTIM_SCHEMA_VERSION,
          disposition,
          disposition_name: DISPOSITIONS[disposition],
          observable,
          valid_time: {
            start_time: new Date(now).toISOString(),
            end_time: new Date(now + VERDICT_VALID_MS).toISOString(),
          },
          judgement_id: transientId('judgement'),
        })
      }
      return { data: docs.length > 0 ? { verdicts: { count: docs.length, docs } } : {} }
    },

    async refer(observables) {
      const refs: Ref[] = []
      for (const observable of observables.filter(supportsObservable)) {
        const rows = await messagesFor(options.search, observable, 5)
        for (const row of rows) {
          refs.push({
            id: `ref-postern-gateway-message-${observable.type}-${observable.value}-${row.mid}`,
            title: `Message MID ${row.mid} on ${options.gatewayName}`,
            description: `Tracking detail of "${row.subject ?? '(no subject)'}" (${observable.type} ${observable.value})`,
            url: messageUrl(row.mid),
            categories: [MODULE_SOURCE, 'Message tracking'],
          })
        }
      }
      return { data: refs }
    },
  }

  const { tracked, blocks } = options
  if (tracked === undefined && blocks === undefined) return module
  module.respondObservables = async (observables: Observable[]) => {
    const actions: Action[] = []
    for (const observable of observables) {
      if (tracked !== undefined && MESSAGE_TYPES.has(observable.type)) {
        if ((await messagesFor(options.search, observable, 1)).length > 0) {
          actions.push(...messageActions(observable))
        }
      }
      if (blocks !== undefined) actions.push(...(await blockActionsFor(observable, blocks)))
    }
    return { data: actions }
  }
  module.respondTrigger = async (request: TriggerRequest) => {
    const actionId = request['action-id']
    if (blocks !== undefined && (BLOCK_ACTION_IDS as readonly string[]).includes(actionId)) {
      return runBlockAction(request, blocks)
    }
    const action = MESSAGE_ACTIONS[actionId]
    if (tracked === undefined || !action || !MESSAGE_TYPES.has(request.observable_type)) {
      return {
        data: { status: 'failure' },
        errors: [
          {
            code: 'invalid action',
            message: `Action "${actionId}" does not apply to ${request.observable_type}`,
            type: 'fatal',
          },
        ],
      }
    }
    return remediate(tracked, action.action, request)
  }
  return module
}

function messageActions(observable: Observable): Action[] {
  return Object.entries(MESSAGE_ACTIONS).map(([id, action]) => ({
    id,
    title: action.title,
    description: action.description,
    categories: [MODULE_SOURCE, 'Remediation'],
    'query-params': { observable_type: observable.type, observable_value: observable.value },
  }))
}

/** Runs mailbox remediation of the message a MID or Message-ID names, and waits for it. */
async function remediate(
  tracked: TrackedRemediation,
  action: RemediationAction,
  request: TriggerRequest,
): Promise<RelayResult<TriggerData>> {
  const byMid = request.observable_type === 'cisco_mid'
  const mid = Number(/^(\d{1,15})/.exec(request.observable_value)?.[1] ?? NaN)
  const requestedBy = typeof request.requested_by === 'string' ? request.requested_by : 'hub'
  const { run, targets } = await tracked.remediate(
    {
      action,
      ...(byMid ? { mids: [mid] } : { messageIds: [request.observable_value] }),
      forwardTo: asList(request.forward_to),
      reason: typeof request.reason === 'string' ? request.reason.slice(0, 1000) : 'hub action',
      idempotencyKey:
        typeof request.idempotency_key === 'string' ? request.idempotency_key : undefined,
      wait: true,
      details: { hubAction: request['action-id'], requestedBy },
    },
    { actor: { type: 'hub', id: requestedBy.slice(0, 200) }, source: 'hub' },
  )
  const results = targets.map((t) => ({
    recipient: t.recipient,
    status: t.status,
    forwarded: t.forwarded,
    deleted: t.deleted,
    ...(t.error ? { error: t.error } : {}),
  }))
  const success = run.status === 'completed'
  return {
    data: {
      status: success ? 'success' : 'failure',
      run_id: run.id,
      counts: run.counts,
      results,
    },
    ...(success
      ? {}
      : {
          errors: [
            {
              code: 'remediation incomplete',
              message: `Remediation run ${run.id} ended ${run.status}: ${run.counts.done} done, ${run.counts.notFound} not found, ${run.counts.failed} failed`,
              type: 'error' as const,
            },
          ],
        }),
  }
}
