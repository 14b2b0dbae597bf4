import type { Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { SMTPServer, type SMTPServerOptions } from 'smtp-server'
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js'
import { engineEnhancedCode, hasEnhancedCode, reply, type SmtpReply } from './replies.js'
import type { WatchedSession } from './session-watchdog.js'

/**
 * smtp-server, adapted. Pinned to one exact version (apps/gateway/package.json) because this
 * file replaces parts of its connection class; `test/gateway/smtp-access.test.ts` checks the
 * behaviour (immediate greeting, early talker refused).
 *
 * - The fixed 100 ms wait before the greeting (early-talker detection, hard-coded in
 *   `SMTPConnection.init`) becomes a per-sender-group `pregreet` delay, 0 by default: with one
 *   message per connection that wait alone capped throughput at sessions ÷ 0.1 s.
 * - The host access table is consulted before the greeting (refuse, reset, or greet after the
 *   group's delay); a client that talks before the greeting is refused.
 * - Every reply carries an enhanced status code from `replies.ts`.
 * - Each connection keeps what the listener's watchdog (`session-watchdog.ts`) needs to close
 *   slow-drip clients, and DATA may be refused before its 354 (spool disk full).
 * - A new connection starts at once with a counter as its engine id: our listeners never take
 *   the PROXY protocol, and smtp-server's default spends a `setImmediate` and 10 random bytes
 *   (a getrandom call and BigInt formatting) per connection on a log id the engine's logger
 *   (off) alone uses; the ICID is the connection's id everywhere else.
 */

/** What to do with a new connection, decided from the HAT before any greeting. */
export type Admission =
  | { action: 'greet'; delayMs: number }
  | { action: 'refuse'; reply: SmtpReply }
  /** TCPREFUSE: reset the connection without a word. */
  | { action: 'reset' }

export interface EngineHooks {
  admit(connection: PosternConnection): Promise<Admission>
  /** The client wrote before the greeting. */
  earlyTalker(connection: PosternConnection): void
  /** Something failed while deciding: logged by the listener. */
  admissionFailed(connection: PosternConnection, err: unknown): void
  /** Before the 354 to DATA: a reply refuses the data phase (e.g. the spool disk is full). */
  beforeData(connection: PosternConnection): SmtpReply | undefined
  /** The clock the connection's deadlines use. */
  now(): number
}

export class PosternSmtpServer extends SMTPServer {
  private connectionsSeen = 0

  constructor(
    options: SMTPServerOptions,
    readonly hooks: EngineHooks,
  ) {
    super(options)
  }

  override _handleProxy(
    _socket: Socket,
    callback: (err: Error | null, socketOptions: { id: string }) => void,
  ): void {
    callback(null, { id: (++this.connectionsSeen).toString(36) })
  }

  override connect(
    socket: Socket | TLSSocket,
    socketOptions?: ConstructorParameters<typeof SMTPConnection>[2],
  ): void {
    const connection = new PosternConnection(this, socket, socketOptions)
    this.connections.add(connection)
    connection.on('error', (err: Error) => this.emit('error', err))
    connection.on('connect', (data: unknown) => this.emit('connect', data))
    connection.init()
  }
}

export class PosternConnection extends SMTPConnection implements WatchedSession {
  private greetTimer: NodeJS.Timeout | undefined
  /** Free for the listener: its per-connection state. */
  state: unknown
  lastCommandAt = (this._server as PosternSmtpServer).hooks.now()
  private dataStartedAt: number | undefined

  get data(): WatchedSession['data'] {
    const parser = this._parser
    if (this.dataStartedAt === undefined || !parser || !parser._dataMode) return undefined
    return { startedAt: this.dataStartedAt, bytes: parser.dataBytes }
  }

  get waitingForServer(): boolean {
    if (!this._ready || this._closing || this._closed || this._handlerPending) return true
    // The final dot arrived and the message is being decided on (spooled, fsynced).
    return Boolean(this._dataStream && this._parser && !this._parser._dataMode)
  }

  override init(): void {
    const server = this._server as PosternSmtpServer
    this._setListeners(() => {
      server.hooks.admit(this).then(
        (admission) => {
          if (this._closing || this._closed) return
          if (admission.action === 'reset') {
            const socket = this._socket as Socket
            if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy()
            else socket.destroy()
            return
          }
          if (admission.action === 'refuse') {
            this.sendReply(admission.reply)
            this.close()
            return
          }
          if (admission.delayMs > 0) {
            this.greetTimer = setTimeout(() => this.connectionReady(), admission.delayMs)
            this.greetTimer.unref()
          } else {
            this.connectionReady()
          }
        },
        (err: unknown) => {
          server.hooks.admissionFailed(this, err)
          if (this._closing || this._closed) return
          this.sendReply(reply('SPOOL_FAILURE'))
          this.close()
        },
      )
    })
  }

  override _onCommand(command: Buffer, callback?: () => void): void {
    if (!this._ready && !this._upgrading && !this._closing) {
      // RFC 5321 §3.1: the client waits for the greeting. Talking first is what spam
      // engines do to save time; the pregreet delay exists to catch them.
      clearTimeout(this.greetTimer)
      ;(this._server as PosternSmtpServer).hooks.earlyTalker(this)
      this.sendReply(reply('PREGREET_VIOLATION'))
      this.close()
      return
    }
    this.lastCommandAt = (this._server as PosternSmtpServer).hooks.now()
    this.dataStartedAt = undefined
    super._onCommand(command, callback)
  }

  override handler_DATA(command: Buffer, callback: () => void): void {
    const refusal =
      this.session.envelope.rcptTo.length > 0
        ? (this._server as PosternSmtpServer).hooks.beforeData(this)
        : undefined
    if (refusal) {
      this.sendReply(refusal)
      callback()
      return
    }
    this.dataStartedAt = (this._server as PosternSmtpServer).hooks.now()
    super.handler_DATA(command, callback)
  }

  override _onTimeout(): void {
    if (
      this._closing ||
      this._handlerPending ||
      (this._dataStream && this._parser && !this._parser._dataMode)
    ) {
      super._onTimeout()
      return
    }
    this.sendReply(reply('IDLE_TIMEOUT'))
  }

  override _onClose(): void {
    clearTimeout(this.greetTimer)
    super._onClose()
  }

  /** Sends one of our replies (with its enhanced code); a 421 closes the connection. */
  sendReply(r: SmtpReply): void {
    super.send(r.code, `${r.enhanced} ${r.text}`, false)
  }

  /**
   * Adds the enhanced status code (RFC 2034 §3) to replies made by the engine itself; our own
   * replies arrive with theirs already in the text. Greetings, EHLO lines and 3yz replies
   * carry none (smtp-server passes `false` for those, RFC 2034 §3). Refusals always carry one,
   * including those smtp-server sends with `false` — a refused EHLO ("501 syntax: EHLO
   * hostname"), a refused HELO — so that a client never has to parse free text to tell why.
   */
  override send(code: number, data?: string | string[] | null, context?: string | false): void {
    const refusal = code >= 400
    if (
      (context === false && !refusal) ||
      Array.isArray(data) ||
      (code >= 300 && code < 400) ||
      (typeof data === 'string' && hasEnhancedCode(data))
    ) {
      super.send(code, data, false)
      return
    }
    const enhanced = engineEnhancedCode(code, context === false ? undefined : context)
    super.send(code, `${enhanced} ${data ?? ''}`.trimEnd(), false)
  }
}
