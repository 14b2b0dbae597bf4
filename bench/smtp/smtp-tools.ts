import { join } from 'node:path'
import { freePort } from '@postern/testkit'
import {
  CounterFile,
  ensureDebianPackage,
  startService,
  tcpAccepts,
  type Service,
} from '../lib/index.js'

/**
 * The load generator and the downstream of every measurement: Postfix's smtp-source and
 * smtp-sink (Debian package postfix), which are small C programs that cost little CPU, so the
 * relay in between is what the figures measure.
 */

export interface SmtpTools {
  smtpSource: string
  smtpSink: string
}

export const POSTFIX_PACKAGE = {
  name: 'postfix',
  programs: ['smtp-source', 'smtp-sink', 'postfix', 'postconf'],
  // Same answers as .ci/run: Postfix installed, not configured, not started.
  preseed: [
    'postfix postfix/main_mailer_type select No configuration',
    'postfix postfix/mailname string localhost',
  ],
}

export async function ensureSmtpTools(log: (line: string) => void): Promise<SmtpTools> {
  const paths = await ensureDebianPackage(POSTFIX_PACKAGE, log)
  return { smtpSource: paths['smtp-source'] as string, smtpSink: paths['smtp-sink'] as string }
}

export interface Sink {
  port: number
  service: Service
  /** Messages the sink has received so far (completed DATA). */
  received(): number
  stop(): Promise<void>
}

const SINK_COUNTER = /sess=\d+ quit=\d+ mesg=(\d+)\r/g
const SOURCE_COUNTER = /(\d+)\r/g

/** Starts smtp-sink on a free port; as root it drops privileges to nobody (it refuses otherwise). */
export async function startSink(tools: SmtpTools, dir: string): Promise<Sink> {
  const port = await freePort()
  const output = join(dir, 'smtp-sink.out')
  const privileges = process.getuid?.() === 0 ? ['-u', 'nobody'] : []
  const service = await startService({
    name: 'smtp-sink',
    command: tools.smtpSink,
    // -c: counters on stdout; backlog 1024 so that bursts of connections are not refused.
    args: [...privileges, '-c', `127.0.0.1:${port}`, '1024'],
    logFile: output,
    ready: () => tcpAccepts(port),
  })
  const counter = new CounterFile(output, SINK_COUNTER)
  return {
    port,
    service,
    received: () => counter.read(),
    async stop() {
      counter.close()
      await service.stop(2000)
    },
  }
}

export interface SourceLoad {
  messages: number
  sessions: number
  /** Payload bytes per message (smtp-source adds its few header lines). */
  size: number
}

export interface SourceRun {
  service: Service
  /** Messages smtp-source has had accepted (250 after DATA) so far. */
  accepted(): number
  /** Resolves when smtp-source exits; rejects with its output when it failed. */
  done: Promise<void>
  stop(): Promise<void>
}

/**
 * Starts smtp-source against `port`: `sessions` parallel sessions, one message per connection
 * (no -d), sender and recipient in domains the relays accept for relaying.
 */
export async function startSource(
  tools: SmtpTools,
  dir: string,
  port: number,
  load: SourceLoad,
  tag: string,
): Promise<SourceRun> {
  const output = join(dir, `smtp-source-${tag}.out`)
  const service = await startService({
    name: 'smtp-source',
    command: tools.smtpSource,
    args: [
      '-c',
      '-s',
      String(load.sessions),
      '-m',
      String(load.messages),
      '-l',
      String(load.size),
      '-M',
      'client.bench.example',
      '-f',
      'sender@client.bench.example',
      '-t',
      'recipient@example.org',
      `127.0.0.1:${port}`,
    ],
    logFile: output,
  })
  const counter = new CounterFile(output, SOURCE_COUNTER)
  const done = service.exited.then((info) => {
    counter.close()
    if (info.code !== 0)
      throw new Error(
        `smtp-source failed (${info.signal ?? `exit code ${info.code}`}): ${service.logTail(500).replace(/\r/g, ' ').trim().slice(-400)}`,
      )
  })
  done.catch(() => undefined)
  return { service, accepted: () => counter.read(), done, stop: () => service.stop(1000) }
}
