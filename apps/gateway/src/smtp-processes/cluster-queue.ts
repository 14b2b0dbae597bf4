import type { DeliveryQueue, QueueItemView, QueueState } from '../delivery/queue.js'
import { slotOfId } from './numbering.js'
import type { ProcessOp, SmtpProcessCalls } from './protocol.js'

type Maybe<T> = T | Promise<T>
type QueueFilter = { state?: QueueState; limit?: number; offset?: number }
type QueueSummary = Record<QueueState, number> & { total: number }

/** The queue operations of the API and the CLI, on one queue or on those of every process. */
export interface QueueOperations {
  list(filter: QueueFilter): Maybe<{ total: number; items: QueueItemView[] }>
  summary(): Maybe<QueueSummary>
  get(mid: number): Maybe<QueueItemView>
  hold(mid: number, actor: string): Promise<QueueItemView>
  release(mid: number, actor: string): Promise<QueueItemView>
  delete(mid: number, actor: string): Promise<void>
  bounceNow(mid: number, actor: string): Promise<void>
  flush(): Maybe<number>
}

/**
 * The primary's view of a node's queues: its own (what the API submitted) and each SMTP
 * process's. An operation on one message goes to the process that owns it, found from the
 * MID alone (each process numbers in its own slot, numbering.ts); listings and counts merge
 * every process's. A process being restarted answers GW_ERR_SMTP_PROCESS_UNAVAILABLE.
 */
export class ClusterQueue implements QueueOperations {
  constructor(
    private readonly local: DeliveryQueue,
    private readonly processes: SmtpProcessCalls,
    private readonly nodeNumber: number,
  ) {}

  async list(filter: QueueFilter): Promise<{ total: number; items: QueueItemView[] }> {
    const offset = filter.offset ?? 0
    const limit = Math.min(filter.limit ?? 100, 10_000)
    // Every process's first offset+limit messages hold the merged page (all sorted by MID).
    const head: QueueFilter = { limit: Math.min(offset + limit, 10_000), offset: 0 }
    if (filter.state) head.state = filter.state
    const parts = [
      this.local.list(head),
      ...(await this.everyProcess<{ total: number; items: QueueItemView[] }>('queue.list', [head])),
    ]
    const items = parts.flatMap((p) => p.items).sort((a, b) => a.mid - b.mid)
    return {
      total: parts.reduce((sum, p) => sum + p.total, 0),
      items: items.slice(offset, offset + limit),
    }
  }

  async summary(): Promise<QueueSummary> {
    const parts = [
      this.local.summary(),
      ...(await this.everyProcess<QueueSummary>('queue.summary')),
    ]
    const total: QueueSummary = { total: 0, processing: 0, active: 0, deferred: 0, held: 0 }
    for (const part of parts) {
      for (const key of Object.keys(total) as (keyof QueueSummary)[]) total[key] += part[key]
    }
    return total
  }

  async flush(): Promise<number> {
    const counts = await this.everyProcess<number>('queue.flush')
    return counts.reduce((sum, n) => sum + n, this.local.flush())
  }

  async get(mid: number): Promise<QueueItemView> {
    const slot = this.owner(mid)
    return slot === undefined ? this.local.get(mid) : this.processes.call(slot, 'queue.get', [mid])
  }

  async hold(mid: number, actor: string): Promise<QueueItemView> {
    return this.onOwner(mid, 'queue.hold', actor, () => this.local.hold(mid, actor))
  }

  async release(mid: number, actor: string): Promise<QueueItemView> {
    return this.onOwner(mid, 'queue.release', actor, () => this.local.release(mid, actor))
  }

  async delete(mid: number, actor: string): Promise<void> {
    return this.onOwner(mid, 'queue.delete', actor, () => this.local.delete(mid, actor))
  }

  async bounceNow(mid: number, actor: string): Promise<void> {
    return this.onOwner(mid, 'queue.bounce', actor, () => this.local.bounceNow(mid, actor))
  }

  /** The SMTP process numbering in the slot of `mid`; undefined for the primary's own. */
  private owner(mid: number): number | undefined {
    const slot = slotOfId(this.nodeNumber, mid)
    return slot !== undefined && this.processes.slots.includes(slot) ? slot : undefined
  }

  private onOwner<T>(
    mid: number,
    op: ProcessOp,
    actor: string,
    locally: () => Promise<T>,
  ): Promise<T> {
    const slot = this.owner(mid)
    return slot === undefined ? locally() : this.processes.call<T>(slot, op, [mid, actor])
  }

  private everyProcess<T>(op: ProcessOp, args: unknown[] = []): Promise<T[]> {
    return Promise.all(this.processes.slots.map((slot) => this.processes.call<T>(slot, op, args)))
  }
}
