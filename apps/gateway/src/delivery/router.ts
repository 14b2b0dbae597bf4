import { promises as dns } from 'node:dns'
import { parseHostPort, systemClock, type Clock, type HostPort, type Logger } from '@postern/core'
import type { GatewayConfig, RouteConfig } from '../config.js'
import { domainOf } from '@postern/store'
import { MaildirTransport } from './maildir-transport.js'
import { SmtpTransport, type SmtpDestination } from './smtp-transport.js'
import { DeliveryThread, ThreadedSmtpTransport } from './threaded-transport.js'
import type { Transport } from './transport.js'

/** Where a recipient goes: a transport, or a permanent/temporary refusal to route it. */
export type RouteDecision =
  | { kind: 'transport'; transport: Transport }
  | { kind: 'fail'; status: 'bounced' | 'deferred'; reply: string; enhanced: string }

export interface RouterDeps {
  config: GatewayConfig
  allocateDcid(): number
  /**
   * Run SMTP deliveries on the delivery thread (a second core for the gateway) instead of the
   * caller's event loop.
   */
  deliveryThread?: boolean
  logger: Logger
  clock?: Clock
  resolver?: Pick<dns.Resolver, 'resolveMx' | 'resolve4' | 'resolve6'>
}

interface MxCacheEntry {
  expires: number
  decision: { kind: 'hosts'; hosts: HostPort[] } | Exclude<RouteDecision, { kind: 'transport' }>
}

const MX_CACHE_MS = 60_000

/**
 * SMTP routes: recipient domain → destinations. Exact domain first, then the longest
 * `.suffix`, then `*`; a domain no route serves goes to its MX hosts (RFC 5321 §5.1). One
 * transport (and so one connection pool and one concurrency limit) per destination, shared
 * by every domain that routes there.
 */
export class Router {
  private readonly exact = new Map<string, RouteConfig>()
  private readonly suffixes: [string, RouteConfig][] = []
  private readonly fallback: RouteConfig | undefined
  private readonly transports = new Map<string, Transport>()
  private readonly mxCache = new Map<string, MxCacheEntry>()
  private readonly thread: DeliveryThread | undefined
  private readonly clock: Clock
  private readonly resolver: Pick<dns.Resolver, 'resolveMx' | 'resolve4' | 'resolve6'>

  constructor(private readonly deps: RouterDeps) {
    this.clock = deps.clock ?? systemClock
    this.resolver = deps.resolver ?? new dns.Resolver({ timeout: 5_000, tries: 2 })
    this.thread = deps.deliveryThread
      ? new DeliveryThread({ allocateDcid: deps.allocateDcid, logger: deps.logger })
      : undefined
    let fallback: RouteConfig | undefined
    for (const route of deps.config.smtpRoutes) {
      const domain = route.domain.toLowerCase()
      if (domain === '*') fallback ??= route
      else if (domain.startsWith('.')) this.suffixes.push([domain, route])
      else if (!this.exact.has(domain)) this.exact.set(domain, route)
    }
    this.fallback = fallback
    this.suffixes.sort((a, b) => b[0].length - a[0].length)
  }

  routeFor(recipient: string): RouteConfig | undefined {
    const domain = domainOf(recipient)
    const exact = this.exact.get(domain)
    if (exact) return exact
    for (const [suffix, route] of this.suffixes) if (domain.endsWith(suffix)) return route
    return this.fallback
  }

  /** The transport for a recipient (resolving MX records when no route names hosts). */
  async resolve(recipient: string): Promise<RouteDecision> {
    const route = this.routeFor(recipient)
    const domain = domainOf(recipient) || 'localhost'
    const targets = route?.to ?? ['mx']
    const first = targets[0] as string
    if (first.startsWith('maildir:')) {
      return { kind: 'transport', transport: this.maildir(first.slice('maildir:'.length)) }
    }
    const hosts: HostPort[] = []
    for (const target of targets) {
      if (target === 'mx') {
        const mx = await this.mxHosts(domain)
        if (mx.kind !== 'hosts') return mx
        hosts.push(...mx.hosts)
      } else if (!target.startsWith('maildir:')) {
        hosts.push(
          parseHostPort(target.includes(':') && !target.startsWith('[') ? target : `${target}:25`),
        )
      }
    }
    return { kind: 'transport', transport: this.smtp(hosts, route) }
  }

  private maildir(root: string): Transport {
    const key = `maildir:${root}`
    let transport = this.transports.get(key)
    if (!transport) {
      transport = new MaildirTransport(root, this.deps.logger)
      this.transports.set(key, transport)
    }
    return transport
  }

  private smtp(hosts: HostPort[], route: RouteConfig | undefined): Transport {
    const tls = route?.tls ?? 'opportunistic'
    const verify = route?.verifyCertificate ?? false
    const key = `smtp:${hosts.map((h) => `${h.host}:${h.port}`).join(',')}|${tls}|${verify}`
    let transport = this.transports.get(key)
    if (!transport) {
      const d = this.deps.config.delivery
      const destination: SmtpDestination = {
        key,
        hosts,
        tls,
        verifyCertificate: verify,
        heloName: d.heloName ?? this.deps.config.hostname,
        maxConnections: d.maxConnectionsPerDestination,
        maxMessagesPerConnection: d.maxMessagesPerConnection,
        idleTimeoutMs: d.idleTimeout,
        connectTimeoutMs: d.connectTimeout,
        commandTimeoutMs: d.commandTimeout,
        hostDownMs: d.hostDownFor,
      }
      transport = this.thread
        ? new ThreadedSmtpTransport(this.thread, destination)
        : new SmtpTransport({
            ...destination,
            allocateDcid: this.deps.allocateDcid,
            logger: this.deps.logger,
            clock: this.clock,
          })
      this.transports.set(key, transport)
    }
    return transport
  }

  /** MX hosts by preference; implicit MX; null MX (RFC 7505) and NXDOMAIN bounce. */
  private async mxHosts(domain: string): Promise<MxCacheEntry['decision']> {
    const now = this.clock.now()
    const cached = this.mxCache.get(domain)
    if (cached && cached.expires > now) return cached.decision
    const decision = await this.lookupMx(domain)
    this.mxCache.set(domain, { expires: now + MX_CACHE_MS, decision })
    return decision
  }

  private async lookupMx(domain: string): Promise<MxCacheEntry['decision']> {
    try {
      const records = await this.resolver.resolveMx(domain)
      if (records.length === 1 && (records[0]?.exchange === '' || records[0]?.exchange === '.')) {
        return {
          kind: 'fail',
          status: 'bounced',
          reply: `556 5.1.10 ${domain} does not accept mail (null MX)`,
          enhanced: '5.1.10',
        }
      }
      if (records.length > 0) {
        return {
          kind: 'hosts',
          hosts: records
            .sort((a, b) => a.priority - b.priority)
            .map((r) => ({ host: r.exchange.replace(/\.$/, ''), port: 25 })),
        }
      }
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'ENOTFOUND') {
        return {
          kind: 'fail',
          status: 'bounced',
          reply: `550 5.1.2 domain ${domain} does not exist`,
          enhanced: '5.1.2',
        }
      }
      if (code !== 'ENODATA') {
        return {
          kind: 'fail',
          status: 'deferred',
          reply: `451 4.4.3 DNS lookup of MX for ${domain} failed (${code ?? 'error'})`,
          enhanced: '4.4.3',
        }
      }
    }
    // No MX: the domain itself is the implicit MX if it has an address (RFC 5321 §5.1).
    const addresses = await Promise.allSettled([
      this.resolver.resolve4(domain),
      this.resolver.resolve6(domain),
    ])
    if (addresses.some((a) => a.status === 'fulfilled' && a.value.length > 0)) {
      return { kind: 'hosts', hosts: [{ host: domain, port: 25 }] }
    }
    return {
      kind: 'fail',
      status: 'bounced',
      reply: `550 5.1.2 no mail server for ${domain}`,
      enhanced: '5.1.2',
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.transports.values()].map((t) => t.close()))
    await this.thread?.close()
  }
}
