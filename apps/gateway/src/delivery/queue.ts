import { Readable } from 'node:stream'
import { describeError, systemClock, type Clock, type Logger } from '@postern/core'
import type { MessageStatus, RecipientStatus } from '@postern/store'
import type { GatewayConfig } from '../config.js'
import { gwErrors } from '../errors.js'
import { byLabel, type GatewayMetrics } from '../metrics/metrics.js'
import type {
  AcceptedMessage,
  MessageProcessor,
  ProcessingResult,
  RecipientOutcome,
} from '../pipeline/processor.js'
import { envelopeObservables } from '../smtp/listener.js'
import type { Spool } from '../spool/spool.js'
import type { MessageMeta, SpoolEntry } from '../spool/types.js'
import { trackingRow } from '../tracking/row.js'
import type { TrackingWriter } from '../tracking/writer.js'
import { buildDsn, headerSection, type FailedRecipient } from './dsn.js'
import { RetryHeap } from './retry-heap.js'
import type { Router } from './router.js'
import { deliveryTargets, type DeliveryTarget } from './targets.js'
import { joinSharedBody } from '../spool/shared-body.js'
import type { DeliveryRequest, RecipientResult, Transport } from './transport.js'

export type QueueState = 'processing' | 'active' | 'deferred' | 'held'

/** A message the gateway sends itself (see `DeliveryQueue.submit`). */
export interface SubmittedMessage {
  origin: 'release' | 'notification'
  direction: 'incoming' | 'outgoing'
  /** '' for the null reverse-path (notifications). */
  mailFrom: string
  recipients: readonly string[]
  /** The whole message, CRLF line endings. */
  body: Buffer
  /** The message this one comes from (the quarantined original, the notified-about one). */
  relatedMid: number | null
  /** Why it is sent, for the timeline. */
  reason: string
}

export interface QueueDeps {
  config: GatewayConfig
  spool: Spool
  tracking: TrackingWriter
  metrics: GatewayMetrics
  router: Router
  processor: () => MessageProcessor
  logger: Logger
  clock?: Clock
}

interface QueueItem {
  entry: SpoolEntry
  state: QueueState
  /** A processing or delivery attempt is running. */
  busy: boolean
  attempts: number
  nextAttemptAt: number | null
  lastError: string | null
  body: Buffer | undefined
  /** The pipeline's rewritten variants, kept (within the same budget) so delivery need not re-read them. */
  variants: readonly Buffer[] | undefined
  version: number
  /** What happened to each envelope recipient so far (for the final message status). */
  outcomes: Map<number, RecipientStatus>
}

/** What `queue list` and `GET /api/v1/queue` show about a message. */
export interface QueueItemView {
  mid: number
  state: QueueState
  busy: boolean
  from: string
  subject: string | null
  size: number
  receivedAt: number
  attempts: number
  nextAttemptAt: number | null
  lastError: string | null
  recipients: { address: string; status: 'pending' | 'done' }[]
}

/**
 * The delivery queue: every accepted message goes through the content pipeline once (its
 * result spooled before anything is delivered), then to its destinations, grouped per
 * transport, with retries on exponential backoff until the queue lifetime, DSN bounces for
 * what fails for good, and a hold queue. All state that must survive a restart is in the
 * spool; this class keeps only the schedule.
 */
export class DeliveryQueue {
  private readonly items = new Map<number, QueueItem>()
  private readonly heap = new RetryHeap<number>()
  private readonly processingWaiters: (() => void)[] = []
  private readonly abort = new AbortController()
  private readonly counts: Record<QueueState, number> = {
    processing: 0,
    active: 0,
    deferred: 0,
    held: 0,
  }
  private readonly inflight = new Set<Promise<void>>()
  private processing = 0
  private cachedBytes = 0
  private timer: NodeJS.Timeout | undefined
  private timerAt = Infinity
  private stopped = false
  private readonly clock: Clock
  private readonly logger: Logger

  /** Delivery metrics by result, resolved once (prom-client hashes labels on every call). */
  private readonly deliveryMetrics: (result: string) => {
    count: { inc(): void }
    duration: { observe(seconds: number): void }
  }

  constructor(private readonly deps: QueueDeps) {
    this.clock = deps.clock ?? systemClock
    this.logger = deps.logger
    const { metrics } = deps
    // Read when scraped: states change several times per message.
    metrics.sampleOnScrape(() => {
      for (const [state, count] of Object.entries(this.counts))
        metrics.queueDepth.set({ state }, count)
    })
    this.deliveryMetrics = byLabel((result) => ({
      count: metrics.deliveries.labels(result),
      duration: metrics.deliveryDuration.labels(result),
    }))
  }

  get size(): number {
    return this.items.size
  }

  /** Puts back what the spool recovered at start. */
  recover(entries: readonly SpoolEntry[]): void {
    const at = this.clock.now()
    for (const entry of entries) {
      // The tracking rows of a message accepted just before a crash may never have been
      // written: insert them (a no-op when they exist) before the timeline goes on.
      this.deps.tracking.message(trackingRow(entry.meta, entry.held ? 'held' : 'queued'))
      this.deps.tracking.observables(envelopeObservables(entry.meta))
      this.deps.tracking.event({
        at,
        mid: entry.meta.mid,
        event: 'RECOVERED',
        details: { held: entry.held },
      })
      this.add(entry, undefined)
    }
    if (entries.length > 0) {
      this.logger.info(
        { event: 'QUEUE_RECOVERED', messages: entries.length },
        'queue recovered from the spool',
      )
    }
  }

  /** A message the listener just acknowledged; `body` saves re-reading it from disk. */
  enqueue(entry: SpoolEntry, body?: Buffer): void {
    this.add(entry, body)
  }

  private add(entry: SpoolEntry, body: Buffer | undefined): void {
    const item: QueueItem = {
      entry,
      state: entry.held ? 'held' : entry.processed ? 'active' : 'processing',
      busy: false,
      attempts: 0,
      nextAttemptAt: null,
      lastError: null,
      body: undefined,
      variants: undefined,
      version: 0,
      outcomes: new Map(),
    }
    this.items.set(entry.meta.mid, item)
    this.counts[item.state]++
    this.cacheBody(item, body)
    if (item.state !== 'held') this.run(item)
  }

  // --- Operations (CLI and API) ----------------------------------------------------------------

  list(filter: { state?: QueueState; limit?: number; offset?: number } = {}): {
    total: number
    items: QueueItemView[]
  } {
    const all = [...this.items.values()].filter((i) => !filter.state || i.state === filter.state)
    all.sort((a, b) => a.entry.meta.mid - b.entry.meta.mid)
    const offset = filter.offset ?? 0
    const limit = Math.min(filter.limit ?? 100, 10_000)
    return { total: all.length, items: all.slice(offset, offset + limit).map((i) => this.view(i)) }
  }

  get(mid: number): QueueItemView {
    return this.view(this.require(mid))
  }

  summary(): Record<QueueState, number> & { total: number } {
    return { ...this.counts, total: this.items.size }
  }

  async hold(mid: number, actor: string): Promise<QueueItemView> {
    const item = this.require(mid)
    if (!item.entry.held) {
      await this.deps.spool.setHeld(item.entry, true)
      if (!item.busy) this.setState(item, 'held')
      item.version++
      const at = this.clock.now()
      this.deps.tracking.event({ at, mid, event: 'HELD', details: { by: actor } })
      this.deps.tracking.messageStatus(mid, 'held', at)
      this.logger.info({ event: 'QUEUE_HELD', mid, by: actor }, 'message held')
    }
    return this.view(item)
  }

  async release(mid: number, actor: string): Promise<QueueItemView> {
    const item = this.require(mid)
    if (item.entry.held) {
      await this.deps.spool.setHeld(item.entry, false)
      const at = this.clock.now()
      this.deps.tracking.event({ at, mid, event: 'RELEASED', details: { by: actor } })
      this.deps.tracking.messageStatus(mid, 'queued', at)
      this.logger.info({ event: 'QUEUE_RELEASED', mid, by: actor }, 'message released')
      if (!item.busy) {
        this.setState(item, item.entry.processed ? 'active' : 'processing')
        this.run(item)
      }
    }
    return this.view(item)
  }

  /** Removes a message without delivering or bouncing it. */
  async delete(mid: number, actor: string): Promise<void> {
    const item = this.require(mid)
    if (item.busy) throw gwErrors.QUEUE_MESSAGE_BUSY({ mid })
    this.forget(item)
    await this.deps.spool.markDone(item.entry)
    const at = this.clock.now()
    this.deps.tracking.event({ at, mid, event: 'DELETED', details: { by: actor } })
    this.deps.tracking.messageStatus(mid, 'deleted', at)
    item.entry.meta.envelope.recipients.forEach((_r, index) =>
      this.deps.tracking.recipientStatus({ mid, index, status: 'deleted', at }),
    )
    this.logger.info({ event: 'QUEUE_DELETED', mid, by: actor }, 'message deleted from the queue')
  }

  /**
   * Returns a message to its sender: a DSN (RFC 3464) for every recipient not yet delivered,
   * then the message leaves the queue. `5.3.0` (RFC 3463: other mail system status) because
   * the gateway's administrator, not the remote side, refused the delivery.
   */
  async bounceNow(mid: number, actor: string): Promise<void> {
    const item = this.require(mid)
    if (item.busy) throw gwErrors.QUEUE_MESSAGE_BUSY({ mid })
    const at = this.clock.now()
    const diagnostic = `returned to the sender by the gateway administrator (${actor})`
    const pending = item.entry.meta.envelope.recipients
      .map((recipient, index) => ({ recipient, index }))
      .filter((r) => !item.outcomes.has(r.index))
    await this.bounce(
      item,
      pending.map((r) => ({
        recipient: r.recipient,
        status: '5.3.0',
        diagnostic,
        lastAttemptAt: at,
      })),
      false,
    )
    for (const r of pending) {
      this.deps.tracking.recipientStatus({
        mid,
        index: r.index,
        status: 'bounced',
        at,
        lastReply: diagnostic,
      })
    }
    this.forget(item)
    await this.deps.spool.markDone(item.entry)
    this.deps.tracking.messageStatus(mid, 'bounced', at)
    this.logger.info({ event: 'QUEUE_BOUNCED', mid, by: actor }, 'message returned to its sender')
  }

  /** Retries every deferred message now. Returns how many. */
  flush(): number {
    let n = 0
    for (const item of this.items.values()) {
      if (item.state === 'deferred' && !item.busy) {
        item.version++
        this.setState(item, item.entry.processed ? 'active' : 'processing')
        this.run(item)
        n++
      }
    }
    return n
  }

  private require(mid: number): QueueItem {
    const item = this.items.get(mid)
    if (!item) throw gwErrors.QUEUE_MESSAGE_NOT_FOUND({ mid })
    return item
  }

  private view(item: QueueItem): QueueItemView {
    const { meta } = item.entry
    const targets = item.entry.processed ? deliveryTargets(item.entry) : undefined
    return {
      mid: meta.mid,
      state: item.state,
      busy: item.busy,
      from: meta.envelope.mailFrom,
      subject: meta.headers.subject,
      size: meta.size,
      receivedAt: meta.receivedAt,
      attempts: item.attempts,
      nextAttemptAt: item.nextAttemptAt,
      lastError: item.lastError,
      recipients: targets
        ? targets.map((t) => ({
            address: t.address,
            status: item.entry.doneTargets.has(t.index) ? 'done' : 'pending',
          }))
        : meta.envelope.recipients.map((address) => ({ address, status: 'pending' as const })),
    }
  }

  // --- Scheduling ----------------------------------------------------------------------------

  private setState(item: QueueItem, state: QueueState): void {
    if (item.state === state) return
    this.counts[item.state]--
    this.counts[state]++
    item.state = state
  }

  private run(item: QueueItem): void {
    if (this.stopped || item.busy || item.entry.held || !this.items.has(item.entry.meta.mid)) return
    item.busy = true
    const task = (item.entry.processed ? this.dispatch(item) : this.process(item))
      .catch((err: unknown) => {
        this.logger.error(
          { event: 'QUEUE_TASK_FAILED', mid: item.entry.meta.mid, err: describeError(err) },
          'queue task failed',
        )
        this.defer(item, `451 4.3.0 ${describeError(err)}`)
      })
      .finally(() => {
        item.busy = false
        this.inflight.delete(task)
        if (item.entry.held && this.items.has(item.entry.meta.mid)) this.setState(item, 'held')
        else if (item.state === 'active' && this.items.has(item.entry.meta.mid)) this.run(item)
      })
    this.inflight.add(task)
  }

  private schedule(item: QueueItem, at: number): void {
    item.version++
    item.nextAttemptAt = at
    this.heap.push(at, item.entry.meta.mid, item.version)
    this.armTimer()
  }

  private armTimer(): void {
    const next = this.heap.peek()
    if (!next || this.stopped) return
    if (this.timer && this.timerAt <= next.at) return
    if (this.timer) clearTimeout(this.timer)
    this.timerAt = next.at
    this.timer = setTimeout(() => this.onTimer(), Math.max(0, next.at - this.clock.now()))
    this.timer.unref()
  }

  private onTimer(): void {
    this.timer = undefined
    this.timerAt = Infinity
    const now = this.clock.now()
    for (let top = this.heap.peek(); top && top.at <= now; top = this.heap.peek()) {
      this.heap.pop()
      const item = this.items.get(top.key)
      if (!item || item.version !== top.version || item.state !== 'deferred') continue
      item.nextAttemptAt = null
      this.setState(item, item.entry.processed ? 'active' : 'processing')
      this.run(item)
    }
    this.armTimer()
  }

  private defer(item: QueueItem, reason: string): void {
    if (!this.items.has(item.entry.meta.mid)) return
    item.attempts++
    item.lastError = reason
    this.dropBody(item)
    const { initialDelay, maxDelay } = this.deps.config.queue.retry
    const delay = Math.min(maxDelay, initialDelay * 2 ** Math.min(item.attempts - 1, 30))
    if (item.entry.held) {
      this.setState(item, 'held')
      return
    }
    this.setState(item, 'deferred')
    this.schedule(item, this.clock.now() + delay)
  }

  private expired(item: QueueItem): boolean {
    return this.clock.now() - item.entry.meta.receivedAt >= this.deps.config.queue.lifetime
  }

  // --- Processing ------------------------------------------------------------------------------

  private async process(item: QueueItem): Promise<void> {
    const { entry } = item
    const mid = entry.meta.mid
    await this.processingSlot()
    let result: ProcessingResult
    const processor = this.deps.processor()
    try {
      result = await processor.process(this.acceptedMessage(item), {
        logger: this.logger.child({ mid }),
        tracking: this.deps.tracking,
        signal: this.abort.signal,
      })
      validateResult(result, entry.meta.envelope.recipients.length)
    } catch (err) {
      const reason = describeError(err)
      this.logger.error(
        { event: 'PROCESSING_FAILED', mid, processor: processor.name, err: reason },
        'message processing failed',
      )
      this.deps.tracking.event({
        at: this.clock.now(),
        mid,
        event: 'PROCESSING_FAILED',
        details: { processor: processor.name, error: reason },
      })
      if (this.expired(item)) {
        await this.expireUnprocessed(item, `451 4.3.0 processing failed: ${reason}`)
        return
      }
      this.defer(item, `processing failed: ${reason}`)
      return
    } finally {
      this.releaseProcessingSlot()
    }
    const outcomes = [...result.recipients] as RecipientOutcome[]
    // A result that delivers the message as received to every recipient changes nothing a
    // restart could get wrong (processing it again gives the same deliveries), so it is not
    // written; any other result is durable before delivery starts.
    const plain =
      (result.variants?.length ?? 0) === 0 && outcomes.every((o) => o.action === 'deliver')
    if (plain) this.deps.spool.noteProcessed(entry, outcomes)
    else await this.deps.spool.storeProcessed(entry, outcomes, result.variants ?? [])
    this.cacheVariants(item, result.variants)
    this.recordProcessed(item, processor.name, outcomes, result)
    this.setState(item, 'active')
  }

  private async processingSlot(): Promise<void> {
    if (this.processing < this.deps.config.queue.processingConcurrency) {
      this.processing++
      return
    }
    await new Promise<void>((resolve) => this.processingWaiters.push(resolve))
    this.processing++
  }

  private releaseProcessingSlot(): void {
    this.processing--
    this.processingWaiters.shift()?.()
  }

  private recordProcessed(
    item: QueueItem,
    processor: string,
    outcomes: RecipientOutcome[],
    result: ProcessingResult,
  ): void {
    const mid = item.entry.meta.mid
    const at = this.clock.now()
    const writer = this.deps.tracking
    writer.event({
      at,
      mid,
      event: 'PROCESSED',
      details: { processor, actions: outcomes.map((o) => o.action) },
    })
    if (result.events) writer.events(result.events.map((e) => ({ ...e, mid })))
    if (result.observables)
      writer.observables(
        result.observables.map((o) => ({ ...o, mid, at: item.entry.meta.receivedAt })),
      )
    outcomes.forEach((outcome, index) => {
      const recipient = item.entry.meta.envelope.recipients[index] ?? null
      const status: RecipientStatus | undefined =
        outcome.action === 'quarantine'
          ? 'quarantined'
          : outcome.action === 'drop'
            ? 'dropped'
            : outcome.action === 'redirect'
              ? 'redirected'
              : undefined
      if (status === undefined) return
      if (status !== 'redirected') item.outcomes.set(index, status)
      writer.recipientStatus({ mid, index, status, at, lastReply: outcome.reason ?? null })
      writer.event({
        at,
        mid,
        event: status.toUpperCase(),
        recipient,
        details:
          outcome.action === 'redirect'
            ? { to: outcome.to, reason: outcome.reason }
            : {
                reason: outcome.reason,
                ...(outcome.action === 'quarantine' ? { quarantine: outcome.quarantine } : {}),
              },
      })
      this.deliveryMetrics(status).count.inc()
    })
  }

  private acceptedMessage(item: QueueItem): AcceptedMessage {
    const { entry } = item
    const { meta } = entry
    return {
      mid: meta.mid,
      icid: meta.icid,
      receivedAt: meta.receivedAt,
      direction: meta.direction,
      envelope: meta.envelope,
      client: meta.client,
      headers: meta.headers,
      size: meta.size,
      receivedHeader: meta.receivedHeader,
      readBody: () => this.body(item),
      openBody: () => this.deps.spool.openBody(entry),
    }
  }

  // --- Delivery --------------------------------------------------------------------------------

  private async dispatch(item: QueueItem): Promise<void> {
    const { entry } = item
    const mid = entry.meta.mid
    const pending = deliveryTargets(entry).filter((t) => !entry.doneTargets.has(t.index))
    const done: number[] = []
    const failed: (FailedRecipient & { target: DeliveryTarget })[] = []
    const deferred: { target: DeliveryTarget; reply: string }[] = []
    const now = () => this.clock.now()

    for (const target of pending) {
      if (target.kind === 'bounce') {
        failed.push({
          target,
          recipient: target.address,
          status: target.status,
          diagnostic: target.reason,
          lastAttemptAt: now(),
        })
      }
    }
    // Group what is to be delivered by transport and variant: one transaction each.
    const groups = new Map<
      string,
      { transport: Transport; variant: number | undefined; targets: DeliveryTarget[] }
    >()
    for (const target of pending) {
      if (target.kind !== 'deliver') continue
      const decision = await this.deps.router.resolve(target.address)
      if (decision.kind === 'fail') {
        if (decision.status === 'bounced') {
          failed.push({
            target,
            recipient: target.address,
            status: decision.enhanced,
            diagnostic: decision.reply,
            lastAttemptAt: now(),
          })
        } else deferred.push({ target, reply: decision.reply })
        continue
      }
      const key = `${decision.transport.key}#${target.variant ?? ''}`
      const group = groups.get(key) ?? {
        transport: decision.transport,
        variant: target.variant,
        targets: [],
      }
      group.targets.push(target)
      groups.set(key, group)
    }

    await Promise.all(
      [...groups.values()].map(async (group) => {
        const started = process.hrtime.bigint()
        const request = await this.request(item, group.targets, group.variant)
        const outcome = await group.transport.deliver(request)
        const seconds = Number(process.hrtime.bigint() - started) / 1e9
        const byAddress = new Map<string, RecipientResult>()
        for (const r of outcome.results) byAddress.set(r.recipient.toLowerCase(), r)
        for (const target of group.targets) {
          const result = byAddress.get(target.address.toLowerCase()) ?? {
            recipient: target.address,
            status: 'deferred' as const,
            reply: '451 4.3.0 no result',
            enhanced: '4.3.0',
          }
          const metrics = this.deliveryMetrics(result.status)
          metrics.count.inc()
          metrics.duration.observe(seconds)
          const at = now()
          this.deps.tracking.event({
            at,
            mid,
            dcid: outcome.dcid ?? null,
            event: result.status.toUpperCase(),
            recipient: target.address,
            details: { host: outcome.host, reply: result.reply },
          })
          if (result.status === 'delivered') {
            done.push(target.index)
            if (item.outcomes.get(target.rcptIndex) !== 'bounced')
              item.outcomes.set(target.rcptIndex, 'delivered')
            // A redirected recipient keeps that status; its deliveries are in the timeline.
            if (!(target.kind === 'deliver' && target.redirected))
              this.deps.tracking.recipientStatus({
                mid,
                index: target.rcptIndex,
                status: 'delivered',
                at,
                lastReply: result.reply,
                attempts: 1,
              })
          } else if (result.status === 'bounced') {
            failed.push({
              target,
              recipient: target.address,
              status: result.enhanced,
              diagnostic: result.reply,
              remoteMta: outcome.host,
              lastAttemptAt: at,
            })
          } else {
            deferred.push({ target, reply: result.reply })
            this.deps.tracking.recipientStatus({
              mid,
              index: target.rcptIndex,
              status: 'deferred',
              at,
              lastReply: result.reply,
              attempts: 1,
            })
          }
        }
        this.logger.info(
          {
            event: 'DELIVERY_ATTEMPT',
            mid,
            dcid: outcome.dcid,
            host: outcome.host,
            delivered: outcome.results.filter((r) => r.status === 'delivered').length,
            deferred: outcome.results.filter((r) => r.status === 'deferred').length,
            bounced: outcome.results.filter((r) => r.status === 'bounced').length,
          },
          'delivery attempt',
        )
      }),
    )

    const expire = deferred.length > 0 && this.expired(item)
    if (expire) {
      for (const d of deferred) {
        failed.push({
          target: d.target,
          recipient: d.target.address,
          status: '4.4.7',
          diagnostic: d.reply,
          lastAttemptAt: now(),
        })
        this.deps.tracking.event({
          at: now(),
          mid,
          event: 'EXPIRED',
          recipient: d.target.address,
          details: { reply: d.reply },
        })
      }
    }
    if (failed.length > 0) {
      await this.bounce(item, failed, expire)
      for (const f of failed) {
        done.push(f.target.index)
        item.outcomes.set(f.target.rcptIndex, 'bounced')
        this.deps.tracking.recipientStatus({
          mid,
          index: f.target.rcptIndex,
          status: 'bounced',
          at: now(),
          lastReply: f.diagnostic,
        })
        if (f.target.kind === 'bounce') this.deliveryMetrics('bounced').count.inc()
      }
    }
    const finished = expire || deferred.length === 0
    // When everything is finished the Done record says it all; TargetsDone records partial
    // progress only (so that a restart does not deliver those targets again).
    if (done.length > 0 && !finished) await this.deps.spool.markTargetsDone(entry, done)

    if (!finished) {
      this.deps.tracking.messageStatus(mid, 'deferred', now())
      this.defer(item, deferred[0]?.reply ?? 'deferred')
      return
    }
    await this.finish(item)
  }

  /** Everything is done: forget the message and record its final status. */
  private async finish(item: QueueItem): Promise<void> {
    const { entry } = item
    this.forget(item)
    await this.deps.spool.markDone(entry)
    this.deps.tracking.messageStatus(entry.meta.mid, finalStatus(item.outcomes), this.clock.now())
  }

  private forget(item: QueueItem): void {
    if (!this.items.delete(item.entry.meta.mid)) return
    this.counts[item.state]--
    item.version++
    this.dropBody(item)
  }

  /**
   * Queues a message the gateway itself sends — a copy released from a quarantine, a policy
   * notification — under a new MID: stored durably and already processed (delivered as given,
   * never scanned again), with its own timeline that names the message it comes from.
   * Resolves with the new MID once the spool holds it.
   */
  async submit(message: SubmittedMessage): Promise<number> {
    const at = this.clock.now()
    const mid = this.deps.spool.allocateMid()
    const head = message.body.subarray(0, 8192).toString('latin1')
    const field = (name: string): string | null =>
      new RegExp(`^${name}:[ \\t]*(.*)$`, 'mi').exec(head)?.[1]?.trim() ?? null
    const eightBit = message.body.some((b) => b > 127)
    const meta: MessageMeta = {
      mid,
      icid: 0,
      receivedAt: at,
      direction: message.direction,
      origin: message.origin,
      envelope: {
        mailFrom: message.mailFrom,
        recipients: [...message.recipients],
        bodyType: eightBit ? '8bitmime' : '7bit',
        // RFC 6531 §3.4: SMTPUTF8 is needed when an envelope address is not ASCII.
        smtpUtf8: [message.mailFrom, ...message.recipients].some((a) =>
          /[\u0080-\u{10ffff}]/u.test(a),
        ),
      },
      client: {
        ip: '127.0.0.1',
        port: 0,
        rdns: null,
        helo: null,
        listener: message.origin,
        senderGroup: null,
        hatPolicy: null,
        tls: null,
        authUser: null,
      },
      headers: {
        messageId: field('Message-ID')?.replace(/^<|>$/g, '') ?? null,
        subject: field('Subject'),
        from: field('From'),
        to: field('To'),
        replyTo: field('Reply-To'),
        date: field('Date'),
      },
      size: message.body.length,
      receivedHeader: '',
    }
    const entry = await this.deps.spool.storeMessage(
      meta,
      { kind: 'inline', chunks: [message.body], size: message.body.length },
      { outcomes: message.recipients.map(() => ({ action: 'deliver' as const })), variants: [] },
    )
    this.deps.tracking.message(trackingRow(meta, 'queued'))
    this.deps.tracking.observables(envelopeObservables(meta))
    this.deps.tracking.event({
      at,
      mid,
      event: 'SUBMITTED',
      details: { origin: message.origin, relatedMid: message.relatedMid, reason: message.reason },
    })
    this.logger.info(
      { event: 'QUEUE_SUBMITTED', mid, origin: message.origin, relatedMid: message.relatedMid },
      'message submitted by the gateway',
    )
    this.enqueue(entry, message.body)
    return mid
  }

  private async expireUnprocessed(item: QueueItem, reason: string): Promise<void> {
    const at = this.clock.now()
    const failed = item.entry.meta.envelope.recipients.map((recipient) => ({
      recipient,
      status: '4.4.7',
      diagnostic: reason,
      lastAttemptAt: at,
    }))
    await this.bounce(item, failed, true)
    item.entry.meta.envelope.recipients.forEach((_r, index) =>
      this.deps.tracking.recipientStatus({
        mid: item.entry.meta.mid,
        index,
        status: 'bounced',
        at,
        lastReply: reason,
      }),
    )
    this.forget(item)
    await this.deps.spool.markDone(item.entry)
    this.deps.tracking.messageStatus(item.entry.meta.mid, 'bounced', at)
  }

  /**
   * Sends a DSN to the envelope sender for `failed` (spooled durably before the targets are
   * marked done). Never for the null sender: a bounce is not bounced (RFC 5321 §4.5.5).
   */
  private async bounce(
    item: QueueItem,
    failed: readonly FailedRecipient[],
    expired: boolean,
  ): Promise<void> {
    const { meta } = item.entry
    const at = this.clock.now()
    if (meta.envelope.mailFrom === '' || meta.origin === 'dsn') {
      this.deps.tracking.event({
        at,
        mid: meta.mid,
        event: 'BOUNCED',
        details: { dsn: 'none (null sender)', recipients: failed.map((f) => f.recipient) },
      })
      return
    }
    let original: Buffer = Buffer.alloc(0)
    try {
      original = headerSection(await this.body(item))
    } catch (err) {
      this.logger.warn(
        { event: 'DSN_HEADERS_UNREADABLE', mid: meta.mid, err: describeError(err) },
        'original headers unavailable for the DSN',
      )
    }
    const dsn = buildDsn({
      hostname: this.deps.config.hostname,
      mid: meta.mid,
      originalSender: meta.envelope.mailFrom,
      arrivalDate: meta.receivedAt,
      failed,
      originalHeaders: original,
      expired,
      now: at,
    })
    const dsnMid = this.deps.spool.allocateMid()
    const dsnMeta: MessageMeta = {
      mid: dsnMid,
      icid: 0,
      receivedAt: at,
      direction: 'outgoing',
      origin: 'dsn',
      envelope: {
        mailFrom: '',
        recipients: [meta.envelope.mailFrom],
        bodyType: dsn.some((b) => b > 127) ? '8bitmime' : '7bit',
        smtpUtf8: meta.envelope.smtpUtf8,
      },
      client: {
        ...meta.client,
        ip: '127.0.0.1',
        port: 0,
        rdns: null,
        helo: null,
        listener: 'dsn',
        senderGroup: null,
        hatPolicy: null,
        tls: null,
        authUser: null,
      },
      headers: {
        messageId:
          /^Message-ID: (.*)$/m.exec(dsn.subarray(0, 2000).toString())?.[1]?.trim() ?? null,
        subject: expired ? 'Delivery time expired' : 'Undelivered Mail Returned to Sender',
        from: `MAILER-DAEMON@${this.deps.config.hostname}`,
        to: meta.envelope.mailFrom,
        replyTo: null,
        date: null,
      },
      size: dsn.length,
      receivedHeader: '',
    }
    const entry = await this.deps.spool.storeMessage(
      dsnMeta,
      { kind: 'inline', chunks: [dsn], size: dsn.length },
      { outcomes: [{ action: 'deliver' }], variants: [] },
    )
    this.deps.tracking.message(trackingRow(dsnMeta, 'queued'))
    this.deps.tracking.observables(envelopeObservables(dsnMeta))
    this.deps.tracking.event({ at, mid: dsnMid, event: 'DSN_CREATED', details: { for: meta.mid } })
    this.deps.tracking.event({
      at,
      mid: meta.mid,
      event: 'DSN_SENT',
      details: { dsnMid, recipients: failed.map((f) => f.recipient), expired },
    })
    this.logger.info(
      { event: 'DSN_QUEUED', mid: meta.mid, dsnMid, failed: failed.length },
      'bounce queued',
    )
    this.enqueue(entry, dsn)
  }

  private async request(
    item: QueueItem,
    targets: DeliveryTarget[],
    variant: number | undefined,
  ): Promise<DeliveryRequest> {
    const { meta } = item.entry
    const received = Buffer.from(meta.receivedHeader, 'latin1')
    let message: () => Buffer | Readable
    let file: DeliveryRequest['file']
    let size: number
    if (variant !== undefined) {
      const body = item.variants?.[variant] ?? (await this.deps.spool.readBody(item.entry, variant))
      size = received.length + body.length
      message = () => joinSharedBody([received, body], size)
    } else if (item.entry.body.kind === 'file') {
      size = received.length + meta.size
      message = () => Readable.from(concatStreams(received, this.deps.spool.openBody(item.entry)))
      file = { prefix: received, path: item.entry.body.path }
    } else {
      const body = await this.body(item)
      size = received.length + body.length
      message = () => (received.length > 0 ? joinSharedBody([received, body], size) : body)
    }
    return {
      mid: meta.mid,
      from: meta.envelope.mailFrom,
      recipients: targets.map((t) => t.address),
      bodyType: meta.envelope.bodyType,
      smtpUtf8: meta.envelope.smtpUtf8,
      size,
      message,
      ...(file ? { file } : {}),
    }
  }

  // --- Bodies ----------------------------------------------------------------------------------

  private async body(item: QueueItem): Promise<Buffer> {
    if (item.body) return item.body
    const body = await this.deps.spool.readBody(item.entry)
    this.cacheBody(item, body)
    return body
  }

  private cacheBody(item: QueueItem, body: Buffer | undefined): void {
    if (!body || item.body) return
    if (this.cachedBytes + body.length > this.deps.config.queue.bodyCacheSize) return
    item.body = body
    this.cachedBytes += body.length
  }

  private cacheVariants(item: QueueItem, variants: readonly Buffer[] | undefined): void {
    if (!variants || variants.length === 0 || item.variants) return
    const bytes = byteLength(variants)
    if (this.cachedBytes + bytes > this.deps.config.queue.bodyCacheSize) return
    item.variants = variants
    this.cachedBytes += bytes
  }

  private dropBody(item: QueueItem): void {
    if (item.body) {
      this.cachedBytes -= item.body.length
      item.body = undefined
    }
    if (item.variants) {
      this.cachedBytes -= byteLength(item.variants)
      item.variants = undefined
    }
  }

  /** Stops scheduling; waits (bounded) for running attempts, which then stay in the spool. */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopped = true
    this.abort.abort()
    if (this.timer) clearTimeout(this.timer)
    for (const w of this.processingWaiters.splice(0)) w()
    const deadline = new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref())
    await Promise.race([Promise.allSettled([...this.inflight]), deadline])
  }
}

async function* concatStreams(first: Buffer, rest: Readable): AsyncGenerator<Buffer> {
  if (first.length > 0) yield first
  for await (const chunk of rest) yield chunk as Buffer
}

function validateResult(result: ProcessingResult, recipients: number): void {
  if (!result || !Array.isArray(result.recipients) || result.recipients.length !== recipients) {
    throw new Error(
      `the processor returned ${result?.recipients?.length ?? 'no'} outcomes for ${recipients} recipients`,
    )
  }
  const variants = result.variants?.length ?? 0
  for (const outcome of result.recipients) {
    if (
      (outcome.action === 'deliver' || outcome.action === 'redirect') &&
      outcome.variant !== undefined &&
      (outcome.variant < 0 || outcome.variant >= variants)
    ) {
      throw new Error(`the processor named variant ${outcome.variant} of ${variants}`)
    }
  }
}

/** The status of a finished message, from what happened to its recipients. */
function finalStatus(outcomes: ReadonlyMap<number, RecipientStatus>): MessageStatus {
  const kinds = new Set(outcomes.values())
  if (kinds.size === 0) return 'delivered'
  if (kinds.size > 1) return 'completed'
  const only = [...kinds][0] as RecipientStatus
  return only === 'delivered' || only === 'bounced' || only === 'quarantined' || only === 'dropped'
    ? only
    : 'completed'
}

function byteLength(buffers: readonly Buffer[]): number {
  let n = 0
  for (const b of buffers) n += b.length
  return n
}
