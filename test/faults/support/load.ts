import type { AddressInfo } from 'node:net'
import { SMTPServer } from 'smtp-server'
import { RawSmtp } from '../../gateway/support/clients.js'

/**
 * A downstream MTA for fault suites (smtp-server, real SMTP) that counts every copy of each
 * load message it receives — duplicates included — and can be taken down and brought back on
 * the same port.
 */
export class CountingDownstream {
  /** Load id → copies received. */
  readonly copies = new Map<number, number>()
  /** Sessions that reached us (each retry after an outage is at least one). */
  connections = 0
  private server: SMTPServer | undefined

  private constructor(public port: number) {}

  static async start(): Promise<CountingDownstream> {
    const downstream = new CountingDownstream(0)
    await downstream.up()
    return downstream
  }

  get delivered(): number {
    return this.copies.size
  }

  get duplicates(): number {
    let n = 0
    for (const c of this.copies.values()) n += c - 1
    return n
  }

  async up(): Promise<void> {
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['AUTH', 'STARTTLS'],
      logger: false,
      onConnect: (_session, cb) => {
        this.connections++
        cb()
      },
      onData: (stream, _session, cb) => {
        let head = ''
        stream.on('data', (chunk: Buffer) => {
          if (head.length < 4096) head += chunk.toString('latin1')
        })
        stream.on('end', () => {
          const id = /Message-ID: <load-(\d+)@test>/i.exec(head)?.[1]
          if (id !== undefined) this.copies.set(Number(id), (this.copies.get(Number(id)) ?? 0) + 1)
          cb(null, 'Ok')
        })
      },
    })
    // A gateway killed mid-delivery resets its sessions here; smtp-server reports each reset as
    // an 'error' event, which is expected in these suites and must not become an uncaught error.
    server.on('error', () => undefined)
    this.server = server
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve))
    this.port = (server.server.address() as AddressInfo).port
  }

  /** Stops listening and drops open sessions: the gateway sees connection refused. */
  async down(): Promise<void> {
    const server = this.server
    this.server = undefined
    if (!server) return
    for (const c of (server as unknown as { connections: Set<{ close(): void }> }).connections)
      c.close()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
}

export interface LoadResult {
  /** Ids that got a 250 after their final dot. */
  acked: Set<number>
  /** Ids whose data was sent but whose reply never came (the gateway died meanwhile). */
  inFlight: Set<number>
  /** Messages refused with a reply (not accepted), by reply code: `451`, `452` … */
  refused: Map<string, number>
}

/**
 * SMTP load on `sessions` parallel connections, several messages per connection, until
 * `total` messages were attempted or `stop()`. Connection failures (a killed gateway) are
 * retried against `port()`, which may change when the gateway restarts.
 */
export function startLoad(options: {
  port: () => number
  sessions: number
  total: number
  perConnection?: number
  bodyBytes?: number
  /** The body of message `id` (default: `bodyBytes` of filler). */
  bodyOf?: (id: number) => string
}) {
  const result: LoadResult = { acked: new Set(), inFlight: new Set(), refused: new Map() }
  const filler = 'x'.repeat(options.bodyBytes ?? 1000)
  const bodyOf = options.bodyOf ?? (() => filler)
  let next = 0
  let stopped = false
  const worker = async () => {
    while (!stopped && next < options.total) {
      let smtp: RawSmtp | undefined
      let current: number | undefined
      try {
        smtp = await RawSmtp.open(options.port())
        if (!(await smtp.reply(10_000))?.startsWith('220')) throw new Error('no greeting')
        if (!(await smtp.command('EHLO load.test'))?.startsWith('250')) throw new Error('EHLO')
        for (let i = 0; i < (options.perConnection ?? 20) && !stopped; i++) {
          if (next >= options.total) break
          const id = next++
          current = id
          const mail = await smtp.command('MAIL FROM:<load@ext.example>')
          const rcpt = mail?.startsWith('250')
            ? await smtp.command('RCPT TO:<sink@corp.example>')
            : mail
          if (!rcpt?.startsWith('250')) {
            // Refused before the data (a temporary failure while a dependency is down).
            current = undefined
            const code = rcpt?.slice(0, 3) ?? 'closed'
            result.refused.set(code, (result.refused.get(code) ?? 0) + 1)
            await smtp.command('RSET')
            continue
          }
          if (!(await smtp.command('DATA'))?.startsWith('354')) throw new Error('DATA')
          smtp.write(
            `Message-ID: <load-${id}@test>\r\nSubject: load ${id}\r\n\r\n${bodyOf(id)}\r\n.\r\n`,
          )
          const reply = await smtp.reply(30_000)
          current = undefined
          if (reply?.startsWith('250')) result.acked.add(id)
          else if (reply === null) result.inFlight.add(id)
          else {
            const code = reply.slice(0, 3)
            result.refused.set(code, (result.refused.get(code) ?? 0) + 1)
          }
        }
        smtp.write('QUIT\r\n')
      } catch {
        // Connection lost or refused mid-way: a message whose data went out may be durable.
        if (current !== undefined) result.inFlight.add(current)
        await new Promise((r) => setTimeout(r, 50))
      } finally {
        smtp?.close()
      }
    }
  }
  const done = Promise.all(Array.from({ length: options.sessions }, worker))
  return {
    result,
    /** Messages attempted so far. */
    attempted: () => next,
    done,
    async stop() {
      stopped = true
      await done
    },
  }
}
