import { describeError, type Logger } from '@postern/core'
import type { RetroCursorRepository } from '@postern/store'
import type { RetroRemediation } from './retro.js'

const CURSOR = 'blocklist_entries'
const BATCH = 100

/**
 * Feeds retro-remediation from the block lists: every `retro.pollIntervalMs` it reads the
 * entries added since the stored cursor (whoever added them: API, hub, CLI) and hands each to
 * `RetroRemediation.onBlocked`. The cursor is stored after each entry, so a restart neither
 * skips nor repeats one; entries that existed before the first start are left alone.
 */
export class RetroWatcher {
  private timer: NodeJS.Timeout | undefined
  private running: Promise<void> | undefined
  private stopped = false

  constructor(
    private readonly retro: RetroRemediation,
    private readonly cursor: RetroCursorRepository,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.schedule(0)
  }

  /** Handles every entry added since the cursor; resolves when they are all handled. */
  async tick(): Promise<number> {
    let last = await this.cursor.get(CURSOR)
    if (last === null) {
      last = await this.cursor.highestEntryId()
      await this.cursor.set(CURSOR, last)
      return 0
    }
    let handled = 0
    for (;;) {
      const entries = await this.cursor.entriesAfter(last, BATCH)
      for (const entry of entries) {
        if (this.stopped) return handled
        try {
          const outcome = await this.retro.onBlocked(entry)
          this.logger.info(
            {
              event: 'RETRO_REMEDIATION_ENTRY',
              entryId: entry.id,
              kind: entry.kind,
              action: outcome.action,
              runId: outcome.runId,
              messages: outcome.messages,
              skipped: outcome.skipped,
            },
            'block-list entry handled',
          )
        } catch (err) {
          this.logger.error(
            { event: 'RETRO_REMEDIATION_ENTRY_FAILED', entryId: entry.id, err: describeError(err) },
            'block-list entry not handled',
          )
        }
        last = entry.id
        await this.cursor.set(CURSOR, last)
        handled++
      }
      if (entries.length < BATCH) return handled
    }
  }

  async stop(): Promise<void> {
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    await this.running
  }

  private schedule(delay: number): void {
    if (this.stopped) return
    this.timer = setTimeout(() => {
      this.running = this.tick()
        .then(() => undefined)
        .catch((err: unknown) => {
          this.logger.warn(
            { event: 'RETRO_REMEDIATION_POLL_FAILED', err: describeError(err) },
            'could not read the block lists',
          )
        })
        .finally(() => this.schedule(this.intervalMs))
    }, delay)
    this.timer.unref()
  }
}
