import { describeError, silentLogger, systemClock, type Clock, type Logger } from '@postern/core'
import type {
  InternalSenderSighting,
  SenderDomainSighting,
  SenderHistoryStore,
} from '@postern/store'

export interface SenderKnowledgeOptions {
  /** Domains whose addresses are internal users (the accepted recipient domains). */
  internalDomains: readonly string[]
  /** Display names always treated as internal users' names (executives, finance …). */
  protectedNames: readonly string[]
  /** How often learned facts are written to the database. */
  flushIntervalMs: number
  /** Most sender domains remembered in memory (the database keeps all). */
  maxCachedDomains: number
  clock?: Clock
  logger?: Logger
}

/**
 * Reduces a display name to what a reader recognises: Unicode compatibility forms folded
 * (full-width and styled letters), case and accents dropped, punctuation and quotes removed,
 * and the words sorted, so `"Doe, Jane"`, `JANE DOE` and `Jane  Doe` are the same person.
 */
export function displayNameKey(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}@.\s-]+/gu, ' ')
    .split(/\s+/)
    .filter((word) => word.length > 0)
    .sort()
    .join(' ')
}

/**
 * What the gateway learns from traffic for the built-in checks: the display names internal
 * users send with (from outgoing mail), and when each sender domain was first seen. Lookups
 * are served from memory; sightings are written to the database in batches.
 */
export class SenderKnowledge {
  private readonly internalDomains: Set<string>
  private readonly names = new Map<string, string>()
  private readonly domains = new Map<string, number>()
  private pendingDomains = new Map<string, SenderDomainSighting>()
  private pendingSenders = new Map<string, InternalSenderSighting>()
  private timer: NodeJS.Timeout | undefined
  private learningSince = 0
  private readonly clock: Clock
  private readonly logger: Logger

  constructor(
    private readonly store: SenderHistoryStore,
    private readonly options: SenderKnowledgeOptions,
  ) {
    this.internalDomains = new Set(options.internalDomains.map((d) => d.toLowerCase()))
    this.clock = options.clock ?? systemClock
    this.logger = options.logger ?? silentLogger()
    for (const name of options.protectedNames) this.names.set(displayNameKey(name), name)
  }

  async start(): Promise<void> {
    for (const sender of await this.store.internalSenders()) {
      if (!this.names.has(sender.nameKey)) this.names.set(sender.nameKey, sender.address)
    }
    this.learningSince = (await this.store.earliestSighting()) ?? this.clock.now()
    this.timer = setInterval(() => void this.flushSafely(), this.options.flushIntervalMs)
    this.timer.unref()
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
    await this.flush()
  }

  /** When the gateway started learning senders (its first recorded sender domain). */
  get learningStartedAt(): number {
    return this.learningSince
  }

  isInternalAddress(address: string): boolean {
    const domain = address.slice(address.lastIndexOf('@') + 1).toLowerCase()
    if (this.internalDomains.has(domain)) return true
    for (const internal of this.internalDomains) if (domain.endsWith(`.${internal}`)) return true
    return false
  }

  /** The internal user (address or protected name) a display name belongs to, if any. */
  internalUserNamed(key: string): string | undefined {
    return this.names.get(key)
  }

  learnInternalSender(address: string, displayName: string): void {
    const key = displayNameKey(displayName)
    // A one-word name ("Support", "Admin") is not a person; remembering it would flag every
    // vendor's support desk as an impersonation.
    if (key.split(' ').length < 2) return
    const lower = address.toLowerCase()
    this.names.set(key, lower)
    this.pendingSenders.set(lower, {
      address: lower,
      displayName: displayName.slice(0, 200),
      nameKey: key,
      at: this.clock.now(),
    })
  }

  /** When `domain` was first seen; a domain never seen before is recorded as seen now. */
  async domainFirstSeen(domain: string): Promise<number> {
    const now = this.clock.now()
    let first = this.domains.get(domain)
    if (first === undefined) {
      first = (await this.store.firstSeen(domain)) ?? now
      this.remember(domain, first)
    }
    const pending = this.pendingDomains.get(domain)
    if (pending) pending.messages++
    else this.pendingDomains.set(domain, { domain, at: now, messages: 1 })
    return first
  }

  private remember(domain: string, first: number): void {
    this.domains.set(domain, first)
    if (this.domains.size > this.options.maxCachedDomains) {
      const oldest = this.domains.keys().next().value
      if (oldest !== undefined) this.domains.delete(oldest)
    }
  }

  async flush(): Promise<void> {
    const domains = [...this.pendingDomains.values()]
    const senders = [...this.pendingSenders.values()]
    this.pendingDomains = new Map()
    this.pendingSenders = new Map()
    await this.store.recordDomains(domains)
    await this.store.recordInternalSenders(senders)
  }

  private async flushSafely(): Promise<void> {
    try {
      await this.flush()
    } catch (err) {
      this.logger.warn(
        { event: 'SENDER_HISTORY_WRITE_FAILED', err: describeError(err) },
        'learned sender facts could not be written; they will be learned again',
      )
    }
  }
}
