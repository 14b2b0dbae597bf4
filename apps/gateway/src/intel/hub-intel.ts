import { describeError, isAppError, type Clock, type Logger } from '@postern/core'
import type { HubOutboxStore } from '@postern/store'
import {
  intelBlockChange,
  intelWatchlist,
  type IntelBlockEntry,
  type IntelBlockResult,
} from '@postern/tunnel'
import type { BlocklistService } from '../blocklists/blocklist-service.js'
import { gwErrors } from '../errors.js'
import type {
  AcceptedMessage,
  MessageProcessor,
  ProcessingContext,
  ProcessingResult,
} from '../pipeline/processor.js'
import type { RetroRemediated } from '../remediation/retro.js'
import {
  detectionsOf,
  eventMessageOf,
  retroDetectionsOf,
  watchKey,
  watchedIn,
  type IntelEvent,
  type Observable,
} from './detections.js'

export interface HubIntelDeps {
  outbox: HubOutboxStore
  /** This machine's name (cluster nodes sharing a database each send their own events). */
  machine: string
  /** The gateway's block lists; absent when the content pipeline is off. */
  blocklists: BlocklistService | undefined
  /** Asks the connector to send the queue now (it is sent on each reconnection anyway). */
  flush: () => void
  /** Whether the gateway works with a hub: without one, nothing is queued. */
  withHub: () => boolean
  clock: Clock
  logger: Logger
}

/**
 * The gateway's part of private intelligence: raises detections and watched-observable reports
 * for the hub into a durable queue as each message is processed and as retro-remediation pulls
 * delivered mail back (the connector caps it by `cloud.outbox` and sends it through the
 * tunnel, keeping what the hub did not take), applies the hub's block-list changes and keeps
 * the org's watched observables the hub sends.
 */
export class HubIntel {
  private watched: ReadonlySet<string> = new Set()
  private watchedObservables: readonly Observable[] = []

  constructor(private readonly deps: HubIntelDeps) {}

  /** How many observables the hub asked this gateway to watch. */
  get watchedCount(): number {
    return this.watched.size
  }

  /** The observables the hub asked this gateway to watch (as it sent them). */
  get watchlist(): readonly Observable[] {
    return this.watchedObservables
  }

  /** Wraps the message processor: after each message, queues what the hub must hear of. */
  reporting(inner: MessageProcessor): MessageProcessor {
    return {
      name: inner.name,
      process: async (message: AcceptedMessage, context: ProcessingContext) => {
        const result = await inner.process(message, context)
        await this.onProcessed(message, result)
        return result
      },
    }
  }

  /** Queues the message's detections and, when it carries watched observables, a report. */
  async onProcessed(message: AcceptedMessage, result: ProcessingResult): Promise<IntelEvent[]> {
    const at = this.deps.clock.now()
    const events = detectionsOf(message, result, at)
    const seen = watchedIn(result, this.watched)
    if (seen.length > 0)
      events.push({
        kind: 'message_observed',
        at,
        message: eventMessageOf(message),
        observables: seen,
      })
    await this.queue(events, at, { mid: message.mid })
    return events
  }

  /**
   * A retro-remediation run started (the remediation extension's listener): queues a
   * `retro_remediation` detection per message it pulls back, keyed by the blocked value.
   */
  async onRetroRemediated(run: RetroRemediated): Promise<IntelEvent[]> {
    const events = retroDetectionsOf(run)
    await this.queue(events, run.at, { runId: run.runId })
    return events
  }

  /** Queues events for the hub within the cap and asks for them to be sent. */
  private async queue(events: IntelEvent[], at: number, about: Record<string, unknown>) {
    if (events.length === 0 || !this.deps.withHub()) return
    try {
      await this.deps.outbox.enqueue(this.deps.machine, events, at)
      // The connector keeps the queue within its cap before it sends (off the message path).
      this.deps.flush()
    } catch (err) {
      // Reporting must never fail the message or the remediation: the hub hears nothing of it.
      this.deps.logger.error(
        { event: 'HUB_EVENT_QUEUE_FAILED', ...about, err: describeError(err) },
        'could not queue events for the hub',
      )
    }
  }

  /** The `/postern/watchlist` module endpoint: the org's whole watched set, replacing the last. */
  async setWatchlist(body: unknown): Promise<{ watched: number }> {
    const { observables } = intelWatchlist.parse(body)
    this.watched = new Set(observables.map(watchKey))
    this.watchedObservables = observables
    this.deps.logger.info(
      { event: 'HUB_WATCHLIST_RECEIVED', watched: this.watched.size },
      'watched observables received from the hub',
    )
    return { watched: this.watched.size }
  }

  /**
   * The `/postern/blocks` module endpoint: adds or removes entries, recording the hub user or
   * client that asked as the creator (source `hub`), so the gateway's audit log names them.
   */
  async changeBlocks(body: unknown): Promise<IntelBlockResult> {
    const blocklists = this.deps.blocklists
    if (!blocklists) throw gwErrors.HUB_BLOCKS_UNAVAILABLE()
    const change = intelBlockChange.parse(body)
    const result: IntelBlockResult = { changed: 0, unchanged: 0, refused: [] }
    for (const entry of change.entries) {
      const actor = { source: 'hub' as const, id: `hub:${entry.createdBy}` }
      try {
        if (change.action === 'add') await blocklists.add(toNewEntry(entry), actor)
        else await blocklists.removeValue(entry.kind, entry.value, actor)
        result.changed++
      } catch (err) {
        const code = isAppError(err) ? err.code : ''
        if (code.endsWith('BLOCKLIST_ENTRY_EXISTS') || code.endsWith('BLOCKLIST_ENTRY_NOT_FOUND'))
          result.unchanged++
        else
          result.refused.push({
            kind: entry.kind,
            value: entry.value.slice(0, 200),
            reason: describeError(err).slice(0, 500),
          })
      }
    }
    this.deps.logger.info(
      {
        event: 'HUB_BLOCKS_APPLIED',
        action: change.action,
        ...result,
        refused: result.refused.length,
      },
      'block-list change from the hub applied',
    )
    return result
  }
}

function toNewEntry(entry: IntelBlockEntry) {
  return {
    kind: entry.kind,
    value: entry.value,
    reason: entry.reason || 'blocked from the hub',
    expiresAt: entry.expiresAt,
    externalRef: entry.externalRef || null,
  }
}
