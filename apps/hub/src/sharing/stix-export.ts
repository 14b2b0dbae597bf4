import {
  TLP_VALUES,
  toStixBundle,
  type DispositionNumber,
  type StixExportResult,
  type Tlp,
} from '@postern/ctim'
import type { CtiaEntity } from '@postern/store'
import type { Caller } from '../casebooks/caller.js'
import type { BaseUrl } from '../casebooks/ctia-http.js'
import type { CtiaEntityService } from '../casebooks/ctia-entity-service.js'
import { idUrl } from '../casebooks/ctia-http.js'
import type { IncidentService } from '../incidents/incident-service.js'
import type { JudgementService } from '../judgements/judgement-service.js'

interface Observable {
  type: string
  value: string
}

function observablesOf(casebook: CtiaEntity): Observable[] {
  return Array.isArray(casebook.doc.observables) ? (casebook.doc.observables as Observable[]) : []
}

function notesOf(casebook: CtiaEntity): { text: string; type?: string }[] {
  const texts = Array.isArray(casebook.doc.texts)
    ? (casebook.doc.texts as { type?: string; text?: string }[])
    : []
  return texts
    .filter((t) => typeof t.text === 'string')
    .map((t) => ({ text: t.text!, ...(typeof t.type === 'string' ? { type: t.type } : {}) }))
}

function tlpOf(entity: CtiaEntity): Tlp {
  const tlp = entity.doc.tlp
  return (TLP_VALUES as readonly string[]).includes(String(tlp)) ? (tlp as Tlp) : 'amber'
}

/**
 * STIX 2.1 export of a casebook or an incident (seed §1, "share with other devices"): one
 * indicator per observable STIX can express, marked with the verdict the org's judgements give
 * it, a report with the notes, and the TLP marking of the source entity.
 */
export class StixExportService {
  constructor(
    private readonly deps: {
      entities: CtiaEntityService
      incidents: IncidentService
      judgements: JudgementService
      baseUrl: BaseUrl
      /** The producer named in the bundle's identity, e.g. the organisation. */
      producerName: string
    },
  ) {}

  async casebook(caller: Caller, id: string): Promise<StixExportResult> {
    const casebook = await this.deps.entities.get(caller, 'casebook', id)
    return this.export(caller, casebook, observablesOf(casebook), notesOf(casebook))
  }

  async incident(caller: Caller, id: string): Promise<StixExportResult> {
    const incident = await this.deps.entities.get(caller, 'incident', id)
    const casebooks = await this.deps.incidents.linkedCasebooks(caller, id)
    return this.export(
      caller,
      incident,
      casebooks.flatMap(observablesOf),
      casebooks.flatMap(notesOf),
    )
  }

  private async export(
    caller: Caller,
    source: CtiaEntity,
    observables: Observable[],
    notes: { text: string; type?: string }[],
  ): Promise<StixExportResult> {
    const answer = await this.deps.judgements.deliberate(caller.orgId, observables, (e) =>
      idUrl(this.deps.baseUrl, e.entityType, e.id),
    )
    const disposition = new Map(
      answer.verdicts.docs.map((v) => [
        `${v.observable.type}\u0000${v.observable.value.toLowerCase()}`,
        v.disposition as DispositionNumber,
      ]),
    )
    const url = idUrl(this.deps.baseUrl, source.entityType, source.id)
    return toStixBundle({
      title:
        typeof source.doc.title === 'string'
          ? source.doc.title
          : `${source.entityType} ${source.id}`,
      ...(typeof source.doc.description === 'string'
        ? { description: source.doc.description }
        : {}),
      observables: observables.map((ob) => {
        const d = disposition.get(`${ob.type}\u0000${ob.value.toLowerCase()}`)
        return {
          type: ob.type,
          value: ob.value,
          ...(d !== undefined ? { disposition: d } : {}),
        } as Parameters<typeof toStixBundle>[0]['observables'][number]
      }),
      notes,
      tlp: tlpOf(source),
      producer: { name: this.deps.producerName },
      externalReferences: [{ source_name: 'postern', url, external_id: source.id }],
    })
  }
}
