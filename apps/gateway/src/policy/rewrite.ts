import libmime from 'libmime'

export interface HeaderChanges {
  /** Lines (with their CRLF) put first, e.g. Authentication-Results from the gateway. */
  prepend: string
  tagSubject: readonly string[]
  addHeaders: readonly { name: string; value: string }[]
  stripHeaders: readonly string[]
  /**
   * Our authserv-id: existing Authentication-Results fields claiming it are removed, since only
   * this gateway may write them (RFC 8601 §5).
   */
  authservId: string | null
}

export function hasChanges(changes: HeaderChanges): boolean {
  return (
    changes.prepend !== '' ||
    changes.tagSubject.length > 0 ||
    changes.addHeaders.length > 0 ||
    changes.stripHeaders.length > 0 ||
    changes.authservId !== null
  )
}

/**
 * Rewrites the top-level header of a message: prepends the gateway's lines, tags the subject,
 * adds and strips fields. Only the header block is rebuilt; the body is the original bytes.
 * Values are encoded as RFC 2047 words when not ASCII and folded at 76 columns (RFC 5322 §2.2.3);
 * CR and LF in configured values are removed so that no header can be injected.
 */
export function rewriteHeaders(raw: Buffer, headerBytes: number, changes: HeaderChanges): Buffer {
  const block = raw.subarray(0, headerBytes).toString('latin1')
  const fields = splitFields(block)
  const strip = new Set(changes.stripHeaders.map((n) => n.toLowerCase()))
  const authservId = changes.authservId?.toLowerCase() ?? null
  const kept: string[] = []
  let subjectSeen = false
  for (const field of fields) {
    const name = field.slice(0, field.indexOf(':')).trim().toLowerCase()
    if (strip.has(name)) continue
    if (authservId !== null && name === 'authentication-results' && claimsId(field, authservId))
      continue
    if (name === 'subject' && !subjectSeen && changes.tagSubject.length > 0) {
      subjectSeen = true
      kept.push(tagSubject(field, changes.tagSubject))
      continue
    }
    kept.push(field)
  }
  const added = changes.addHeaders.map((h) => formatField(h.name, h.value))
  if (!subjectSeen && changes.tagSubject.length > 0) {
    added.push(formatField('Subject', changes.tagSubject.join(' ')))
  }
  const header = `${changes.prepend}${added.join('')}${kept.join('')}\r\n`
  return Buffer.concat([Buffer.from(header, 'latin1'), raw.subarray(headerBytes)])
}

/** Header fields with their folded lines and line ends, in order, without the empty line. */
function splitFields(block: string): string[] {
  const lines = block.split(/(?<=\n)/)
  const fields: string[] = []
  for (const line of lines) {
    if (line === '\r\n' || line === '\n') break
    const normalised = line.endsWith('\r\n') ? line : `${line.replace(/\n$/, '')}\r\n`
    if ((line.startsWith(' ') || line.startsWith('\t')) && fields.length > 0) {
      fields[fields.length - 1] += normalised
    } else if (line.includes(':')) {
      fields.push(normalised)
    }
  }
  return fields
}

function claimsId(field: string, authservId: string): boolean {
  const value = field.slice(field.indexOf(':') + 1).replace(/\r?\n[ \t]/g, ' ')
  const id = value.trim().split(/[;\s]/, 1)[0]?.toLowerCase() ?? ''
  return id === authservId
}

function tagSubject(field: string, tags: readonly string[]): string {
  const colon = field.indexOf(':')
  const value = field.slice(colon + 1).replace(/\r\n$/, '')
  // Leave a subject alone that already carries the tag (a reply to a tagged message).
  const decoded = libmime.decodeWords(value.replace(/\r?\n[ \t]/g, ' ')).trim()
  const missing = tags.filter((t) => !decoded.startsWith(t))
  if (missing.length === 0) return field
  const prefix = missing.map(encodeValue).join(' ')
  return `${field.slice(0, colon)}: ${prefix}${value.startsWith(' ') ? '' : ' '}${value}\r\n`
}

function encodeValue(value: string): string {
  const clean = value.replace(/[\r\n]+/g, ' ')
  return /^[\x20-\x7e]*$/.test(clean) ? clean : libmime.encodeWords(clean, 'Q', 52)
}

function formatField(name: string, value: string): string {
  return `${libmime.foldLines(`${name}: ${encodeValue(value)}`, 76)}\r\n`
}
