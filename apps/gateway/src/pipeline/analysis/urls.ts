import LinkifyIt from 'linkify-it'
import { isIP } from 'node:net'
import { refang, registrableDomainOf, tryNormalizeUrl } from '@postern/ctim'
import type { ExtractedUrl, UrlSource } from './types.js'

/** URL schemes worth recording: what a reader can follow to a server. */
const FOLLOWABLE_SCHEMES = new Set(['http:', 'https:', 'ftp:'])

/** Longer values are not URLs anyone types; they are data smuggled in an attribute. */
const MAX_URL_LENGTH = 4096

const linkify = new LinkifyIt()

export interface NormalisedUrl {
  url: string
  host: string
  domain: string
}

/**
 * Normalises a URL found in mail for recording and matching, with the same function the hub
 * uses for URL observables (`@postern/ctim`: refanged, WHATWG-parsed, RFC 3986 canonical
 * escapes), so that one URL has one spelling in tracking, block lists and enrichment. Relative
 * links are resolved against the HTML `<base>` when there is one. Returns null for anything
 * that is not an absolute http, https or ftp URL.
 */
export function normaliseUrl(raw: string, base?: string): NormalisedUrl | null {
  const trimmed = raw.trim()
  if (trimmed.length === 0 || trimmed.length > MAX_URL_LENGTH) return null
  let absolute = trimmed
  if (base !== undefined) {
    try {
      absolute = new URL(trimmed, base).href
    } catch {
      return null
    }
  }
  const result = tryNormalizeUrl(absolute)
  if (!result.ok) return null
  const protocol = result.value.url.slice(0, result.value.url.indexOf(':') + 1)
  if (!FOLLOWABLE_SCHEMES.has(protocol) || result.value.host === '') return null
  const host = result.value.host
  return { url: result.value.url, host, domain: registrableDomain(host) }
}

/** `login.evil.example.co.uk` → `example.co.uk`; IP literals and unknown suffixes stay as they are. */
export function registrableDomain(host: string): string {
  if (isIP(host) !== 0) return host
  return registrableDomainOf(host) ?? host
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
