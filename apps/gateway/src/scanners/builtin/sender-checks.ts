import type { BuiltinChecksConfig } from '../config.js'
import { PASS, skipped, type ScanContext, type ScanResult, type Scanner } from '../contract.js'
import { displayNameKey, type SenderKnowledge } from './sender-knowledge.js'

const ADDRESS_IN_TEXT = /[^\s<>"'@]+@([a-z0-9.-]+\.[a-z]{2,})/i

/**
 * Display-name spoofing of internal users (incoming mail): the From header shows the name of
 * an internal user, or an internal address, while the actual address is outside the
 * organisation — the "CEO fraud" shape. Outgoing mail teaches the names internal users use.
 */
export class DisplayNameSpoofCheck implements Scanner {
  readonly id = 'display-name'
  readonly timeoutMs = 5_000
  readonly onFailure = 'skip' as const
  readonly failureQuarantine = 'policy'

  constructor(
    private readonly config: BuiltinChecksConfig['displayNameSpoof'],
    private readonly knowledge: SenderKnowledge,
  ) {}

  async scan(context: ScanContext): Promise<ScanResult> {
    if (!this.config.enabled) return skipped('disabled')
    const from = context.analysis.headers.from[0]
    if (!from || !from.address) return skipped('no From address')
    if (context.direction === 'outgoing') {
      if (
        this.config.learnFromOutgoing &&
        from.name &&
        this.knowledge.isInternalAddress(from.address)
      ) {
        this.knowledge.learnInternalSender(from.address, from.name)
      }
      return skipped('outgoing')
    }
    if (!from.name || this.knowledge.isInternalAddress(from.address)) return PASS
    const shownAddress = ADDRESS_IN_TEXT.exec(from.name)
    if (shownAddress && this.knowledge.isInternalAddress(shownAddress[0])) {
      return this.spoofed(`display name shows internal address ${shownAddress[0]}`, from.address)
    }
    const user = this.knowledge.internalUserNamed(displayNameKey(from.name))
    if (user)
      return this.spoofed(`display name "${from.name}" is internal user ${user}`, from.address)
    return PASS
  }

  private spoofed(finding: string, address: string): ScanResult {
    return {
      status: 'fail',
      verdicts: ['spoofed-display-name'],
      findings: [`${finding}; the address is ${address}`],
    }
  }
}

/**
 * Incoming mail from a header From domain first seen only recently (lookalike and throwaway
 * domains are days old when they are used). Quiet during a warm-up after the gateway first
 * starts learning, when every domain is new to it.
 */
export class NewSenderDomainCheck implements Scanner {
  readonly id = 'new-sender-domain'
  readonly timeoutMs = 5_000
  readonly onFailure = 'skip' as const
  readonly failureQuarantine = 'policy'

  constructor(
    private readonly config: BuiltinChecksConfig['newSenderDomain'],
    private readonly knowledge: SenderKnowledge,
    private readonly now: () => number,
  ) {}

  async scan(context: ScanContext): Promise<ScanResult> {
    if (!this.config.enabled) return skipped('disabled')
    if (context.direction !== 'incoming') return skipped('outgoing')
    const address = context.analysis.headers.from[0]?.address || context.envelope.mailFrom
    const domain = address.slice(address.lastIndexOf('@') + 1).toLowerCase()
    if (!address.includes('@') || domain === '') return skipped('no sender domain')
    const firstSeen = await this.knowledge.domainFirstSeen(domain)
    const now = this.now()
    if (now - this.knowledge.learningStartedAt < this.config.warmup) {
      return { status: 'pass', verdicts: [], details: { domain, firstSeen, warmingUp: true } }
    }
    if (now - firstSeen >= this.config.window)
      return { status: 'pass', verdicts: [], details: { domain, firstSeen } }
    return {
      status: 'fail',
      verdicts: ['new-sender-domain'],
      findings: [`${domain} first seen ${new Date(firstSeen).toISOString()}`],
      details: { domain, firstSeen },
    }
  }
}
