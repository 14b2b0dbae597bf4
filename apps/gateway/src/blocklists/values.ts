import { isIP, type BlockList } from 'node:net'
import { domainToASCII } from 'node:url'
import type { BlocklistKind } from '@postern/store'
import { gwErrors } from '../errors.js'
import { normaliseAddress } from '../pipeline/analysis/headers.js'
import { refang } from '@postern/ctim'
import { normaliseUrl } from '../pipeline/analysis/urls.js'

const EXAMPLES: Record<BlocklistKind, string> = {
  sender_address: 'billing@evil.example',
  sender_domain: 'evil.example',
  sender_ip: '192.0.2.15 or 198.51.100.0/24',
  url: 'https://evil.example/login',
  url_domain: 'evil.example',
  attachment_hash: 'a SHA-256, SHA-1 or MD5 in hex',
}

/** RFC 1035 §2.3.1 labels, after IDN conversion to ASCII. */
const HOST_NAME =
  /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/

function invalid(kind: BlocklistKind, value: string, reason: string): Error {
  return gwErrors.BLOCKLIST_VALUE_INVALID({
    kind,
    value: value.slice(0, 200),
    reason,
    example: EXAMPLES[kind],
  })
}

/** Domain as stored and matched: lower-case ASCII (punycode), no trailing dot. */
export function normaliseDomain(value: string): string | null {
  const ascii = domainToASCII(value.trim().replace(/\.$/, '').toLowerCase())
  return ascii !== '' && HOST_NAME.test(ascii) ? ascii : null
}

/**
 * The one canonical form of a block list value, so that entries and what is matched against
 * them agree: addresses with a lower-case domain and a lower-case local part (block lists
 * match case-insensitively, unlike delivery), domains in punycode, URLs refanged and WHATWG
 * normalised, IPs and CIDRs canonical, hashes lower-case hex of a known length.
 */
export function normaliseBlocklistValue(kind: BlocklistKind, raw: string): string {
  const value = refang(raw.trim())
  switch (kind) {
    case 'sender_address': {
      const address = normaliseAddress(value)
      const domain = address ? normaliseDomain(address.slice(address.lastIndexOf('@') + 1)) : null
      if (!address || !domain) throw invalid(kind, raw, 'not an email address')
      return `${address.slice(0, address.lastIndexOf('@')).toLowerCase()}@${domain}`
    }
    case 'sender_domain':
    case 'url_domain': {
      // A URL or address given for a domain entry means its host ("block this link's site").
      const host = value.includes('://') ? (normaliseUrl(value)?.host ?? value) : value
      const domain = normaliseDomain(host.slice(host.lastIndexOf('@') + 1))
      if (!domain || !domain.includes('.')) throw invalid(kind, raw, 'not a domain name')
      return domain
    }
    case 'url': {
      const url = normaliseUrl(value)
      if (!url) throw invalid(kind, raw, 'not an absolute http, https or ftp URL')
      return url.url
    }
    case 'attachment_hash': {
      const hash = value.toLowerCase()
      if (!/^(?:[0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{64})$/.test(hash)) {
        throw invalid(kind, raw, 'not 32, 40 or 64 hexadecimal digits')
      }
      return hash
    }
    case 'sender_ip':
      return normaliseIpOrCidr(kind, raw, value)
  }
}

function normaliseIpOrCidr(kind: BlocklistKind, raw: string, value: string): string {
  const [address = '', prefixText] = value.split('/')
  const family = isIP(address)
  if (family === 0) throw invalid(kind, raw, 'not an IP address or CIDR range')
  const canonical = canonicalIp(address, family)
  if (prefixText === undefined) return canonical
  const prefix = Number(prefixText)
  const max = family === 4 ? 32 : 128
  if (!/^\d+$/.test(prefixText) || prefix > max) {
    throw invalid(kind, raw, `the prefix length must be 0-${max}`)
  }
  return `${canonical}/${prefix}`
}

function canonicalIp(address: string, family: number): string {
  if (family === 4)
    return address
      .split('.')
      .map((o) => String(Number(o)))
      .join('.')
  // The URL parser prints IPv6 in its canonical compressed form (RFC 5952).
  return new URL(`http://[${address}]/`).hostname.slice(1, -1)
}

/** `a.b.example.com` → [`a.b.example.com`, `b.example.com`, `example.com`, `com`]. */
export function domainAndParents(domain: string): string[] {
  const labels = domain.split('.')
  const out: string[] = []
  for (let i = 0; i < labels.length; i++) out.push(labels.slice(i).join('.'))
  return out
}

export function ipFamily(value: string): 'ipv4' | 'ipv6' {
  return isIP(value.split('/')[0] ?? '') === 6 ? 'ipv6' : 'ipv4'
}

export function addToBlockList(list: BlockList, value: string): void {
  const [address = '', prefix] = value.split('/')
  const type = ipFamily(address)
  if (prefix === undefined) list.addAddress(address, type)
  else list.addSubnet(address, Number(prefix), type)
}
