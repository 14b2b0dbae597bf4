import { TextDecoder } from 'node:util'
import libmime from 'libmime'
import type { HeaderLine } from 'mailsplit'
import addressparser from 'nodemailer/lib/addressparser/index.js'
import { parseReceived } from 'mailauth/lib/parse-received.js'
import type { Defect, HeaderSummary, MailAddress, ReceivedHop } from './types.js'

/** RFC 5322 §3.6: these fields occur at most once. A second From is a spoofing trick. */
const SINGLETON_FIELDS = [
  'from',
  'sender',
  'reply-to',
  'to',
  'cc',
  'subject',
  'message-id',
  'date',
  'in-reply-to',
  'references',
]

/** RFC 5322 §3.6.8 field-name: printable US-ASCII except colon. */
const FIELD_NAME = /^[\x21-\x39\x3b-\x7e]+$/

/** True when the raw line starts with a valid field name and a colon. */
export function isHeaderField(line: HeaderLine): boolean {
  const colon = line.line.indexOf(':')
  return colon > 0 && FIELD_NAME.test(line.line.slice(0, colon).trim())
}

const MAX_LISTED_HEADERS = 200
const MAX_HEADER_VALUE = 2000
const MAX_ADDRESSES_PER_FIELD = 100
const MAX_RECEIVED = 50

const utf8 = new TextDecoder('utf-8', { fatal: true })
const windows1252 = new TextDecoder('windows-1252')

export interface DecodedHeader {
  name: string
  key: string
  value: string
}

/**
 * Turns one raw header line (mailsplit keeps it as a latin1 string) into readable text: the
 * folding CRLFs removed (RFC 5322 §2.2.3), raw 8-bit bytes read as UTF-8 (RFC 6532) or, when
 * they are not valid UTF-8, as Windows-1252, then RFC 2047 encoded words decoded.
 */
export function decodeHeaderLine(
  line: HeaderLine,
  defects: Defect[],
  part: string,
): DecodedHeader | null {
  const colon = line.line.indexOf(':')
  const name = colon > 0 ? line.line.slice(0, colon).trim() : ''
  if (line.line.includes('\0')) defects.push({ code: 'nul-in-header', part, detail: name })
  if (!isHeaderField(line)) {
    defects.push({ code: 'invalid-header-line', part, detail: printableSample(line.line) })
    return null
  }
  const rawValue = line.line.slice(colon + 1).replace(/\r?\n(?=[ \t])/g, '')
  if (/[\x80-\xff]/.test(rawValue)) defects.push({ code: 'eight-bit-header', part, detail: name })
  return { name, key: name.toLowerCase(), value: decodeWords(decodeRaw8bit(rawValue)).trim() }
}

/**
 * Raw 8-bit bytes in a header (kept by mailsplit as a latin1 string) read as UTF-8, as RFC 6532
 * allows, or as Windows-1252 when they are not valid UTF-8 (what old clients send).
 */
export function decodeRaw8bit(value: string): string {
  if (!/[\x80-\xff]/.test(value)) return value
  const bytes = Buffer.from(value, 'latin1')
  try {
    return utf8.decode(bytes)
  } catch {
    return windows1252.decode(bytes)
  }
}

function decodeWords(value: string): string {
  try {
    return libmime.decodeWords(value)
  } catch {
    return value
  }
}

function printableSample(value: string): string {
  // eslint-disable-next-line no-control-regex
  return value.slice(0, 60).replace(/[\x00-\x1f\x7f-\xff]/g, '?')
}

/** Parses an address header into addresses; group syntax is flattened. */
export function parseAddresses(value: string, defects: Defect[], part: string): MailAddress[] {
  const parsed = addressparser(value, { flatten: true }) as { name?: string; address?: string }[]
  const out: MailAddress[] = []
  for (const entry of parsed.slice(0, MAX_ADDRESSES_PER_FIELD)) {
    const address = normaliseAddress(entry.address ?? '')
    if (address === '' && (entry.address ?? '') !== '') {
      defects.push({ code: 'invalid-address', part, detail: printableSample(entry.address ?? '') })
    }
    out.push({ name: (entry.name ?? '').trim(), address })
  }
  return out
}

/** `Alice@Example.COM` → `Alice@example.com`; `''` when the value is not `local@domain`. */
export function normaliseAddress(value: string): string {
  const trimmed = value.trim().replace(/^<|>$/g, '')
  const at = trimmed.lastIndexOf('@')
  if (at <= 0 || at === trimmed.length - 1) return ''
  const local = trimmed.slice(0, at)
  const domain = trimmed
    .slice(at + 1)
    .toLowerCase()
    .replace(/\.$/, '')
  if (/[\s<>]/.test(local) || !/^[^\s@<>()[\]\\,;:"]+$/.test(domain)) return ''
  return `${local}@${domain}`
}

function parseHop(line: string): ReceivedHop {
  const parsed = parseReceived(line)
  if (!parsed) return { from: null, ip: null, by: null, with: null, id: null, date: null }
  const clause = (key: string): { value: string; comment?: string } | undefined => {
    const value = parsed[key]
    return typeof value === 'object' ? value : undefined
  }
  const from = clause('from')
  const ipMatch = /\[(?:IPv6:)?([0-9a-fA-F:.]+)\]/.exec(from?.comment ?? from?.value ?? '')
  const timestamp = typeof parsed.timestamp === 'string' ? parsed.timestamp.trim() : ''
  const time = timestamp ? Date.parse(timestamp) : NaN
  return {
    from: from?.value || null,
    ip: ipMatch?.[1] ?? null,
    by: clause('by')?.value || null,
    with: clause('with')?.value || null,
    id: clause('id')?.value || null,
    date: Number.isNaN(time) ? null : new Date(time).toISOString(),
  }
}

/**
 * Splits a header block into lines the way mailsplit does (latin1, folded lines joined), for
 * the few places that read a header without parsing the message: a message whose analysis
 * failed still gets its sender and subject recorded from here.
 */
export function readHeaderLines(block: Buffer): HeaderLine[] {
  const lines = block
    .toString('latin1')
    .replace(/[\r\n]+$/, '')
    .split(/\r?\n/)
  const out: HeaderLine[] = []
  for (const line of lines) {
    if (line.length === 0) break
    const last = out[out.length - 1]
    if (last && (line[0] === ' ' || line[0] === '\t')) {
      last.line += `\r\n${line}`
      continue
    }
    const colon = line.indexOf(':')
    out.push({ key: colon > 0 ? line.slice(0, colon).trim().toLowerCase() : '', line })
  }
  return out
}

/** The fields a gateway records about a message, from its top-level header. */
export function summariseHeaders(lines: HeaderLine[], defects: Defect[]): HeaderSummary {
  const decoded: DecodedHeader[] = []
  for (const line of lines) {
    const header = decodeHeaderLine(line, defects, '')
    if (header) decoded.push(header)
  }
  const all = (key: string): DecodedHeader[] => decoded.filter((h) => h.key === key)
  const first = (key: string): string | null => all(key)[0]?.value ?? null
  for (const key of SINGLETON_FIELDS) {
    if (all(key).length > 1)
      defects.push({ code: 'duplicate-singleton-header', part: '', detail: key })
  }
  const addresses = (key: string): MailAddress[] =>
    all(key).flatMap((h) => parseAddresses(h.value, defects, ''))
  const from = addresses('from')
  if (from.length === 0) defects.push({ code: 'missing-from', part: '' })
  const messageId = first('message-id')
  const dateValue = first('date')
  const dateTime = dateValue ? Date.parse(dateValue) : NaN
  const returnPath = first('return-path')
  return {
    from,
    sender: addresses('sender'),
    replyTo: addresses('reply-to'),
    to: addresses('to'),
    cc: addresses('cc'),
    returnPath: returnPath === null ? null : normaliseAddress(returnPath) || null,
    subject: first('subject'),
    messageId: messageId ? messageId.replace(/^\s*<|>\s*$/g, '').slice(0, 998) || null : null,
    date:
      dateValue === null
        ? null
        : Number.isNaN(dateTime)
          ? dateValue
          : new Date(dateTime).toISOString(),
    received: lines
      .filter((l) => l.key === 'received')
      .slice(0, MAX_RECEIVED)
      .map((l) => parseHop(l.line.replace(/\r?\n(?=[ \t])/g, ''))),
    list: decoded
      .slice(0, MAX_LISTED_HEADERS)
      .map((h) => ({ name: h.name, value: h.value.slice(0, MAX_HEADER_VALUE) })),
  }
}
