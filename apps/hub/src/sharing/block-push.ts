import type { AuditLog, CtiaEntity } from '@postern/store'
import { auditActorOf, ownerOf, type Caller } from '../casebooks/caller.js'
import type { BaseUrl } from '../casebooks/ctia-http.js'
import type { CtiaEntityService, WriteContext } from '../casebooks/ctia-entity-service.js'
import { idUrl } from '../casebooks/ctia-http.js'
import { privateIntelErrors } from '../casebooks/private-intel-errors.js'

/** The gateways' block-list kinds (gateway store `BLOCKLIST_KINDS`). */
export type BlockKind =
  'sender_address' | 'sender_domain' | 'sender_ip' | 'url' | 'url_domain' | 'attachment_hash'

/** One block-list entry as the hub sends it to every gateway of the org. */
export interface BlockEntry {
  kind: BlockKind
  value: string
  reason: string
  /** Who asked, for the gateway's own audit. */
  createdBy: string
  /** Epoch ms, or null for "until removed". */
  expiresAt: number | null
  /** The casebook or judgement the entry comes from (its CTIA id URL). */
  externalRef: string
}

/** What one gateway answered. */
export interface GatewayPushResult {
  deviceId: string
  ok: boolean
  added?: number
  error?: string
}

/** Adding entries blocks; removing them (same kind and value) unblocks. */
export type BlockAction = 'add' | 'remove'

/**
 * The tunnel side: delivers entries to every registered gateway of the org and reports each
 * gateway's answer (an offline gateway is a failed result, not an exception).
 */
export interface GatewayBlockPusher {
  push(orgId: string, entries: BlockEntry[], action?: BlockAction): Promise<GatewayPushResult[]>
}

/**
 * Block-list entries for observables: what a gateway can block. An e-mail address blocks the
 * sender; a domain blocks both mail from it and links to it; an IP blocks the sending host; a
 * URL blocks the link; a SHA-256 blocks the attachment. Other types (MIDs, subjects, file names)
 * cannot be blocked and are returned in `skipped`.
 */
export function blockEntriesFor(
  observables: readonly { type: string; value: string }[],
  meta: Omit<BlockEntry, 'kind' | 'value'>,
): { entries: BlockEntry[]; skipped: { type: string; value: string }[] } {
  const entries: BlockEntry[] = []
  const skipped: { type: string; value: string }[] = []
  const seen = new Set<string>()
  const add = (kind: BlockKind, value: string) => {
    const key = `${kind}\u0000${value}`
    if (seen.has(key)) return
    seen.add(key)
    entries.push({ kind, value, ...meta })
  }
  for (const ob of observables) {
    const value = ob.value.trim()
    switch (ob.type) {
      case 'email':
        add('sender_address', value.toLowerCase())
        break
      case 'domain':
        add('sender_domain', value.toLowerCase().replace(/\.$/, ''))
        add('url_domain', value.toLowerCase().replace(/\.$/, ''))
        break
      case 'hostname':
        add('url_domain', value.toLowerCase().replace(/\.$/, ''))
        break
      case 'ip':
      case 'ipv6':
        add('sender_ip', value.toLowerCase())
        break
      case 'url':
        add('url', value)
        break
      case 'sha256':
        if (/^[0-9a-f]{64}$/i.test(value)) add('attachment_hash', value.toLowerCase())
        else skipped.push(ob)
        break
      default:
        skipped.push(ob)
    }
  }
  return { entries, skipped }
}

export interface BlockPushOutcome {
  entries: BlockEntry[]
  skipped: { type: string; value: string }[]
  gateways: GatewayPushResult[]
}

/** A push's origin: the approval request that let it run, when one was needed. */
export type PushContext = WriteContext & { approvalId?: string }

/** What a push sends: the casebook's or judgement's observables and when the entries expire. */
export interface BlockSource {
  entity: CtiaEntity
  observables: { type: string; value: string }[]
  /** The judgement's end of validity; for a casebook, null (the caller may choose one). */
  expiresAt: number | null
}

/** A push outcome as the API answers it (and an approved request records it). */
export function blockPushView(result: BlockPushOutcome) {
  return {
    entries: result.entries.map((e) => ({
      kind: e.kind,
      value: e.value,
      expires_at: e.expiresAt === null ? null : new Date(e.expiresAt).toISOString(),
    })),
    skipped: result.skipped,
    gateways: result.gateways.map((g) => ({
      device_id: g.deviceId,
      ok: g.ok,
      ...(g.added === undefined ? {} : { changed: g.added }),
      ...(g.error === undefined ? {} : { error: g.error }),
    })),
  }
}

/**
 * "Block on every gateway" for a casebook's observables, or for a malicious judgement's
 * observable (valid until the judgement expires). Every push is audited with each gateway's
 * result.
 */
export class BlockPushService {
  constructor(
    private readonly deps: {
      entities: CtiaEntityService
      pusher: GatewayBlockPusher
      audit: AuditLog
      baseUrl: BaseUrl
    },
  ) {}

  /**
   * The casebook or judgement a push would send, checked: it exists in the caller's org and a
   * judgement is Malicious (any other disposition is a 400).
   */
  async source(caller: Caller, type: 'casebook' | 'judgement', id: string): Promise<BlockSource> {
    const entity = await this.deps.entities.get(caller, type, id)
    if (type === 'casebook') {
      const observables = Array.isArray(entity.doc.observables)
        ? (entity.doc.observables as { type: string; value: string }[])
        : []
      return { entity, observables, expiresAt: null }
    }
    if (entity.doc.disposition !== 2)
      throw privateIntelErrors.INVALID_ENTITY({
        entity: 'judgement',
        reason: 'only a Malicious judgement (disposition 2) can be pushed as a block',
      })
    const end = (entity.doc.valid_time as { end_time?: string } | undefined)?.end_time
    const observable = entity.doc.observable as { type: string; value: string }
    return { entity, observables: [observable], expiresAt: end ? Date.parse(end) : null }
  }

  async pushCasebook(
    caller: Caller,
    casebookId: string,
    options: { expiresAt?: number | null; context?: PushContext; action?: BlockAction } = {},
  ): Promise<BlockPushOutcome> {
    const { entity, observables } = await this.source(caller, 'casebook', casebookId)
    return this.push(
      caller,
      entity,
      observables,
      options.expiresAt ?? null,
      options.context,
      options.action,
    )
  }

  async pushJudgement(
    caller: Caller,
    judgementId: string,
    context: PushContext = {},
    action: BlockAction = 'add',
  ): Promise<BlockPushOutcome> {
    const { entity, observables, expiresAt } = await this.source(caller, 'judgement', judgementId)
    return this.push(caller, entity, observables, expiresAt, context, action)
  }

  private async push(
    caller: Caller,
    source: CtiaEntity,
    observables: { type: string; value: string }[],
    expiresAt: number | null,
    context: PushContext = {},
    action: BlockAction = 'add',
  ): Promise<BlockPushOutcome> {
    const title = typeof source.doc.title === 'string' ? ` "${source.doc.title}"` : ''
    const { entries, skipped } = blockEntriesFor(observables, {
      reason: `${source.entityType}${title}`.slice(0, 500),
      createdBy: ownerOf(caller),
      expiresAt,
      externalRef: idUrl(this.deps.baseUrl, source.entityType, source.id),
    })
    const gateways =
      entries.length > 0 ? await this.deps.pusher.push(caller.orgId, entries, action) : []
    const failed = gateways.filter((g) => !g.ok).length
    await this.deps.audit.record({
      orgId: caller.orgId,
      actor: auditActorOf(caller),
      source: context.source ?? 'api',
      remoteIp: context.remoteIp ?? null,
      action: `${source.entityType}.${action === 'add' ? 'push_blocks' : 'remove_blocks'}`,
      target: { type: source.entityType, id: source.id },
      outcome: failed === 0 ? 'success' : 'failure',
      details: {
        entries: entries.map((e) => `${e.kind}:${e.value}`),
        skipped: skipped.length,
        gateways: gateways.map((g) => ({ device: g.deviceId, ok: g.ok, error: g.error ?? null })),
        ...(context.approvalId ? { approvalId: context.approvalId } : {}),
      },
    })
    return { entries, skipped, gateways }
  }
}
