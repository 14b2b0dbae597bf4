import { randomBytes } from 'node:crypto'
import { rfc5322Date } from '../smtp/received-header.js'

export interface FailedRecipient {
  recipient: string
  /** Enhanced status code (RFC 3463), e.g. `5.1.1` or `4.4.7` for an expired message. */
  status: string
  /** The remote reply or our reason, one line. */
  diagnostic: string
  /** The host that refused, when one did. */
  remoteMta?: string | undefined
  lastAttemptAt: number
}

export interface DsnInput {
  hostname: string
  /** The original message. */
  mid: number
  originalSender: string
  arrivalDate: number
  failed: readonly FailedRecipient[]
  /** The original header section (CRLF), returned as text/rfc822-headers. */
  originalHeaders: Buffer
  expired: boolean
  now: number
}

/** Printable US-ASCII only: DSN fields are 7-bit (RFC 3464 §2.1.3), remote text is not. */
function ascii(text: string, max = 900): string {
  const cleaned = text.replace(/[^\x20-\x7e]/g, '?')
  return cleaned.length > max ? `${cleaned.slice(0, max)}...` : cleaned
}

function addressType(address: string): string {
  // RFC 6533 §3: utf-8 address type for internationalised addresses.
  return /^[\x20-\x7e]*$/.test(address) ? `rfc822;${address}` : `utf-8;${ascii(address)}`
}

/**
 * A delivery status notification (RFC 3464) for recipients that failed for good: a
 * multipart/report with a human-readable part, the machine-readable message/delivery-status,
 * and the original headers (RFC 6522). Sent from the null sender (RFC 5321 §4.5.5) with
 * `Auto-Submitted: auto-replied` (RFC 3834) so that it is never answered or bounced itself.
 */
export function buildDsn(input: DsnInput): Buffer {
  const boundary = `postern-dsn-${randomBytes(12).toString('hex')}`
  const date = rfc5322Date(input.now)
  const messageId = `<dsn.${input.mid}.${randomBytes(6).toString('hex')}@${input.hostname}>`
  const reason = input.expired
    ? 'It could not be delivered in time; the mail system gave up.'
    : 'It could not be delivered to the recipients below; the mail system will not try again.'
  const human = [
    `This is the mail system at ${input.hostname}.`,
    '',
    `Your message (queue id ${input.mid}) was received on ${rfc5322Date(input.arrivalDate)}.`,
    reason,
    '',
    ...input.failed.map((f) => `<${ascii(f.recipient, 300)}>: ${ascii(f.diagnostic, 500)}`),
    '',
    'The headers of your message are attached.',
  ]
  const perMessage = [
    `Reporting-MTA: dns; ${input.hostname}`,
    `X-Postern-Queue-ID: ${input.mid}`,
    `Arrival-Date: ${rfc5322Date(input.arrivalDate)}`,
  ]
  const perRecipient = input.failed.map((f) =>
    [
      `Final-Recipient: ${addressType(f.recipient)}`,
      `Action: failed`,
      `Status: ${f.status}`,
      ...(f.remoteMta ? [`Remote-MTA: dns; ${ascii(f.remoteMta, 255)}`] : []),
      `Diagnostic-Code: smtp; ${ascii(f.diagnostic)}`,
      `Last-Attempt-Date: ${rfc5322Date(f.lastAttemptAt)}`,
    ].join('\r\n'),
  )
  const head = [
    `From: Mail Delivery System <MAILER-DAEMON@${input.hostname}>`,
    `To: <${ascii(input.originalSender, 300)}>`,
    `Subject: ${input.expired ? 'Delivery time expired' : 'Undelivered Mail Returned to Sender'}`,
    `Date: ${date}`,
    `Message-ID: ${messageId}`,
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status; boundary="${boundary}"`,
    '',
    'This is a MIME-encapsulated delivery status notification.',
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=us-ascii',
    'Content-Description: Notification',
    '',
    ...human,
    '',
    `--${boundary}`,
    'Content-Type: message/delivery-status',
    'Content-Description: Delivery report',
    '',
    perMessage.join('\r\n'),
    '',
    perRecipient.join('\r\n\r\n'),
    '',
    `--${boundary}`,
    'Content-Type: text/rfc822-headers',
    'Content-Description: Undelivered message headers',
    '',
    '',
  ].join('\r\n')
  const headers = input.originalHeaders.length > 0 ? input.originalHeaders : Buffer.from('\r\n')
  return Buffer.concat([Buffer.from(head, 'utf8'), headers, Buffer.from(`\r\n--${boundary}--\r\n`)])
}

/** The header section of a message (up to the first empty line, at most `max` bytes). */
export function headerSection(message: Buffer, max = 64 * 1024): Buffer {
  const end = message.indexOf('\r\n\r\n')
  const cut = end === -1 ? Math.min(message.length, max) : Math.min(end + 2, max)
  const section = message.subarray(0, cut)
  return section.length > 0 && !section.subarray(-2).equals(Buffer.from('\r\n'))
    ? Buffer.concat([section, Buffer.from('\r\n')])
    : section
}
