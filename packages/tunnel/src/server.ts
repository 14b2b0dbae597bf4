import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { WebSocketServer, type WebSocket } from 'ws'
import { describeError, silentLogger, type Logger } from '@postern/core'
import { tunnelErrors } from './errors.js'
import { TunnelPeer, type TunnelHandlers } from './peer.js'
import { CLOSE_CODES, TUNNEL_SUBPROTOCOL } from './protocol.js'

/** The outcome of authenticating an upgrade request. */
export type TunnelAuthResult<C> =
  { ok: true; peerId: string; context: C } | { ok: false; status: number; body: unknown }

export interface TunnelServerOptions<C> {
  /** Request path of the tunnel endpoint, e.g. `/api/v1/tunnel`. */
  path: string
  /** Decides from the upgrade request (its `Authorization` header) who is connecting. */
  authenticate: (request: IncomingMessage) => Promise<TunnelAuthResult<C>>
  handlers: TunnelHandlers<C>
  logger?: Logger
  heartbeatMs?: number
  defaultTimeoutMs?: number
  maxPayload?: number
  onConnect?: (peer: TunnelPeer<C>) => void
  onDisconnect?: (peer: TunnelPeer<C>, code: number, reason: string) => void
}

/**
 * The hub's side: accepts upgrades on one path of an existing HTTP server (the library opens no
 * listener), authenticates each one before the WebSocket handshake completes, keeps one live
 * connection per peer id (a reconnecting gateway replaces its stale connection), and lets the
 * hub call any connected peer.
 */
export class TunnelServer<C> {
  private readonly wss: WebSocketServer
  private readonly peers = new Map<string, TunnelPeer<C>>()
  private readonly logger: Logger
  private closing = false

  constructor(private readonly options: TunnelServerOptions<C>) {
    this.logger = options.logger ?? silentLogger()
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxPayload ?? 16 * 1024 * 1024,
      perMessageDeflate: false,
      handleProtocols: (protocols) =>
        protocols.has(TUNNEL_SUBPROTOCOL) ? TUNNEL_SUBPROTOCOL : false,
    })
  }

  /** For `server.on('upgrade', …)`: true when the request was for the tunnel path and is handled. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const path = (request.url ?? '').split('?')[0]
    if (path !== this.options.path) return false
    socket.on('error', () => socket.destroy())
    if (this.closing) {
      rejectUpgrade(socket, 503, {
        error: { code: 'TUNNEL_ERR_NOT_CONNECTED', message: 'The hub is shutting down' },
      })
      return true
    }
    void this.options
      .authenticate(request)
      .then((auth) => {
        if (!auth.ok) {
          rejectUpgrade(socket, auth.status, auth.body)
          return
        }
        this.wss.handleUpgrade(request, socket, head, (ws) =>
          this.accept(ws, auth.peerId, auth.context),
        )
      })
      .catch((err: unknown) => {
        this.logger.error(
          { event: 'TUNNEL_AUTH_FAILED', err: describeError(err) },
          'tunnel authentication failed',
        )
        rejectUpgrade(socket, 500, {
          error: { code: 'TUNNEL_ERR_HANDLER_FAILED', message: 'authentication failed' },
        })
      })
    return true
  }

  /** Peer ids with a live connection. */
  connectedPeers(): string[] {
    return [...this.peers.keys()]
  }

  get(peerId: string): TunnelPeer<C> | undefined {
    const peer = this.peers.get(peerId)
    return peer?.isOpen ? peer : undefined
  }

  /** Calls `method` on a connected peer. */
  call(
    peerId: string,
    method: string,
    params: unknown,
    options: { timeoutMs?: number } = {},
  ): Promise<unknown> {
    const peer = this.get(peerId)
    if (!peer) return Promise.reject(tunnelErrors.NOT_CONNECTED({ peer: peerId }))
    return peer.request(method, params, options)
  }

  /** Closes a peer's connection (e.g. `REVOKED` when its credential was revoked). */
  disconnect(peerId: string, code: number = CLOSE_CODES.NORMAL, reason = ''): boolean {
    const peer = this.peers.get(peerId)
    if (!peer) return false
    peer.close(code, reason)
    return true
  }

  /** Closes every connection with "going away" so gateways reconnect to the next hub process. */
  async close(): Promise<void> {
    this.closing = true
    const peers = [...this.peers.values()]
    await Promise.all(
      peers.map(
        (peer) =>
          new Promise<void>((resolve) => {
            peer.onClosed(() => resolve())
            peer.close(CLOSE_CODES.GOING_AWAY, 'hub shutting down')
          }),
      ),
    )
    await new Promise<void>((resolve) => this.wss.close(() => resolve()))
  }

  private accept(ws: WebSocket, peerId: string, context: C): void {
    const previous = this.peers.get(peerId)
    const peer = new TunnelPeer<C>(ws, {
      peer: peerId,
      context,
      handlers: this.options.handlers,
      logger: this.logger.child({ peerId }),
      heartbeatMs: this.options.heartbeatMs ?? 15_000,
      defaultTimeoutMs: this.options.defaultTimeoutMs ?? 30_000,
    })
    this.peers.set(peerId, peer)
    if (previous) previous.close(CLOSE_CODES.REPLACED, 'replaced by a newer connection')
    peer.onClosed((code, reason) => {
      if (this.peers.get(peerId) === peer) this.peers.delete(peerId)
      try {
        this.options.onDisconnect?.(peer, code, reason)
      } catch (err) {
        this.logger.error({ event: 'TUNNEL_ON_DISCONNECT_FAILED', err }, 'onDisconnect failed')
      }
    })
    try {
      this.options.onConnect?.(peer)
    } catch (err) {
      this.logger.error({ event: 'TUNNEL_ON_CONNECT_FAILED', err }, 'onConnect failed')
    }
  }
}

/** Answers an upgrade request with a plain HTTP error (RFC 6455 §4.2.2: any non-101 refuses). */
function rejectUpgrade(socket: Duplex, status: number, body: unknown): void {
  if (socket.destroyed) return
  const text = JSON.stringify(body)
  const reason =
    status === 401
      ? 'Unauthorized'
      : status === 403
        ? 'Forbidden'
        : status === 503
          ? 'Service Unavailable'
          : 'Error'
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\n` +
      'Content-Type: application/json\r\n' +
      `Content-Length: ${Buffer.byteLength(text)}\r\n` +
      (status === 401 ? 'WWW-Authenticate: Bearer realm="postern-tunnel"\r\n' : '') +
      'Connection: close\r\n\r\n' +
      text,
  )
}
