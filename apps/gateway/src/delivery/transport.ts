import type { Readable } from 'node:stream'

/** One delivery transaction: one message to the recipients one destination serves. */
export interface DeliveryRequest {
  mid: number
  /** '' for the null sender. */
  from: string
  recipients: readonly string[]
  bodyType: '7bit' | '8bitmime'
  smtpUtf8: boolean
  size: number
  /** The bytes to send (our Received header first), as a buffer or a stream. */
  message(): Buffer | Readable
  /**
   * Set when the body is a spool file of its own (a large message): `message()` streams
   * `prefix` then the file, and a transport on another thread can open the file itself.
   */
  file?: { prefix: Buffer; path: string }
}

export type RecipientResultStatus = 'delivered' | 'deferred' | 'bounced'

export interface RecipientResult {
  recipient: string
  status: RecipientResultStatus
  /** The remote reply (or our reason) as one line, e.g. `550 5.1.1 <x>: no such user`. */
  reply: string
  /** Enhanced status code (RFC 3463) for DSNs, e.g. `5.1.1`. */
  enhanced: string
}

export interface DeliveryOutcome {
  results: RecipientResult[]
  /** Delivery connection id (SMTP), when a connection was used. */
  dcid?: number
  /** The host that answered (`mx.example.com:25`) or the Maildir root. */
  host?: string
}

/** A way to deliver: an SMTP destination (with its connection pool), a Maildir tree. */
export interface Transport {
  readonly key: string
  deliver(request: DeliveryRequest): Promise<DeliveryOutcome>
  /** Closes idle connections and refuses new work. */
  close(): Promise<void>
}

/** The same outcome for every recipient (connection failures, envelope-wide refusals). */
export function allRecipients(
  request: DeliveryRequest,
  status: RecipientResultStatus,
  reply: string,
  enhanced: string,
  extra: Omit<DeliveryOutcome, 'results'> = {},
): DeliveryOutcome {
  return {
    ...extra,
    results: request.recipients.map((recipient) => ({ recipient, status, reply, enhanced })),
  }
}

/** Enhanced code in a reply line (`550 5.1.1 …` → `5.1.1`), else one derived from the code. */
export function enhancedOf(replyLine: string, fallbackClass: 4 | 5): string {
  const match = /^\d{3}[ -]([245]\.\d{1,3}\.\d{1,3})\b/.exec(replyLine)
  if (match) return match[1] as string
  const code = /^(\d)\d\d/.exec(replyLine)
  return code ? `${code[1]}.0.0` : `${fallbackClass}.0.0`
}

/** A single printable line of at most `max` characters (remote replies are hostile too). */
export function oneLine(text: string, max = 500): string {
  // eslint-disable-next-line no-control-regex
  const cleaned = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim()
  return cleaned.length > max ? `${cleaned.slice(0, max)}…` : cleaned
}
