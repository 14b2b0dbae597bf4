import { BlockList, isIP } from 'node:net'
import { classifyMatch, type HatRule, type RatRule } from '../config.js'

/** A sender group the client matched, with everything the session needs from it. */
export interface HatMatch {
  rule: HatRule
  /** The verified reverse DNS name, when a rule needed it (or it was cached). */
  rdns: string | null
}

interface CompiledRule {
  rule: HatRule
  any: boolean
  addresses: BlockList | undefined
  names: RegExp[]
}

/** Strips the IPv4-mapped prefix a dual-stack socket reports (`::ffff:192.0.2.1`). */
export function normaliseIp(ip: string): string {
  return /^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(ip) ? ip.slice(7) : ip
}

function namePattern(entry: string): RegExp {
  const lower = entry.toLowerCase()
  // `.example.com`: any host under example.com (not example.com itself), as in Cisco's HAT.
  const source = lower.startsWith('.')
    ? `.+${escape(lower)}`
    : lower.split('*').map(escape).join('[a-z0-9_.-]*')
  return new RegExp(`^${source}$`)
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/**
 * The host access table of a listener: sender groups in order, first match wins. IP and CIDR
 * entries are checked without any lookup; the reverse DNS name is fetched only when the walk
 * reaches a rule with name patterns and no earlier entry of that rule matched.
 */
export class HostAccessTable {
  private readonly rules: CompiledRule[]

  constructor(rules: readonly HatRule[]) {
    this.rules = rules.map((rule) => {
      const compiled: CompiledRule = { rule, any: false, addresses: undefined, names: [] }
      for (const entry of rule.match) {
        const kind = classifyMatch(entry)
        if (kind === 'any') compiled.any = true
        else if (kind === 'ip' || kind === 'cidr') {
          compiled.addresses ??= new BlockList()
          const [address, bits] = entry.split('/') as [string, string | undefined]
          const family = isIP(address) === 6 ? 'ipv6' : 'ipv4'
          if (bits === undefined) compiled.addresses.addAddress(address, family)
          else compiled.addresses.addSubnet(address, Number(bits), family)
        } else if (kind === 'rdns') compiled.names.push(namePattern(entry))
      }
      return compiled
    })
  }

  /** True when some rule matches by name, so a lookup may be needed. */
  get usesNames(): boolean {
    return this.rules.some((r) => r.names.length > 0)
  }

  /**
   * The first sender group matching `ip`. `lookupName` is called at most once, and only if
   * needed; `cachedName` (if known) is used without a call.
   */
  async match(
    rawIp: string,
    lookupName: () => Promise<string | null>,
    cachedName?: string | null,
  ): Promise<HatMatch | undefined> {
    const ip = normaliseIp(rawIp)
    const family = isIP(ip) === 6 ? 'ipv6' : 'ipv4'
    let name: string | null | undefined = cachedName
    for (const compiled of this.rules) {
      if (compiled.any) return { rule: compiled.rule, rdns: name ?? null }
      if (compiled.addresses?.check(ip, family)) return { rule: compiled.rule, rdns: name ?? null }
      if (compiled.names.length > 0) {
        if (name === undefined) name = await lookupName()
        if (name !== null && compiled.names.some((re) => re.test(name as string))) {
          return { rule: compiled.rule, rdns: name }
        }
      }
    }
    return undefined
  }
}

/** What the RAT says about a recipient. */
export type RatVerdict = 'accept' | 'reject' | 'unlisted'

/**
 * The recipient access table of a listener: domains and addresses in order, first match wins.
 * `unlisted` recipients are relayed only for RELAYED sender groups and authenticated clients.
 */
export class RecipientAccessTable {
  private readonly rules: { match: (address: string, domain: string) => boolean; action: string }[]

  constructor(rules: readonly RatRule[]) {
    this.rules = rules.map((rule) => {
      const value = rule.recipient.trim().toLowerCase()
      let match: (address: string, domain: string) => boolean
      if (value === '*') match = () => true
      else if (value.includes('@')) match = (address) => address === value
      else if (value.startsWith('.')) match = (_a, domain) => domain.endsWith(value)
      else match = (_a, domain) => domain === value
      return { match, action: rule.action }
    })
  }

  check(recipient: string): RatVerdict {
    const address = recipient.toLowerCase()
    const at = address.lastIndexOf('@')
    // RFC 5321 §4.1.1.3: the domainless "postmaster" must be accepted; it is ours.
    if (at < 0) return address === 'postmaster' ? 'accept' : 'unlisted'
    const domain = address.slice(at + 1)
    for (const rule of this.rules) {
      if (rule.match(address, domain)) return rule.action === 'ACCEPT' ? 'accept' : 'reject'
    }
    return 'unlisted'
  }
}
