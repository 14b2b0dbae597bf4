import type { IncomingMessage } from 'node:http'
import { WebSocket } from 'ws'
import { describeError, silentLogger, type AppError, type Logger } from '@postern/core'
import { Backoff } from './backoff.js'
import { tunnelErrors } from './errors.js'
import { TunnelPeer, type TunnelHandlers } from './peer.js'
import { CLOSE_CODES, TUNNEL_SUBPROTOCOL } from './protocol.js'

export type TunnelClientState =
  'idle' | 'connecting' | 'connected' | 'waiting' | 'refused' | 'stopped'

export interface TunnelClientStatus {
  state: TunnelClientState
  /** Since when the current connection is up (epoch ms). */
  connectedSince: number | null
  /** The last failure, in words, with its code; cleared on a successful connection. */
  lastError: { code: string; message: string; at: number } | null
  /** Failed attempts since the last successful connection. */
  attempts: number
  /** When the next attempt is due while `waiting`. */
  nextAttemptAt: number | null
}

export interface TunnelClientOptions {
  /** `ws://` or `wss://` URL of the hub's tunnel endpoint. */
  url: string
  /**
   * Further tunnel URLs of the same hub (its other nodes). After each failed attempt or dropped
   * connection the client tries the next URL in turn, so a dead node's gateways move to a live one.
   */
  fallbackUrls?: readonly string[]
  /** The device credential, read at each attempt (it may change after a re-registration). */
  credential: () => string
  handlers: TunnelHandlers<null>
  logger?: Logger
  heartbeatMs?: number
  defaultTimeoutMs?: number
  connectTimeoutMs?: number
  backoff?: { initialMs: number; maxMs: number; random?: () => number }
  /** Extra headers sent with the upgrade request (device facts). */
  headers?: () => Record<string, string>
  /** Called on every state change. */
  onStatus?: (status: TunnelClientStatus) => void
  /** Called with each new connection, after it opens. */
  onConnected?: (peer: TunnelPeer<null>) => void
  /** Maximum size of one incoming frame in bytes. */
  maxPayload?: number
}

/**
 * The gateway's side: dials out to the hub (the only direction the seed's firewall rule opens),
 * authenticates with the device credential, and keeps the connection up — reconnecting with
 * exponential backoff and jitter after any drop, and stopping for good only when the hub
 * refuses the credential (it was revoked) or `stop()` is called.
 */
export class TunnelClient {
  private socket: WebSocket | null = null
  private peer: TunnelPeer<null> | null = null
  private timer: NodeJS.Timeout | null = null
  private readonly backoff: Backoff
  private readonly logger: Logger
  private current: TunnelClientStatus = {
    state: 'idle',
    connectedSince: null,
    lastError: null,
    attempts: 0,
    nextAttemptAt: null,
  }
  private readonly waiters: (() => void)[] = []
  private readonly urls: readonly string[]
  private urlIndex = 0

  constructor(private readonly options: TunnelClientOptions) {
    this.urls = [options.url, ...(options.fallbackUrls ?? [])]
    for (const url of this.urls)
      if (!/^wss?:\/\//.test(url)) throw tunnelErrors.URL_INVALID({ url })
    this.logger = options.logger ?? silentLogger()
    this.backoff = new Backoff(options.backoff ?? { initialMs: 500, maxMs: 30_000 })
  }

  /** The URL of the current (or next) connection attempt. */
  get url(): string {
    return this.urls[this.urlIndex] ?? this.options.url
  }

  get status(): TunnelClientStatus {
    return { ...this.current }
  }

  /** The live connection, or null between connections. */
  get connection(): TunnelPeer<null> | null {
    return this.peer?.isOpen ? this.peer : null
  }

  start(): void {
    if (this.current.state !== 'idle' && this.current.state !== 'stopped') return
    this.connect()
  }

  /** Closes the connection and stops reconnecting. */
  stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    this.update({ state: 'stopped', connectedSince: null, nextAttemptAt: null })
    const socket = this.socket
    this.socket = null
    if (!socket || socket.readyState === WebSocket.CLOSED) return Promise.resolve()
    return new Promise((resolve) => {
      socket.once('close', () => resolve())
      if (socket.readyState === WebSocket.CONNECTING) socket.terminate()
      else socket.close(CLOSE_CODES.NORMAL, 'stopping')
      setTimeout(() => {
        socket.terminate()
        resolve()
      }, 2_000).unref()
    })
  }

  /** Calls a method on the hub over the live connection. */
  request(method: string, params: unknown, options: { timeoutMs?: number } = {}): Promise<unknown> {
    const peer = this.connection
    if (!peer) return Promise.reject(tunnelErrors.NOT_CONNECTED({ peer: 'hub' }))
    return peer.request(method, params, options)
  }

  /** Resolves once connected (for callers that must not race the first connection). */
  whenConnected(): Promise<void> {
    if (this.connection) return Promise.resolve()
    return new Promise((resolve) => this.waiters.push(resolve))
  }

  private connect(): void {
    this.update({ state: 'connecting', nextAttemptAt: null })
    let credential: string
    try {
      credential = this.options.credential()
    } catch (err) {
      this.fail(tunnelErrors.REFUSED({ status: 'local', reason: describeError(err) }), false)
      return
    }
    const socket = new WebSocket(this.url, TUNNEL_SUBPROTOCOL, {
      headers: { authorization: `Bearer ${credential}`, ...(this.options.headers?.() ?? {}) },
      handshakeTimeout: this.options.connectTimeoutMs ?? 10_000,
      maxPayload: this.options.maxPayload ?? 16 * 1024 * 1024,
      perMessageDeflate: false,
    })
    this.socket = socket
    let refusal: AppError | null = null

    socket.on('unexpected-response', (_req, res: IncomingMessage) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.length < 16 && chunks.push(c))
      res.on('end', () => {
        const status = res.statusCode ?? 0
        const reason = summariseBody(Buffer.concat(chunks).toString('utf8'), res.statusMessage)
        if (status === 401 || status === 403) {
          refusal = tunnelErrors.REFUSED({ status, reason })
        } else {
          refusal = tunnelErrors.NOT_CONNECTED({ peer: `hub (HTTP ${status}: ${reason})` })
        }
        socket.terminate()
      })
    })
    socket.on('open', () => {
      if (this.socket !== socket) return
      this.backoff.reset()
      const peer = new TunnelPeer<null>(socket, {
        peer: 'hub',
        context: null,
        handlers: this.options.handlers,
        logger: this.logger,
        heartbeatMs: this.options.heartbeatMs ?? 15_000,
        defaultTimeoutMs: this.options.defaultTimeoutMs ?? 30_000,
      })
      this.peer = peer
      this.update({
        state: 'connected',
        connectedSince: Date.now(),
        lastError: null,
        attempts: 0,
      })
      this.logger.info({ event: 'TUNNEL_CONNECTED', url: this.url }, 'tunnel connected')
      for (const resolve of this.waiters.splice(0)) resolve()
      try {
        this.options.onConnected?.(peer)
      } catch (err) {
        this.logger.error({ event: 'TUNNEL_ON_CONNECTED_FAILED', err }, 'onConnected failed')
      }
    })
    socket.on('error', (err) => {
      if (!refusal) refusal = tunnelErrors.NOT_CONNECTED({ peer: `hub (${describeError(err)})` })
    })
    socket.on('close', (code, reasonBuffer) => {
      if (this.socket !== socket) return
      this.socket = null
      this.peer = null
      if (this.current.state === 'stopped') return
      const reason = reasonBuffer.toString('utf8')
      if (code === CLOSE_CODES.REVOKED) {
        this.fail(
          tunnelErrors.REFUSED({ status: 'revoked', reason: reason || 'credential revoked' }),
          false,
        )
        return
      }
      if (refusal && tunnelErrors.REFUSED.is(refusal)) {
        this.fail(refusal, false)
        return
      }
      const err =
        refusal ??
        tunnelErrors.NOT_CONNECTED({
          peer: `hub (closed with code ${code}${reason ? `: ${reason}` : ''})`,
        })
      this.fail(err, true)
    })
  }

  private fail(err: AppError, retry: boolean): void {
    const lastError = { code: err.code, message: err.message, at: Date.now() }
    if (!retry) {
      this.logger.warn(
        { event: 'TUNNEL_REFUSED', code: err.code, reason: err.message },
        'hub refused the tunnel; not retrying',
      )
      this.update({ state: 'refused', connectedSince: null, lastError, nextAttemptAt: null })
      return
    }
    const delay = this.backoff.next()
    this.urlIndex = (this.urlIndex + 1) % this.urls.length
    this.logger.info(
      {
        event: 'TUNNEL_RETRY',
        code: err.code,
        reason: err.message,
        delayMs: delay,
        next: this.url,
      },
      'tunnel down; retrying',
    )
    this.update({
      state: 'waiting',
      connectedSince: null,
      lastError,
      attempts: this.backoff.attempts,
      nextAttemptAt: Date.now() + delay,
    })
    this.timer = setTimeout(() => {
      this.timer = null
      if (this.current.state === 'waiting') this.connect()
    }, delay)
  }

  private update(change: Partial<TunnelClientStatus>): void {
    this.current = { ...this.current, ...change }
    try {
      this.options.onStatus?.(this.status)
    } catch (err) {
      this.logger.error({ event: 'TUNNEL_ON_STATUS_FAILED', err }, 'onStatus failed')
    }
  }
}

/** The hub answers refusals with a JSON error body; keep its message, never more than a line. */
function summariseBody(body: string, fallback: string | undefined): string {
  try {
    const parsed = JSON.parse(body) as {
      error?: { message?: string } | string
      error_description?: string
    }
    if (typeof parsed.error === 'object' && parsed.error?.message) return parsed.error.message
    if (parsed.error_description) return parsed.error_description
  } catch {
    // not JSON
  }
  return (body.trim() || fallback || 'no reason given').slice(0, 200)
}
