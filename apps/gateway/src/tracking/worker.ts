import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import type { DatabaseTarget, TrackingBatch } from '@postern/store'
import type { TrackingSink } from './writer.js'

/**
 * The main-thread side of the tracking worker thread (see `worker-thread.ts`): sends batches,
 * resolves when the worker has committed them.
 */
export class TrackingWorker implements TrackingSink {
  private readonly pending = new Map<number, { resolve(): void; reject(err: Error): void }>()
  private nextId = 1
  private exited: Error | undefined

  private constructor(private readonly worker: Worker) {
    worker.on('message', (message: { id?: number; ok?: boolean; error?: string }) => {
      if (message.id === undefined) return
      const waiter = this.pending.get(message.id)
      this.pending.delete(message.id)
      if (message.ok) waiter?.resolve()
      else waiter?.reject(new Error(message.error ?? 'tracking write failed'))
    })
    worker.on('exit', (code) => {
      this.exited = new Error(`the tracking worker exited (${code})`)
      for (const waiter of this.pending.values()) waiter.reject(this.exited)
      this.pending.clear()
    })
  }

  static async start(target: DatabaseTarget): Promise<TrackingWorker> {
    // A clean execArgv: the worker runs built JavaScript even when its parent runs sources
    // under a `--conditions` flag (tests).
    const worker = new Worker(workerScript(), { workerData: { target }, execArgv: [] })
    await new Promise<void>((resolve, reject) => {
      const onMessage = (message: { ready?: boolean }) => {
        if (!message.ready) return
        worker.off('error', reject)
        worker.off('message', onMessage)
        resolve()
      }
      worker.on('message', onMessage)
      worker.once('error', reject)
    })
    worker.unref()
    return new TrackingWorker(worker)
  }

  writeBatch(batch: TrackingBatch): Promise<void> {
    if (this.exited) return Promise.reject(this.exited)
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      this.worker.postMessage({ id, batch })
    })
  }

  async close(): Promise<void> {
    if (this.exited) return
    const id = this.nextId++
    await new Promise<void>((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      this.worker.postMessage({ id, close: true })
    }).catch(() => undefined)
    await this.worker.terminate()
  }
}

/**
 * The compiled worker script. Tests run the sources (vitest), but a worker thread runs plain
 * JavaScript, so from `src/…/worker.ts` the built `dist/…/worker-thread.js` is used
 * (`npm test` builds first).
 */
function workerScript(): string {
  const here = fileURLToPath(import.meta.url)
  const script = here.replace(/worker\.(ts|js)$/, 'worker-thread.js')
  return here.endsWith('.ts') ? script.replace(/([/\\])src([/\\])/, '$1dist$2') : script
}
