import LinkifyIt from 'linkify-it'
import { parse as parseDomain } from 'tldts'
import type { ExtractedUrl, UrlSource } from './types.js'

/** URL schemes worth recording: what a reader can follow to a server. */
const FOLLOWABLE_SCHEMES = new Set(['http:', 'https:', 'ftp:'])

/** Longer values are not URLs anyone types; they are data smuggled in an attribute. */
const MAX_URL_LENGTH = 4096

const linkify = new LinkifyIt()

/**
 * Undoes the usual "defanging" analysts and attackers apply (`hxxp://`, `example[.]com`,
 * `[:]//`), so that `hxxps://evil[.]com` is recorded and blocked as `https://evil.com`.
 */
export function refang(text: string): string {
  return text
    .replace(/\bh(?:xx|XX|\*\*)p(s?)(\[?:\]?)\/\//g, (_m, s: string) => `http${s}://`)
    .replace(/\bfxp:\/\//gi, 'ftp://')
    .replace(/\[:\]\/\/|\[:\/\/\]/g, '://')
    .replace(/\s?(?:\[\.\]|\(\.\)|\{\.\}|\[dot\]|\(dot\))\s?/gi, '.')
}

export interface NormalisedUrl {
  url: string
  host: string
  domain: string
}

/**
 * Normalises a URL for recording and matching: WHATWG parsing (lower-case scheme and host, IDN
 * to punycode, default port and dot segments removed), fragment dropped (it never reaches the
 * server). Returns null for anything that is not an absolute followable URL.
 */
export function normaliseUrl(raw: string, base?: string): NormalisedUrl | null {
  const trimmed = raw.trim()
  if (trimmed.length === 0 || trimmed.length > MAX_URL_LENGTH) return null
  let parsed: URL
  try {
    parsed = base === undefined ? new URL(trimmed) : new URL(trimmed, base)
  } catch {
    return null
  }
  if (!FOLLOWABLE_SCHEMES.has(parsed.protocol) || parsed.hostname.length === 0) return null
  parsed.hash = ''
  // Credentials in a URL are a phishing trick (`https://paypal.com@evil.example/`); the host
  // that matters is the one after the `@`, which is what WHATWG parsing gives us.
  const host = parsed.hostname.replace(/^\[|\]$/g, '').toLowerCase()
  return { url: parsed.toString(), host, domain: registrableDomain(host) }
}

/** `login.evil.example.co.uk` → `example.co.uk`; IP literals and single labels stay as they are. */
export function registrableDomain(host: string): string {
  const info = parseDomain(host, { allowPrivateDomains: false })
  if (info.isIp) return host
  return info.domain ?? host
}

/** Finds URLs in plain text, refanged first. Bare `www.` and known-TLD hosts count as links. */
export function findUrlsInText(text: string): string[] {
  const refanged = refang(text)
  const matches = linkify.match(refanged) ?? []
  const out: string[] = []
  for (const match of matches) {
    if (match.schema === 'mailto:') continue
    out.push(match.url)
  }
  return out
}

/** Collects URLs for one message, merging duplicates and keeping at most `max`. */
export class UrlCollector {
  private readonly byUrl = new Map<string, ExtractedUrl>()
  /** Every distinct URL seen, including those beyond the cap. */
  private seen = new Set<string>()

  constructor(private readonly max: number) {}

  add(raw: string, source: UrlSource, part: string, base?: string): void {
    const normalised = normaliseUrl(raw, base)
    if (!normalised) return
    const existing = this.byUrl.get(normalised.url)
    if (existing) {
      if (!existing.sources.includes(source)) existing.sources.push(source)
      if (!existing.parts.includes(part)) existing.parts.push(part)
      return
    }
    this.seen.add(normalised.url)
    if (this.byUrl.size >= this.max) return
    this.byUrl.set(normalised.url, { ...normalised, sources: [source], parts: [part] })
  }

  get count(): number {
    return this.seen.size
  }

  get truncated(): boolean {
    return this.seen.size > this.byUrl.size
  }

  list(): ExtractedUrl[] {
    return [...this.byUrl.values()]
  }
}
