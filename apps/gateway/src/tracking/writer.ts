import { describeError, type Logger } from '@postern/core'
import {
  batchRowCount,
  emptyBatch,
  type MessageStatus,
  type NewEvent,
  type NewMessage,
  type NewObservable,
  type NewRecipient,
  type RecipientUpdate,
  type TrackingBatch,
} from '@postern/store'
import { oncePerTurn } from '../coalesce.js'

export interface TrackingWriterOptions {
  /** Longest time a row waits before it is written. */
  flushIntervalMs: number
  /** Rows that trigger a write at once. */
  maxBatchRows: number
  /** Rows kept while the database is failing; beyond it the oldest batch is dropped. */
  maxPendingRows: number
}

/** Where batches go: a `TrackingStore`, or the tracking worker thread (`TrackingWorker`). */
export interface TrackingSink {
  writeBatch(batch: TrackingBatch): Promise<void>
}

export interface TrackingWriterHooks {
  onFlush?(rows: number, seconds: number): void
  onError?(err: unknown): void
  onDropped?(rows: number): void
}

interface PendingMessage extends NewMessage {
  recipients: NewRecipient[]
}

/**
 * Buffers tracking rows and writes them in batches, one transaction per batch, off the SMTP
 * hot path: callers append in memory and return at once. Updates to a message still in the
 * buffer are folded into its pending row, so a message accepted and delivered within one
 * flush interval costs one insert and no update. A failed batch is kept and retried before
 * newer rows, so the timeline stays in order.
 */
export class TrackingWriter {
  private batch: TrackingBatch = emptyBatch()
  private pendingMessages = new Map<number, PendingMessage>()
  private messageUpdates = new Map<number, { mid: number; status: MessageStatus; at: number }>()
  private recipientUpdates = new Map<string, RecipientUpdate>()
  private failed: TrackingBatch | undefined
  private rows = 0
  private timer: NodeJS.Timeout | undefined
  private flushing: Promise<void> | undefined
  /** A full batch is written in the next turn of the loop (once, however many rows it adds). */
  private readonly flushSoon = oncePerTurn(() => void this.flushSafely())
  private stopped = false

  constructor(
    private readonly store: TrackingSink,
    private readonly options: TrackingWriterOptions,
    private readonly logger: Logger,
    private readonly hooks: TrackingWriterHooks = {},
  ) {}

  /** Rows waiting to be written (including a failed batch waiting for its retry). */
  get pendingRows(): number {
    return this.rows + (this.failed ? batchRowCount(this.failed) : 0)
  }

  message(message: NewMessage): void {
    const pending: PendingMessage = {
      ...message,
      recipients: message.recipients.map((r) => ({ ...r })),
    }
    this.pendingMessages.set(message.mid, pending)
    this.batch.messages.push(pending)
    this.added(1 + pending.recipients.length)
  }

  event(event: NewEvent): void {
    this.batch.events.push(event)
    this.added(1)
  }

  events(events: readonly NewEvent[]): void {
    for (const e of events) this.batch.events.push(e)
    this.added(events.length)
  }

  observables(observables: readonly NewObservable[]): void {
    for (const o of observables) this.batch.observables.push(o)
    this.added(observables.length)
  }

  /** Rows of another area's table, written in the same transaction as the tracking rows. */
  rowsOf(table: string, rows: Record<string, unknown>[]): void {
    if (rows.length === 0) return
    this.batch.extra.push({ table, rows })
    this.added(rows.length)
  }

  messageStatus(mid: number, status: MessageStatus, at: number): void {
    const pending = this.pendingMessages.get(mid)
    if (pending) {
      pending.status = status
      pending.updatedAt = at
      return
    }
    if (!this.messageUpdates.has(mid)) this.added(1)
    this.messageUpdates.set(mid, { mid, status, at })
  }

  recipientStatus(update: RecipientUpdate): void {
    const pending = this.pendingMessages.get(update.mid)
    const recipient = pending?.recipients[update.index]
    if (pending && recipient) {
      recipient.status = update.status
      if (update.lastReply !== undefined && update.lastReply !== null) {
        recipient.lastReply = update.lastReply
      }
      recipient.attempts = (recipient.attempts ?? 0) + (update.attempts ?? 0)
      pending.updatedAt = update.at
      return
    }
    const key = `${update.mid}:${update.index}`
    const existing = this.recipientUpdates.get(key)
    if (existing) {
      existing.status = update.status
      existing.at = update.at
      if (update.lastReply !== undefined && update.lastReply !== null) {
        existing.lastReply = update.lastReply
      }
      existing.attempts = (existing.attempts ?? 0) + (update.attempts ?? 0)
      return
    }
    this.recipientUpdates.set(key, { ...update })
    this.added(1)
  }

  start(): void {
    this.stopped = false
  }

  /** Writes everything pending (waits for a flush in progress first). */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing
    if (this.rows === 0 && !this.failed) return
    this.flushing = this.writePending().finally(() => {
      this.flushing = undefined
    })
    await this.flushing
  }

  /** Final flush; rows that cannot be written are reported as dropped. */
  async stop(): Promise<void> {
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
    await this.flush()
    if (this.failed) {
      // One more try: the database may have been slow rather than down.
      await this.flush()
    }
    if (this.pendingRows > 0) {
      this.logger.error(
        { event: 'TRACKING_ROWS_LOST', rows: this.pendingRows },
        'tracking rows could not be written before stopping',
      )
      this.hooks.onDropped?.(this.pendingRows)
    }
  }

  private added(rows: number): void {
    this.rows += rows
    if (this.stopped) return
    if (this.rows >= this.options.maxBatchRows) {
      this.flushSoon()
      return
    }
    if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined
        void this.flushSafely()
      }, this.options.flushIntervalMs)
    }
  }

  private async flushSafely(): Promise<void> {
    try {
      await this.flush()
    } catch (err) {
      this.logger.error({ event: 'TRACKING_FLUSH_FAILED', err: describeError(err) }, 'flush failed')
    }
  }

  private takeBatch(): TrackingBatch {
    const batch = this.batch
    batch.messageUpdates = [...this.messageUpdates.values()]
    batch.recipientUpdates = [...this.recipientUpdates.values()]
    this.batch = emptyBatch()
    this.pendingMessages = new Map()
    this.messageUpdates = new Map()
    this.recipientUpdates = new Map()
    this.rows = 0
    return batch
  }

  private async writePending(): Promise<void> {
    if (this.failed) {
      const retry = this.failed
      this.failed = undefined
      if (!(await this.write(retry))) {
        this.failed = retry
        this.enforceLimit()
        this.scheduleRetry()
        return
      }
    }
    if (this.rows === 0) return
    const batch = this.takeBatch()
    if (!(await this.write(batch))) {
      this.failed = batch
      this.enforceLimit()
      this.scheduleRetry()
    }
  }

  private async write(batch: TrackingBatch): Promise<boolean> {
    const started = process.hrtime.bigint()
    try {
      await this.store.writeBatch(batch)
      const seconds = Number(process.hrtime.bigint() - started) / 1e9
      this.hooks.onFlush?.(batchRowCount(batch), seconds)
      return true
    } catch (err) {
      this.hooks.onError?.(err)
      this.logger.error(
        { event: 'TRACKING_WRITE_FAILED', rows: batchRowCount(batch), err: describeError(err) },
        'tracking batch could not be written; it will be retried',
      )
      return false
    }
  }

  /** Newer rows keep arriving while the database is down: never hold more than the limit. */
  private enforceLimit(): void {
    if (this.failed && this.pendingRows > this.options.maxPendingRows) {
      const dropped = batchRowCount(this.failed)
      this.failed = undefined
      this.hooks.onDropped?.(dropped)
      this.logger.error(
        { event: 'TRACKING_ROWS_DROPPED', rows: dropped },
        'tracking rows dropped: the database has been failing for too long',
      )
    }
  }

  private scheduleRetry(): void {
    if (this.stopped || this.timer) return
    this.timer = setTimeout(
      () => {
        this.timer = undefined
        void this.flushSafely()
      },
      Math.max(this.options.flushIntervalMs, 1000),
    )
  }
}
