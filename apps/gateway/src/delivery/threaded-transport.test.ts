import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Worker } from 'node:worker_threads'
import { SMTPServer } from 'smtp-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLogger } from '@postern/core'
import { joinSharedBody } from '../spool/shared-body.js'
import type { SmtpDestination } from './smtp-transport.js'
import { DeliveryThread, ThreadedSmtpTransport } from './threaded-transport.js'
import type { DeliveryRequest } from './transport.js'

/** A real SMTP server that keeps what it receives. */
async function startServer(): Promise<{
  port: number
  received: string[]
  close(): Promise<void>
}> {
  const received: string[] = []
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, _session, callback) {
      const chunks: Buffer[] = []
      stream.on('data', (c: Buffer) => chunks.push(c))
      stream.on('end', () => {
        received.push(Buffer.concat(chunks).toString('latin1'))
        callback()
      })
    },
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.server.address() as AddressInfo
  return { port, received, close: () => new Promise((resolve) => server.close(() => resolve())) }
}

/** A real SMTP server that takes the message and then never answers the final dot. */
async function startStallingServer(): Promise<{
  port: number
  dataStarted: Promise<void>
  close(): Promise<void>
}> {
  let started!: () => void
  const dataStarted = new Promise<void>((resolve) => (started = resolve))
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream) {
      started()
      stream.resume()
    },
  })
  // The client's thread is terminated mid-message: its connection is reset (ECONNRESET).
  server.on('error', () => {})
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.server.address() as AddressInfo
  return {
    port,
    dataStarted,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const { port } = probe.address() as AddressInfo
  await new Promise<void>((resolve) => probe.close(() => resolve()))
  return port
}

function destination(port: number): SmtpDestination {
  return {
    key: `smtp:127.0.0.1:${port}`,
    hosts: [{ host: '127.0.0.1', port }],
    tls: 'none',
    verifyCertificate: false,
    heloName: 'gw.test',
    maxConnections: 2,
    maxMessagesPerConnection: 100,
    idleTimeoutMs: 5_000,
    connectTimeoutMs: 5_000,
    commandTimeoutMs: 5_000,
    hostDownMs: 30_000,
  }
}

function request(message: Buffer, extra: Partial<DeliveryRequest> = {}): DeliveryRequest {
  return {
    mid: 1,
    from: 'sender@ext.example',
    recipients: ['bob@corp.example'],
    bodyType: '7bit',
    smtpUtf8: false,
    size: message.length,
    message: () => message,
    ...extra,
  }
}

describe('ThreadedSmtpTransport: deliveries on the delivery thread', () => {
  const dir = mkdtempSync(join(tmpdir(), 'postern-delivery-thread-'))
  const logLines: string[] = []
  const logger = createLogger({ level: 'debug', destination: { write: (l) => logLines.push(l) } })
  let nextDcid = 41
  const thread = new DeliveryThread({ allocateDcid: () => nextDcid++, logger })
  let server: Awaited<ReturnType<typeof startServer>>

  beforeAll(async () => {
    server = await startServer()
  })
  afterAll(async () => {
    await thread.close()
    await server.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('delivers buffers (shared or not) and spool files over one reused connection', async () => {
    const transport = new ThreadedSmtpTransport(thread, destination(server.port))
    const file = join(dir, 'large.eml')
    writeFileSync(file, 'Subject: from a file\r\n\r\nlarge body\r\n')
    const prefix = Buffer.from('Received: by gw.test\r\n', 'latin1')
    const shared = Buffer.from('Subject: shared\r\n\r\ntwo\r\n')
    const cases: [string, DeliveryRequest][] = [
      ['plain', request(Buffer.from('Subject: plain\r\n\r\nbody one\r\n'))],
      ['shared', request(joinSharedBody([shared], shared.length))],
      [
        'file',
        request(Buffer.alloc(0), {
          message: () => {
            throw new Error('the delivery thread reads the file itself')
          },
          file: { prefix, path: file },
        }),
      ],
    ]
    const outcomes = []
    for (const [, r] of cases) outcomes.push(await transport.deliver(r))
    for (const outcome of outcomes) {
      expect(outcome.results).toEqual([
        expect.objectContaining({ recipient: 'bob@corp.example', status: 'delivered' }),
      ])
      // The connection id comes from this thread's counter; the connection is reused.
      expect(outcome.dcid).toBe(41)
    }
    expect(server.received).toEqual([
      'Subject: plain\r\n\r\nbody one\r\n',
      'Subject: shared\r\n\r\ntwo\r\n',
      'Received: by gw.test\r\nSubject: from a file\r\n\r\nlarge body\r\n',
    ])
  })

  it('defers when the host refuses connections, and its log lines reach this logger', async () => {
    const port = await closedPort()
    const transport = new ThreadedSmtpTransport(thread, destination(port))
    const outcome = await transport.deliver(request(Buffer.from('Subject: x\r\n\r\ny\r\n')))
    expect(outcome.results).toEqual([
      expect.objectContaining({ status: 'deferred', enhanced: '4.4.1' }),
    ])
    const events = logLines.map((l) => JSON.parse(l) as { event?: string; level?: string })
    expect(events).toContainEqual(
      expect.objectContaining({ event: 'DELIVERY_HOST_DOWN', level: 'warn' }),
    )
  })

  it('defers new deliveries once it is closing', async () => {
    const other = new DeliveryThread({ allocateDcid: () => 1, logger })
    await other.close()
    const transport = new ThreadedSmtpTransport(other, destination(server.port))
    const outcome = await transport.deliver(request(Buffer.from('Subject: late\r\n\r\nz\r\n')))
    expect(outcome.results).toEqual([
      expect.objectContaining({ status: 'deferred', reply: '451 4.3.2 delivery is stopping' }),
    ])
  })

  it('defers the deliveries of a thread that dies mid-delivery and starts a new one', async () => {
    const stalling = await startStallingServer()
    const lines: string[] = []
    const own = new DeliveryThread({
      allocateDcid: () => 7,
      logger: createLogger({ level: 'info', destination: { write: (l) => lines.push(l) } }),
    })
    try {
      const inFlight = new ThreadedSmtpTransport(own, destination(stalling.port)).deliver(
        request(Buffer.from('Subject: in flight\r\n\r\nbody\r\n')),
      )
      await stalling.dataStarted
      // The thread dies as an uncaught error or an out-of-memory abort would end it.
      await (own as unknown as { worker: Worker }).worker.terminate()
      expect((await inFlight).results).toEqual([
        expect.objectContaining({ status: 'deferred', enhanced: '4.3.0' }),
      ])
      expect(lines.map((l) => JSON.parse(l) as { event?: string })).toContainEqual(
        expect.objectContaining({ event: 'DELIVERY_THREAD_EXIT' }),
      )

      const next = await new ThreadedSmtpTransport(own, destination(server.port)).deliver(
        request(Buffer.from('Subject: after the crash\r\n\r\nbody\r\n')),
      )
      expect(next.results).toEqual([expect.objectContaining({ status: 'delivered' })])
      expect(server.received).toContain('Subject: after the crash\r\n\r\nbody\r\n')
    } finally {
      await own.close()
      await stalling.close()
    }
  })
})
