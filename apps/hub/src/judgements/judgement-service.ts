import type { CtiaDocument, CtiaEntity } from '@postern/store'
import type { Caller } from '../casebooks/caller.js'
import type { CtiaEntityService, WriteContext } from '../casebooks/ctia-entity-service.js'
import { deliberate, type DeliberateAnswer, type Observable } from './verdicts.js'

/**
 * Analysts' judgements (private intelligence): "this observable is malicious / clean until …".
 * Documents arrive validated (disposition and its name reconciled by the CTIM schema); the
 * service fills the validity start when the analyst gave none, so a judgement applies from the
 * moment it is made.
 */
export class JudgementService {
  constructor(private readonly entities: CtiaEntityService) {}

  async create(caller: Caller, doc: CtiaDocument, context: WriteContext = {}): Promise<CtiaEntity> {
    return this.entities.create(caller, 'judgement', this.withValidity(doc), context)
  }

  async replace(
    caller: Caller,
    id: string,
    doc: CtiaDocument,
    context: WriteContext = {},
  ): Promise<CtiaEntity> {
    return this.entities.replace(caller, 'judgement', id, this.withValidity(doc), context)
  }

  /** Verdicts for the observables from the org's active judgements. */
  async deliberate(
    orgId: string,
    observables: readonly Observable[],
    idOf: (entity: CtiaEntity) => string,
  ): Promise<DeliberateAnswer> {
    return deliberate(this.entities.store, orgId, observables, this.entities.now(), idOf)
  }

  private withValidity(doc: CtiaDocument): CtiaDocument {
    const validTime = (doc.valid_time ?? {}) as Record<string, unknown>
    if (typeof validTime.start_time === 'string') return doc
    return {
      ...doc,
      valid_time: { ...validTime, start_time: new Date(this.entities.now()).toISOString() },
    }
  }
}
