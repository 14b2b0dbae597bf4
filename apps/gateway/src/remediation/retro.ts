import { describeError, systemClock, type Clock, type Logger } from '@postern/core'
import {
  searchFilter,
  type SearchFilter,
  type SearchRow,
  type TrackingSearchRepository,
} from '@postern/store'
import type { RemediationConfig, RetroAction } from './config.js'
import { SYSTEM_RETRO_CONTEXT } from './context.js'
import type { RemediationService } from './service.js'
import { TrackedRemediation } from './tracked.js'

/** The kinds of block-list entries (content pipeline) that retro-remediation reacts to. */
export type BlockedKind = keyof RemediationConfig['retro']['actions']

export interface BlockedEntry {
  kind: BlockedKind | string
  /** Normalised as the block list stores it (lower-case address/domain, canonical URL …). */
  value: string
  /** Where the entry came from: `hub`, `api`, `cli`, … */
  source: string
  reason: string
  createdBy: string
  createdAt: number
}

export interface RetroOutcome {
  action: RetroAction
  /** Messages found carrying the entry (capped at `maxMessagesPerEntry`). */
  messages: number
  runId: string | null
  /** Why nothing was remediated, when nothing was. */
  skipped: string | null
}

/** A delivered message a retro-remediation run pulls back. */
export interface RetroMessage {
  mid: number
  messageId: string | null
  subject: string | null
  sender: string | null
  /** The recipients it was delivered to, whose mailboxes the run works on. */
  recipients: string[]
  direction: 'incoming' | 'outgoing'
}

/** Told when a block-list entry started a retro-remediation run (once per run). */
export interface RetroRemediated {
  entry: BlockedEntry
  action: RetroAction
  runId: string
  messages: RetroMessage[]
  at: number
}

export type RetroListener = (event: RetroRemediated) => Promise<void> | void

const PAGE = 1000

/**
 * Automatic retro-remediation: when a URL, URL domain, attachment hash, sender, sender domain
 * or sending IP is blocked after mail carrying it was delivered, the delivered messages are
 * found through the tracking indexes and — when the policy for that kind of entry (or its
 * source) says so — remediated in one run whose reason names the entry. The run is keyed on
 * the entry, so a repeated notification does not start a second one.
 */
export class RetroRemediation {
  private readonly tracked: TrackedRemediation
  private readonly listeners: RetroListener[] = []

  constructor(
    private readonly config: RemediationConfig,
    private readonly tracking: TrackingSearchRepository,
    service: RemediationService,
    private readonly logger: Logger,
    private readonly clock: Clock = systemClock,
  ) {
    this.tracked = new TrackedRemediation(tracking, service)
  }

  /**
   * Adds a listener told of every run this starts (the hub-intel extension reports them to the
   * hub); a failing listener is logged and never fails the remediation.
   */
  onRemediated(listener: RetroListener): void {
    this.listeners.push(listener)
  }

  policyFor(entry: Pick<BlockedEntry, 'kind' | 'source'>): RetroAction {
    const retro = this.config.retro
    return retro.sources[entry.source] ?? retro.actions[entry.kind as BlockedKind] ?? 'none'
  }

  async onBlocked(entry: BlockedEntry, options: { wait?: boolean } = {}): Promise<RetroOutcome> {
    const log = this.logger.child({ retroKind: entry.kind, retroSource: entry.source })
    const action = this.policyFor(entry)
    if (!this.config.retro.enabled || action === 'none' || !this.config.enabled) {
      return {
        action: 'none',
        messages: 0,
        runId: null,
        skipped: this.config.retro.enabled
          ? 'the policy for this entry is "none"'
          : 'retro-remediation is disabled',
      }
    }
    const filter = filterFor(entry, this.clock.now() - this.config.retro.lookbackHours * 3_600_000)
    if (!filter)
      return {
        action,
        messages: 0,
        runId: null,
        skipped: `entries of kind "${entry.kind}" are not looked up`,
      }
    const found = new Map<number, SearchRow>()
    let truncated = false
    for (let offset = 0; ; offset += PAGE) {
      const rows = await this.tracking.page(filter, {
        sort: { field: 'mid', order: 'desc' },
        limit: PAGE,
        offset,
      })
      for (const row of rows) found.set(row.mid, row)
      if (found.size > this.config.retro.maxMessagesPerEntry) {
        truncated = true
        break
      }
      if (rows.length < PAGE) break
    }
    if (truncated) {
      log.warn(
        { event: 'RETRO_REMEDIATION_TOO_MANY', limit: this.config.retro.maxMessagesPerEntry },
        'a blocked entry matches more delivered messages than retro.maxMessagesPerEntry; nothing was remediated',
      )
      return {
        action,
        messages: found.size,
        runId: null,
        skipped: `more than ${this.config.retro.maxMessagesPerEntry} messages carry it; remediate them by hand`,
      }
    }
    const delivered = (await this.tracking.deliveredTargets([...found.keys()])).filter(
      (m) => m.messageId && m.recipients.length > 0,
    )
    if (delivered.length === 0)
      return { action, messages: 0, runId: null, skipped: 'no delivered message carries it' }
    try {
      const { run, created } = await this.tracked.remediate(
        {
          action,
          mids: delivered.map((m) => m.mid),
          trigger: 'retro',
          reason: `retro-remediation: ${entry.kind} ${entry.value} was blocked by ${entry.createdBy} via ${entry.source}${entry.reason ? ` (${entry.reason})` : ''}`,
          idempotencyKey: `retro:${entry.kind}:${entry.value}:${entry.createdAt}`,
          details: { blocked: entry },
          wait: options.wait,
        },
        SYSTEM_RETRO_CONTEXT,
      )
      log.info(
        { event: 'RETRO_REMEDIATION_STARTED', runId: run.id, action, messages: delivered.length },
        'retro-remediation started',
      )
      if (created)
        await this.notify(
          {
            entry,
            action,
            runId: run.id,
            at: this.clock.now(),
            messages: delivered.map((m) => retroMessage(found.get(m.mid), m)),
          },
          log,
        )
      return { action, messages: delivered.length, runId: run.id, skipped: null }
    } catch (err) {
      log.error(
        { event: 'RETRO_REMEDIATION_FAILED', err: describeError(err) },
        'retro-remediation could not start',
      )
      throw err
    }
  }

  private async notify(event: RetroRemediated, log: Logger): Promise<void> {
    for (const listener of this.listeners) {
      try {
        await listener(event)
      } catch (err) {
        log.error(
          {
            event: 'RETRO_REMEDIATION_LISTENER_FAILED',
            runId: event.runId,
            err: describeError(err),
          },
          'a retro-remediation listener failed',
        )
      }
    }
  }
}

function retroMessage(
  row: SearchRow | undefined,
  delivered: { mid: number; messageId: string | null; recipients: string[] },
): RetroMessage {
  return {
    mid: delivered.mid,
    messageId: delivered.messageId,
    subject: row?.subject ?? null,
    sender: row?.envelopeSender || null,
    recipients: delivered.recipients,
    direction: row?.direction === 'outgoing' ? 'outgoing' : 'incoming',
  }
}

function filterFor(entry: BlockedEntry, since: number): SearchFilter | null {
  const base = searchFilter({ since })
  const value = entry.value.trim()
  switch (entry.kind) {
    case 'sender_address':
      return { ...base, envelopeSenders: [{ operator: 'is', value }] }
    case 'sender_domain':
      return { ...base, senderDomains: [value.toLowerCase()] }
    case 'sender_ip':
      return { ...base, senderIp: value }
    case 'url':
      return { ...base, urls: [value] }
    case 'url_domain':
      return { ...base, urlDomains: [value.toLowerCase()] }
    case 'attachment_hash':
      return { ...base, attachmentHashes: [value.toLowerCase()] }
    default:
      return null
  }
}
