import { describeError, silentLogger, systemClock, type Clock, type Logger } from '@postern/core'
import type {
  AuditLog,
  AuditSource,
  BlockedSender,
  BlocklistEntry,
  BlocklistKind,
  BlocklistQuery,
  BlocklistStore,
} from '@postern/store'
import { gwErrors } from '../errors.js'
import { BlocklistMatcher } from './matcher.js'
import { normaliseBlocklistValue } from './values.js'

/** Who changes a list, for the entry and the audit log. */
export interface Actor {
  /** `cli`, `api`, `hub`, `policy`. */
  source: AuditSource | 'policy'
  /** User name, token name, hub action or policy that made the change. */
  id: string
  remoteIp?: string | null
}

export interface NewEntryInput {
  kind: BlocklistKind
  value: string
  reason: string
  /** Absolute expiry time (epoch ms) or null for "until removed". */
  expiresAt?: number | null
  externalRef?: string | null
}

export interface BlocklistServiceOptions {
  /** How often the database revision is checked (changes made by other processes). */
  refreshIntervalMs: number
  clock?: Clock
  logger?: Logger
  audit?: AuditLog | null
}

/**
 * Block lists and blocked users for one gateway process: the in-memory matchers every message
 * and SMTP session consult synchronously, and the managed operations (add, remove, list,
 * block/unblock a user) used by the CLI, the API and the hub. Changes made here apply at once;
 * changes made by another process sharing the database apply within `refreshIntervalMs`.
 */
export class BlocklistService {
  private current = new BlocklistMatcher([])
  private blocked = new Map<string, BlockedSender>()
  private listRevision = -1
  private senderRevision = -1
  private nextExpiry = Number.POSITIVE_INFINITY
  private timer: NodeJS.Timeout | undefined
  private refreshing: Promise<void> | undefined
  private readonly changeListeners: (() => void)[] = []
  private readonly clock: Clock
  private readonly logger: Logger

  constructor(
    private readonly store: BlocklistStore,
    private readonly options: BlocklistServiceOptions,
  ) {
    this.clock = options.clock ?? systemClock
    this.logger = options.logger ?? silentLogger()
  }

  async start(): Promise<void> {
    await this.refresh(true)
    this.timer = setInterval(() => this.refreshInBackground(), this.options.refreshIntervalMs)
    this.timer.unref()
  }

  /** `refresh()` for a caller that does not wait: a failure is logged, the old lists stay. */
  refreshInBackground(): void {
    this.refresh(false).catch((err: unknown) =>
      this.logger.error(
        { event: 'BLOCKLIST_REFRESH_FAILED', err: describeError(err) },
        'block lists could not be reloaded; the previous lists stay in force',
      ),
    )
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
  }

  /**
   * `listener` runs after each change made through this service (whoever asked: API, hub, CLI,
   * policy), so other processes sharing the database can be told before their next refresh.
   */
  onChange(listener: () => void): void {
    this.changeListeners.push(listener)
  }

  /** The compiled lists (synchronous: used on the hot path). */
  get matcher(): BlocklistMatcher {
    return this.current
  }

  /** The blocked user record for an address, when that sender is blocked. */
  blockedSender(address: string): BlockedSender | undefined {
    return this.blocked.get(address.toLowerCase())
  }

  /** Reloads what changed since the last load (and entries whose expiry has passed). */
  async refresh(force = false): Promise<void> {
    while (this.refreshing) await this.refreshing
    this.refreshing = this.load(force).finally(() => {
      this.refreshing = undefined
    })
    await this.refreshing
  }

  private async load(force: boolean): Promise<void> {
    const now = this.clock.now()
    const [listRevision, senderRevision] = await Promise.all([
      this.store.revision('blocklists'),
      this.store.revision('blocked_senders'),
    ])
    if (force || listRevision !== this.listRevision || now >= this.nextExpiry) {
      const entries = await this.store.active(now)
      this.current = new BlocklistMatcher(entries)
      this.nextExpiry = Math.min(
        Number.POSITIVE_INFINITY,
        ...entries.map((e) => e.expiresAt ?? Number.POSITIVE_INFINITY),
      )
      this.listRevision = listRevision
      this.logger.info(
        { event: 'BLOCKLIST_LOADED', entries: entries.length, revision: listRevision },
        'block lists loaded',
      )
    }
    if (force || senderRevision !== this.senderRevision) {
      const senders = await this.store.blockedSenders()
      this.blocked = new Map(senders.map((s) => [s.address.toLowerCase(), s]))
      this.senderRevision = senderRevision
    }
  }

  async add(input: NewEntryInput, actor: Actor): Promise<BlocklistEntry> {
    const value = normaliseBlocklistValue(input.kind, input.value)
    const entry = await this.store.add({
      kind: input.kind,
      value,
      source: actor.source,
      reason: input.reason,
      createdBy: actor.id,
      createdAt: this.clock.now(),
      expiresAt: input.expiresAt ?? null,
      externalRef: input.externalRef ?? null,
    })
    if (!entry) throw gwErrors.BLOCKLIST_ENTRY_EXISTS({ kind: input.kind, value })
    await this.audit(
      actor,
      'blocklist.add',
      { type: 'blocklist_entry', id: String(entry.id) },
      {
        kind: entry.kind,
        value: entry.value,
        reason: entry.reason,
        expiresAt: entry.expiresAt,
      },
    )
    await this.changed()
    return entry
  }

  async remove(id: number, actor: Actor): Promise<BlocklistEntry> {
    const entry = await this.store.remove(id)
    if (!entry) throw gwErrors.BLOCKLIST_ENTRY_NOT_FOUND({ id })
    await this.audit(
      actor,
      'blocklist.remove',
      { type: 'blocklist_entry', id: String(id) },
      {
        kind: entry.kind,
        value: entry.value,
      },
    )
    await this.changed()
    return entry
  }

  /** The entry holding a value (normalised first), if any; an invalid value is in no list. */
  async findValue(kind: BlocklistKind, value: string): Promise<BlocklistEntry | undefined> {
    let normalised: string
    try {
      normalised = normaliseBlocklistValue(kind, value)
    } catch {
      return undefined
    }
    return this.store.find(kind, normalised)
  }

  /** Removes the entry of a value (as the hub's "unblock" names values, not ids). */
  async removeValue(kind: BlocklistKind, value: string, actor: Actor): Promise<BlocklistEntry> {
    const normalised = normaliseBlocklistValue(kind, value)
    const entry = await this.store.find(kind, normalised)
    if (!entry) throw gwErrors.BLOCKLIST_ENTRY_NOT_FOUND({ id: `${kind}:${normalised}` })
    return this.remove(entry.id, actor)
  }

  list(query: BlocklistQuery): Promise<{ total: number; entries: BlocklistEntry[] }> {
    return this.store.list({ ...query, now: this.clock.now() })
  }

  /** Blocks an internal user's outgoing mail (idempotent: the first reason stays). */
  async blockSender(
    address: string,
    reason: string,
    actor: Actor,
    mid: number | null = null,
  ): Promise<{ sender: BlockedSender; created: boolean }> {
    const normalised = normaliseBlocklistValue('sender_address', address)
    const result = await this.store.blockSender({
      address: normalised,
      reason,
      source: actor.source,
      createdBy: actor.id,
      createdAt: this.clock.now(),
      mid,
    })
    if (result.created) {
      this.blocked.set(normalised, result.sender)
      await this.audit(actor, 'sender.block', { type: 'sender', id: normalised }, { reason, mid })
      await this.changed()
    }
    return result
  }

  async unblockSender(address: string, actor: Actor): Promise<BlockedSender> {
    const normalised = normaliseBlocklistValue('sender_address', address)
    const removed = await this.store.unblockSender(normalised)
    if (!removed) throw gwErrors.BLOCKED_SENDER_NOT_FOUND({ address: normalised })
    this.blocked.delete(normalised)
    await this.audit(
      actor,
      'sender.unblock',
      { type: 'sender', id: normalised },
      {
        reason: removed.reason,
      },
    )
    await this.changed()
    return removed
  }

  blockedSenders(): Promise<BlockedSender[]> {
    return this.store.blockedSenders()
  }

  /** After a change here: this process's lists now, other processes' through the listeners. */
  private async changed(): Promise<void> {
    await this.refresh()
    for (const listener of this.changeListeners) listener()
  }

  private async audit(
    actor: Actor,
    action: string,
    target: { type: string; id: string },
    details: Record<string, unknown>,
  ): Promise<void> {
    if (!this.options.audit) return
    await this.options.audit.record({
      actor: {
        type: actor.source === 'policy' ? 'system' : actor.source === 'hub' ? 'hub' : 'user',
        id: actor.id,
      },
      source: actor.source === 'policy' ? 'system' : actor.source,
      remoteIp: actor.remoteIp ?? null,
      action,
      target,
      outcome: 'success',
      details,
    })
  }
}
