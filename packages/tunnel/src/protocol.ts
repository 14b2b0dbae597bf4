import { z } from 'zod'

/**
 * Tunnel protocol, version 1. One JSON text frame per WebSocket message (RFC 6455 §5.6).
 *
 * - `request`: either side asks the other to run `method` with `params`; `timeoutMs` tells the
 *   callee how long the caller waits, so it can give up on work nobody will read.
 * - `response`: the reply to the request with the same `id`, carrying `result` or `error`.
 * - `event`: a one-way notification (no reply).
 *
 * Liveness uses WebSocket ping/pong control frames (RFC 6455 §5.5.2–5.5.3) from both ends, so
 * proxies and NAT see traffic and each side notices a silent peer.
 */
export const TUNNEL_PROTOCOL_VERSION = 1

/** Subprotocol offered in `Sec-WebSocket-Protocol` (RFC 6455 §1.9), versioned. */
export const TUNNEL_SUBPROTOCOL = `postern-tunnel.v${TUNNEL_PROTOCOL_VERSION}`

const id = z.string().min(1).max(64)

export const requestFrame = z
  .object({
    type: z.literal('request'),
    id,
    method: z.string().min(1).max(128),
    params: z.unknown(),
    timeoutMs: z.number().int().positive().max(3_600_000),
  })
  .strict()

export const remoteError = z
  .object({
    code: z.string().min(1).max(128),
    message: z.string().max(4096),
    hint: z.string().max(4096).optional(),
    status: z.number().int().min(100).max(599).optional(),
  })
  .strict()

export const responseFrame = z
  .object({
    type: z.literal('response'),
    id,
    result: z.unknown().optional(),
    error: remoteError.optional(),
  })
  .strict()

export const eventFrame = z
  .object({
    type: z.literal('event'),
    topic: z.string().min(1).max(128),
    data: z.unknown(),
  })
  .strict()

export const frame = z.discriminatedUnion('type', [requestFrame, responseFrame, eventFrame])

export type RequestFrame = z.infer<typeof requestFrame>
export type ResponseFrame = z.infer<typeof responseFrame>
export type EventFrame = z.infer<typeof eventFrame>
export type Frame = z.infer<typeof frame>
export type RemoteError = z.infer<typeof remoteError>

/** Close codes in the private range (RFC 6455 §7.4.2) with a meaning both sides act on. */
export const CLOSE_CODES = {
  /** Normal shutdown of either side. */
  NORMAL: 1000,
  /** The server is going away (restart); reconnect. */
  GOING_AWAY: 1001,
  /** A frame broke the protocol. */
  PROTOCOL_ERROR: 1002,
  /** A newer connection of the same peer replaced this one; do not fight over it. */
  REPLACED: 4000,
  /** The credential was revoked (device deregistered); do not reconnect. */
  REVOKED: 4001,
  /** The peer stopped answering pings. */
  HEARTBEAT_TIMEOUT: 4002,
} as const
