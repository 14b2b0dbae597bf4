import { statfs } from 'node:fs/promises'
import { describeError, systemClock, type Clock, type Logger } from '@postern/core'

export interface FreeSpaceOptions {
  /** A directory on the filesystem to watch (the spool directory). */
  dir: string
  /** Bytes that must stay free after a message is stored; below it new mail is refused. */
  reserveBytes: number
  /** How long a statfs result is trusted before it is refreshed. */
  refreshMs: number
  clock?: Clock
}

/**
 * Decides whether the spool's filesystem has room for one more message while keeping a reserve
 * free. The reserve is what lets the gateway go on working when the disk fills: delivery writes
 * small "done" records, compaction rewrites segments, and a spool write that fails half-way
 * stops the spool until restart — so new mail is refused (452 4.3.1, RFC 3463 "mail system
 * full", and RFC 1870 §6.1 for a declared SIZE) well before the disk is actually full.
 *
 * statfs is a system call through the thread pool: its result is cached for `refreshMs` and
 * refreshed in the background, never awaited on the SMTP path. Bytes accepted since the last
 * refresh are subtracted so that a burst between two refreshes cannot overrun the reserve.
 */
export class FreeSpaceGuard {
  private free = Number.POSITIVE_INFINITY
  private acceptedSinceRefresh = 0
  private refreshedAt = Number.NEGATIVE_INFINITY
  private refreshing: Promise<void> | undefined
  /** Mail is being refused for want of space (logged on each change, not per refusal). */
  private low = false
  private readonly clock: Clock

  constructor(
    private readonly options: FreeSpaceOptions,
    private readonly logger: Logger,
  ) {
    this.clock = options.clock ?? systemClock
  }

  get reserveBytes(): number {
    return this.options.reserveBytes
  }

  /** Free bytes as last measured, less what was accepted since. */
  get available(): number {
    return this.free - this.acceptedSinceRefresh
  }

  /** Measures now (at start, so that the first session is already checked). */
  async refresh(): Promise<void> {
    this.refreshing ??= this.measure().finally(() => (this.refreshing = undefined))
    return this.refreshing
  }

  /**
   * True when `bytes` more can be stored with the reserve left free. Starts a background
   * refresh when the cached figure is stale; the answer uses the figure at hand.
   */
  hasRoomFor(bytes: number): boolean {
    if (this.options.reserveBytes === 0) return true
    if (this.clock.now() - this.refreshedAt >= this.options.refreshMs) void this.refresh()
    const room = this.available - bytes >= this.options.reserveBytes
    if (room === this.low) this.noteChange(!room)
    return room
  }

  private noteChange(low: boolean): void {
    this.low = low
    const details = {
      dir: this.options.dir,
      available: this.available,
      reserve: this.options.reserveBytes,
    }
    if (low)
      this.logger.warn(
        { event: 'SPOOL_SPACE_LOW', ...details },
        'spool filesystem at its free-space reserve: new mail is answered 452 4.3.1',
      )
    else this.logger.info({ event: 'SPOOL_SPACE_OK', ...details }, 'spool accepts mail again')
  }

  /** Counts bytes written since the last measurement (a stored message). */
  consumed(bytes: number): void {
    this.acceptedSinceRefresh += bytes
  }

  private async measure(): Promise<void> {
    const startedAt = this.clock.now()
    try {
      const stats = await statfs(this.options.dir)
      // bavail: blocks available to unprivileged users (root's reserved blocks excluded).
      this.free = stats.bavail * stats.bsize
      this.acceptedSinceRefresh = 0
    } catch (err) {
      // A failed statfs must not stop mail: keep the last figure, try again next time.
      this.logger.warn(
        { event: 'SPOOL_STATFS_FAILED', dir: this.options.dir, err: describeError(err) },
        'could not measure free space of the spool filesystem',
      )
    }
    this.refreshedAt = startedAt
  }
}
