import { describeError, silentLogger, systemClock, type Clock, type Logger } from '@postern/core'
import type {
  AuditLog,
  AuditSource,
  ContentRecords,
  QuarantineItem,
  QuarantineQuery,
  QuarantineStore,
} from '@postern/store'
import { gwErrors } from '../errors.js'
import type { AnalysisPool } from '../pipeline/analysis/analysis-pool.js'
import { PIPELINE_EVENTS, type EventSink } from '../pipeline/events.js'
import type { QuarantinesConfig } from './config.js'

/** Hands a released message to the delivery queue (implemented by the gateway core). */
export interface ReleaseQueue {
  /**
   * Queues `content` for delivery to `recipients`, durably and without processing it again,
   * as a new message; resolves with its MID once the queue holds it.
   */
  release(message: {
    /** The quarantined message's MID. */
    mid: number
    direction: string
    envelopeSender: string
    recipients: readonly string[]
    content: Buffer
    reason: string
  }): Promise<{ releasedAs: number }>
}

export interface QuarantineActor {
  source: AuditSource
  id: string
  remoteIp?: string | null
}

export interface QuarantineView {
  item: QuarantineItem
  headers: { name: string; value: string }[]
  /** Readable text of the message (HTML reduced to text); the caller escapes it for display. */
  text: string | null
  attachments: { filename: string | null; type: string; size: number; sha256: string }[]
  urls: string[]
}

export interface NewHold {
  mid: number
  quarantine: string
  reason: string
  direction: string
  envelopeSender: string
  recipients: readonly string[]
  subject: string | null
  headerFrom: string | null
  content: Buffer
}

export interface QuarantineServiceOptions {
  config: QuarantinesConfig
  events: EventSink
  /** Parses held messages for the safe view (in a worker thread, like every message). */
  analysis: AnalysisPool
  releaseQueue?: ReleaseQueue | null
  audit?: AuditLog | null
  records?: ContentRecords | null
  clock?: Clock
  logger?: Logger
}

/** Longest safe-text view returned. */
const MAX_VIEW_TEXT = 256 * 1024

/**
 * Named quarantines: hold (with the original bytes), list and search, a safe view (headers and
 * text, never the raw HTML), release through the normal delivery queue, delete, and expiry
 * after each quarantine's retention. Every movement is a tracking event on the message and an
 * audit record naming who did it.
 */
export class QuarantineService {
  private timer: NodeJS.Timeout | undefined
  private sweeping: Promise<void> | undefined
  private readonly clock: Clock
  private readonly logger: Logger

  constructor(
    private readonly store: QuarantineStore,
    private readonly options: QuarantineServiceOptions,
  ) {
    this.clock = options.clock ?? systemClock
    this.logger = options.logger ?? silentLogger()
  }

  get names(): string[] {
    return Object.keys(this.options.config.quarantines)
  }

  settings(name: string) {
    const settings = this.options.config.quarantines[name]
    if (!settings) throw gwErrors.QUARANTINE_UNKNOWN({ name })
    return settings
  }

  /** Starts the retention sweeper and re-queues releases a crash interrupted. */
  async start(): Promise<void> {
    await this.resumeReleases()
    this.timer = setInterval(() => void this.sweepSafely(), this.options.config.sweepIntervalMs)
    this.timer.unref()
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
    await this.sweeping
  }

  /** Holds a message; idempotent per (MID, quarantine). The caller records QUARANTINED. */
  async hold(hold: NewHold): Promise<{ id: number; created: boolean }> {
    const settings = this.settings(hold.quarantine)
    const now = this.clock.now()
    return this.store.hold({ ...hold, createdAt: now, expiresAt: now + settings.retentionMs })
  }

  list(query: QuarantineQuery): Promise<{ total: number; items: QuarantineItem[] }> {
    if (query.quarantine !== undefined) this.settings(query.quarantine)
    return this.store.list(query)
  }

  /** Held messages and bytes per quarantine. */
  counts(): Promise<{ quarantine: string; held: number; bytes: number }[]> {
    return this.store.counts()
  }

  async get(id: number): Promise<QuarantineItem> {
    const item = await this.store.get(id)
    if (!item) throw gwErrors.QUARANTINE_ITEM_NOT_FOUND({ id })
    return item
  }

  /** Headers and readable text of a held message, parsed in a worker thread. */
  async view(id: number): Promise<QuarantineView> {
    const item = await this.get(id)
    const content = await this.store.content(id)
    if (!content) return { item, headers: [], text: null, attachments: [], urls: [] }
    const { analysis } = await this.options.analysis.analyse({ raw: content, includeText: true })
    return {
      item,
      headers: analysis.headers.list,
      text: analysis.text === null ? null : analysis.text.slice(0, MAX_VIEW_TEXT),
      attachments: analysis.attachments.map((a) => ({
        filename: a.filename,
        type: a.sniffedType ?? a.declaredType,
        size: a.size,
        sha256: a.sha256,
      })),
      urls: analysis.urls.map((u) => u.url),
    }
  }

  /** The original bytes (for download by an administrator). */
  async content(id: number): Promise<Buffer> {
    const content = await this.store.content(id)
    if (!content) throw gwErrors.QUARANTINE_ITEM_NOT_FOUND({ id })
    return content
  }

  /**
   * Releases a held message: it is marked released first (so that two operators cannot both
   * release it), then handed to the delivery queue, then its bytes are dropped. A crash between
   * those steps is finished at the next start (`resumeReleases`).
   */
  async release(id: number, actor: QuarantineActor): Promise<QuarantineItem> {
    const queue = this.options.releaseQueue
    if (!queue) throw gwErrors.QUARANTINE_RELEASE_UNAVAILABLE()
    const item = await this.resolve(id, 'released', actor)
    const releasedAs = await this.handOver(queue, item, `released by ${actor.id}`)
    this.options.events.event({
      at: this.clock.now(),
      event: PIPELINE_EVENTS.QUARANTINE_RELEASED,
      mid: item.mid,
      details: {
        quarantine: item.quarantine,
        itemId: item.id,
        by: actor.id,
        source: actor.source,
        recipients: item.recipients,
        releasedAs,
      },
    })
    await this.audit(actor, 'quarantine.release', item)
    await this.options.records?.setQuarantined(item.mid, false)
    return { ...item, status: 'released', resolvedAt: this.clock.now(), resolvedBy: actor.id }
  }

  async delete(id: number, actor: QuarantineActor): Promise<QuarantineItem> {
    const item = await this.resolve(id, 'deleted', actor)
    this.options.events.event({
      at: this.clock.now(),
      event: PIPELINE_EVENTS.QUARANTINE_DELETED,
      mid: item.mid,
      details: { quarantine: item.quarantine, itemId: item.id, by: actor.id, source: actor.source },
    })
    await this.audit(actor, 'quarantine.delete', item)
    return { ...item, status: 'deleted', resolvedAt: this.clock.now(), resolvedBy: actor.id }
  }

  /** Applies retention: every held message past its expiry is deleted or released. */
  async sweep(): Promise<number> {
    let done = 0
    for (;;) {
      const due = await this.store.expired(this.clock.now(), 100)
      if (due.length === 0) return done
      for (const item of due) {
        const settings = this.options.config.quarantines[item.quarantine]
        const release = settings?.onExpiry === 'release' && this.options.releaseQueue
        const status = release ? 'released' : 'expired'
        if (!(await this.store.resolve(item.id, status, 'retention', this.clock.now()))) continue
        const releasedAs =
          release && this.options.releaseQueue
            ? await this.handOver(this.options.releaseQueue, item, 'retention over')
            : null
        this.options.events.event({
          at: this.clock.now(),
          event: PIPELINE_EVENTS.QUARANTINE_EXPIRED,
          mid: item.mid,
          details: {
            quarantine: item.quarantine,
            itemId: item.id,
            outcome: release ? 'released' : 'deleted',
            ...(releasedAs === null ? {} : { releasedAs }),
          },
        })
        done++
      }
    }
  }

  private async resolve(
    id: number,
    status: 'released' | 'deleted',
    actor: QuarantineActor,
  ): Promise<QuarantineItem> {
    const item = await this.get(id)
    if (item.status !== 'held') throw gwErrors.QUARANTINE_ITEM_NOT_HELD({ id, status: item.status })
    if (!(await this.store.resolve(id, status, actor.id, this.clock.now()))) {
      const now = await this.get(id)
      throw gwErrors.QUARANTINE_ITEM_NOT_HELD({ id, status: now.status })
    }
    return item
  }

  /** Hands the bytes to the queue, then drops them; returns the released copy's MID. */
  private async handOver(
    queue: ReleaseQueue,
    item: QuarantineItem,
    reason: string,
  ): Promise<number | null> {
    const content = await this.store.content(item.id)
    if (!content) return null
    const { releasedAs } = await queue.release({
      mid: item.mid,
      direction: item.direction,
      envelopeSender: item.envelopeSender,
      recipients: item.recipients,
      content,
      reason,
    })
    await this.store.dropContent(item.id)
    return releasedAs
  }

  private async resumeReleases(): Promise<void> {
    const queue = this.options.releaseQueue
    if (!queue) return
    for (const item of await this.store.unfinishedReleases(1000)) {
      this.logger.warn(
        { event: 'QUARANTINE_RELEASE_RESUMED', mid: item.mid, itemId: item.id },
        'finishing a release interrupted by a stop',
      )
      const releasedAs = await this.handOver(
        queue,
        item,
        `released by ${item.resolvedBy ?? 'unknown'} (resumed)`,
      )
      this.options.events.event({
        at: this.clock.now(),
        event: PIPELINE_EVENTS.QUARANTINE_RELEASED,
        mid: item.mid,
        details: {
          quarantine: item.quarantine,
          itemId: item.id,
          by: item.resolvedBy,
          resumed: true,
          releasedAs,
        },
      })
    }
  }

  private async sweepSafely(): Promise<void> {
    if (this.sweeping) return
    this.sweeping = this.sweep()
      .then((count) => {
        if (count > 0) {
          this.logger.info({ event: 'QUARANTINE_SWEPT', count }, 'quarantine retention applied')
        }
      })
      .catch((err: unknown) =>
        this.logger.error(
          { event: 'QUARANTINE_SWEEP_FAILED', err: describeError(err) },
          'quarantine retention could not be applied; retrying at the next sweep',
        ),
      )
      .finally(() => {
        this.sweeping = undefined
      })
    await this.sweeping
  }

  private async audit(actor: QuarantineActor, action: string, item: QuarantineItem): Promise<void> {
    await this.options.audit?.record({
      actor: { type: actor.source === 'cli' ? 'cli' : 'user', id: actor.id },
      source: actor.source,
      remoteIp: actor.remoteIp ?? null,
      action,
      target: { type: 'quarantine_item', id: String(item.id) },
      outcome: 'success',
      details: { mid: item.mid, quarantine: item.quarantine, recipients: item.recipients },
    })
  }
}
