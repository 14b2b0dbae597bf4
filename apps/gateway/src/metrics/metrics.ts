import {
  AggregatorRegistry,
  Counter,
  Gauge,
  Histogram,
  Registry,
  collectDefaultMetrics,
} from 'prom-client'

/** One process's metrics as prom-client's JSON (what `AggregatorRegistry.aggregate` sums). */
export type MetricsSnapshot = Awaited<ReturnType<Registry['getMetricsAsJSON']>>

/**
 * What `resolve` gives for a label value, resolved once per value: the children of a labelled
 * metric on a hot path (prom-client hashes the label object on every `inc({ … })`).
 */
export function byLabel<T>(resolve: (value: string) => T): (value: string) => T {
  const children = new Map<string, T>()
  return (value) => {
    let child = children.get(value)
    if (child === undefined) children.set(value, (child = resolve(value)))
    return child
  }
}

/**
 * The gateway's Prometheus metrics (`GET /metrics`). One registry per gateway instance, so
 * that tests and several gateways in one process do not share counters. Other areas register
 * their own metrics on `registry`.
 */
export class GatewayMetrics {
  readonly registry = new Registry()

  readonly sessions: Counter<'listener' | 'sender_group'>
  readonly activeSessions: Gauge<'listener'>
  readonly accepted: Counter<'listener' | 'direction'>
  readonly acceptedBytes: Counter<'listener'>
  readonly rejected: Counter<'listener' | 'reason'>
  readonly queueDepth: Gauge<'state'>
  readonly deliveries: Counter<'result'>
  readonly deliveryDuration: Histogram<'result'>
  readonly spoolCommitSeconds: Histogram
  readonly spoolCommitRecords: Histogram
  readonly spoolBytes: Gauge
  readonly trackingFlushSeconds: Histogram
  readonly trackingRowsWritten: Counter
  readonly trackingRowsDropped: Counter
  readonly trackingMessagesPurged: Counter
  readonly trackingPendingRows: Gauge
  readonly trackingErrors: Counter

  constructor() {
    const registers = [this.registry]
    collectDefaultMetrics({ register: this.registry, prefix: 'postern_' })
    this.sessions = new Counter({
      name: 'postern_smtp_sessions_total',
      help: 'SMTP connections accepted, by listener and HAT sender group',
      labelNames: ['listener', 'sender_group'],
      registers,
    })
    this.activeSessions = new Gauge({
      name: 'postern_smtp_sessions_active',
      help: 'SMTP connections open now',
      labelNames: ['listener'],
      registers,
    })
    this.accepted = new Counter({
      name: 'postern_smtp_messages_accepted_total',
      help: 'Messages accepted (answered 250 after the spool fsync)',
      labelNames: ['listener', 'direction'],
      registers,
    })
    this.acceptedBytes = new Counter({
      name: 'postern_smtp_accepted_bytes_total',
      help: 'Bytes of accepted messages',
      labelNames: ['listener'],
      registers,
    })
    this.rejected = new Counter({
      name: 'postern_smtp_rejected_total',
      help: 'Connections, envelopes and messages refused, by reason (the reply key)',
      labelNames: ['listener', 'reason'],
      registers,
    })
    this.queueDepth = new Gauge({
      name: 'postern_queue_messages',
      help: 'Messages in the queue by state (active, deferred, held, processing)',
      labelNames: ['state'],
      registers,
    })
    this.deliveries = new Counter({
      name: 'postern_delivery_results_total',
      help: 'Delivery results per recipient (delivered, deferred, bounced, …)',
      labelNames: ['result'],
      registers,
    })
    this.deliveryDuration = new Histogram({
      name: 'postern_delivery_seconds',
      help: 'Time of one delivery transaction',
      labelNames: ['result'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
      registers,
    })
    this.spoolCommitSeconds = new Histogram({
      name: 'postern_spool_fsync_seconds',
      help: 'Latency of one spool group commit (write + fdatasync)',
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.1, 0.5],
      registers,
    })
    this.spoolCommitRecords = new Histogram({
      name: 'postern_spool_commit_records',
      help: 'Records made durable by one fsync (group commit batch size)',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
      registers,
    })
    this.spoolBytes = new Gauge({
      name: 'postern_spool_bytes',
      help: 'Bytes held in spool segment files',
      registers,
    })
    this.trackingFlushSeconds = new Histogram({
      name: 'postern_tracking_flush_seconds',
      help: 'Time to write one tracking batch',
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers,
    })
    this.trackingRowsWritten = new Counter({
      name: 'postern_tracking_rows_written_total',
      help: 'Tracking rows written',
      registers,
    })
    this.trackingRowsDropped = new Counter({
      name: 'postern_tracking_dropped_rows_total',
      help: 'Tracking rows dropped because the database failed for too long',
      registers,
    })
    this.trackingMessagesPurged = new Counter({
      name: 'postern_tracking_purged_messages_total',
      help: 'Tracked messages deleted because they were past tracking.retention',
      registers,
    })
    this.trackingPendingRows = new Gauge({
      name: 'postern_tracking_pending_rows',
      help: 'Tracking rows waiting to be written',
      registers,
    })
    this.trackingErrors = new Counter({
      name: 'postern_tracking_write_errors_total',
      help: 'Tracking batches that failed (and were retried)',
      registers,
    })
  }

  private readonly samplers: (() => void)[] = []
  private readonly remoteSources: (() => Promise<MetricsSnapshot[]>)[] = []

  /**
   * Runs `sample` before each scrape: gauges of state that changes without an event (rows
   * waiting for the database, spool size) are read when asked for, never left stale.
   */
  sampleOnScrape(sample: () => void): void {
    this.samplers.push(sample)
  }

  /**
   * Metrics of other processes added to this one's on every scrape (the primary adds its SMTP
   * processes'): counters and histograms are summed, as prom-client's cluster aggregation does.
   */
  addRemoteSource(source: () => Promise<MetricsSnapshot[]>): void {
    this.remoteSources.push(source)
  }

  /** This process's metrics as JSON, for the primary to aggregate. */
  async snapshot(): Promise<MetricsSnapshot> {
    for (const sample of this.samplers) sample()
    return this.registry.getMetricsAsJSON()
  }

  async render(): Promise<{ contentType: string; body: string }> {
    if (this.remoteSources.length === 0) {
      for (const sample of this.samplers) sample()
      return { contentType: this.registry.contentType, body: await this.registry.metrics() }
    }
    const remote = await Promise.all(this.remoteSources.map((source) => source()))
    const all = AggregatorRegistry.aggregate([await this.snapshot(), ...remote.flat()])
    return { contentType: this.registry.contentType, body: await all.metrics() }
  }
}
