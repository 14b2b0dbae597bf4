import { call, type Transport } from './api.js'
import type { Observable } from './observables.js'

/** One module's answer inside a Threat Response envelope. */
export interface ModuleAnswer {
  module: string
  module_instance_id?: string
  data?: Record<string, { count?: number; docs?: Record<string, unknown>[] } | undefined>
}

export interface Envelope<T> {
  data: T
  errors?: { module?: string; message?: string; code?: string }[]
}

export interface ReferLink {
  id?: string
  module?: string
  title: string
  description?: string
  url: string
}

export interface ResponseAction {
  id: string
  title: string
  description?: string
  module: string
  module_instance_id: string
  'query-params'?: Record<string, string>
}

export interface TriggerResult {
  status: 'success' | 'failure' | 'pending'
  approval_id?: string
  expires_at?: string
  results?: {
    gateway?: string
    status?: string
    run_id?: number
    results?: {
      recipient: string
      status: string
      forwarded?: string[]
      deleted?: boolean
      error?: string
    }[]
  }[]
}

export interface Casebook {
  id: string
  title?: string
  description?: string
  observables?: Observable[]
  texts?: { type: string; text: string }[]
  timestamp?: string
}

/** What an enrichment says about one observable, summed over every module. */
export interface EnrichSummary {
  sightings: number
  verdicts: { module: string; disposition: string }[]
  modules: { module: string; sightings: number }[]
  errors: string[]
}

/** The hub's Threat Response and casebook API, as every console and the ribbon call it. */
export class HubApi {
  constructor(readonly transport: Transport) {}

  get base(): string {
    return this.transport.base
  }

  inspect(content: string): Promise<Observable[]> {
    return call(this.transport, 'POST', '/iroh/iroh-inspect/inspect', { content })
  }

  observe(observables: Observable[]): Promise<Envelope<ModuleAnswer[]>> {
    return call(this.transport, 'POST', '/iroh/iroh-enrich/observe/observables', observables)
  }

  deliberate(observables: Observable[]): Promise<Envelope<ModuleAnswer[]>> {
    return call(this.transport, 'POST', '/iroh/iroh-enrich/deliberate/observables', observables)
  }

  async refer(observables: Observable[]): Promise<ReferLink[]> {
    const answer = await call<Envelope<ReferLink[]>>(
      this.transport,
      'POST',
      '/iroh/iroh-enrich/refer/observables',
      observables,
    )
    return answer.data ?? []
  }

  async actions(observables: Observable[]): Promise<ResponseAction[]> {
    const answer = await call<Envelope<ResponseAction[]>>(
      this.transport,
      'POST',
      '/iroh/iroh-response/respond/observables',
      observables,
    )
    return answer.data ?? []
  }

  async trigger(
    action: ResponseAction,
    observable: Observable,
    extras: Record<string, string> = {},
  ): Promise<Envelope<TriggerResult>> {
    const params = new URLSearchParams({
      ...(action['query-params'] ?? {}),
      ...extras,
      observable_type: observable.type,
      observable_value: observable.value,
    })
    return call(
      this.transport,
      'POST',
      `/iroh/iroh-response/respond/trigger/${encodeURIComponent(action.module_instance_id)}/${encodeURIComponent(action.id)}?${params}`,
    )
  }

  /** Sightings and verdicts of one observable, summed for an inline summary. */
  async summarise(observable: Observable): Promise<EnrichSummary> {
    const [observed, deliberated] = await Promise.all([
      this.observe([observable]),
      this.deliberate([observable]),
    ])
    const summary: EnrichSummary = { sightings: 0, verdicts: [], modules: [], errors: [] }
    for (const answer of observed.data ?? []) {
      const count = answer.data?.sightings?.count ?? answer.data?.sightings?.docs?.length ?? 0
      summary.sightings += count
      summary.modules.push({ module: answer.module, sightings: count })
    }
    for (const answer of deliberated.data ?? []) {
      for (const verdict of answer.data?.verdicts?.docs ?? []) {
        summary.verdicts.push({
          module: answer.module,
          disposition: String(verdict.disposition_name ?? 'Unknown'),
        })
      }
    }
    for (const error of [...(observed.errors ?? []), ...(deliberated.errors ?? [])]) {
      summary.errors.push(`${error.module ?? 'hub'}: ${error.message ?? error.code ?? 'error'}`)
    }
    return summary
  }

  async activeCase(): Promise<Casebook | null> {
    const answer = await call<{ casebook: Casebook | null }>(
      this.transport,
      'GET',
      '/api/v1/casebooks/active',
    )
    return answer.casebook
  }

  setActiveCase(id: string): Promise<{ casebook: Casebook }> {
    return call(this.transport, 'PUT', '/api/v1/casebooks/active', { casebook_id: id })
  }

  /** Adds to the caller's active case; the hub makes a new active case when there is none. */
  addToActiveCase(
    observables: Observable[],
    title: string,
  ): Promise<{ casebook: Casebook; created: boolean }> {
    return call(this.transport, 'POST', '/api/v1/casebooks/active/observables', {
      observables,
      title,
    })
  }

  casebooks(query = ''): Promise<Casebook[]> {
    const search = query ? `?query=${encodeURIComponent(query)}` : ''
    return call(this.transport, 'GET', `/ctia/casebook/search${search}`)
  }

  casebook(id: string): Promise<Casebook> {
    return call(this.transport, 'GET', `/ctia/casebook/${encodeURIComponent(id)}`)
  }

  createCase(title: string, observables: Observable[]): Promise<Casebook> {
    return call(this.transport, 'POST', '/ctia/casebook', {
      title,
      observables,
      type: 'casebook',
      source: 'Postern console',
      tlp: 'amber',
      timestamp: new Date().toISOString(),
    })
  }

  addToCase(id: string, observables: Observable[]): Promise<Casebook> {
    return call(this.transport, 'POST', `/ctia/casebook/${encodeURIComponent(id)}/observables`, {
      operation: 'add',
      observables,
    })
  }

  addNote(id: string, text: string): Promise<Casebook> {
    return call(this.transport, 'POST', `/ctia/casebook/${encodeURIComponent(id)}/texts`, {
      operation: 'add',
      texts: [{ type: 'note', text }],
    })
  }

  updateCase(id: string, patch: { title?: string; description?: string }): Promise<Casebook> {
    return call(this.transport, 'PATCH', `/ctia/casebook/${encodeURIComponent(id)}`, patch)
  }

  /** Response actions waiting for a second user, to show their state beside the actions. */
  async pendingApprovals(): Promise<PendingApproval[]> {
    const answer = await call<{ items: PendingApproval[] }>(
      this.transport,
      'GET',
      '/api/v1/approvals?status=pending',
    )
    return answer.items
  }

  incidents(status = ''): Promise<Incident[]> {
    const search = status ? `?status=${encodeURIComponent(status)}` : ''
    return call(this.transport, 'GET', `/ctia/incident/search${search}`)
  }

  /** The ribbon's state the hub keeps for the user (shared by both consoles). */
  ribbonState(): Promise<RibbonState> {
    return call(this.transport, 'GET', '/api/v1/preferences/ribbon')
  }

  saveRibbonState(state: RibbonState): Promise<RibbonState> {
    return call(this.transport, 'PUT', '/api/v1/preferences/ribbon', state)
  }
}

export interface Incident {
  id: string
  title?: string
  description?: string
  status?: string
  severity?: string
  assignees?: string[]
  timestamp?: string
  incident_time?: Record<string, string | undefined>
}

export interface PendingApproval {
  id: string
  module_instance_id: string
  action_id: string
  observable: Observable
  status: string
}

export interface RibbonState {
  expanded: boolean
  app: string
  caseId: string | null
  /** When the browser changed it (epoch ms); the newer of the hub's and the page's copy wins. */
  savedAt: number
}
