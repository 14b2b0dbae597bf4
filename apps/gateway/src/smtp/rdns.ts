import { promises as dns } from 'node:dns'
import { isIP } from 'node:net'
import { systemClock, type Clock } from '@postern/core'

export interface ReverseDnsOptions {
  timeoutMs: number
  cacheTtlMs: number
  cacheSize: number
  clock?: Clock
  /** A resolver for tests; the system's by default. */
  resolver?: Pick<dns.Resolver, 'reverse' | 'resolve4' | 'resolve6'>
}

// RFC 1035 §2.3.4 limits; a PTR record is whatever the owner of the IP address published, so
// anything else (CRLF, spaces, 16 KB of junk) is treated as "no name".
const LABEL = /^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/i

export function isValidHostname(name: string): boolean {
  if (name.length === 0 || name.length > 253) return false
  return name.split('.').every((label) => LABEL.test(label))
}

interface CacheEntry {
  name: string | null
  expires: number
}

/**
 * Forward-confirmed reverse DNS (FCrDNS) with a cache and a time bound: the PTR name counts
 * only if it resolves back to the address, since the owner of an IP address can publish any
 * PTR name (RFC 8499 §6; Cisco's HAT does the same double check). Looked up only when a HAT
 * rule needs the name; concurrent lookups of one address share one query.
 */
export class ReverseDns {
  private readonly cache = new Map<string, CacheEntry>()
  private readonly inflight = new Map<string, Promise<string | null>>()
  private readonly clock: Clock
  private readonly resolver: Pick<dns.Resolver, 'reverse' | 'resolve4' | 'resolve6'>

  constructor(private readonly options: ReverseDnsOptions) {
    this.clock = options.clock ?? systemClock
    this.resolver =
      options.resolver ?? new dns.Resolver({ timeout: Math.max(100, options.timeoutMs), tries: 1 })
  }

  /** The cached answer, if there is one (no lookup). */
  peek(ip: string): string | null | undefined {
    const hit = this.cache.get(ip)
    if (!hit || hit.expires <= this.clock.now()) return undefined
    return hit.name
  }

  /** The verified name of `ip`, or null (no PTR, not confirmed, failure or timeout). */
  lookup(ip: string): Promise<string | null> {
    const cached = this.peek(ip)
    if (cached !== undefined) return Promise.resolve(cached)
    const running = this.inflight.get(ip)
    if (running) return running
    const promise = this.resolve(ip).then((name) => {
      this.inflight.delete(ip)
      this.remember(ip, name)
      return name
    })
    this.inflight.set(ip, promise)
    return promise
  }

  private async resolve(ip: string): Promise<string | null> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), this.options.timeoutMs)
      timer.unref()
    })
    try {
      return await Promise.race([this.confirmed(ip), timeout])
    } catch {
      return null
    } finally {
      clearTimeout(timer)
    }
  }

  private async confirmed(ip: string): Promise<string | null> {
    const names = await this.resolver.reverse(ip)
    const name = names[0]?.toLowerCase().replace(/\.$/, '')
    if (!name || !isValidHostname(name)) return null
    const family = isIP(ip)
    const addresses =
      family === 4 ? await this.resolver.resolve4(name) : await this.resolver.resolve6(name)
    const wanted = family === 6 ? expandIpv6(ip) : ip
    return addresses.some((a) => (family === 6 ? expandIpv6(a) : a) === wanted) ? name : null
  }

  private remember(ip: string, name: string | null): void {
    if (this.cache.size >= this.options.cacheSize) {
      // Map iteration order is insertion order: drop the oldest tenth.
      let drop = Math.ceil(this.options.cacheSize / 10)
      for (const key of this.cache.keys()) {
        this.cache.delete(key)
        if (--drop <= 0) break
      }
    }
    this.cache.set(ip, { name, expires: this.clock.now() + this.options.cacheTtlMs })
  }
}

/** Full, lower-case form of an IPv6 address, so that two spellings compare equal. */
export function expandIpv6(address: string): string {
  let value = address.toLowerCase()
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(value)
  if (v4) {
    const parts = (v4[1] as string).split('.').map(Number)
    const hex = `${(((parts[0] ?? 0) << 8) | (parts[1] ?? 0)).toString(16)}:${(((parts[2] ?? 0) << 8) | (parts[3] ?? 0)).toString(16)}`
    value = value.slice(0, -(v4[1] as string).length) + hex
  }
  const [head, tail] = value.split('::') as [string, string | undefined]
  const left = head ? head.split(':') : []
  const right = tail ? tail.split(':') : []
  const missing = tail === undefined ? 0 : 8 - left.length - right.length
  return [...left, ...Array<string>(missing).fill('0'), ...right]
    .map((g) => g.padStart(4, '0'))
    .join(':')
}
