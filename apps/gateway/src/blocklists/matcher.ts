import { BlockList } from 'node:net'
import type { BlocklistEntry, BlocklistKind } from '@postern/store'
import { addToBlockList, domainAndParents, ipFamily, normaliseDomain } from './values.js'

/** What a message offers to the block lists. */
export interface BlocklistSubject {
  /** Envelope sender and header From/Sender/Reply-To addresses. */
  senders: readonly string[]
  senderIp: string | null
  /** Normalised URLs (see `normaliseUrl`). */
  urls: readonly { url: string; host: string }[]
  /** SHA-256, SHA-1 and MD5 of every attachment and archive entry. */
  hashes: readonly string[]
}

export interface BlocklistHit {
  id: number
  kind: BlocklistKind
  value: string
  /** What in the message matched (the address, URL, hash or IP). */
  matched: string
  source: string
  reason: string
}

/**
 * The active block list entries compiled for lookups: hash sets for addresses, URLs and
 * hashes, a walk up the parent domains for domain entries (an entry for `evil.example` blocks
 * `mail.evil.example`), and node's BlockList for IP addresses and CIDR ranges. Built once per
 * change of the lists, shared by every message.
 */
export class BlocklistMatcher {
  private readonly byKind = new Map<BlocklistKind, Map<string, BlocklistEntry>>()
  private readonly urlPrefixes: BlocklistEntry[] = []
  private readonly ipList = new BlockList()
  private readonly ipEntries: { entry: BlocklistEntry; list: BlockList }[] = []

  constructor(entries: readonly BlocklistEntry[]) {
    for (const entry of entries) {
      if (entry.kind === 'sender_ip') {
        addToBlockList(this.ipList, entry.value)
        const single = new BlockList()
        addToBlockList(single, entry.value)
        this.ipEntries.push({ entry, list: single })
        continue
      }
      let map = this.byKind.get(entry.kind)
      if (!map) this.byKind.set(entry.kind, (map = new Map()))
      map.set(entry.value, entry)
      // A URL entry ending in "/" blocks everything under that path.
      if (entry.kind === 'url' && entry.value.endsWith('/')) this.urlPrefixes.push(entry)
    }
  }

  get size(): number {
    let n = this.ipEntries.length
    for (const map of this.byKind.values()) n += map.size
    return n
  }

  match(subject: BlocklistSubject): BlocklistHit[] {
    const hits = new Map<number, BlocklistHit>()
    const hit = (entry: BlocklistEntry | undefined, matched: string): void => {
      if (!entry || hits.has(entry.id)) return
      hits.set(entry.id, {
        id: entry.id,
        kind: entry.kind,
        value: entry.value,
        matched,
        source: entry.source,
        reason: entry.reason,
      })
    }
    for (const sender of subject.senders) this.matchSender(sender, hit)
    if (subject.senderIp)
      for (const found of this.matchIp(subject.senderIp)) hit(found, subject.senderIp)
    const urls = this.byKind.get('url')
    const urlDomains = this.byKind.get('url_domain')
    for (const { url, host } of subject.urls) {
      hit(urls?.get(url), url)
      for (const prefix of this.urlPrefixes) if (url.startsWith(prefix.value)) hit(prefix, url)
      if (urlDomains) for (const d of domainAndParents(host)) hit(urlDomains.get(d), url)
    }
    const hashes = this.byKind.get('attachment_hash')
    if (hashes) for (const h of subject.hashes) hit(hashes.get(h.toLowerCase()), h)
    return [...hits.values()]
  }

  /** Envelope-time check (MAIL FROM): sender address, its domain and the client IP. */
  matchEnvelope(sender: string, ip: string | null): BlocklistHit[] {
    return this.match({ senders: sender ? [sender] : [], senderIp: ip, urls: [], hashes: [] })
  }

  private matchSender(
    sender: string,
    hit: (entry: BlocklistEntry | undefined, matched: string) => void,
  ): void {
    const at = sender.lastIndexOf('@')
    if (at <= 0) return
    const domain = normaliseDomain(sender.slice(at + 1))
    if (!domain) return
    const address = `${sender.slice(0, at).toLowerCase()}@${domain}`
    hit(this.byKind.get('sender_address')?.get(address), address)
    const domains = this.byKind.get('sender_domain')
    if (domains) for (const d of domainAndParents(domain)) hit(domains.get(d), address)
  }

  private matchIp(raw: string): BlocklistEntry[] {
    // Clients on an IPv6 socket show IPv4 peers as ::ffff:a.b.c.d (RFC 4291 §2.5.5.2).
    const ip = raw.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '')
    const type = ipFamily(ip)
    try {
      if (!this.ipList.check(ip, type)) return []
    } catch {
      return []
    }
    return this.ipEntries.filter(({ list }) => list.check(ip, type)).map(({ entry }) => entry)
  }
}
