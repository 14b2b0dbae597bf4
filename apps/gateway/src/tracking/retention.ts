import { describeError, type Clock, type Logger } from '@postern/core'
import type { IdRange, TrackingStore } from '@postern/store'

/**
 * Messages deleted per transaction. Small enough that one batch (a few thousand row deletes)
 * never holds SQLite's write lock — and, SQLite being synchronous, the event loop — for long;
 * the sweep yields to other work between batches.
 */
export const PURGE_BATCH = 1000

export interface TrackingRetentionOptions {
  store: TrackingStore
  /** Messages received longer ago than this are deleted; 0 keeps them forever. */
  retentionMs: number
  intervalMs: number
  /** This node's ids: each node of a cluster purges its own messages. */
  range: IdRange
  clock: Clock
  logger: Logger
  onPurged?(messages: number): void
}

/**
 * Tracking retention (`tracking.retention`): every `purgeInterval`, deletes the messages
 * received before the retention window with all their tracking rows, batch by batch.
 */
export class TrackingRetention {
  private timer: NodeJS.Timeout | undefined
  private sweeping: Promise<number> | undefined

  constructor(private readonly options: TrackingRetentionOptions) {}

  start(): void {
    if (this.options.retentionMs === 0) return
    this.timer = setInterval(() => void this.sweepSafely(), this.options.intervalMs)
    this.timer.unref()
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
    await this.sweeping
  }

  /** Deletes everything past retention now; returns the number of messages deleted. */
  async sweep(): Promise<number> {
    if (this.sweeping) return this.sweeping
    this.sweeping = this.purgeAll().finally(() => {
      this.sweeping = undefined
    })
    return this.sweeping
  }

  private async purgeAll(): Promise<number> {
    const { store, retentionMs, range, clock, logger } = this.options
    if (retentionMs === 0) return 0
    const before = clock.now() - retentionMs
    let total = 0
    for (;;) {
      const purged = await store.purgeBefore(before, PURGE_BATCH, range)
      total += purged
      if (purged > 0) this.options.onPurged?.(purged)
      if (purged < PURGE_BATCH) break
      await new Promise((resolve) => setImmediate(resolve))
    }
    if (total > 0)
      logger.info(
        { event: 'TRACKING_PURGED', messages: total, before: new Date(before).toISOString() },
        'tracking past retention deleted',
      )
    return total
  }

  private async sweepSafely(): Promise<void> {
    try {
      await this.sweep()
    } catch (err) {
      this.options.logger.error(
        { event: 'TRACKING_PURGE_FAILED', err: describeError(err) },
        'tracking retention sweep failed; it is tried again at the next interval',
      )
    }
  }
}
