import {
  describeError,
  formatHostPort,
  systemClock,
  type Clock,
  type HostPort,
  type Logger,
} from '@postern/core'
import SMTPConnection from 'nodemailer/lib/smtp-connection'
import type { NodemailerError } from 'nodemailer/lib/errors'
import {
  allRecipients,
  enhancedOf,
  oneLine,
  type DeliveryOutcome,
  type DeliveryRequest,
  type RecipientResult,
  type Transport,
} from './transport.js'

/** What defines an SMTP destination: everything of its options that can cross threads. */
export type SmtpDestination = Omit<SmtpTransportOptions, 'allocateDcid' | 'logger' | 'clock'>

export interface SmtpTransportOptions {
  key: string
  hosts: readonly HostPort[]
  tls: 'opportunistic' | 'required' | 'none'
  verifyCertificate: boolean
  heloName: string
  maxConnections: number
  maxMessagesPerConnection: number
  idleTimeoutMs: number
  connectTimeoutMs: number
  commandTimeoutMs: number
  hostDownMs: number
  /** A delivery connection id (a promise when it comes from another thread). */
  allocateDcid(): number | Promise<number>
  logger: Logger
  clock?: Clock
}

interface PooledConnection {
  connection: SMTPConnection
  dcid: number
  host: HostPort
  messages: number
  closed: boolean
  idleTimer: NodeJS.Timeout | undefined
}

class ConnectFailure extends Error {
  constructor(
    readonly reply: string,
    readonly enhanced: string,
    readonly permanent: boolean,
  ) {
    super(reply)
  }
}

/**
 * Delivery to one SMTP destination (an ordered list of hosts): a pool of reused connections,
 * at most `maxConnections` of them, each carrying up to `maxMessagesPerConnection` messages.
 * Hosts are tried in order; one that refuses a connection is skipped for `hostDownMs`. Replies
 * are mapped per recipient: 2yz delivered, 4yz (and any connection failure) deferred, 5yz
 * bounced. Nodemailer's SMTP client does the protocol, including the dot-stuffing and CRLF
 * canonicalisation of the data (RFC 5321 §4.5.2).
 */
export class SmtpTransport implements Transport {
  private readonly idle: PooledConnection[] = []
  private readonly waiters: ((connection: PooledConnection | Error) => void)[] = []
  private readonly downUntil = new Map<string, number>()
  private open = 0
  private closing = false
  private readonly clock: Clock

  constructor(private readonly options: SmtpTransportOptions) {
    this.clock = options.clock ?? systemClock
  }

  get key(): string {
    return this.options.key
  }

  async deliver(request: DeliveryRequest): Promise<DeliveryOutcome> {
    // A reused connection the server closed while idle fails before any byte of the message
    // went out: try again once on a fresh connection instead of deferring the message.
    for (let attempt = 0; ; attempt++) {
      let pooled: PooledConnection
      try {
        pooled = await this.acquire()
      } catch (err) {
        const failure =
          err instanceof ConnectFailure
            ? err
            : new ConnectFailure(`451 4.4.1 ${oneLine(describeError(err))}`, '4.4.1', false)
        return allRecipients(
          request,
          failure.permanent ? 'bounced' : 'deferred',
          failure.reply,
          failure.enhanced,
        )
      }
      const reused = pooled.messages > 0
      const result = await this.send(pooled, request)
      if (result.kind === 'retry' && reused && attempt === 0) continue
      return result.outcome
    }
  }

  private send(
    pooled: PooledConnection,
    request: DeliveryRequest,
  ): Promise<{ kind: 'done' | 'retry'; outcome: DeliveryOutcome }> {
    const host = formatHostPort(pooled.host)
    const base = { dcid: pooled.dcid, host }
    return new Promise((resolve) => {
      const message = request.message()
      pooled.connection.send(
        {
          from: request.from === '' ? false : request.from,
          to: [...request.recipients],
          size: request.size,
          use8BitMime: request.bodyType === '8bitmime',
        },
        message,
        (err, info) => {
          pooled.messages++
          if (!err) {
            this.release(pooled, true)
            const results: RecipientResult[] = []
            const accepted = new Set(info.accepted.map((a) => a.toLowerCase()))
            const reply = oneLine(info.response)
            for (const recipient of request.recipients) {
              if (accepted.has(recipient.toLowerCase())) {
                results.push({
                  recipient,
                  status: 'delivered',
                  reply,
                  enhanced: enhancedOf(reply, 4),
                })
              }
            }
            for (const rejected of info.rejectedErrors ?? []) results.push(rejectedResult(rejected))
            resolve({ kind: 'done', outcome: { ...base, results: complete(request, results) } })
            return
          }
          const error = err as NodemailerError & { rejectedErrors?: NodemailerError[] }
          if (error.code === 'EENVELOPE' && error.rejectedErrors?.length) {
            // Every recipient refused: the connection is fine, the transaction is over.
            this.resetAndRelease(pooled)
            resolve({
              kind: 'done',
              outcome: {
                ...base,
                results: complete(request, error.rejectedErrors.map(rejectedResult)),
              },
            })
            return
          }
          const replyCode = error.responseCode
          if (replyCode === undefined) {
            // The connection failed (reset, timeout, TLS): it cannot be used again. If the
            // server dropped it before the message data was sent, another connection may
            // deliver it at once.
            this.release(pooled, false)
            const beforeData = error.command === undefined || /^(MAIL|RCPT)/.test(error.command)
            const reply = `451 4.4.2 ${oneLine(describeError(err))}`
            resolve({
              kind: beforeData ? 'retry' : 'done',
              outcome: allRecipients(request, 'deferred', reply, '4.4.2', base),
            })
            return
          }
          // The server answered: the session goes on after RSET unless it said 421.
          if (replyCode === 421) this.release(pooled, false)
          else this.resetAndRelease(pooled)
          const reply = error.response !== undefined ? oneLine(error.response) : `${replyCode}`
          const permanent = replyCode >= 500 && replyCode !== 503
          resolve({
            kind: 'done',
            outcome: allRecipients(
              request,
              permanent ? 'bounced' : 'deferred',
              reply,
              enhancedOf(reply, permanent ? 5 : 4),
              base,
            ),
          })
        },
      )
    })
  }

  // --- Pool -----------------------------------------------------------------------------------

  private acquire(): Promise<PooledConnection> {
    if (this.closing) return Promise.reject(new Error('delivery is stopping'))
    while (this.idle.length > 0) {
      const pooled = this.idle.pop() as PooledConnection
      clearTimeout(pooled.idleTimer)
      if (!pooled.closed) return Promise.resolve(pooled)
    }
    if (this.open < this.options.maxConnections) {
      this.open++
      return this.connect().catch((err: unknown) => {
        this.open--
        this.wakeWaiter()
        throw err
      })
    }
    return new Promise((resolve, reject) => {
      this.waiters.push((result) => (result instanceof Error ? reject(result) : resolve(result)))
    })
  }

  private release(pooled: PooledConnection, reusable: boolean): void {
    if (
      !reusable ||
      pooled.closed ||
      this.closing ||
      pooled.messages >= this.options.maxMessagesPerConnection
    ) {
      this.discard(pooled)
      return
    }
    const waiter = this.waiters.shift()
    if (waiter) {
      waiter(pooled)
      return
    }
    pooled.idleTimer = setTimeout(() => {
      const index = this.idle.indexOf(pooled)
      if (index >= 0) this.idle.splice(index, 1)
      this.discard(pooled, true)
    }, this.options.idleTimeoutMs)
    pooled.idleTimer.unref()
    this.idle.push(pooled)
  }

  private resetAndRelease(pooled: PooledConnection): void {
    if (pooled.closed) {
      this.discard(pooled)
      return
    }
    pooled.connection.reset((err) => this.release(pooled, !err))
  }

  private discard(pooled: PooledConnection, polite = false): void {
    if (!pooled.closed) {
      pooled.closed = true
      if (polite) pooled.connection.quit()
      else pooled.connection.close()
    }
    this.open--
    this.wakeWaiter()
  }

  /** A slot freed up: open a connection for the next waiter. */
  private wakeWaiter(): void {
    if (this.waiters.length === 0 || this.open >= this.options.maxConnections) return
    const waiter = this.waiters.shift() as (c: PooledConnection | Error) => void
    this.open++
    this.connect().then(waiter, (err: unknown) => {
      this.open--
      waiter(err instanceof Error ? err : new Error(String(err)))
      this.wakeWaiter()
    })
  }

  private async connect(): Promise<PooledConnection> {
    const now = this.clock.now()
    const candidates = this.options.hosts.filter(
      (h) => (this.downUntil.get(formatHostPort(h)) ?? 0) <= now,
    )
    // When every host is marked down, try them all anyway: the marks are a preference.
    const hosts = candidates.length > 0 ? candidates : this.options.hosts
    let last: ConnectFailure | undefined
    for (const host of hosts) {
      try {
        return await this.open1(host)
      } catch (err) {
        last =
          err instanceof ConnectFailure
            ? err
            : new ConnectFailure(`451 4.4.1 ${oneLine(describeError(err))}`, '4.4.1', false)
        if (last.permanent) throw last
        this.downUntil.set(formatHostPort(host), now + this.options.hostDownMs)
        this.options.logger.warn(
          {
            event: 'DELIVERY_HOST_DOWN',
            destination: this.key,
            host: formatHostPort(host),
            reason: last.reply,
          },
          'destination host unavailable',
        )
      }
    }
    throw last ?? new ConnectFailure('451 4.4.1 no destination host', '4.4.1', false)
  }

  private async open1(host: HostPort): Promise<PooledConnection> {
    const o = this.options
    const dcid = await o.allocateDcid()
    const connection = new SMTPConnection({
      host: host.host,
      port: host.port,
      name: o.heloName,
      connectionTimeout: o.connectTimeoutMs,
      greetingTimeout: o.connectTimeoutMs,
      socketTimeout: o.commandTimeoutMs,
      ignoreTLS: o.tls === 'none',
      requireTLS: o.tls === 'required',
      opportunisticTLS: o.tls === 'opportunistic',
      tls: { rejectUnauthorized: o.verifyCertificate, servername: host.host },
      logger: false,
    })
    const pooled: PooledConnection = {
      connection,
      dcid,
      host,
      messages: 0,
      closed: false,
      idleTimer: undefined,
    }
    return new Promise((resolve, reject) => {
      let connected = false
      connection.on('error', (err: NodemailerError) => {
        if (!connected) {
          const code = err.responseCode
          if (err.code === 'ETLS' || err.command === 'STARTTLS') {
            // The route requires TLS and this host did not give it: defer, never send in the
            // clear and never bounce for it (the sender cannot fix our policy).
            const why = oneLine(err.response ?? describeError(err), 200)
            const reply = `451 4.7.5 TLS required for this route, ${formatHostPort(host)} did not start it (${why})`
            reject(new ConnectFailure(reply, '4.7.5', false))
            pooled.closed = true
            return
          }
          const reply =
            err.response !== undefined
              ? oneLine(err.response)
              : `451 4.4.1 ${oneLine(describeError(err))}`
          reject(
            new ConnectFailure(
              reply,
              enhancedOf(reply, 4),
              // A 5yz greeting (RFC 5321 §3.1: 554) means the host refuses mail for good.
              code !== undefined && code >= 500 && err.command === 'CONN',
            ),
          )
        }
        pooled.closed = true
      })
      connection.on('end', () => {
        pooled.closed = true
        clearTimeout(pooled.idleTimer)
        const index = this.idle.indexOf(pooled)
        if (index >= 0) {
          this.idle.splice(index, 1)
          this.open--
          this.wakeWaiter()
        }
      })
      connection.connect(() => {
        connected = true
        o.logger.debug(
          {
            event: 'DELIVERY_CONNECTED',
            dcid,
            destination: this.key,
            host: formatHostPort(host),
            tls: connection.secure,
          },
          'delivery connection open',
        )
        resolve(pooled)
      })
    })
  }

  async close(): Promise<void> {
    this.closing = true
    for (const waiter of this.waiters.splice(0)) waiter(new Error('delivery is stopping'))
    for (const pooled of this.idle.splice(0)) {
      clearTimeout(pooled.idleTimer)
      if (!pooled.closed) {
        pooled.closed = true
        pooled.connection.quit()
      }
    }
  }
}

function rejectedResult(err: NodemailerError): RecipientResult {
  const reply =
    err.response !== undefined ? oneLine(err.response) : `451 4.3.0 ${oneLine(err.message)}`
  const code = err.responseCode ?? 451
  const permanent = code >= 500 && code !== 503
  return {
    recipient: err.recipient ?? '',
    status: permanent ? 'bounced' : 'deferred',
    reply,
    enhanced: enhancedOf(reply, permanent ? 5 : 4),
  }
}

/** Recipients the server neither accepted nor refused (should not happen): deferred. */
function complete(request: DeliveryRequest, results: RecipientResult[]): RecipientResult[] {
  const seen = new Set(results.map((r) => r.recipient.toLowerCase()))
  for (const recipient of request.recipients) {
    if (!seen.has(recipient.toLowerCase())) {
      results.push({
        recipient,
        status: 'deferred',
        reply: '451 4.3.0 no reply for this recipient',
        enhanced: '4.3.0',
      })
    }
  }
  return results.filter((r) =>
    request.recipients.some((x) => x.toLowerCase() === r.recipient.toLowerCase()),
  )
}
