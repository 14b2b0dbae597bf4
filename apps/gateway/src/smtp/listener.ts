import { isIP } from 'node:net'
import type { AddressInfo } from 'node:net'
import {
  describeError,
  parseHostPort,
  systemClock,
  verifyPassword,
  type Clock,
  type HostPort,
  type Logger,
} from '@postern/core'
import { domainOf, type Direction, type NewEvent, type NewObservable } from '@postern/store'
import type {
  SMTPServerAddress,
  SMTPServerAuthentication,
  SMTPServerDataStream,
  SMTPServerSession,
} from 'smtp-server'
import type { HatRule, ListenerConfig } from '../config.js'
import { gwErrors } from '../errors.js'
import { byLabel, type GatewayMetrics } from '../metrics/metrics.js'
import type { BodySink } from '../spool/body-sink.js'
import { joinSharedBody } from '../spool/shared-body.js'
import type { Spool } from '../spool/spool.js'
import type { MessageMeta, SpoolEntry } from '../spool/types.js'
import { trackingRow } from '../tracking/row.js'
import type { TrackingWriter } from '../tracking/writer.js'
import {
  HostAccessTable,
  normaliseIp,
  RecipientAccessTable,
  type HatMatch,
} from './access-tables.js'
import { DataReceiver } from './data-receiver.js'
import { PosternConnection, PosternSmtpServer, type Admission } from './engine.js'
import { ConnectionCounter, RecipientRate } from './rate-limits.js'
import { overdue, type WatchdogLimits } from './session-watchdog.js'
import type { ReverseDns } from './rdns.js'
import { receivedHeader } from './received-header.js'
import {
  reply,
  replyError,
  replyLine,
  SmtpReplyError,
  type SmtpReply,
  type SmtpReplyKey,
} from './replies.js'
import type { PolicyDecision, PolicySession, SessionPolicy } from './session-policy.js'
import type { TlsMaterial } from './tls.js'

export interface ListenerDeps {
  hostname: string
  spool: Spool
  tracking: TrackingWriter
  metrics: GatewayMetrics
  rdns: ReverseDns
  policies: () => readonly SessionPolicy[]
  /** Called once a message is durable and the client has its 250 (with its bytes if in memory). */
  onAccepted(entry: SpoolEntry, body: Buffer | undefined): void
  logger: Logger
  tls: TlsMaterial | undefined
  /** Look up reverse DNS for tracking even when no HAT rule needs it. */
  rdnsForTracking: boolean
  clock?: Clock
}

interface Transaction {
  mid: number
  mailFrom: string
  recipients: string[]
  events: NewEvent[]
  bodyType: '7bit' | '8bitmime'
  smtpUtf8: boolean
  startedAt: number
  /** SIZE declared with MAIL FROM (RFC 1870), 0 when none. */
  declaredSize: number
  /** The transaction is over (accepted or recorded as refused/aborted). */
  finished: boolean
  /** The last RCPT refusal, for a transaction no recipient of which was accepted. */
  lastRefusal: SmtpReply | undefined
}

interface SessionState {
  icid: number
  ip: string
  port: number
  hat: HatMatch | undefined
  /** The connection's child logger, made on first use (most sessions never log). */
  log(): Logger
  accepted: number
  tx: Transaction | undefined
  connectedAt: number
  counted: boolean
}

type Session = SMTPServerSession & { postern?: SessionState }

/**
 * One SMTP listener: the host access table decides at connect, the recipient access table and
 * the session policies at RCPT, the DATA receiver checks the content, and the spool makes the
 * message durable before the 250. Tracking rows are appended to the batched writer; nothing on
 * this path waits for the database.
 */
export class SmtpListener {
  private readonly server: PosternSmtpServer
  private readonly hat: HostAccessTable
  private readonly rat: RecipientAccessTable
  private readonly perIp = new ConnectionCounter()
  private readonly rates = new Map<HatRule, RecipientRate>()
  private readonly clock: Clock
  private readonly logger: Logger
  private open = 0
  private address: HostPort | undefined
  private watchdog: NodeJS.Timeout | undefined
  /** Labelled metric children, resolved once instead of per message. */
  private readonly counters: {
    active: { inc(): void; dec(): void }
    accepted: Record<Direction, { inc(): void }>
    bytes: { inc(n: number): void }
    session(group: string): { inc(): void }
    rejected(reason: string): { inc(): void }
  }

  constructor(
    readonly config: ListenerConfig,
    private readonly deps: ListenerDeps,
  ) {
    this.clock = deps.clock ?? systemClock
    this.logger = deps.logger.child({ listener: config.name })
    const metrics = deps.metrics
    this.counters = {
      active: metrics.activeSessions.labels(config.name),
      accepted: {
        incoming: metrics.accepted.labels(config.name, 'incoming'),
        outgoing: metrics.accepted.labels(config.name, 'outgoing'),
      },
      bytes: metrics.acceptedBytes.labels(config.name),
      session: byLabel((group) => metrics.sessions.labels(config.name, group)),
      rejected: byLabel((reason) => metrics.rejected.labels(config.name, reason)),
    }
    this.hat = new HostAccessTable(config.hat)
    this.rat = new RecipientAccessTable(config.rat)
    for (const rule of config.hat)
      if (rule.rate) this.rates.set(rule, new RecipientRate(this.clock))
    const tls = deps.tls && (config.tls.starttls || config.tls.implicit) ? deps.tls : undefined
    const disabled: string[] = []
    if (!config.auth.enabled) disabled.push('AUTH')
    if (!tls || config.tls.implicit) disabled.push('STARTTLS')
    this.server = new PosternSmtpServer(
      {
        name: deps.hostname,
        secure: config.tls.implicit && tls !== undefined,
        banner: config.banner ?? 'Postern',
        size: config.limits.maxMessageSize,
        // Reverse DNS is ours (cached, forward-confirmed, only when a rule needs it); the
        // engine only reads what we already know.
        resolver: {
          reverse: (ip: string, cb: (err: Error | null, names: string[]) => void) => {
            const name = deps.rdns.peek(normaliseIp(ip))
            cb(null, name ? [name] : [])
          },
        } as never,
        hideENHANCEDSTATUSCODES: false,
        hideDSN: true,
        hideREQUIRETLS: true,
        hide8BITMIME: false,
        hidePIPELINING: false,
        hideSMTPUTF8: false,
        authOptional: !config.auth.required,
        authMethods: ['PLAIN', 'LOGIN'],
        allowInsecureAuth: false,
        disabledCommands: disabled,
        maxClients: config.limits.maxConnections + 1,
        socketTimeout: config.limits.idleTimeout,
        closeTimeout: 1_000,
        logger: false,
        key: tls?.key,
        cert: tls?.cert,
        onConnect: (session, cb) => cb(),
        onSecure: (_socket, session, cb) => this.onSecure(session as Session, cb),
        onAuth: (auth, session, cb) => void this.onAuth(auth, session as Session, cb),
        onMailFrom: (address, session, cb) =>
          void this.onMailFrom(address, session as Session).then(() => cb(), cb),
        onRcptTo: (address, session, cb) =>
          void this.onRcptTo(address, session as Session).then(() => cb(), cb),
        onData: (stream, session, cb) => this.onData(stream, session as Session, cb),
        onClose: (session) => this.onClose(session as Session),
      },
      {
        admit: (connection) => this.admit(connection),
        earlyTalker: (connection) => this.earlyTalker(connection),
        beforeData: (connection) => this.beforeData(connection),
        now: () => this.clock.now(),
        admissionFailed: (connection, err) =>
          this.logger.error(
            {
              event: 'SMTP_ADMISSION_FAILED',
              ip: connection.remoteAddress,
              err: describeError(err),
            },
            'could not classify a connection',
          ),
      },
    )
    this.server.on('error', (err: Error & { code?: string }) => {
      // A reset by the client is routine (many close right after QUIT): describe it only when
      // someone reads debug lines.
      if (!this.logger.isLevelEnabled('debug')) return
      this.logger.debug(
        { event: 'SMTP_CONNECTION_ERROR', err: describeError(err), code: err.code },
        'connection error',
      )
    })
  }

  get name(): string {
    return this.config.name
  }

  /** The bound address (after `start`, with the real port when 0 was configured). */
  get bound(): HostPort {
    if (!this.address) throw new Error(`listener ${this.config.name} is not started`)
    return this.address
  }

  get openConnections(): number {
    return this.open
  }

  async start(): Promise<HostPort> {
    const { host, port } = parseHostPort(this.config.smtp)
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => {
        reject(
          gwErrors.LISTENER_BIND_FAILED(
            { listener: this.config.name, address: this.config.smtp, reason: describeError(err) },
            { cause: err },
          ),
        )
      }
      this.server.server.once('error', onError)
      this.server.listen({ host, port }, () => {
        this.server.server.removeListener('error', onError)
        resolve()
      })
    })
    this.startWatchdog()
    const info = this.server.server.address() as AddressInfo
    this.address = { host: info.address, port: info.port }
    this.logger.info(
      {
        event: 'SMTP_LISTENING',
        address: `${info.address}:${info.port}`,
        tls: Boolean(this.deps.tls),
      },
      'listening',
    )
    return this.address
  }

  /** Stops accepting; open sessions get 421 after a short grace period. */
  async stop(): Promise<void> {
    clearInterval(this.watchdog)
    if (!this.server.server.listening) return
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  // --- Connection ------------------------------------------------------------------------------

  /** Closes connections past their command deadline or below the data rate floor. */
  private startWatchdog(): void {
    const { commandTimeout, dataRateFloor, dataRateGrace } = this.config.limits
    const limits: WatchdogLimits = {
      commandTimeoutMs: commandTimeout,
      dataRateFloor,
      dataRateGraceMs: dataRateGrace,
    }
    const every = Math.max(100, Math.min(1_000, commandTimeout / 4, dataRateGrace / 4))
    this.watchdog = setInterval(() => {
      const now = this.clock.now()
      for (const connection of this.server.connections) {
        if (!(connection instanceof PosternConnection)) continue
        const key = overdue(connection, now, limits)
        if (key) this.closeOverdue(connection, key)
      }
    }, every)
    this.watchdog.unref()
  }

  private closeOverdue(connection: PosternConnection, key: SmtpReplyKey): void {
    this.counters.rejected(key).inc()
    const state = connection.state as SessionState | undefined
    if (state) {
      this.deps.tracking.event({
        at: this.clock.now(),
        mid: state.tx && !state.tx.finished ? state.tx.mid : undefined,
        icid: state.icid,
        event: 'SESSION_TIMEOUT',
        details: { reply: replyLine(reply(key)) },
      })
      state.log().info({ event: 'SMTP_SESSION_TIMEOUT', ip: state.ip, reason: key }, 'closed')
    }
    // 421 closes the connection; an open transaction is recorded as aborted by onClose.
    connection.sendReply(reply(key))
  }

  /** DATA is refused before its 354 when the spool has no room for the declared size. */
  private beforeData(connection: PosternConnection): SmtpReply | undefined {
    const state = connection.state as SessionState | undefined
    const tx = state?.tx
    if (!state || !tx || tx.finished) return undefined
    if (this.deps.spool.space.hasRoomFor(tx.declaredSize)) return undefined
    const problem = reply('SPOOL_FULL')
    this.counters.rejected(problem.key).inc()
    tx.events.push({
      at: this.clock.now(),
      mid: tx.mid,
      icid: state.icid,
      event: 'DATA_REJECTED',
      details: { reply: replyLine(problem) },
    })
    this.finishRejected(connection.session as Session, state, 'rejected', problem)
    return problem
  }

  private async admit(connection: PosternConnection): Promise<Admission> {
    const ip = normaliseIp(connection.remoteAddress)
    const now = this.clock.now()
    const icid = this.deps.spool.allocateIcid()
    let child: Logger | undefined
    const log = (): Logger => (child ??= this.logger.child({ icid }))
    const state: SessionState = {
      icid,
      ip,
      port: connection.remotePort,
      hat: undefined,
      log,
      accepted: 0,
      tx: undefined,
      connectedAt: now,
      counted: false,
    }
    connection.state = state
    ;(connection.session as Session).postern = state
    this.open++
    this.counters.active.inc()
    const details: Record<string, unknown> = { listener: this.config.name, ip, port: state.port }
    const refuse = (key: SmtpReplyKey, extra: Record<string, unknown> = {}): Admission => {
      this.counters.rejected(key).inc()
      this.deps.tracking.event({
        at: now,
        icid,
        event: 'CONNECTION_REFUSED',
        details: { ...details, ...extra, reply: replyLine(reply(key)) },
      })
      log().info(
        { event: 'SMTP_CONNECTION_REFUSED', ip, reason: key, ...extra },
        'connection refused',
      )
      return { action: 'refuse', reply: reply(key) }
    }
    if (this.open > this.config.limits.maxConnections) return refuse('TOO_MANY_CONNECTIONS')
    const match = await this.hat.match(ip, () => this.deps.rdns.lookup(ip), this.deps.rdns.peek(ip))
    state.hat = match
    if (match?.rdns) details.rdns = match.rdns
    if (!match) return refuse('NO_SENDER_GROUP')
    const rule = match.rule
    const group = { senderGroup: rule.senderGroup, policy: rule.policy }
    if (rule.policy === 'TCPREFUSE') {
      this.counters.rejected('TCPREFUSE').inc()
      this.deps.tracking.event({
        at: now,
        icid,
        event: 'CONNECTION_REFUSED',
        details: { ...details, ...group, reply: 'TCP reset' },
      })
      log().info({ event: 'SMTP_CONNECTION_RESET', ip, ...group }, 'connection reset (TCPREFUSE)')
      return { action: 'reset' }
    }
    if (rule.policy === 'REJECTED') return refuse('ACCESS_DENIED', group)
    const perIp = this.perIp.add(ip)
    state.counted = true
    if (perIp > (rule.maxConnectionsPerIp ?? this.config.limits.maxConnectionsPerIp)) {
      return refuse('TOO_MANY_CONNECTIONS_FROM_IP', group)
    }
    if (!match.rdns && this.deps.rdnsForTracking) {
      // For the tracking record only: never waited for.
      void this.deps.rdns.lookup(ip)
    }
    this.counters.session(rule.senderGroup).inc()
    this.deps.tracking.events([
      { at: now, icid, event: 'CONNECTION', details },
      { at: now, icid, event: 'HAT_MATCH', details: { ...group, pregreet: rule.pregreet } },
    ])
    return { action: 'greet', delayMs: rule.pregreet }
  }

  private earlyTalker(connection: PosternConnection): void {
    const state = connection.state as SessionState | undefined
    this.counters.rejected('PREGREET_VIOLATION').inc()
    if (!state) return
    this.deps.tracking.event({
      at: this.clock.now(),
      icid: state.icid,
      event: 'PREGREET_VIOLATION',
      details: { senderGroup: state.hat?.rule.senderGroup ?? null },
    })
    state
      .log()
      .info({ event: 'SMTP_PREGREET_VIOLATION', ip: state.ip }, 'client talked before the greeting')
  }

  private onSecure(session: Session, cb: (err?: Error | null) => void): void {
    const state = session.postern
    if (state) {
      this.deps.tracking.event({
        at: this.clock.now(),
        icid: state.icid,
        event: 'TLS',
        details: { protocol: tlsDescription(session) },
      })
    }
    cb()
  }

  private onClose(session: Session): void {
    const state = session.postern
    if (!state) return
    this.open--
    this.counters.active.dec()
    if (state.counted) this.perIp.remove(state.ip)
    if (state.tx && !state.tx.finished) this.finishRejected(session, state, 'aborted', null)
  }

  // --- Envelope ----------------------------------------------------------------------------------

  private async onAuth(
    auth: SMTPServerAuthentication,
    session: Session,
    cb: (err: Error | null | undefined, response?: { user?: unknown }) => void,
  ): Promise<void> {
    const state = session.postern
    const user = this.config.auth.users.find((u) => u.username === auth.username)
    // A hash is always verified (against a dummy for unknown users) so that timing does not
    // reveal which user names exist.
    const ok = await verifyPassword(auth.password ?? '', user?.passwordHash ?? DUMMY_HASH)
    const at = this.clock.now()
    if (!user || !ok || !auth.password) {
      this.counters.rejected('AUTH_FAILED').inc()
      if (state) {
        this.deps.tracking.event({
          at,
          icid: state.icid,
          event: 'AUTH_FAILED',
          details: { username: (auth.username ?? '').slice(0, 100) },
        })
        state.log().info({ event: 'SMTP_AUTH_FAILED', ip: state.ip }, 'authentication failed')
      }
      cb(replyError('AUTH_FAILED'))
      return
    }
    if (state) {
      this.deps.tracking.event({
        at,
        icid: state.icid,
        event: 'AUTH',
        details: { username: user.username },
      })
    }
    cb(null, { user: user.username })
  }

  private async onMailFrom(address: SMTPServerAddress, session: Session): Promise<void> {
    const state = session.postern as SessionState
    if (state.tx && !state.tx.finished) this.finishRejected(session, state, 'aborted', null)
    state.tx = undefined
    const rule = state.hat?.rule
    const limit = rule?.maxMessagesPerConnection ?? this.config.limits.maxMessagesPerConnection
    if (state.accepted >= limit) throw this.refuseCommand(state, 'TOO_MANY_MESSAGES')
    if (rule?.tls === 'required' && !session.secure) throw this.refuseCommand(state, 'TLS_REQUIRED')
    const maxSize = this.maxMessageSize(state)
    const args = (address.args || {}) as Record<string, unknown>
    const declared = Number(args.SIZE ?? 0) || 0
    if (declared > maxSize)
      throw this.refuseCommand(state, 'SIZE_DECLARED_TOO_BIG', { max: maxSize })
    // RFC 1870 §6.1: a declared size we have no room for right now is 452, retried later.
    if (!this.deps.spool.space.hasRoomFor(declared)) throw this.refuseCommand(state, 'SPOOL_FULL')
    const now = this.clock.now()
    const envelope = session.envelope as { bodyType?: string; smtpUtf8?: boolean }
    const tx: Transaction = {
      mid: this.deps.spool.allocateMid(),
      mailFrom: address.address,
      recipients: [],
      events: [],
      bodyType: envelope.bodyType === '8bitmime' ? '8bitmime' : '7bit',
      smtpUtf8: envelope.smtpUtf8 === true,
      startedAt: now,
      declaredSize: declared,
      finished: false,
      lastRefusal: undefined,
    }
    state.tx = tx
    tx.events.push({
      at: now,
      mid: tx.mid,
      icid: state.icid,
      event: 'MAIL_FROM',
      details: { from: address.address, size: declared || undefined },
    })
    const decision = await this.consult(
      state,
      session,
      (p, request) => p.checkMailFrom?.(request),
      {
        mailFrom: address.address,
      },
    )
    if (decision.verdict === 'reject') {
      tx.events.push({
        at: now,
        mid: tx.mid,
        icid: state.icid,
        event: 'POLICY_REJECTED',
        details: { stage: 'MAIL', reason: decision.reason },
      })
      this.finishRejected(session, state, 'rejected', reply(decision.reply))
      throw this.refuseCommand(state, decision.reply, {}, false)
    }
  }

  private async onRcptTo(address: SMTPServerAddress, session: Session): Promise<void> {
    const state = session.postern as SessionState
    const tx = state.tx as Transaction
    const recipient = address.address
    const now = this.clock.now()
    const rejectRcpt = (key: SmtpReplyKey, reason: string): SmtpReplyError => {
      tx.lastRefusal = reply(key)
      tx.events.push({
        at: now,
        mid: tx.mid,
        icid: state.icid,
        event: 'RCPT_REJECTED',
        recipient,
        details: { reply: replyLine(reply(key)), reason },
      })
      return this.refuseCommand(state, key, {}, false)
    }
    const rule = state.hat?.rule
    if (
      tx.recipients.length >=
      (rule?.maxRecipientsPerMessage ?? this.config.limits.maxRecipientsPerMessage)
    ) {
      throw rejectRcpt('TOO_MANY_RECIPIENTS', 'limit')
    }
    const verdict = this.rat.check(recipient)
    if (verdict === 'reject') throw rejectRcpt('RECIPIENT_REJECTED', 'RAT')
    if (verdict === 'unlisted' && rule?.policy !== 'RELAYED' && !session.user) {
      throw rejectRcpt('RELAY_DENIED', 'not in RAT')
    }
    if (rule?.rate) {
      const rate = this.rates.get(rule) as RecipientRate
      if (!rate.take(state.ip, rule.rate.recipients, rule.rate.per))
        throw rejectRcpt('RATE_LIMITED', 'rate')
    }
    const decision = await this.consult(state, session, (p, request) => p.checkRcptTo?.(request), {
      mailFrom: tx.mailFrom,
      recipient,
    })
    if (decision.verdict === 'reject') throw rejectRcpt(decision.reply, decision.reason)
    tx.recipients.push(recipient)
    tx.events.push({ at: now, mid: tx.mid, icid: state.icid, event: 'RCPT_TO', recipient })
  }

  /** Runs the session policies in order; the first refusal wins; a failure fails closed. */
  private async consult<R>(
    state: SessionState,
    session: Session,
    call: (
      policy: SessionPolicy,
      request: R & { session: PolicySession },
    ) => PolicyDecision | Promise<PolicyDecision> | undefined,
    request: R,
  ): Promise<PolicyDecision> {
    const policies = this.deps.policies()
    if (policies.length === 0) return { verdict: 'continue' }
    const policySession: PolicySession = {
      icid: state.icid,
      mid: state.tx?.mid ?? 0,
      listener: this.config.name,
      clientIp: state.ip,
      clientRdns: state.hat?.rdns ?? null,
      helo: session.hostNameAppearsAs || null,
      senderGroup: state.hat?.rule.senderGroup ?? null,
      direction: this.direction(state, session),
      authUser: typeof session.user === 'string' ? session.user : null,
    }
    for (const policy of policies) {
      let decision: PolicyDecision | undefined
      try {
        decision = await call(policy, { ...request, session: policySession })
      } catch (err) {
        state
          .log()
          .error(
            { event: 'SMTP_POLICY_FAILED', policy: policy.name, err: describeError(err) },
            'session policy failed',
          )
        throw this.refuseCommand(state, 'POLICY_UNAVAILABLE')
      }
      if (decision?.verdict === 'reject') return decision
    }
    return { verdict: 'continue' }
  }

  private refuseCommand(
    state: SessionState,
    key: SmtpReplyKey,
    params: Record<string, string | number> = {},
    count = true,
  ): SmtpReplyError {
    this.counters.rejected(key).inc()
    if (count && state.tx) {
      state.tx.events.push({
        at: this.clock.now(),
        mid: state.tx.mid,
        icid: state.icid,
        event: 'COMMAND_REJECTED',
        details: { reply: replyLine(reply(key, params)) },
      })
    }
    return replyError(key, params)
  }

  private maxMessageSize(state: SessionState): number {
    const group = state.hat?.rule.maxMessageSize
    return Math.min(group ?? Infinity, this.config.limits.maxMessageSize)
  }

  private direction(state: SessionState, session: Session): Direction {
    return state.hat?.rule.policy === 'RELAYED' || session.user ? 'outgoing' : 'incoming'
  }

  // --- Data ------------------------------------------------------------------------------------

  private onData(
    stream: SMTPServerDataStream,
    session: Session,
    cb: (err?: Error | null, message?: string) => void,
  ): void {
    const state = session.postern as SessionState
    const tx = state.tx as Transaction
    const sink = this.deps.spool.createBodySink(tx.mid)
    const limits = this.config.limits
    const receiver = new DataReceiver(
      {
        maxMessageSize: this.maxMessageSize(state),
        maxLineLength: limits.maxLineLength,
        maxHeaderSize: limits.maxHeaderSize,
        maxReceivedHeaders: limits.maxReceivedHeaders,
        lineEndings: this.config.lineEndings,
      },
      sink,
    )
    let settled = false
    const fail = (err: unknown) => {
      if (settled) return
      settled = true
      void sink.discard()
      // The client went away in the middle of the message: nothing to answer.
      this.finishRejected(session, state, 'aborted', null)
      state
        .log()
        .debug({ event: 'SMTP_DATA_ABORTED', mid: tx.mid, err: describeError(err) }, 'data aborted')
      cb(err instanceof Error ? err : new Error(String(err)))
    }
    stream.once('error', fail)
    receiver.once('error', fail)
    receiver.once('finish', () => {
      if (settled) return
      settled = true
      void this.accept(session, state, tx, receiver, sink).then(
        (line) => cb(null, line),
        (err: unknown) => cb(err instanceof Error ? err : new Error(String(err))),
      )
    })
    stream.pipe(receiver)
  }

  private async accept(
    session: Session,
    state: SessionState,
    tx: Transaction,
    receiver: DataReceiver,
    sink: BodySink,
  ): Promise<string> {
    const result = receiver.result()
    const now = this.clock.now()
    if (result.problem) {
      await sink.discard()
      this.counters.rejected(result.problem.key).inc()
      tx.events.push({
        at: now,
        mid: tx.mid,
        icid: state.icid,
        event: 'DATA_REJECTED',
        details: { reply: replyLine(result.problem), received: result.received },
      })
      this.finishRejected(session, state, 'rejected', result.problem, result.header.summary)
      state
        .log()
        .info(
          { event: 'SMTP_MESSAGE_REJECTED', mid: tx.mid, reason: result.problem.key },
          'message refused',
        )
      throw new SmtpReplyError(result.problem)
    }
    const direction = this.direction(state, session)
    const authUser = typeof session.user === 'string' ? session.user : null
    const tls = tlsDescription(session)
    const rdns = state.hat?.rdns ?? this.deps.rdns.peek(state.ip) ?? null
    const meta: MessageMeta = {
      mid: tx.mid,
      icid: state.icid,
      receivedAt: now,
      direction,
      origin: 'smtp',
      envelope: {
        mailFrom: tx.mailFrom,
        recipients: tx.recipients,
        bodyType: tx.bodyType,
        smtpUtf8: tx.smtpUtf8,
      },
      client: {
        ip: state.ip,
        port: state.port,
        rdns,
        helo: session.hostNameAppearsAs || null,
        listener: this.config.name,
        senderGroup: state.hat?.rule.senderGroup ?? null,
        hatPolicy: state.hat?.rule.policy ?? null,
        tls,
        authUser,
      },
      headers: result.header.summary,
      size: result.size,
      receivedHeader: receivedHeader({
        helo: session.hostNameAppearsAs || null,
        rdns,
        ip: state.ip,
        hostname: this.deps.hostname,
        protocol: session.transmissionType || 'ESMTP',
        tls,
        mid: tx.mid,
        recipients: tx.recipients,
        at: now,
      }),
    }
    let entry: SpoolEntry
    let body: Buffer | undefined
    try {
      // The size is known now; a message that would eat into the reserve is not stored.
      if (!this.deps.spool.space.hasRoomFor(result.size)) throw spaceReserveReached()
      const stored = await sink.finish()
      if (stored.kind === 'inline') body = joinSharedBody(stored.chunks, stored.size)
      entry = await this.deps.spool.storeMessage(meta, stored)
    } catch (err) {
      await sink.discard()
      const full =
        (err as { full?: boolean }).full === true ||
        (err as NodeJS.ErrnoException).code === 'ENOSPC'
      const problem = reply(full ? 'SPOOL_FULL' : 'SPOOL_FAILURE')
      state
        .log()
        .error(
          { event: 'SMTP_SPOOL_FAILED', mid: tx.mid, err: describeError(err) },
          'message could not be spooled',
        )
      tx.events.push({
        at: now,
        mid: tx.mid,
        icid: state.icid,
        event: 'DATA_REJECTED',
        details: { reply: replyLine(problem) },
      })
      this.finishRejected(session, state, 'rejected', problem, result.header.summary)
      throw new SmtpReplyError(problem)
    }
    // Durable: from here on the message must be delivered or bounced.
    tx.finished = true
    state.accepted++
    const queued = reply('QUEUED', { mid: tx.mid })
    const at = this.clock.now()
    tx.events.push({
      at,
      mid: tx.mid,
      icid: state.icid,
      event: 'ACCEPTED',
      details: {
        size: result.size,
        reply: replyLine(queued),
        normalised: result.normalised || undefined,
      },
    })
    // The client gets its 250 first; the bookkeeping and the hand-over to the queue follow
    // (tracking's message row before anything the queue records about it).
    setImmediate(() => {
      this.writeTracking(meta, tx, 'queued', null)
      this.counters.accepted[direction].inc()
      this.counters.bytes.inc(result.size)
      state.log().info(
        {
          event: 'SMTP_MESSAGE_ACCEPTED',
          mid: tx.mid,
          from: tx.mailFrom,
          rcpts: tx.recipients.length,
          size: result.size,
          direction,
        },
        'message accepted',
      )
      this.deps.onAccepted(entry, body)
    })
    return `${queued.enhanced} ${queued.text}`
  }

  /** Records a transaction that ended without a message (refused, aborted). */
  private finishRejected(
    session: Session,
    state: SessionState,
    status: 'rejected' | 'aborted',
    problem: SmtpReply | null,
    headers: MessageMeta['headers'] | null = null,
  ): void {
    const tx = state.tx
    if (!tx || tx.finished) return
    tx.finished = true
    if (status === 'aborted' && tx.recipients.length === 0 && tx.lastRefusal) {
      // Every recipient was refused: the client gave up because of us.
      status = 'rejected'
      problem = tx.lastRefusal
    }
    const meta: MessageMeta = {
      mid: tx.mid,
      icid: state.icid,
      receivedAt: tx.startedAt,
      direction: this.direction(state, session),
      origin: 'smtp',
      envelope: {
        mailFrom: tx.mailFrom,
        recipients: tx.recipients,
        bodyType: tx.bodyType,
        smtpUtf8: tx.smtpUtf8,
      },
      client: {
        ip: state.ip,
        port: state.port,
        rdns: state.hat?.rdns ?? this.deps.rdns.peek(state.ip) ?? null,
        helo: session.hostNameAppearsAs || null,
        listener: this.config.name,
        senderGroup: state.hat?.rule.senderGroup ?? null,
        hatPolicy: state.hat?.rule.policy ?? null,
        tls: tlsDescription(session),
        authUser: typeof session.user === 'string' ? session.user : null,
      },
      headers: headers ?? {
        messageId: null,
        subject: null,
        from: null,
        to: null,
        replyTo: null,
        date: null,
      },
      size: 0,
      receivedHeader: '',
    }
    this.writeTracking(meta, tx, status, problem ? replyLine(problem) : null)
  }

  private writeTracking(
    meta: MessageMeta,
    tx: Transaction,
    status: 'queued' | 'rejected' | 'aborted',
    replyText: string | null,
  ): void {
    const writer = this.deps.tracking
    writer.message(trackingRow(meta, status, { reply: replyText, recipients: tx.recipients }))
    writer.events(tx.events)
    writer.observables(envelopeObservables(meta))
  }
}

/** The observables the envelope and header summary give (the pipeline adds URLs, hashes …). */
export function envelopeObservables(meta: MessageMeta): NewObservable[] {
  const at = meta.receivedAt
  const mid = meta.mid
  const out: NewObservable[] = [
    { type: 'cisco_mid', value: String(mid), mid, at },
    { type: isIP(meta.client.ip) === 6 ? 'ipv6' : 'ip', value: meta.client.ip, mid, at },
  ]
  const addresses = new Set<string>()
  if (meta.envelope.mailFrom) addresses.add(meta.envelope.mailFrom.toLowerCase())
  for (const r of meta.envelope.recipients) addresses.add(r.toLowerCase())
  const domains = new Set<string>()
  for (const a of addresses) {
    out.push({ type: 'email', value: a, mid, at })
    const d = domainOf(a)
    if (d) domains.add(d)
  }
  for (const d of domains) out.push({ type: 'domain', value: d, mid, at })
  if (meta.headers.messageId)
    out.push({ type: 'email_messageid', value: meta.headers.messageId, mid, at })
  if (meta.headers.subject)
    out.push({ type: 'email_subject', value: meta.headers.subject, mid, at })
  return out
}

function tlsDescription(session: SMTPServerSession): string | null {
  const tls = session.tlsOptions as
    { name?: string; version?: string; standardName?: string } | false | undefined
  if (!session.secure || !tls) return null
  return `${tls.version ?? 'TLS'} ${tls.standardName ?? tls.name ?? ''}`.trim()
}

function spaceReserveReached(): Error {
  return Object.assign(new Error('spool free-space reserve reached'), { full: true })
}

/** A valid scrypt hash of a random string: verified against for unknown users. */
const DUMMY_HASH =
  'scrypt$32768$8$1$bm90LWEtcmVhbC1zYWx0$3q2-7wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'
