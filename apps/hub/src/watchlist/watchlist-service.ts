import { randomUUID } from 'node:crypto'
import { systemClock, type Clock, type Logger } from '@postern/core'
import type { AuditLog, Watch, WatchChanges, WatchIncidentMode, WatchStore } from '@postern/store'
import { auditActorOf, ownerOf, type Caller } from '../casebooks/caller.js'
import type { CasebookService } from '../casebooks/casebook-service.js'
import type { CtiaEntityService, WriteContext } from '../casebooks/ctia-entity-service.js'
import { privateIntelErrors } from '../casebooks/private-intel-errors.js'
import { hubCaller, markdownText } from '../incidents/auto-incidents.js'
import type { IncidentService } from '../incidents/incident-service.js'
import type { NotificationOutcome, WatchNotifier } from './notifiers.js'

/**
 * What a gateway reports for each new message through the tunnel: the observables the
 * message carries (sender, domains, URLs, attachment hashes, Message-ID…). The hub matches them
 * against the org's watches.
 */
export interface MessageObservedEvent {
  orgId: string
  deviceId: string
  at: number
  message: {
    mid: string
    messageId?: string | null
    subject?: string | null
    sender?: string | null
    recipients?: string[]
    direction?: 'incoming' | 'outgoing'
  }
  observables: { type: string; value: string }[]
}

export interface WatchInput {
  observable: { type: string; value: string }
  note?: string | null
  notify?: { console?: boolean; webhook?: string | null; email?: string | null }
  incidentMode?: WatchIncidentMode
}

export interface SightingOutcome {
  watchId: string
  incidentId: string | null
  notifications: NotificationOutcome[]
}

/** Statuses after which a watch opens a new incident instead of joining the old one. */
function isFinished(status: unknown): boolean {
  return typeof status === 'string' && (status.startsWith('Closed') || status === 'Rejected')
}

/**
 * The watchlist: analysts watch observables; every message a gateway reports that carries one
 * becomes a sighting on the watch, is notified on the channels the watch names, and, when the
 * watch asks for it, opens an incident (or adds to the open one).
 */
/** Cap of the watched set sent to gateways (the tunnel's `intelWatchlist` maximum). */
const MAX_WATCHED = 50_000

export class WatchlistService {
  private readonly clock: Clock

  constructor(
    private readonly deps: {
      watches: WatchStore
      audit: AuditLog
      notifier: WatchNotifier
      entities: CtiaEntityService
      incidents: IncidentService
      casebooks: CasebookService
      logger: Logger
      clock?: Clock
      /** Called after any change to an org's watches (the tunnel re-sends the watched set). */
      onChange?: (orgId: string) => void
    },
  ) {
    this.clock = deps.clock ?? systemClock
  }

  async create(caller: Caller, input: WatchInput, context: WriteContext = {}): Promise<Watch> {
    const watch = await this.deps.watches.create({
      id: `watch-${randomUUID()}`,
      orgId: caller.orgId,
      observable: input.observable,
      note: input.note ?? null,
      createdBy: ownerOf(caller),
      notify: input.notify ?? {},
      incidentMode: input.incidentMode ?? 'none',
      at: this.clock.now(),
    })
    if (!watch)
      throw privateIntelErrors.WATCH_EXISTS({
        type: input.observable.type,
        value: input.observable.value,
      })
    await this.record(caller, 'watch.create', watch.id, context, {
      observable: watch.observable,
    })
    return watch
  }

  async get(caller: Caller, id: string): Promise<Watch> {
    const watch = await this.deps.watches.get(caller.orgId, id)
    if (!watch) throw privateIntelErrors.ENTITY_NOT_FOUND({ entity: 'watch', id })
    return watch
  }

  async list(caller: Caller, options: { limit?: number; offset?: number } = {}) {
    return this.deps.watches.list(caller.orgId, options)
  }

  async update(
    caller: Caller,
    id: string,
    changes: WatchChanges,
    context: WriteContext = {},
  ): Promise<Watch> {
    await this.get(caller, id)
    const watch = await this.deps.watches.update(caller.orgId, id, changes, this.clock.now())
    await this.record(caller, 'watch.update', id, context, { changes })
    return watch!
  }

  async delete(caller: Caller, id: string, context: WriteContext = {}): Promise<void> {
    if (!(await this.deps.watches.delete(caller.orgId, id)))
      throw privateIntelErrors.ENTITY_NOT_FOUND({ entity: 'watch', id })
    await this.record(caller, 'watch.delete', id, context)
  }

  /** Every observable the org's active watches name (what its gateways report on). */
  async watchedObservables(orgId: string): Promise<{ type: string; value: string }[]> {
    const out: { type: string; value: string }[] = []
    for (let offset = 0; offset < MAX_WATCHED; offset += 1000) {
      const { watches } = await this.deps.watches.list(orgId, {
        activeOnly: true,
        limit: 1000,
        offset,
      })
      out.push(...watches.map((w) => ({ type: w.observable.type, value: w.observable.value })))
      if (watches.length < 1000) break
    }
    return out
  }

  async sightings(caller: Caller, id: string, options: { limit?: number; offset?: number } = {}) {
    await this.get(caller, id)
    return this.deps.watches.sightings(caller.orgId, id, options)
  }

  /**
   * Handles one message report from a gateway. A repeated report of the same message (the
   * tunnel redelivers after a lost acknowledgement) records and notifies nothing twice.
   */
  async onMessageObserved(event: MessageObservedEvent): Promise<SightingOutcome[]> {
    const watches = await this.deps.watches.matching(event.orgId, event.observables)
    const outcomes: SightingOutcome[] = []
    for (const watch of watches) {
      const sighting = {
        watchId: watch.id,
        observedAt: event.at,
        recordedAt: this.clock.now(),
        deviceId: event.deviceId,
        messageRef: event.message.mid,
        messageId: event.message.messageId ?? null,
        details: {
          subject: event.message.subject ?? null,
          sender: event.message.sender ?? null,
          recipients: (event.message.recipients ?? []).slice(0, 100),
          direction: event.message.direction ?? null,
        },
      }
      if (!(await this.deps.watches.recordSighting(event.orgId, sighting))) continue
      const incidentId = watch.incidentMode === 'open' ? await this.incidentFor(watch, event) : null
      this.deps.logger.info(
        {
          event: 'WATCH_SIGHTING',
          orgId: event.orgId,
          watchId: watch.id,
          deviceId: event.deviceId,
          mid: event.message.mid,
          incidentId,
        },
        'watched observable seen',
      )
      const notifications = await this.deps.notifier.notify({
        orgId: event.orgId,
        watch,
        sighting,
        incidentId,
      })
      outcomes.push({ watchId: watch.id, incidentId, notifications })
    }
    return outcomes
  }

  /** The watch's open incident, with this message's observables added; or a new one. */
  private async incidentFor(watch: Watch, event: MessageObservedEvent): Promise<string> {
    const caller = hubCaller(event.orgId)
    const context = { source: 'tunnel' as const }
    const observables = [
      watch.observable,
      { type: 'cisco_mid', value: event.message.mid },
      ...(event.message.messageId
        ? [{ type: 'email_messageid', value: event.message.messageId }]
        : []),
    ]
    const note = {
      type: 'note',
      text: `${new Date(event.at).toISOString()} — gateway ${markdownText(event.deviceId)} saw MID ${markdownText(event.message.mid)}${event.message.subject ? `, subject "${markdownText(event.message.subject)}"` : ''}`,
    }
    if (watch.incidentId) {
      const current = await this.deps.entities.store.get(event.orgId, 'incident', watch.incidentId)
      if (current && !isFinished(current.doc.status)) {
        const [casebook] = await this.deps.incidents.linkedCasebooks(caller, current.id)
        if (casebook) {
          await this.deps.casebooks.operate(
            caller,
            casebook.id,
            'observables',
            'add',
            observables,
            context,
          )
          await this.deps.casebooks.operate(caller, casebook.id, 'texts', 'add', [note], context)
        }
        return current.id
      }
    }
    const when = new Date(event.at).toISOString()
    const title = `Watched ${watch.observable.type} seen: ${watch.observable.value}`.slice(0, 1024)
    const incident = await this.deps.incidents.create(
      caller,
      {
        title,
        short_description: watch.note ?? `Raised by watch ${watch.id}`,
        status: 'New',
        confidence: 'Medium',
        severity: 'Medium',
        categories: ['Investigation'],
        discovery_method: 'Automated',
        promotion_method: 'Automated',
        incident_time: { opened: when, discovered: when },
        source: 'Postern watchlist',
        timestamp: when,
        tlp: 'amber',
      },
      context,
    )
    const casebook = await this.deps.entities.create(
      caller,
      'casebook',
      {
        title,
        observables,
        texts: [note],
        tlp: 'amber',
        timestamp: when,
        source: 'Postern watchlist',
      },
      context,
    )
    await this.deps.incidents.link(caller, incident.id, { casebook_id: casebook.id }, context)
    await this.deps.watches.update(
      event.orgId,
      watch.id,
      { incidentId: incident.id },
      this.clock.now(),
    )
    return incident.id
  }

  private async record(
    caller: Caller,
    action: string,
    id: string,
    context: WriteContext,
    details: Record<string, unknown> = {},
  ): Promise<void> {
    await this.deps.audit.record({
      orgId: caller.orgId,
      actor: auditActorOf(caller),
      source: context.source ?? 'api',
      remoteIp: context.remoteIp ?? null,
      action,
      target: { type: 'watch', id },
      outcome: 'success',
      details,
    })
    this.deps.onChange?.(caller.orgId)
  }
}
