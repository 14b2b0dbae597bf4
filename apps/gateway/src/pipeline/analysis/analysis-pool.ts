import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { silentLogger, type Logger } from '@postern/core'
import type { AuthInput, AuthResults } from '../../auth/authenticate.js'
import { gwErrors } from '../../errors.js'
import type { AnalysisJob, AnalysisReply, WorkerSettings } from './protocol.js'
import { headerBlockLength } from './analyse-message.js'
import { readHeaderLines, summariseHeaders } from './headers.js'
import type { Defect, MalformedReason, MessageAnalysis } from './types.js'

export interface AnalysisPoolOptions {
  settings: WorkerSettings
  /** Worker threads (each parses several messages at once while DNS answers are pending). */
  workers: number
  /** Messages in flight per worker before new ones wait in the pool's queue. */
  jobsPerWorker: number
  logger?: Logger
}

export interface AnalysisRequest {
  raw: Buffer
  includeText?: boolean
  auth?: AuthInput | null
}

export interface AnalysisOutcome {
  analysis: MessageAnalysis
  auth: AuthResults | null
}

interface PendingJob {
  job: AnalysisJob
  raw: Buffer
  resolve(outcome: AnalysisOutcome): void
  reject(err: unknown): void
  /** Set when the job is running on a worker. */
  timer?: NodeJS.Timeout
  attempts: number
}

interface PoolWorker {
  worker: Worker
  jobs: Map<number, PendingJob>
  /** Terminated on purpose (timeout or close): its exit is not a crash. */
  retiring: boolean
}

/**
 * Runs message analysis (MIME parsing, extraction, hashing, authentication) on worker threads.
 * A message that makes its worker overrun the time cap, or crash, ends as a `malformed`
 * analysis instead of an error: the worker is replaced and the other messages it held are
 * retried on a fresh one. Nothing here ever loses a message.
 */
export class AnalysisPool {
  private readonly workers: PoolWorker[] = []
  private readonly queue: PendingJob[] = []
  private readonly logger: Logger
  private readonly scriptPath: string
  private nextId = 1
  private closed = false

  constructor(private readonly options: AnalysisPoolOptions) {
    this.logger = options.logger ?? silentLogger()
    this.scriptPath = resolveWorkerScript()
    for (let i = 0; i < Math.max(1, options.workers); i++) this.workers.push(this.spawn())
  }

  /** Budget after which a job's worker is terminated: parse cap + auth budget + grace. */
  private get hardTimeoutMs(): number {
    const { limits, auth } = this.options.settings
    return limits.maxParseMs + (auth.enabled ? auth.timeoutMs : 0) + 2_000
  }

  analyse(request: AnalysisRequest): Promise<AnalysisOutcome> {
    if (this.closed) return Promise.reject(gwErrors.PIPELINE_CLOSED())
    return new Promise((resolve, reject) => {
      const job: AnalysisJob = {
        id: this.nextId++,
        raw: request.raw,
        includeText: request.includeText ?? false,
        auth: request.auth ?? null,
      }
      this.queue.push({ job, raw: request.raw, resolve, reject, attempts: 0 })
      this.dispatch()
    })
  }

  /** Messages waiting for a worker plus messages being analysed. */
  get load(): { queued: number; running: number } {
    return {
      queued: this.queue.length,
      running: this.workers.reduce((n, w) => n + w.jobs.size, 0),
    }
  }

  async close(): Promise<void> {
    this.closed = true
    for (const pending of this.queue.splice(0)) pending.reject(gwErrors.PIPELINE_CLOSED())
    await Promise.all(
      this.workers.map(async (w) => {
        w.retiring = true
        for (const pending of w.jobs.values()) {
          clearTimeout(pending.timer)
          pending.reject(gwErrors.PIPELINE_CLOSED())
        }
        w.jobs.clear()
        await w.worker.terminate()
      }),
    )
  }

  private spawn(): PoolWorker {
    const worker = new Worker(this.scriptPath, {
      workerData: this.options.settings,
      execArgv: compiledExecArgv(),
    })
    const entry: PoolWorker = { worker, jobs: new Map(), retiring: false }
    worker.on('message', (reply: AnalysisReply) => this.onReply(entry, reply))
    worker.on('error', (err) => {
      this.logger.error(
        { event: 'PIPELINE_WORKER_ERROR', err: err.message },
        'analysis worker failed',
      )
    })
    worker.on('exit', (code) => {
      if (entry.retiring || this.closed) return
      this.logger.error(
        { event: 'PIPELINE_WORKER_EXIT', code, jobs: entry.jobs.size },
        'analysis worker exited; replacing it',
      )
      this.replace(entry, 'worker-crash')
    })
    // A pool of idle workers must not keep a CLI or test process alive.
    worker.unref()
    return entry
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const target = this.workers
        .filter((w) => !w.retiring && w.jobs.size < this.options.jobsPerWorker)
        .sort((a, b) => a.jobs.size - b.jobs.size)[0]
      if (!target) return
      const pending = this.queue.shift() as PendingJob
      pending.attempts++
      target.jobs.set(pending.job.id, pending)
      pending.timer = setTimeout(() => this.onTimeout(target, pending), this.hardTimeoutMs)
      target.worker.ref()
      target.worker.postMessage(pending.job)
    }
  }

  private onReply(entry: PoolWorker, reply: AnalysisReply): void {
    const pending = entry.jobs.get(reply.id)
    if (!pending) return
    entry.jobs.delete(reply.id)
    clearTimeout(pending.timer)
    if (entry.jobs.size === 0) entry.worker.unref()
    if (reply.ok) pending.resolve({ analysis: reply.analysis, auth: reply.auth })
    else {
      // The analysis itself contains every error a message can cause; this is a bug in it.
      this.logger.error(
        { event: 'PIPELINE_ANALYSIS_FAILED', err: reply.error },
        'message analysis failed',
      )
      pending.resolve(this.failed(pending, 'worker-crash', reply.error))
    }
    this.dispatch()
  }

  /**
   * The job ran past its budget: the worker may be stuck in a loop, so it is terminated. The
   * job that timed out is malformed; the others on that worker are retried on a new one.
   */
  private onTimeout(entry: PoolWorker, pending: PendingJob): void {
    this.logger.warn(
      { event: 'PIPELINE_ANALYSIS_TIMEOUT', jobId: pending.job.id, ms: this.hardTimeoutMs },
      'message analysis overran its time budget; worker replaced',
    )
    entry.jobs.delete(pending.job.id)
    pending.resolve(
      this.failed(
        pending,
        'time',
        `analysis took longer than ${this.hardTimeoutMs} ms (limit pipeline.limits.maxParseMs)`,
      ),
    )
    this.replace(entry, 'time')
  }

  private replace(entry: PoolWorker, reason: MalformedReason): void {
    entry.retiring = true
    void entry.worker.terminate()
    const index = this.workers.indexOf(entry)
    if (index >= 0 && !this.closed) this.workers[index] = this.spawn()
    for (const pending of entry.jobs.values()) {
      clearTimeout(pending.timer)
      if (pending.attempts >= 2) {
        pending.resolve(
          this.failed(pending, reason, 'the analysis worker failed twice on this message'),
        )
      } else {
        this.queue.unshift(pending)
      }
    }
    entry.jobs.clear()
    this.dispatch()
  }

  private failed(pending: PendingJob, reason: MalformedReason, detail: string): AnalysisOutcome {
    return failedAnalysis(pending.raw, reason, detail, this.options.settings.limits.maxHeaderBytes)
  }
}

/**
 * What a message gets when its analysis failed: `malformed` with the reason, and the sender and
 * subject read from its header block alone (bounded by `maxHeaderBytes`, so cheap and safe).
 */
export function failedAnalysis(
  raw: Buffer,
  reason: MalformedReason,
  detail: string,
  maxHeaderBytes: number,
): AnalysisOutcome {
  const headerBytes = headerBlockLength(raw)
  const defects: Defect[] = []
  return {
    analysis: {
      size: raw.length,
      headerBytes,
      malformed: { reason, detail },
      defects,
      headers: summariseHeaders(
        readHeaderLines(raw.subarray(0, Math.min(headerBytes, maxHeaderBytes))),
        defects,
      ),
      parts: [],
      urls: [],
      urlCount: 0,
      attachments: [],
      forms: [],
      deceptiveLinks: [],
      text: null,
    },
    auth: null,
  }
}

/**
 * The worker runs compiled JavaScript, so it must resolve the workspace packages to their
 * compiled files too: a `--conditions @postern/source` the parent runs with (the test runner
 * does) is not passed on.
 */
function compiledExecArgv(): string[] {
  const out: string[] = []
  const args = process.execArgv
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string
    if (arg === '--conditions' || arg === '-C') {
      if (args[i + 1] === '@postern/source') {
        i++
        continue
      }
    } else if (arg === '--conditions=@postern/source' || arg === '-C=@postern/source') {
      continue
    }
    out.push(arg)
  }
  return out
}

/**
 * Worker threads run compiled JavaScript. Under the test runner this module is TypeScript in
 * src/, so the worker is taken from the matching place in dist/ (`npm test` builds first).
 */
function resolveWorkerScript(): string {
  const here = fileURLToPath(import.meta.url)
  const script = here.endsWith('.ts')
    ? here
        .replace(/[\\/]src[\\/](?!.*[\\/]src[\\/])/, '/dist/')
        .replace(/analysis-pool\.ts$/, 'worker.js')
    : here.replace(/analysis-pool\.js$/, 'worker.js')
  if (!existsSync(script)) throw gwErrors.PIPELINE_WORKER_MISSING({ path: script })
  return script
}
