import { chmodSync, mkdirSync, readdirSync, readFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { SMTPServer, type SMTPServerSession } from 'smtp-server'
import {
  freePort,
  requireProgram,
  startProcess,
  tempDir,
  waitForPort,
  type RunningProcess,
} from '@postern/testkit'

/** A message a test downstream server received. */
export interface ReceivedMessage {
  from: string
  to: string[]
  data: Buffer
  text: string
  connection: string
}

export interface ScriptedReply {
  code: number
  message: string
}

/**
 * A downstream SMTP server for tests (smtp-server, the real thing): records what it receives
 * and answers what `script` says — for retries, bounces, per-recipient refusals.
 */
export interface TestServer {
  port: number
  messages: ReceivedMessage[]
  /** Connections opened so far, and the most open at once. */
  stats: { connections: number; maxConcurrent: number; open: number }
  /** Replies to RCPT (per recipient) or to the final dot; undefined accepts. */
  script: {
    rcpt?: (recipient: string, attempt: number) => ScriptedReply | undefined
    data?: (attempt: number) => ScriptedReply | undefined
  }
  close(): Promise<void>
}

export async function startTestServer(script: TestServer['script'] = {}): Promise<TestServer> {
  const messages: ReceivedMessage[] = []
  const stats = { connections: 0, maxConcurrent: 0, open: 0 }
  const attempts = new Map<string, number>()
  let dataAttempts = 0
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    size: 50 * 1024 * 1024,
    onConnect(_session, cb) {
      stats.connections++
      stats.open++
      stats.maxConcurrent = Math.max(stats.maxConcurrent, stats.open)
      cb()
    },
    onClose() {
      stats.open--
    },
    onRcptTo(address, _session, cb) {
      const n = (attempts.get(address.address) ?? 0) + 1
      attempts.set(address.address, n)
      const reply = result.script.rcpt?.(address.address, n)
      if (reply) {
        const err = new Error(reply.message) as Error & { responseCode: number }
        err.responseCode = reply.code
        return cb(err)
      }
      cb()
    },
    onData(stream, session: SMTPServerSession, cb) {
      const chunks: Buffer[] = []
      stream.on('data', (c: Buffer) => chunks.push(c))
      stream.on('end', () => {
        dataAttempts++
        const reply = result.script.data?.(dataAttempts)
        if (reply) {
          const err = new Error(reply.message) as Error & { responseCode: number }
          err.responseCode = reply.code
          return cb(err)
        }
        const data = Buffer.concat(chunks)
        messages.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          data,
          text: data.toString('utf8'),
          connection: session.id,
        })
        cb(null, 'Ok: stored')
      })
    },
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const result: TestServer = {
    port: (server.server.address() as AddressInfo).port,
    messages,
    stats,
    script,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
  return result
}

/** Postfix's smtp-sink dumping every message to a file (for counts across processes). */
export interface Sink {
  port: number
  dir: string
  process: RunningProcess
  /** Dumped messages, each as text. */
  messages(): string[]
  stop(): Promise<void>
}

export async function startSink(): Promise<Sink> {
  const binary = requireProgram('smtp-sink', 'postfix')
  const dir = tempDir('postern-sink-')
  const dump = join(dir.path, 'dump')
  mkdirSync(dump)
  chmodSync(dir.path, 0o777)
  chmodSync(dump, 0o777)
  const port = await freePort()
  // smtp-sink refuses to run as root without -u; the dump directory is writable for it.
  const args = [
    ...(process.getuid?.() === 0 ? ['-u', 'nobody'] : []),
    '-d',
    `${dump}/%M.`,
    `127.0.0.1:${port}`,
    '256',
  ]
  const proc = startProcess(binary, args)
  await waitForPort(port)
  return {
    port,
    dir: dump,
    process: proc,
    messages: () => readdirSync(dump).map((f) => readFileSync(join(dump, f), 'utf8')),
    stop: async () => {
      await proc.stop()
      dir.remove()
    },
  }
}
