import { ctimErrors } from './errors.js'
import { canonicalDomain, canonicalHostname, canonicalIPv4, canonicalIPv6 } from './hosts.js'
import { isObservableType, type Observable, type ObservableType } from './observable-types.js'
import { refang } from './refang.js'
import { tryNormalizeUrl } from './url.js'

/**
 * Per-type validation and normalisation of observables. Every place that stores, compares or
 * looks up an observable (hub casebooks, enrich, block lists, gateway tracking) passes it through
 * {@link normalizeObservable} first, so equal indicators have equal text.
 */

type Result = { ok: true; value: string } | { ok: false; reason: string }

const MAX_VALUE_LENGTH = 8192
// C0 controls (except TAB, which single-line types fold into a space) and DEL never belong in an
// observable.
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/

const ok = (value: string): Result => ({ ok: true, value })
const fail = (reason: string): Result => ({ ok: false, reason })

function hex(length: number, name: string) {
  const pattern = new RegExp(`^[0-9a-f]{${length}}$`)
  return (value: string): Result => {
    const lower = value.trim().toLowerCase()
    return pattern.test(lower) ? ok(lower) : fail(`${name} is ${length} hexadecimal digits`)
  }
}

// RFC 5322 §3.2.3 atext plus "." for the dot-atom local part.
// RFC 6531 §3.3 extends it to UTF-8 (internationalised addresses).
const LOCAL_PART = /^[\p{L}\p{N}!#$%&'*+/=?^_`{|}~-]+(?:\.[\p{L}\p{N}!#$%&'*+/=?^_`{|}~-]+)*$/iu

/**
 * An email address in canonical form: domain in lower-case punycode (or a bracketed IP literal),
 * local part lower-cased. RFC 5321 §2.4 lets a receiving host treat local parts case-sensitively,
 * but no mailbox provider does and a block list that misses `Alice@` for `alice@` is a hole, so
 * Postern compares them case-insensitively.
 *
 * @example
 * canonicalEmail('Alice.Smith@Bücher.de') // { ok: true, value: 'alice.smith@xn--bcher-kva.de' }
 */
export function canonicalEmail(input: string): Result {
  let text = refang(input.trim())
  if (text.toLowerCase().startsWith('mailto:')) text = text.slice(7)
  if (text.startsWith('<') && text.endsWith('>')) text = text.slice(1, -1)
  const at = text.lastIndexOf('@')
  if (at <= 0 || at === text.length - 1) return fail('an address is local-part@domain')
  const local = text.slice(0, at)
  const domainPart = text.slice(at + 1)
  if (local.length > 64) return fail('the local part is longer than 64 characters')
  if (!LOCAL_PART.test(local)) return fail('the local part has characters an address cannot have')
  let domain: string
  const literal = /^\[(?:IPv6:)?([^\]]+)\]$/i.exec(domainPart)
  if (literal) {
    const ip = canonicalIPv4(literal[1] as string) ?? canonicalIPv6(literal[1] as string)
    if (ip === null) return fail('the address literal is not an IP address')
    domain = ip.includes(':') ? `[IPv6:${ip}]` : `[${ip}]`
  } else {
    const canonical = canonicalDomain(domainPart)
    if (!canonical.ok) return fail(`the domain is invalid (${canonical.reason})`)
    domain = canonical.value
  }
  return ok(`${local.toLowerCase()}@${domain}`)
}

/**
 * A Message-ID in canonical form: `<id-left@id-right>` as it appears in the header
 * (RFC 5322 §3.6.4), brackets added when missing, whitespace and comments refused.
 */
function canonicalMessageId(input: string): Result {
  let text = input.trim()
  if (text.startsWith('<') && text.endsWith('>')) text = text.slice(1, -1).trim()
  if (text === '') return fail('empty')
  if (!/^[\x21-\x7e]+$/.test(text) || /[<>]/.test(text)) {
    return fail('a Message-ID is printable ASCII without spaces or angle brackets')
  }
  if (text.length > 995) return fail('longer than a header line allows (RFC 5322 §2.1.1)')
  return ok(`<${text}>`)
}

// The MID an AsyncOS-style gateway assigns: a decimal integer, optionally followed by a
// per-appliance suffix as some module sightings carry (`12345-esa01`).
function canonicalCiscoMid(input: string): Result {
  const text = input.trim()
  return /^\d{1,20}(?:-[A-Za-z0-9._-]{1,64})?$/.test(text)
    ? ok(text.replace(/^0+(?=\d)/, ''))
    : fail('a MID is a decimal number, e.g. 4242')
}

function canonicalMac(input: string): Result {
  const digits = input.trim().toLowerCase().replace(/[:.-]/g, '')
  if (!/^[0-9a-f]{12}$/.test(digits)) return fail('a MAC address is 12 hexadecimal digits')
  const shapes =
    /^(?:[0-9a-f]{2}([:-])[0-9a-f]{2}(?:\1[0-9a-f]{2}){4}|[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}|[0-9a-f]{12})$/i
  if (!shapes.test(input.trim())) return fail('write a MAC address as 00:1a:2b:3c:4d:5e')
  return ok((digits.match(/../g) ?? []).join(':'))
}

function canonicalFileName(input: string): Result {
  let text = input.trim()
  if (/^(["']).*\1$/.test(text)) text = text.slice(1, -1).trim()
  if (text === '') return fail('empty')
  if (/[/\\]/.test(text)) return fail('a file name has no directory part (use file_path)')
  if (text.length > 255) return fail('longer than 255 characters')
  return ok(text)
}

function singleLine(maxLength: number) {
  return (input: string): Result => {
    const text = input.trim().replace(/[ \t]+/g, ' ')
    if (text === '') return fail('empty')
    if (text.length > maxLength) return fail(`longer than ${maxLength} characters`)
    return ok(text)
  }
}

function generic(input: string): Result {
  const text = input.trim()
  if (text === '') return fail('empty')
  if (text.length > MAX_VALUE_LENGTH) return fail(`longer than ${MAX_VALUE_LENGTH} characters`)
  return ok(text)
}

const NORMALIZERS: Partial<Record<ObservableType, (value: string) => Result>> = {
  ip: (value) => {
    const ip = canonicalIPv4(refang(value))
    return ip === null
      ? fail('an IPv4 address is four decimal numbers 0–255, e.g. 192.0.2.10')
      : ok(ip)
  },
  ipv6: (value) => {
    const ip = canonicalIPv6(refang(value))
    return ip === null ? fail('not an IPv6 address') : ok(ip)
  },
  domain: (value) => {
    const domain = canonicalDomain(refang(value))
    return domain.ok ? domain : fail(domain.reason)
  },
  hostname: (value) => {
    const host = canonicalHostname(refang(value))
    return host.ok ? host : fail(host.reason)
  },
  url: (value) => {
    const url = tryNormalizeUrl(value)
    return url.ok ? ok(url.value.url) : fail(url.reason)
  },
  email: canonicalEmail,
  sha256: hex(64, 'a SHA-256'),
  sha1: hex(40, 'a SHA-1'),
  md5: hex(32, 'an MD5'),
  process_hash: (value) => {
    const lower = value.trim().toLowerCase()
    return /^(?:[0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{64})$/.test(lower)
      ? ok(lower)
      : fail('a process hash is an MD5, SHA-1 or SHA-256 in hexadecimal')
  },
  email_messageid: canonicalMessageId,
  email_subject: singleLine(2048),
  cisco_mid: canonicalCiscoMid,
  mac_address: canonicalMac,
  file_name: canonicalFileName,
  user_agent: singleLine(2048),
}

/**
 * Validates an observable and returns its canonical value, or why it is invalid.
 *
 * @example
 * tryNormalizeObservable({ type: 'domain', value: 'EVIL[.]Example' }) // { ok: true, observable: { type: 'domain', value: 'evil.example' } }
 * tryNormalizeObservable({ type: 'md5', value: 'xyz' })             // { ok: false, reason: 'an MD5 is 32 hexadecimal digits' }
 */
export function tryNormalizeObservable(input: {
  type: string
  value: string
}): { ok: true; observable: Observable } | { ok: false; reason: string } {
  if (!isObservableType(input.type)) return { ok: false, reason: `unknown type "${input.type}"` }
  if (typeof input.value !== 'string') return { ok: false, reason: 'the value must be a string' }
  if (CONTROL.test(input.value.trim())) return { ok: false, reason: 'contains control characters' }
  if (input.value.length > MAX_VALUE_LENGTH) {
    return { ok: false, reason: `longer than ${MAX_VALUE_LENGTH} characters` }
  }
  const result = (NORMALIZERS[input.type] ?? generic)(input.value)
  return result.ok
    ? { ok: true, observable: { type: input.type, value: result.value } }
    : { ok: false, reason: result.reason }
}

/**
 * Validates and normalises an observable; throws `CTIM_ERR_OBSERVABLE_TYPE_UNKNOWN` or
 * `CTIM_ERR_OBSERVABLE_INVALID`.
 *
 * @example
 * normalizeObservable({ type: 'sha256', value: 'E3B0C442…B855' }) // { type: 'sha256', value: 'e3b0c442…b855' }
 */
export function normalizeObservable(input: { type: string; value: string }): Observable {
  if (!isObservableType(input.type)) throw ctimErrors.OBSERVABLE_TYPE_UNKNOWN({ type: input.type })
  const result = tryNormalizeObservable(input)
  if (!result.ok) throw ctimErrors.OBSERVABLE_INVALID({ type: input.type, reason: result.reason })
  return result.observable
}

/**
 * A stable key for de-duplicating observables (`type` + NUL + `value`).
 *
 * @example
 * new Set(list.map(observableKey))
 */
export function observableKey(observable: { type: string; value: string }): string {
  return `${observable.type}\u0000${observable.value}`
}

/**
 * De-duplicates observables, keeping the first occurrence's position.
 *
 * @example
 * uniqueObservables([{ type: 'ip', value: '192.0.2.1' }, { type: 'ip', value: '192.0.2.1' }]) // one entry
 */
export function uniqueObservables<T extends { type: string; value: string }>(
  list: Iterable<T>,
): T[] {
  const seen = new Set<string>()
  const out: T[] = []
  for (const item of list) {
    const key = observableKey(item)
    if (seen.has(key)) continue
    seen.add(key)
    out.push(item)
  }
  return out
}
