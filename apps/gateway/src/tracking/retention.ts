import { describeError, type Clock, type Logger } from '@postern/core'
import type { IdRange, TrackingPartitions, TrackingStore } from '@postern/store'

/**
 * Messages deleted per transaction. Small enough that one batch (a few thousand row deletes)
 * never holds SQLite's write lock — and, SQLite being synchronous, the event loop — for long;
 * the sweep yields to other work between batches.
 */
export const PURGE_BATCH = 1000

export interface TrackingRetentionOptions {
  store: TrackingStore
  /** PostgreSQL's weekly partitions (no-ops on SQLite). */
  partitions: TrackingPartitions
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
 * Tracking retention (`tracking.retention`): every `purgeInterval`, creates the partitions of
 * the coming weeks (PostgreSQL), drops the weeks wholly past retention — so a message is kept
 * up to one week longer than `tracking.retention` there — and deletes in batches what is past
 * retention outside weekly partitions (all of SQLite, PostgreSQL's default partition).
 */
export class TrackingRetention {
  private timer: NodeJS.Timeout | undefined
  private sweeping: Promise<number> | undefined

  constructor(private readonly options: TrackingRetentionOptions) {}

  /** Creates the partitions mail will need before the first interval, then sweeps every interval. */
  async start(): Promise<void> {
    await this.guarded(() => this.ensurePartitions())
    this.timer = setInterval(() => void this.guarded(() => this.sweep()), this.options.intervalMs)
    this.timer.unref()
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
    await this.sweeping
  }

  /** Creates the coming weeks' partitions and retires everything past retention now; returns the number of messages retired. */
  async sweep(): Promise<number> {
    if (this.sweeping) return this.sweeping
    this.sweeping = this.purgeAll().finally(() => {
      this.sweeping = undefined
    })
    return this.sweeping
  }

  private async ensurePartitions(): Promise<void> {
    const created = await this.options.partitions.ensure(this.options.clock.now())
    if (created > 0)
      this.options.logger.info(
        { event: 'TRACKING_PARTITIONS_CREATED', weeks: created },
        'tracking partitions created ahead',
      )
  }

  private async purgeAll(): Promise<number> {
    const { store, partitions, retentionMs, range, clock, logger } = this.options
    await this.ensurePartitions()
    if (retentionMs === 0) return 0
    const before = clock.now() - retentionMs
    const dropped = await partitions.dropBefore(before)
    if (dropped.messages > 0) this.options.onPurged?.(dropped.messages)
    if (dropped.weeks > 0)
      logger.info(
        { event: 'TRACKING_PARTITIONS_DROPPED', weeks: dropped.weeks, messages: dropped.messages },
        'tracking weeks past retention dropped',
      )
    let total = dropped.messages
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

  private async guarded(work: () => Promise<unknown>): Promise<void> {
    try {
      await work()
    } catch (err) {
      this.options.logger.error(
        { event: 'TRACKING_PURGE_FAILED', err: describeError(err) },
        'tracking retention sweep failed; it is tried again at the next interval',
      )
    }
  }
}
