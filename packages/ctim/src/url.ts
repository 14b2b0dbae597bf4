import { ctimErrors } from './errors.js'
import { refang } from './refang.js'

/**
 * URL normalisation shared by the gateway (URLs found in mail, block lists) and the hub (inspect,
 * observables typed by analysts), so that one URL has one spelling everywhere.
 *
 * The canonical form is the WHATWG URL serialisation (what a browser would actually fetch:
 * scheme and host lower-cased, IDN hosts in punycode, IPv4 shorthand expanded, default port
 * dropped, dot segments removed, unsafe characters percent-encoded), then RFC 3986 §6.2.2.1–2:
 * percent-escapes in upper-case hex and escapes of unreserved characters decoded. An empty query
 * (`?`) or fragment (`#`) is dropped.
 */

const MAX_URL_LENGTH = 8192

// Schemes the WHATWG parser treats as "special" (they have hosts and default ports).
const HOST_SCHEMES = new Set(['http:', 'https:', 'ftp:', 'ws:', 'wss:'])

const HOST_LABEL = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/

const CLOSERS: Record<string, string> = { ')': '(', ']': '[', '}': '{' }

function count(text: string, char: string): number {
  let n = 0
  for (const c of text) if (c === char) n++
  return n
}

/**
 * Removes what prose glues to the end of a URL: sentence punctuation, closing quotes, and a
 * closing bracket that has no opening partner inside the URL (`(see https://x.example/a)`), while
 * keeping balanced ones (`https://en.wikipedia.org/wiki/Foo_(bar)`).
 *
 * @example
 * trimUrlProse('https://evil.example/login.')  // 'https://evil.example/login'
 * trimUrlProse('https://x.example/a_(b))')     // 'https://x.example/a_(b)'
 */
export function trimUrlProse(candidate: string): string {
  let url = candidate
  for (;;) {
    const last = url.at(-1)
    if (last === undefined) return url
    // HTML-escaped closing bracket or quote from pasted markup.
    if (url.endsWith('&gt;') || url.endsWith('&quot;')) {
      url = url.slice(0, url.lastIndexOf('&'))
      continue
    }
    // ASCII and CJK sentence punctuation never ends a URL in prose.
    if ('.,;:!?\'"*>»”’`。、，！？」』】〕）'.includes(last)) {
      url = url.slice(0, -1)
      continue
    }
    const opener = CLOSERS[last]
    if (opener !== undefined && count(url, last) > count(url, opener)) {
      url = url.slice(0, -1)
      continue
    }
    return url
  }
}

const UNRESERVED = /[A-Za-z0-9\-._~]/

// RFC 3986 §6.2.2.1 (hex digits upper case) and §6.2.2.2 (decode unreserved characters).
function canonicalPercentEncoding(part: string): string {
  return part.replace(/%([0-9a-fA-F]{2})/g, (_whole, hex: string) => {
    const char = String.fromCharCode(parseInt(hex, 16))
    return UNRESERVED.test(char) ? char : `%${hex.toUpperCase()}`
  })
}

/** A normalised URL and its host (lower-cased, punycode; empty for host-less schemes). */
export interface NormalizedUrl {
  url: string
  host: string
}

/**
 * Normalises a URL (refanging first), or says why it cannot. With `assumeHttp`, a scheme-less
 * `www.example.com/path` is read as `http://…`.
 *
 * @example
 * tryNormalizeUrl('HXXPS://Login.Example.COM:443/a/../%7euser?') // { ok: true, value: { url: 'https://login.example.com/~user', host: 'login.example.com' } }
 */
export function tryNormalizeUrl(
  input: string,
  options: { assumeHttp?: boolean } = {},
): { ok: true; value: NormalizedUrl } | { ok: false; reason: string } {
  let text = refang(input.trim())
  if (text.startsWith('<') && text.endsWith('>')) text = text.slice(1, -1).trim()
  if (text === '') return { ok: false, reason: 'empty' }
  if (text.length > MAX_URL_LENGTH) {
    return { ok: false, reason: `longer than ${MAX_URL_LENGTH} characters` }
  }
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  if (/[\s\x00-\x1f\x7f]/.test(text))
    return { ok: false, reason: 'contains spaces or control characters' }
  if (!/^[a-z][a-z0-9+.-]*:/i.test(text)) {
    if (!options.assumeHttp) return { ok: false, reason: 'no scheme (e.g. https://)' }
    text = `http://${text}`
  }
  let url: URL
  try {
    url = new URL(text)
  } catch {
    return { ok: false, reason: 'not a parseable URL' }
  }
  if (HOST_SCHEMES.has(url.protocol)) {
    if (url.hostname === '') return { ok: false, reason: 'no host' }
    // WHATWG accepts any label; DNS names are letters, digits, hyphens (not at either end) and,
    // in practice, underscores (RFC 1123 §2.1). IP literals were already validated by the parser.
    const isIp = url.hostname.startsWith('[') || /^[\d.]+$/.test(url.hostname)
    if (!isIp && !url.hostname.split('.').every((label) => HOST_LABEL.test(label))) {
      return { ok: false, reason: `invalid host "${url.hostname}"` }
    }
  }
  if (url.search === '?') url.search = ''
  if (url.hash === '#') url.hash = ''
  if (HOST_SCHEMES.has(url.protocol)) {
    url.pathname = canonicalPercentEncoding(url.pathname)
  }
  if (url.search !== '') url.search = canonicalPercentEncoding(url.search)
  if (url.hash !== '') url.hash = canonicalPercentEncoding(url.hash)
  let href = url.href
  // WHATWG keeps a lone trailing "?" or "#" when the setters empty them on some inputs.
  if (href.endsWith('?') || href.endsWith('#')) href = href.slice(0, -1)
  const host = HOST_SCHEMES.has(url.protocol) ? url.hostname.replace(/^\[|\]$/g, '') : ''
  return { ok: true, value: { url: href, host } }
}

/**
 * The canonical form of a URL; throws `CTIM_ERR_OBSERVABLE_INVALID` when it is not one.
 *
 * @example
 * normalizeUrl('hxxp://evil[.]example/Pay%2fnow') // 'http://evil.example/Pay%2Fnow'
 */
export function normalizeUrl(input: string, options: { assumeHttp?: boolean } = {}): string {
  const result = tryNormalizeUrl(input, options)
  if (!result.ok) throw ctimErrors.OBSERVABLE_INVALID({ type: 'url', reason: result.reason })
  return result.value.url
}
