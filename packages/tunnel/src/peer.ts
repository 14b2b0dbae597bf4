import { randomUUID } from 'node:crypto'
import type { WebSocket, RawData } from 'ws'
import { AppError, describeError, isAppError, type Logger } from '@postern/core'
import { tunnelErrors } from './errors.js'
import {
  CLOSE_CODES,
  frame as frameSchema,
  TUNNEL_PROTOCOL_VERSION,
  type Frame,
  type RemoteError,
  type RequestFrame,
} from './protocol.js'

/** What a request handler learns about the call it serves. */
export interface CallContext<C> {
  /** The peer's identity on this connection (a device id on the hub, `hub` on a gateway). */
  peer: string
  /** What the authenticating side attached to the connection (e.g. the device's org). */
  context: C
  /** Milliseconds the caller will wait for the reply. */
  timeoutMs: number
  /** Aborted when the caller gave up or the connection closed. */
  signal: AbortSignal
  logger: Logger
}

export type RequestHandler<C> = (params: unknown, call: CallContext<C>) => Promise<unknown>
export type EventHandler<C> = (topic: string, data: unknown, peer: TunnelPeer<C>) => void

/** Methods a side serves, and what it does with the other side's events. */
export interface TunnelHandlers<C> {
  requests: Readonly<Record<string, RequestHandler<C>>>
  onEvent?: EventHandler<C>
}

export interface PeerOptions<C> {
  /** Name of the other side, for logs and errors. */
  peer: string
  context: C
  handlers: TunnelHandlers<C>
  logger: Logger
  /** Ping interval; the peer is declared dead after two intervals without a pong. */
  heartbeatMs: number
  /** Timeout of calls that do not give their own. */
  defaultTimeoutMs: number
  /** Calls this side may have waiting for replies at once. */
  maxInFlight?: number
}

interface Pending {
  method: string
  resolve(value: unknown): void
  reject(err: unknown): void
  timer: NodeJS.Timeout
}

/**
 * One live tunnel connection, seen from either end: sends requests and matches replies by id,
 * serves the other side's requests with the registered handlers, and keeps the connection
 * alive with pings. Both the hub's server and the gateway's client wrap their sockets in it.
 */
export class TunnelPeer<C = unknown> {
  readonly peer: string
  readonly context: C
  readonly connectedAt = Date.now()
  private readonly pending = new Map<string, Pending>()
  private readonly serving = new Map<string, AbortController>()
  private readonly heartbeat: NodeJS.Timeout
  private awaitingPong = false
  private closed = false
  private readonly closeListeners: ((code: number, reason: string) => void)[] = []
  private readonly logger: Logger

  constructor(
    private readonly socket: WebSocket,
    private readonly options: PeerOptions<C>,
  ) {
    this.peer = options.peer
    this.context = options.context
    this.logger = options.logger
    socket.on('message', (data, isBinary) => this.onMessage(data, isBinary))
    socket.on('pong', () => {
      this.awaitingPong = false
    })
    socket.on('close', (code, reason) => this.onClose(code, reason.toString('utf8')))
    socket.on('error', (err) =>
      this.logger.warn(
        { event: 'TUNNEL_SOCKET_ERROR', peer: this.peer, err: describeError(err) },
        'tunnel socket error',
      ),
    )
    this.heartbeat = setInterval(() => this.beat(), options.heartbeatMs)
    this.heartbeat.unref()
  }

  get isOpen(): boolean {
    return !this.closed
  }

  get inFlight(): number {
    return this.pending.size
  }

  /** Calls `method` on the other side and resolves with its result (or rejects with its coded error). */
  request(method: string, params: unknown, options: { timeoutMs?: number } = {}): Promise<unknown> {
    if (this.closed) return Promise.reject(tunnelErrors.NOT_CONNECTED({ peer: this.peer }))
    const limit = this.options.maxInFlight ?? 256
    if (this.pending.size >= limit) {
      return Promise.reject(tunnelErrors.TOO_MANY_IN_FLIGHT({ peer: this.peer, limit }))
    }
    const timeoutMs = options.timeoutMs ?? this.options.defaultTimeoutMs
    const id = randomUUID()
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(tunnelErrors.TIMEOUT({ method, peer: this.peer, timeoutMs }))
      }, timeoutMs)
      this.pending.set(id, { method, resolve, reject, timer })
      this.send({ type: 'request', id, method, params: params ?? null, timeoutMs }, (err) => {
        if (err) this.settle(id, undefined, tunnelErrors.CLOSED({ peer: this.peer, method }))
      })
    })
  }

  /** Sends a one-way event; false when the connection is closed (the caller decides to retry). */
  notify(topic: string, data: unknown): boolean {
    if (this.closed) return false
    this.send({ type: 'event', topic, data: data ?? null })
    return true
  }

  onClosed(listener: (code: number, reason: string) => void): void {
    if (this.closed) listener(CLOSE_CODES.NORMAL, 'already closed')
    else this.closeListeners.push(listener)
  }

  /** Closes with a code the other side acts on (see CLOSE_CODES). */
  close(code: number = CLOSE_CODES.NORMAL, reason = ''): void {
    if (this.closed) return
    this.socket.close(code, reason.slice(0, 120))
    // A peer that does not complete the closing handshake is cut after a grace period.
    setTimeout(() => this.socket.terminate(), 2_000).unref()
  }

  /** Drops the connection at once, without a closing handshake. */
  terminate(): void {
    this.socket.terminate()
  }

  private beat(): void {
    if (this.closed) return
    if (this.awaitingPong) {
      this.logger.warn(
        { event: 'TUNNEL_HEARTBEAT_TIMEOUT', peer: this.peer },
        'tunnel peer stopped answering pings',
      )
      this.socket.terminate()
      return
    }
    this.awaitingPong = true
    this.socket.ping()
  }

  private send(frame: Frame, callback?: (err?: Error) => void): void {
    this.socket.send(JSON.stringify(frame), callback)
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    // Any traffic proves the peer is alive, which matters when large replies delay pongs.
    this.awaitingPong = false
    if (isBinary) return this.protocolError('binary frames are not used')
    let parsed: Frame
    try {
      // ws hands text frames over as a Buffer: decoded in place (Buffer.from would copy it).
      const text = Array.isArray(data)
        ? Buffer.concat(data).toString('utf8')
        : Buffer.isBuffer(data)
          ? data.toString('utf8')
          : Buffer.from(data).toString('utf8')
      const result = frameSchema.safeParse(JSON.parse(text))
      if (!result.success) {
        return this.protocolError(result.error.issues[0]?.message ?? 'schema mismatch')
      }
      parsed = result.data
    } catch (err) {
      return this.protocolError(describeError(err))
    }
    if (parsed.type === 'response') {
      this.settle(parsed.id, parsed.result, parsed.error ? remoteToError(parsed.error) : undefined)
    } else if (parsed.type === 'request') {
      void this.serve(parsed)
    } else {
      try {
        this.options.handlers.onEvent?.(parsed.topic, parsed.data, this)
      } catch (err) {
        this.logger.error(
          { event: 'TUNNEL_EVENT_HANDLER_FAILED', peer: this.peer, topic: parsed.topic, err },
          'tunnel event handler failed',
        )
      }
    }
  }

  private protocolError(reason: string): void {
    const err = tunnelErrors.FRAME_INVALID({
      peer: this.peer,
      reason,
      version: TUNNEL_PROTOCOL_VERSION,
    })
    this.logger.warn({ event: 'TUNNEL_FRAME_INVALID', peer: this.peer, reason }, err.message)
    this.close(CLOSE_CODES.PROTOCOL_ERROR, 'malformed frame')
  }

  private async serve(request: RequestFrame): Promise<void> {
    const handler = Object.hasOwn(this.options.handlers.requests, request.method)
      ? this.options.handlers.requests[request.method]
      : undefined
    if (!handler) {
      this.reply(request.id, undefined, tunnelErrors.UNKNOWN_METHOD({ method: request.method }))
      return
    }
    const abort = new AbortController()
    this.serving.set(request.id, abort)
    const timer = setTimeout(() => abort.abort(), request.timeoutMs)
    const logger = this.logger.child({ tunnelCall: request.id, method: request.method })
    try {
      const result = await handler(request.params, {
        peer: this.peer,
        context: this.context,
        timeoutMs: request.timeoutMs,
        signal: abort.signal,
        logger,
      })
      this.reply(request.id, result ?? null, undefined)
    } catch (err) {
      if (isAppError(err)) {
        if (err.status >= 500) logger.error({ event: 'TUNNEL_HANDLER_ERROR', err }, err.message)
        this.reply(request.id, undefined, err)
      } else {
        const traceId = randomUUID()
        logger.error(
          { event: 'TUNNEL_HANDLER_FAILED', traceId, err },
          'tunnel request handler failed',
        )
        this.reply(
          request.id,
          undefined,
          tunnelErrors.HANDLER_FAILED({ method: request.method, traceId }),
        )
      }
    } finally {
      clearTimeout(timer)
      this.serving.delete(request.id)
    }
  }

  private reply(id: string, result: unknown, error: AppError | undefined): void {
    if (this.closed) return
    const payload: Frame = error
      ? {
          type: 'response',
          id,
          error: {
            code: error.code,
            message: error.message,
            hint: error.hint,
            status: error.status,
          },
        }
      : { type: 'response', id, result }
    this.send(payload)
  }

  private settle(id: string, result: unknown, error: unknown): void {
    const pending = this.pending.get(id)
    if (!pending) return // late reply after a timeout: the caller has moved on
    this.pending.delete(id)
    clearTimeout(pending.timer)
    if (error) pending.reject(error)
    else pending.resolve(result)
  }

  private onClose(code: number, reason: string): void {
    if (this.closed) return
    this.closed = true
    clearInterval(this.heartbeat)
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer)
      pending.reject(tunnelErrors.CLOSED({ peer: this.peer, method: pending.method }))
      this.pending.delete(id)
    }
    for (const abort of this.serving.values()) abort.abort()
    this.serving.clear()
    for (const listener of this.closeListeners.splice(0)) listener(code, reason)
  }
}

/** Rebuilds the other side's coded error so callers can test `err.code` as for local errors. */
export function remoteToError(remote: RemoteError): AppError {
  return new AppError(
    remote.code,
    { message: remote.message, hint: remote.hint ?? '', status: remote.status ?? 502 },
    {},
  )
}
