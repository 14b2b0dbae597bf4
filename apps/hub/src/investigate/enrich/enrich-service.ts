import type { AuditBatcher } from '../../audit/audit-batcher.js'
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
import {
  mergedListsJson,
  moduleResultJson,
  serialiseLists,
  type SerialisedLists,
} from './entity-lists.js'

export interface Envelope<T> {
  data: T[]
  errors: ModuleErrorEntry[]
}

function groupByInstance(legs: LegResult[]): Map<string, LegResult[]> {
  const groups = new Map<string, LegResult[]>()
  for (const leg of legs) {
    const id = leg.identity.module_instance_id
    groups.set(id, [...(groups.get(id) ?? []), leg])
  }
  return groups
}

/**
 * Enrich (reference §2 `/iroh/iroh-enrich/…`): observe, deliberate, refer and health over every
 * enabled module instance of the organisation, merged in the reference envelope
 * `{data: [{module, module_instance_id, module_type_id, data}], errors: [...]}` — partial results
 * when some modules fail or time out.
 */
export class EnrichService {
  constructor(
    private readonly deps: {
      modules: ModuleService
      fanOut: FanOut
      /** Lookups change nothing: their entries are written after the answer. */
      audit: Pick<AuditBatcher, 'record'>
    },
  ) {}

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
    this.audit(orgId, actor, 'enrich.refer', observables, legs, envelope.errors.length)
    return envelope
  }

  async health(orgId: string, actor: Actor, instanceId?: string) {
    let modules: readonly ResolvedModule[]
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
    this.audit(orgId, actor, 'enrich.health', [], legs, 0)
    return { data, errors: legs.flatMap(errorEntries) }
  }

  /**
   * Observe and deliberate: every module's entity lists, a module instance's gateways merged.
   * Answers the envelope as JSON text, built from each answer serialised as it arrives.
   */
  private async entityLists(
    orgId: string,
    actor: Actor,
    route: 'observe' | 'deliberate',
    observables: Observable[],
    signal: AbortSignal | undefined,
  ): Promise<string> {
    const serialised: SerialisedLists[] = []
    const legs = await this.deps.fanOut.call(
      orgId,
      route,
      observables,
      await this.deps.modules.enabledModules(orgId),
      {
        signal,
        onLeg: (position, leg) => {
          if (leg.data !== undefined) serialised[position] = serialiseLists(leg.data)
        },
      },
    )
    const byInstance = new Map<string, { identity: ModuleIdentity; answers: SerialisedLists[] }>()
    legs.forEach((leg, position) => {
      const answer = serialised[position]
      if (!answer) return
      const group = byInstance.get(leg.identity.module_instance_id) ?? {
        identity: leg.identity,
        answers: [],
      }
      byInstance.set(leg.identity.module_instance_id, group)
      group.answers.push(answer)
    })
    const data = [...byInstance.values()].map(({ identity, answers }) =>
      moduleResultJson(identity, mergedListsJson(answers)),
    )
    const errors = legs.flatMap(errorEntries)
    this.audit(orgId, actor, `enrich.${route}`, observables, legs, errors.length)
    return `{"data":[${data.join(',')}],"errors":${JSON.stringify(errors)}}`
  }

  private audit(
    orgId: string,
    actor: Actor,
    action: string,
    observables: Observable[],
    legs: LegResult[],
    errors: number,
  ): void {
    this.deps.audit.record({
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
