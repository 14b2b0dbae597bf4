import type { CtiaDocument, CtiaEntity, IncidentStatusChange, IncidentStore } from '@postern/store'
import { ownerOf, type Caller } from '../casebooks/caller.js'
import type { CtiaEntityService, WriteContext } from '../casebooks/ctia-entity-service.js'
import { privateIntelErrors } from '../casebooks/private-intel-errors.js'

/** What `POST /ctia/incident/{id}/link` links to: exactly one of the two. */
export interface IncidentLinkTarget {
  casebook_id?: string
  investigation_id?: string
  tlp?: string
}

/**
 * Which `incident_time` field a status sets, as CTIA's status route does: opening sets
 * `opened` (when not set yet), closing sets `closed`, and so on. Statuses are CTIM's ("Open",
 * "Open: Investigating", "Closed: False Positive", …); the prefix decides.
 */
export function incidentTimeFieldFor(status: string): string | null {
  if (status === 'Open' || status.startsWith('Open:')) return 'opened'
  if (status === 'Closed' || status.startsWith('Closed:')) return 'closed'
  if (status === 'Rejected') return 'rejected'
  if (status === 'Incident Reported' || status === 'Open: Reported') return 'reported'
  if (status === 'Containment Achieved' || status === 'Restoration Achieved') return 'remediated'
  return null
}

/**
 * Incidents beyond CRUD: status changes (kept in a history) and links to casebooks (stored
 * as CTIM relationships `incident related-to casebook`).
 */
export class IncidentService {
  constructor(
    private readonly entities: CtiaEntityService,
    private readonly incidents: IncidentStore,
  ) {}

  async create(caller: Caller, doc: CtiaDocument, context: WriteContext = {}): Promise<CtiaEntity> {
    const incident = await this.entities.create(caller, 'incident', doc, context)
    if (typeof incident.doc.status === 'string') {
      await this.incidents.recordStatus(caller.orgId, incident.id, {
        status: incident.doc.status,
        previousStatus: null,
        at: incident.created,
        actor: ownerOf(caller),
      })
    }
    return incident
  }

  /** `POST /ctia/incident/{id}/status`. */
  async setStatus(
    caller: Caller,
    id: string,
    status: string,
    context: WriteContext = {},
  ): Promise<CtiaEntity> {
    let previous: string | null = null
    const at = this.entities.now()
    const updated = await this.entities.change(
      caller,
      'incident',
      id,
      'status',
      context,
      (current) => {
        previous = typeof current.doc.status === 'string' ? current.doc.status : null
        const times = { ...((current.doc.incident_time as Record<string, unknown>) ?? {}) }
        const field = incidentTimeFieldFor(status)
        if (field && !(field === 'opened' && typeof times.opened === 'string'))
          times[field] = new Date(at).toISOString()
        return { ...current.doc, status, incident_time: times }
      },
      { status },
    )
    await this.incidents.recordStatus(caller.orgId, id, {
      status,
      previousStatus: previous,
      at,
      actor: ownerOf(caller),
    })
    return updated
  }

  async statusHistory(caller: Caller, id: string): Promise<IncidentStatusChange[]> {
    await this.entities.get(caller, 'incident', id)
    return this.incidents.statusHistory(caller.orgId, id)
  }

  /**
   * `POST /ctia/incident/{id}/link`: relates the incident to a casebook (or an investigation,
   * which the hub records by id without owning investigations). Returns the relationship.
   */
  async link(
    caller: Caller,
    id: string,
    target: IncidentLinkTarget,
    context: WriteContext = {},
  ): Promise<CtiaEntity> {
    const targets = [target.casebook_id, target.investigation_id].filter((t) => t !== undefined)
    if (targets.length !== 1) throw privateIntelErrors.LINK_TARGET_INVALID()
    const incident = await this.entities.get(caller, 'incident', id)
    let targetRef: string
    if (target.casebook_id !== undefined) {
      targetRef = (await this.entities.get(caller, 'casebook', target.casebook_id)).id
    } else {
      targetRef = target.investigation_id!
    }
    return this.entities.create(
      caller,
      'relationship',
      {
        relationship_type: 'related-to',
        source_ref: incident.id,
        target_ref: targetRef,
        ...(target.tlp ? { tlp: target.tlp } : {}),
        timestamp: new Date(this.entities.now()).toISOString(),
      },
      context,
    )
  }

  /** Casebooks linked to an incident (through `related-to` relationships). */
  async linkedCasebooks(caller: Caller, id: string): Promise<CtiaEntity[]> {
    await this.entities.get(caller, 'incident', id)
    const relationships = await this.entities.store.relationshipsOf(caller.orgId, id)
    const ids = relationships
      .filter((r) => r.doc.source_ref === id && typeof r.doc.target_ref === 'string')
      .map((r) => r.doc.target_ref as string)
    return this.entities.store.getMany(caller.orgId, 'casebook', ids)
  }
}
