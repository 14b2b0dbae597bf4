import type { Clock, Logger } from '@postern/core'
import type { AuditEntryInput, AuditLog } from '@postern/store'

/** Most entries one INSERT carries. */
const MAX_BATCH = 500

/**
 * Audit entries of read-only lookups (enrich), written after the answer instead of before it:
 * entries queued during one event-loop turn go to the database in one INSERT, each with the
 * time it happened. A failed write is logged with what it held; `drain()` (awaited by
 * `Hub.stop` before the database closes) writes whatever is still queued. Actions that change
 * something keep awaiting their audit entry.
 */
export class AuditBatcher {
  private queue: { entry: AuditEntryInput; at: number }[] = []
  private flushing: Promise<void> | null = null

  constructor(private readonly deps: { audit: AuditLog; clock: Clock; logger: Logger }) {}

  record(entry: AuditEntryInput): void {
    this.queue.push({ entry, at: this.deps.clock.now() })
    this.flushing ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.flush())
  }

  /** Resolves once every queued entry is written (or its failure logged). */
  async drain(): Promise<void> {
    while (this.flushing) await this.flushing
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_BATCH)
      try {
        await this.deps.audit.recordMany(batch)
      } catch (err) {
        this.deps.logger.error(
          {
            event: 'AUDIT_WRITE_FAILED',
            count: batch.length,
            actions: [...new Set(batch.map((b) => b.entry.action))],
            err,
          },
          'audit entries could not be written',
        )
      }
    }
    this.flushing = null
  }
}
