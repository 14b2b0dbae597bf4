import { promises as dns } from 'node:dns'

/** The resolver signature mailauth calls: `dns.promises.resolve` shaped. */
export type DnsResolve = (name: string, rrtype: string) => Promise<unknown[]>

export interface CachingResolverOptions {
  /** DNS servers (`ip` or `ip:port`); empty means the system's resolv.conf. */
  servers: readonly string[]
  /** Per-query timeout in milliseconds (c-ares doubles it on each retry). */
  timeoutMs: number
  /** Attempts per server. */
  tries: number
  /** How long an answer is reused. */
  positiveTtlMs: number
  /** How long "no such name / no such record" is reused (RFC 2308 negative caching). */
  negativeTtlMs: number
  /** How long a failure (timeout, SERVFAIL) is reused, so a dead zone is not asked per message. */
  failureTtlMs: number
  /** Most cached answers; the least recently used go first. */
  maxEntries: number
  now?: () => number
}

/** Answers that mean "nothing there", cached as such (RFC 2308). */
const NEGATIVE_CODES = new Set(['ENOTFOUND', 'ENODATA', 'NXDOMAIN', 'ENONAME'])

interface CacheEntry {
  expires: number
  answer?: unknown[]
  error?: NodeJS.ErrnoException
}

export interface ResolverStats {
  hits: number
  misses: number
  failures: number
  entries: number
}

/**
 * A DNS resolver for sender authentication: every SPF include, DKIM key and DMARC record is
 * asked once per TTL instead of once per message, concurrent questions for the same name share
 * one query, and every query has a timeout. Errors keep their `code` (ENOTFOUND, ETIMEOUT …) so
 * mailauth can tell "no record" (none/permerror) from "cannot know" (temperror).
 */
export class CachingResolver {
  private readonly resolver: dns.Resolver
  private readonly cache = new Map<string, CacheEntry>()
  private readonly inFlight = new Map<string, Promise<unknown[]>>()
  private readonly now: () => number
  private readonly counters = { hits: 0, misses: 0, failures: 0 }

  constructor(private readonly options: CachingResolverOptions) {
    this.resolver = new dns.Resolver({ timeout: options.timeoutMs, tries: options.tries })
    if (options.servers.length > 0) this.resolver.setServers([...options.servers])
    this.now = options.now ?? Date.now
  }

  /** Bound for passing as mailauth's `resolver` option. */
  readonly resolve: DnsResolve = (name, rrtype) => this.lookup(name, rrtype)

  private lookup(name: string, rrtype: string): Promise<unknown[]> {
    const key = `${rrtype.toUpperCase()} ${name.toLowerCase().replace(/\.$/, '')}`
    const cached = this.cache.get(key)
    if (cached && cached.expires > this.now()) {
      this.counters.hits++
      // Refresh recency for the LRU order.
      this.cache.delete(key)
      this.cache.set(key, cached)
      if (cached.error) return Promise.reject(cached.error)
      return Promise.resolve(cached.answer as unknown[])
    }
    const pending = this.inFlight.get(key)
    if (pending) {
      this.counters.hits++
      return pending
    }
    this.counters.misses++
    const query = (this.resolver.resolve(name, rrtype) as Promise<unknown[]>).then(
      (answer) => {
        this.store(key, { expires: this.now() + this.options.positiveTtlMs, answer })
        return answer
      },
      (error: NodeJS.ErrnoException) => {
        const negative = NEGATIVE_CODES.has(error.code ?? '')
        if (!negative) this.counters.failures++
        const ttl = negative ? this.options.negativeTtlMs : this.options.failureTtlMs
        if (ttl > 0) this.store(key, { expires: this.now() + ttl, error })
        throw error
      },
    )
    const tracked = query.finally(() => this.inFlight.delete(key))
    this.inFlight.set(key, tracked)
    return tracked
  }

  private store(key: string, entry: CacheEntry): void {
    this.cache.delete(key)
    this.cache.set(key, entry)
    while (this.cache.size > this.options.maxEntries) {
      const oldest = this.cache.keys().next().value
      if (oldest === undefined) break
      this.cache.delete(oldest)
    }
  }

  stats(): ResolverStats {
    return { ...this.counters, entries: this.cache.size }
  }

  /** Stops outstanding queries (they fail with ECANCELLED). */
  cancel(): void {
    this.resolver.cancel()
  }
}
