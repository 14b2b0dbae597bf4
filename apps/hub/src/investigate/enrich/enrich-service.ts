import type { AuditLog } from '@postern/store'
import type { Observable } from '@postern/ctim'
import type { Actor, ModuleService, ResolvedModule } from '../modules/module-service.js'
import {
  errorEntries,
  identityOf,
  type FanOut,
  type LegResult,
  type ModuleErrorEntry,
  type ModuleIdentity,
} from './fan-out.js'

type Docs = { count: number; docs: unknown[] }

export interface Envelope<T> {
  data: T[]
  errors: ModuleErrorEntry[]
}

export type ModuleResult = ModuleIdentity & { data: unknown }

function groupByInstance(legs: LegResult[]): Map<string, LegResult[]> {
  const groups = new Map<string, LegResult[]>()
  for (const leg of legs) {
    const id = leg.identity.module_instance_id
    groups.set(id, [...(groups.get(id) ?? []), leg])
  }
  return groups
}

/** Entity lists of several answers (several gateways of one instance) as one `{key: {count, docs}}`. */
function mergeEntityLists(parts: unknown[]): Record<string, Docs> {
  const merged: Record<string, Docs> = {}
  for (const part of parts) {
    if (!part || typeof part !== 'object') continue
    for (const [key, value] of Object.entries(part as Record<string, Docs>)) {
      if (!value || !Array.isArray(value.docs)) continue
      const into = (merged[key] ??= { count: 0, docs: [] })
      into.docs.push(...value.docs)
      into.count += value.docs.length
    }
  }
  return merged
}

/**
 * Enrich (reference §2 `/iroh/iroh-enrich/…`): observe, deliberate, refer and health over every
 * enabled module instance of the organisation, merged in the reference envelope
 * `{data: [{module, module_instance_id, module_type_id, data}], errors: [...]}` — partial results
 * when some modules fail or time out.
 */
export class EnrichService {
  constructor(private readonly deps: { modules: ModuleService; fanOut: FanOut; audit: AuditLog }) {}

  async observe(orgId: string, actor: Actor, observables: Observable[], signal?: AbortSignal) {
    return this.entityLists(orgId, actor, 'observe', observables, signal)
  }

  async deliberate(orgId: string, actor: Actor, observables: Observable[], signal?: AbortSignal) {
    return this.entityLists(orgId, actor, 'deliberate', observables, signal)
  }

  async refer(
    orgId: string,
    actor: Actor,
    observables: Observable[],
    signal?: AbortSignal,
  ): Promise<Envelope<Record<string, unknown>>> {
    const legs = await this.deps.fanOut.call(
      orgId,
      'refer',
      observables,
      await this.deps.modules.enabledModules(orgId),
      { signal },
    )
    const data: Record<string, unknown>[] = []
    const seen = new Set<string>()
    for (const leg of legs) {
      for (const ref of (leg.data as Record<string, unknown>[] | undefined) ?? []) {
        const key = `${leg.identity.module_instance_id}|${String(ref.id)}`
        if (seen.has(key)) continue
        seen.add(key)
        data.push({ ...leg.identity, ...ref })
      }
    }
    const envelope = { data, errors: legs.flatMap(errorEntries) }
    await this.audit(orgId, actor, 'enrich.refer', observables, legs, envelope.errors.length)
    return envelope
  }

  async health(orgId: string, actor: Actor, instanceId?: string) {
    let modules: ResolvedModule[]
    if (instanceId === undefined) modules = await this.deps.modules.enabledModules(orgId)
    else {
      const record = await this.deps.modules.findInstance(orgId, instanceId)
      const resolved = await this.deps.modules.resolve(orgId, record)
      modules = resolved ? [resolved] : []
    }
    const legs = await this.deps.fanOut.call(orgId, 'health', undefined, modules)
    const groups = groupByInstance(legs)
    const data = modules.map((module) => {
      const group = groups.get(module.instance.id) ?? []
      const status =
        group.length === 0
          ? 'unknown'
          : group.every((leg) => leg.errors.length === 0 && leg.data !== undefined)
            ? 'ok'
            : 'error'
      return { ...identityOf(module), data: { status } }
    })
    await this.audit(orgId, actor, 'enrich.health', [], legs, 0)
    return { data, errors: legs.flatMap(errorEntries) }
  }

  private async entityLists(
    orgId: string,
    actor: Actor,
    route: 'observe' | 'deliberate',
    observables: Observable[],
    signal: AbortSignal | undefined,
  ): Promise<Envelope<ModuleResult>> {
    const legs = await this.deps.fanOut.call(
      orgId,
      route,
      observables,
      await this.deps.modules.enabledModules(orgId),
      { signal },
    )
    const data: ModuleResult[] = []
    for (const group of groupByInstance(legs).values()) {
      const answered = group.filter((leg) => leg.data !== undefined)
      if (answered.length === 0) continue
      data.push({
        ...(group[0] as LegResult).identity,
        data: mergeEntityLists(answered.map((leg) => leg.data)),
      })
    }
    const envelope = { data, errors: legs.flatMap(errorEntries) }
    await this.audit(orgId, actor, `enrich.${route}`, observables, legs, envelope.errors.length)
    return envelope
  }

  private async audit(
    orgId: string,
    actor: Actor,
    action: string,
    observables: Observable[],
    legs: LegResult[],
    errors: number,
  ): Promise<void> {
    await this.deps.audit.record({
      orgId,
      actor,
      source: 'api',
      action,
      outcome: errors > 0 && legs.every((leg) => leg.errors.length > 0) ? 'failure' : 'success',
      details: {
        observables: observables.slice(0, 20),
        observableCount: observables.length,
        calls: legs.length,
        errors,
      },
    })
  }
}
