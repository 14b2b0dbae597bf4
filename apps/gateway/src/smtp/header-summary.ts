import libmime from 'libmime'
import type { HeaderSummary } from '../pipeline/processor.js'

/** Longest value kept per field: enough for any real subject or address list. */
const MAX_FIELD = 998

export interface ParsedHeader {
  summary: HeaderSummary
  /** Number of Received fields (RFC 5321 §6.3 loop detection). */
  received: number
}

/**
 * Reads the fields tracking needs from a raw header section (RFC 5322 §2.2: unfolds
 * continuation lines, decodes RFC 2047 encoded words). Hostile input is the normal case: values
 * are bounded, control characters dropped, and a malformed field simply yields null.
 */
export function parseHeaderSection(raw: Buffer): ParsedHeader {
  const text = raw.toString('latin1')
  const lines = text.split(/\r?\n|\r/)
  const fields = new Map<string, string>()
  let received = 0
  let current: { name: string; value: string } | undefined
  const flush = () => {
    if (!current) return
    if (current.name === 'received') received++
    else if (WANTED.has(current.name) && !fields.has(current.name)) {
      fields.set(current.name, current.value)
    }
    current = undefined
  }
  for (const line of lines) {
    if (line.length === 0) break
    if ((line[0] === ' ' || line[0] === '\t') && current) {
      if (current.value.length < MAX_FIELD * 4) current.value += line
      continue
    }
    flush()
    const colon = line.indexOf(':')
    if (colon <= 0) continue
    const name = line.slice(0, colon).trim().toLowerCase()
    if (!/^[\x21-\x39\x3b-\x7e]+$/.test(name)) continue
    current = { name, value: line.slice(colon + 1) }
  }
  flush()
  const get = (name: string): string | null => {
    const value = fields.get(name)
    return value === undefined ? null : clean(decode(value))
  }
  return {
    summary: {
      messageId: messageIdOf(fields.get('message-id')),
      subject: get('subject'),
      from: get('from'),
      to: get('to'),
      replyTo: get('reply-to'),
      date: get('date'),
    },
    received,
  }
}

const WANTED = new Set(['message-id', 'subject', 'from', 'to', 'reply-to', 'date'])

/** Header bytes are 8-bit: decode them as UTF-8 (RFC 6532) when valid, then encoded words. */
function decode(latin1: string): string {
  const bytes = Buffer.from(latin1, 'latin1')
  const utf8 = bytes.toString('utf8')
  const text = utf8.includes('\uFFFD') ? latin1 : utf8
  try {
    return libmime.decodeWords(text)
  } catch {
    return text
  }
}

function clean(value: string): string | null {
  // eslint-disable-next-line no-control-regex
  const cleaned = value.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim()
  if (cleaned.length === 0) return null
  return cleaned.length > MAX_FIELD ? cleaned.slice(0, MAX_FIELD) : cleaned
}

/** The msg-id with its angle brackets (RFC 5322 §3.6.4), as Message-ID searches expect it. */
function messageIdOf(raw: string | undefined): string | null {
  if (raw === undefined) return null
  const match = /<[^<>\s]{1,996}>/.exec(raw)
  if (match) return match[0]
  return clean(raw)
}
