import LinkifyIt from 'linkify-it'
import { isIP } from 'node:net'
import { refang, tryNormalizeUrl } from '@postern/ctim'
import { getDomain } from 'tldts'
import type { ExtractedUrl, UrlSource } from './types.js'

/** URL schemes worth recording: what a reader can follow to a server. */
const FOLLOWABLE_SCHEMES = new Set(['http:', 'https:', 'ftp:'])

/** Distinct URLs counted per message beyond those kept; past it the count means "at least". */
const MAX_COUNTED_URLS = 100_000

/** Longer values are not URLs anyone types; they are data smuggled in an attribute. */
const MAX_URL_LENGTH = 4096

const linkify = new LinkifyIt()

/** Cheap, linear pre-check for `findUrlsInText` (defanged forms such as `[.]` included). */
const MAY_HOLD_LINK = /:\/\/|:\]|[\p{L}\p{N}](?:\.|\[\.\]|\(\.\)|\{\.\}|\[dot\]|\(dot\))\p{L}/iu

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

/**
 * `login.evil.example.co.uk` → `example.co.uk` (the public suffix list, private section included
 * as in `@postern/ctim`); a suffix the list does not know (`.test`, an internal TLD) counts as one
 * label, the list's default rule, so `login.evil.test` → `evil.test`. IP literals stay as they are.
 */
export function registrableDomain(host: string): string {
  if (isIP(host) !== 0) return host
  return getDomain(host, { allowPrivateDomains: true }) ?? host
}

/** Finds URLs in plain text, refanged first. Bare `www.` and known-TLD hosts count as links. */
export function findUrlsInText(text: string): string[] {
  // Every link linkify can find has a scheme separator or a dot between a label character and
  // a letter; most text parts have neither, and linkify's own scan is the costliest step here.
  if (!MAY_HOLD_LINK.test(text)) return []
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
  /** Every distinct URL seen, including those beyond the cap (up to MAX_COUNTED_URLS). */
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
    if (this.seen.size < MAX_COUNTED_URLS) this.seen.add(normalised.url)
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
