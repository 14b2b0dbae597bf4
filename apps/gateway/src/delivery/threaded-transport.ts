import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { describeError, type Logger } from '@postern/core'
import { joinSharedBody } from '../spool/shared-body.js'
import type { SmtpDestination } from './smtp-transport.js'
import {
  MessageBatcher,
  type FromDeliveryThread,
  type ToDeliveryThread,
  type WireRequest,
} from './thread-protocol.js'
import {
  allRecipients,
  oneLine,
  type DeliveryOutcome,
  type DeliveryRequest,
  type Transport,
} from './transport.js'

export interface DeliveryThreadOptions {
  allocateDcid(): number
  logger: Logger
}

interface Pending {
  request: DeliveryRequest
  resolve(outcome: DeliveryOutcome): void
}

/** How long `close` waits for the thread to say goodbye to its SMTP servers (QUIT). */
const CLOSE_GRACE_MS = 5_000

/**
 * The main-thread side of the delivery thread (`delivery-thread.ts`), which runs the SMTP
 * transports of every destination. Message bytes cross in shared memory (no copy); the thread
 * asks here for connection ids (the spool owns the counters) and sends its log lines here. If
 * the thread dies, every delivery it held is deferred — the messages are still in the spool,
 * nothing is lost — and the next delivery starts a new thread.
 */
export class DeliveryThread {
  private worker: Worker | undefined
  /** Messages for the current thread, sent once per turn of the loop (never to its successor). */
  private outbox: MessageBatcher<ToDeliveryThread> | undefined
  private readonly pending = new Map<number, Pending>()
  /** Destinations the current thread knows (it is told each one once). */
  private readonly destinations = new Set<string>()
  private nextId = 1
  private closing: Promise<void> | undefined

  constructor(private readonly options: DeliveryThreadOptions) {}

  deliver(destination: SmtpDestination, request: DeliveryRequest): Promise<DeliveryOutcome> {
    if (this.closing) {
      return Promise.resolve(
        allRecipients(request, 'deferred', '451 4.3.2 delivery is stopping', '4.3.2'),
      )
    }
    let wire: WireRequest
    try {
      wire = toWire(request)
    } catch (err) {
      const reply = `451 4.3.0 ${oneLine(describeError(err))}`
      return Promise.resolve(allRecipients(request, 'deferred', reply, '4.3.0'))
    }
    const id = this.nextId++
    return new Promise((resolve) => {
      this.pending.set(id, { request, resolve })
      const worker = this.ensureWorker()
      worker.ref()
      if (!this.destinations.has(destination.key)) {
        this.destinations.add(destination.key)
        this.post({ kind: 'destination', destination })
      }
      this.post({ kind: 'deliver', id, key: destination.key, request: wire })
    })
  }

  closeDestination(key: string): void {
    if (!this.destinations.delete(key)) return
    this.post({ kind: 'close-destination', key })
  }

  close(): Promise<void> {
    this.closing ??= this.stop()
    return this.closing
  }

  private async stop(): Promise<void> {
    const worker = this.worker
    if (!worker) return
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, CLOSE_GRACE_MS)
      timer.unref()
      worker.on('message', (messages: FromDeliveryThread[]) => {
        if (!messages.some((message) => message.kind === 'closed')) return
        clearTimeout(timer)
        resolve()
      })
      worker.once('exit', () => {
        clearTimeout(timer)
        resolve()
      })
      this.post({ kind: 'close' })
    })
    await worker.terminate()
  }

  private post(message: ToDeliveryThread): void {
    this.outbox?.post(message)
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker
    // A clean execArgv: the thread runs built JavaScript even when its parent runs sources
    // under a `--conditions` flag (tests).
    const worker = new Worker(threadScript(), {
      workerData: { logLevel: this.options.logger.level },
      execArgv: [],
    })
    worker.on('message', (messages: FromDeliveryThread[]) => {
      for (const message of messages) this.onMessage(worker, message)
    })
    worker.on('error', (err) => {
      this.options.logger.error(
        { event: 'DELIVERY_THREAD_ERROR', err: err.message },
        'delivery thread failed',
      )
    })
    worker.on('exit', (code) => this.onExit(worker, code))
    worker.unref()
    this.worker = worker
    this.outbox = new MessageBatcher((messages) => worker.postMessage(messages))
    return worker
  }

  private onMessage(worker: Worker, message: FromDeliveryThread): void {
    switch (message.kind) {
      case 'outcome': {
        const pending = this.pending.get(message.id)
        this.pending.delete(message.id)
        // Nothing in flight: the thread must not keep the process alive on its own.
        if (this.pending.size === 0) worker.unref()
        pending?.resolve(message.outcome)
        return
      }
      case 'dcid':
        this.post({ kind: 'dcid', id: message.id, dcid: this.options.allocateDcid() })
        return
      case 'log':
        this.relayLog(message.line)
        return
      case 'closed':
        return
    }
  }

  private onExit(worker: Worker, code: number): void {
    if (this.worker !== worker) return
    this.worker = undefined
    this.outbox = undefined
    this.destinations.clear()
    if (this.pending.size === 0) return
    if (!this.closing) {
      this.options.logger.error(
        { event: 'DELIVERY_THREAD_EXIT', code, deliveries: this.pending.size },
        'delivery thread exited; its deliveries are deferred',
      )
    }
    const reply = `451 4.3.0 delivery thread exited (${code})`
    for (const { request, resolve } of this.pending.values())
      resolve(allRecipients(request, 'deferred', reply, '4.3.0'))
    this.pending.clear()
  }

  /** A line of the thread's logger, written through this thread's logger. */
  private relayLog(line: string): void {
    let entry: Record<string, unknown>
    try {
      entry = JSON.parse(line) as Record<string, unknown>
    } catch {
      return
    }
    const { level, msg, time: _time, pid: _pid, hostname: _hostname, ...fields } = entry
    const method = typeof level === 'string' ? level : 'info'
    const log = this.options.logger as unknown as Record<string, unknown>
    const write = log[method]
    if (typeof write === 'function')
      (write as (obj: object, msg?: string) => void).call(
        this.options.logger,
        fields,
        msg as string,
      )
  }
}

/** One SMTP destination whose connections live on the delivery thread. */
export class ThreadedSmtpTransport implements Transport {
  constructor(
    private readonly thread: DeliveryThread,
    private readonly destination: SmtpDestination,
  ) {}

  get key(): string {
    return this.destination.key
  }

  deliver(request: DeliveryRequest): Promise<DeliveryOutcome> {
    return this.thread.deliver(this.destination, request)
  }

  async close(): Promise<void> {
    this.thread.closeDestination(this.destination.key)
  }
}

function toWire(request: DeliveryRequest): WireRequest {
  const base = {
    mid: request.mid,
    from: request.from,
    recipients: [...request.recipients],
    bodyType: request.bodyType,
    smtpUtf8: request.smtpUtf8,
    size: request.size,
  }
  if (request.file) {
    // A copy of exactly its bytes (a small Buffer is a view into a shared pool).
    return {
      ...base,
      file: { prefix: new Uint8Array(request.file.prefix), path: request.file.path },
    }
  }
  const message = request.message()
  if (!Buffer.isBuffer(message))
    throw new Error('a streamed message must name its spool file to cross to the delivery thread')
  return { ...base, body: shared(message) }
}

/** The bytes in shared memory: posted to the thread without a copy. */
function shared(buffer: Buffer): Buffer {
  return buffer.buffer instanceof SharedArrayBuffer
    ? buffer
    : joinSharedBody([buffer], buffer.length)
}

/**
 * The compiled thread script. Tests run the sources (vitest), but a worker thread runs plain
 * JavaScript, so from `src/…/threaded-transport.ts` the built `dist/…/delivery-thread.js` is
 * used (`npm test` builds first).
 */
function threadScript(): string {
  const here = fileURLToPath(import.meta.url)
  const script = here.replace(/threaded-transport\.(ts|js)$/, 'delivery-thread.js')
  return here.endsWith('.ts') ? script.replace(/([/\\])src([/\\])/, '$1dist$2') : script
}
