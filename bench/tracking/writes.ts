import { readFileSync } from 'node:fs'
import { sql } from 'kysely'
import {
  Database,
  emptyBatch,
  migrateToLatest,
  TrackingPartitions,
  TrackingStore,
  type Dialect,
  type GatewaySchema,
  type TrackingBatch,
} from '@postern/store'
import { createTestDatabase } from '@postern/store/testing'
import { percentile } from '../lib/index.js'

/**
 * `npm run bench:tracking -- --writes`: what `TrackingStore.writeBatch` costs per message, in
 * batches shaped like the relay's (smtp-source → gateway → smtp-sink): per message one row, one
 * recipient, the listener's and the delivery's events and the envelope observables. The CPU is
 * this process's (the gateway's tracking worker thread does the same work) and, on PostgreSQL,
 * the server process's of the connection, read from /proc.
 */

export interface WriteCost {
  database: Dialect
  batches: number
  messagesPerBatch: number
  rowsPerMessage: number
  /** CPU of this process per message written, in µs. */
  clientCpuUs: number
  /** PostgreSQL: CPU of the server process of the connection per message, in µs. */
  serverCpuUs?: number
  /** Wall time of one batch, p50 / p99, in ms. */
  batchMs: { p50: number; p99: number }
}

const EVENTS = [
  'CONNECTION',
  'HELO',
  'MAIL_FROM',
  'RCPT_TO',
  'DATA',
  'QUEUED',
  'DELIVERY_START',
  'DELIVERED',
] as const

/** One batch of `messages` messages numbered from `firstMid`, as the relay's writer sends it. */
export function relayBatch(firstMid: number, messages: number, at: number): TrackingBatch {
  const batch = emptyBatch()
  for (let mid = firstMid; mid < firstMid + messages; mid++) {
    const sender = `sender${mid % 1000}@source${mid % 50}.example`
    const recipient = `user${mid % 5000}@sink.example`
    const subject = `Relay test message ${mid}`
    const messageId = `<${mid}.relay@source${mid % 50}.example>`
    batch.messages.push({
      mid,
      icid: mid,
      receivedAt: at,
      updatedAt: at + 40,
      listener: 'inbound',
      senderGroup: 'UNKNOWN',
      hatPolicy: 'ACCEPTED',
      direction: 'incoming',
      senderIp: '127.0.0.1',
      senderRdns: 'localhost',
      helo: 'smtp-source.example',
      tls: null,
      authUser: null,
      envelopeSender: sender,
      messageId,
      subject,
      headerFrom: sender,
      headerTo: recipient,
      headerReplyTo: null,
      size: 1_900,
      status: 'delivered',
      reply: null,
      recipients: [
        { address: recipient, status: 'delivered', lastReply: '250 2.0.0 Ok', attempts: 1 },
      ],
    })
    EVENTS.forEach((event, i) =>
      batch.events.push({
        at: at + i * 5,
        event,
        mid: i === 0 ? null : mid,
        icid: mid,
        dcid: i >= 6 ? mid : null,
        recipient: i >= 3 && i !== 4 && i !== 5 ? recipient : null,
        details: i === 0 ? { ip: '127.0.0.1', port: 40_000 + (mid % 20_000) } : { step: i },
      }),
    )
    for (const [type, value] of [
      ['cisco_mid', String(mid)],
      ['ip', '127.0.0.1'],
      ['email', sender],
      ['email', recipient],
      ['domain', `source${mid % 50}.example`],
      ['domain', 'sink.example'],
      ['email_messageid', messageId],
      ['email_subject', subject],
    ] as const) {
      batch.observables.push({ type, value, mid, at })
    }
  }
  return batch
}

/** CPU seconds (user + system) of a local process, from /proc/<pid>/stat (Linux). */
function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  // Fields 14 and 15 of proc(5) (utime, stime), counted after the command name.
  return (Number(fields[11]) + Number(fields[12])) / 100
}

export async function measureWrites(
  dialect: Dialect,
  options: { batches: number; messagesPerBatch: number; warmup: number },
): Promise<WriteCost> {
  const testDb = await createTestDatabase(dialect)
  // One connection: the worker thread's transactions run one at a time on it.
  const database = await Database.open<GatewaySchema>(testDb.target, { poolSize: 1 })
  try {
    await migrateToLatest(database, 'gateway')
    const now = Date.now()
    await new TrackingPartitions(database.db, dialect).ensure(now - 86_400_000, now + 86_400_000)
    const store = new TrackingStore(database.db, dialect)
    let serverPid: number | undefined
    if (dialect === 'postgres') {
      const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(
        database.db,
      )
      serverPid = rows[0]?.pid
    }
    let mid = 1
    const batches = Array.from({ length: options.warmup + options.batches }, () => {
      const batch = relayBatch(mid, options.messagesPerBatch, now)
      mid += options.messagesPerBatch
      return batch
    })
    const rowsPerMessage =
      (batches[0]!.messages.length * 2 +
        batches[0]!.events.length +
        batches[0]!.observables.length) /
      options.messagesPerBatch
    for (const batch of batches.slice(0, options.warmup)) await store.writeBatch(batch)
    const samples: number[] = []
    const cpuBefore = process.cpuUsage()
    const serverBefore = serverPid === undefined ? 0 : processCpuSeconds(serverPid)
    for (const batch of batches.slice(options.warmup)) {
      const started = process.hrtime.bigint()
      await store.writeBatch(batch)
      samples.push(Number(process.hrtime.bigint() - started) / 1e6)
    }
    const cpu = process.cpuUsage(cpuBefore)
    const written = options.batches * options.messagesPerBatch
    return {
      database: dialect,
      batches: options.batches,
      messagesPerBatch: options.messagesPerBatch,
      rowsPerMessage,
      clientCpuUs: (cpu.user + cpu.system) / written,
      ...(serverPid !== undefined && {
        serverCpuUs: ((processCpuSeconds(serverPid) - serverBefore) * 1e6) / written,
      }),
      batchMs: { p50: percentile(samples, 50), p99: percentile(samples, 99) },
    }
  } finally {
    await database.close()
    await testDb.drop()
  }
}
