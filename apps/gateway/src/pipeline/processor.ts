import type { Readable } from 'node:stream'
import type { Logger } from '@postern/core'
import type { Direction, NewEvent, NewObservable } from '@postern/store'
import type { TrackingWriter } from '../tracking/writer.js'

/**
 * The content pipeline's contract with the gateway core. The core calls `process` once for
 * every accepted message, after it is safely in the spool (the client already has its 250),
 * and applies the per-recipient outcomes it returns. The result is written to the spool before
 * any delivery starts, so a restart never processes a message twice once it has a result.
 */
export interface MessageProcessor {
  /** Shown in logs and tracking events. */
  readonly name: string
  /**
   * Decides what happens to each envelope recipient. Throwing (or rejecting) defers the
   * message: processing is retried on the queue's retry schedule, and after the queue
   * lifetime the message is bounced. A processor must therefore be safe to call again for the
   * same message.
   */
  process(message: AcceptedMessage, context: ProcessingContext): Promise<ProcessingResult>
}

/** The client that handed the message over (the injection connection, ICID). */
export interface ClientInfo {
  ip: string
  port: number
  /** Verified-format PTR name, when it was looked up and exists. */
  rdns: string | null
  /** The EHLO/HELO argument as sent (never trust it). */
  helo: string | null
  listener: string
  senderGroup: string | null
  hatPolicy: string | null
  /** TLS protocol and cipher, e.g. `TLSv1.3 TLS_AES_256_GCM_SHA384`; null in plaintext. */
  tls: string | null
  /** SMTP AUTH identity, when the client authenticated. */
  authUser: string | null
}

/** Header fields the core extracts while the message streams in (decoded, one line each). */
export interface HeaderSummary {
  messageId: string | null
  subject: string | null
  from: string | null
  to: string | null
  replyTo: string | null
  date: string | null
}

export interface MessageEnvelope {
  /** The reverse-path; '' is the null sender of bounces (RFC 5321 §4.5.5). */
  mailFrom: string
  /** Forward-paths in the order the client sent them. */
  recipients: readonly string[]
  /** BODY= parameter (RFC 6152). */
  bodyType: '7bit' | '8bitmime'
  /** SMTPUTF8 parameter (RFC 6531). */
  smtpUtf8: boolean
}

export interface AcceptedMessage {
  /** Message id: a gateway-wide increasing integer. */
  mid: number
  /** Injection connection id. */
  icid: number
  receivedAt: number
  /** `outgoing` from a RELAYED sender group or an authenticated client, else `incoming`. */
  direction: Direction
  envelope: MessageEnvelope
  client: ClientInfo
  headers: HeaderSummary
  /** Bytes as received: CRLF line endings, dot-unstuffed, without our Received header. */
  size: number
  /** The Received header (RFC 5321 §4.4) the gateway prepends on delivery, with its CRLF. */
  receivedHeader: string
  /** The whole message as received. Prefer `openBody` for large messages. */
  readBody(): Promise<Buffer>
  /** A stream of the message as received. */
  openBody(): Readable
}

export interface ProcessingContext {
  logger: Logger
  /** Batched tracking writes (events, observables, rows of the pipeline's own tables). */
  tracking: TrackingWriter
  /** Aborted when the gateway stops; give up and throw. */
  signal: AbortSignal
}

/** What happens to one envelope recipient. */
export type RecipientOutcome =
  /** Deliver the original message, or `variants[variant]` when set. */
  | { action: 'deliver'; variant?: number; reason?: string }
  /** Deliver to these addresses instead (e.g. a policy's redirect). */
  | { action: 'redirect'; to: readonly string[]; variant?: number; reason?: string }
  /** The processor kept the message in a quarantine; the core only records it. */
  | { action: 'quarantine'; quarantine: string; reason?: string }
  /** Discard silently. */
  | { action: 'drop'; reason: string }
  /** Refuse with a DSN to the envelope sender (RFC 3464), e.g. `status: '5.7.1'`. */
  | { action: 'bounce'; reason: string; status?: string }

export interface ProcessingResult {
  /** One outcome per envelope recipient, in envelope order. */
  recipients: readonly RecipientOutcome[]
  /** Rewritten messages (e.g. tagged subject, added headers): full bytes, CRLF lines. */
  variants?: readonly Buffer[]
  /** Timeline events to record (verdicts, policy matches). */
  events?: readonly Omit<NewEvent, 'mid'>[]
  /** Observables found in the message (URLs, hashes, attachment names …). */
  observables?: readonly Omit<NewObservable, 'mid' | 'at'>[]
}

/** The default: every recipient gets the message as received. */
export const passThroughProcessor: MessageProcessor = {
  name: 'pass-through',
  async process(message) {
    return { recipients: message.envelope.recipients.map(() => ({ action: 'deliver' as const })) }
  },
}
