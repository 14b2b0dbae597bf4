const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

/** RFC 5322 §3.3 date-time in UTC, e.g. `Thu, 1 Jan 2026 00:00:00 +0000`. */
export function rfc5322Date(ms: number): string {
  const d = new Date(ms)
  const pad = (n: number) => String(n).padStart(2, '0')
  return `${DAYS[d.getUTCDay()]}, ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`
}

/** Client-chosen text (HELO) made safe for a header comment: printable ASCII, no parens. */
function safeAtom(value: string): string {
  const cleaned = value.replace(/[^\x21-\x7e]|[()\\]/g, '?').slice(0, 255)
  return cleaned.length > 0 ? cleaned : 'unknown'
}

export interface ReceivedInfo {
  helo: string | null
  rdns: string | null
  ip: string
  hostname: string
  /** RFC 3848 protocol: ESMTP, ESMTPS, ESMTPA, ESMTPSA, SMTP … */
  protocol: string
  tls: string | null
  mid: number
  recipients: readonly string[]
  at: number
}

/**
 * The trace field the gateway prepends on delivery (RFC 5321 §4.4, RFC 5322 §3.6.7). The
 * recipient is named only for single-recipient mail, so a Bcc list is not disclosed.
 */
export function receivedHeader(info: ReceivedInfo): string {
  const address = info.ip.includes(':') ? `IPv6:${info.ip}` : info.ip
  const lines = [
    `Received: from ${safeAtom(info.helo ?? 'unknown')} (${info.rdns ?? 'unknown'} [${address}])`,
    `\tby ${info.hostname} (Postern) with ${info.protocol} id ${info.mid}`,
  ]
  if (info.tls) lines.push(`\t(${safeAtom(info.tls.replace(/ /g, '_'))})`)
  const single = info.recipients.length === 1 ? info.recipients[0] : undefined
  if (single !== undefined && /^[\x21-\x7e]+$/.test(single)) lines.push(`\tfor <${single}>`)
  const last = lines.length - 1
  lines[last] = `${lines[last]}; ${rfc5322Date(info.at)}`
  return `${lines.join('\r\n')}\r\n`
}
