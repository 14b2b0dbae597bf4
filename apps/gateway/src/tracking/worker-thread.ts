import { parentPort, workerData } from 'node:worker_threads'
import {
  Database,
  TrackingStore,
  type DatabaseTarget,
  type GatewaySchema,
  type TrackingBatch,
} from '@postern/store'

/**
 * The tracking worker thread: owns its own database connection and writes the batches the
 * main thread sends. SQLite (better-sqlite3) is synchronous, WAL checkpoints fsync, and
 * building multi-row statements costs CPU: none of it may stall the SMTP event loop.
 */
const { target } = workerData as { target: DatabaseTarget }
const database = await Database.open<GatewaySchema>(target, { poolSize: 2 })
const store = new TrackingStore(database.db, database.dialect)
const port = parentPort
if (!port) throw new Error('the tracking worker must run in a worker thread')

port.on('message', (message: { id: number; batch?: TrackingBatch; close?: boolean }) => {
  if (message.close) {
    void database.close().then(() => port.postMessage({ id: message.id, ok: true }))
    return
  }
  store.writeBatch(message.batch as TrackingBatch).then(
    () => port.postMessage({ id: message.id, ok: true }),
    (err: unknown) =>
      port.postMessage({
        id: message.id,
        ok: false,
        error: err instanceof Error ? err.message : String(err),
      }),
  )
})
port.postMessage({ ready: true })
