import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import type { BlocklistService } from '../blocklists/blocklist-service.js'
import type { QuarantineService } from '../quarantine/quarantine-service.js'

/** What the pipeline reports while it works (implemented by `PipelineMetrics`). */
export interface PipelineObserver {
  analysed(seconds: number, malformed: string | null): void
  scanned(scanner: string, status: string, seconds: number): void
  decided(verdicts: readonly string[], deferredBy: string | null): void
}

/**
 * The content pipeline's Prometheus metrics, on the gateway's registry (`GET /metrics`):
 * analysis time and malformed messages, scanner time and results, verdicts, deferrals, and —
 * read when scraped — what the quarantines hold and how large the block lists are.
 */
export class PipelineMetrics implements PipelineObserver {
  private readonly analysis: Histogram
  private readonly malformed: Counter<'reason'>
  private readonly scanner: Histogram<'scanner' | 'status'>
  private readonly verdicts: Counter<'verdict'>
  private readonly deferred: Counter<'scanner'>

  constructor(
    registry: Registry,
    sources: { quarantine: QuarantineService; blocklists: BlocklistService },
  ) {
    const registers = [registry]
    this.analysis = new Histogram({
      name: 'postern_pipeline_analysis_seconds',
      help: 'Parsing, extraction and sender authentication of one message (worker threads)',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5, 15],
      registers,
    })
    this.malformed = new Counter({
      name: 'postern_pipeline_malformed_total',
      help: 'Messages found malformed, by reason (a cap or structural damage)',
      labelNames: ['reason'],
      registers,
    })
    this.scanner = new Histogram({
      name: 'postern_pipeline_scanner_seconds',
      help: 'Time of each scanner on one message, by scanner and result (pass, fail, skip, error)',
      labelNames: ['scanner', 'status'],
      buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 15, 30],
      registers,
    })
    this.verdicts = new Counter({
      name: 'postern_pipeline_verdicts_total',
      help: 'Verdicts raised (spam, virus, blocked, malformed …)',
      labelNames: ['verdict'],
      registers,
    })
    this.deferred = new Counter({
      name: 'postern_pipeline_deferred_total',
      help: 'Messages whose processing a failing scanner deferred (onFailure: tempfail)',
      labelNames: ['scanner'],
      registers,
    })
    new Gauge({
      name: 'postern_quarantine_held_messages',
      help: 'Messages held, by quarantine',
      labelNames: ['quarantine'],
      registers,
      async collect() {
        const counts = await sources.quarantine.counts()
        this.reset()
        for (const name of sources.quarantine.names) {
          this.set({ quarantine: name }, counts.find((c) => c.quarantine === name)?.held ?? 0)
        }
      },
    })
    new Gauge({
      name: 'postern_quarantine_held_bytes',
      help: 'Bytes of the messages held, by quarantine',
      labelNames: ['quarantine'],
      registers,
      async collect() {
        const counts = await sources.quarantine.counts()
        this.reset()
        for (const name of sources.quarantine.names) {
          this.set({ quarantine: name }, counts.find((c) => c.quarantine === name)?.bytes ?? 0)
        }
      },
    })
    new Gauge({
      name: 'postern_blocklist_entries',
      help: 'Block list entries in force in this process',
      registers,
      collect() {
        this.set(sources.blocklists.matcher.size)
      },
    })
  }

  analysed(seconds: number, malformed: string | null): void {
    this.analysis.observe(seconds)
    if (malformed) this.malformed.inc({ reason: malformed })
  }

  scanned(scanner: string, status: string, seconds: number): void {
    this.scanner.observe({ scanner, status }, seconds)
  }

  decided(verdicts: readonly string[], deferredBy: string | null): void {
    for (const verdict of verdicts) this.verdicts.inc({ verdict })
    if (deferredBy) this.deferred.inc({ scanner: deferredBy })
  }
}
