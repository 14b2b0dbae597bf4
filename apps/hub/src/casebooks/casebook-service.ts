import type { ActiveCaseStore, AuditLog, CtiaEntity } from '@postern/store'
import { auditActorOf, type Caller } from './caller.js'
import type { PatchOperation } from './casebook-operations.js'
import type { CtiaEntityService, WriteContext } from './ctia-entity-service.js'
import { privateIntelErrors } from './private-intel-errors.js'

export interface Observable {
  type: string
  value: string
}

/** The casebook fields that have their own operation route. */
export type CasebookField = 'observables' | 'texts' | 'bundle'

export interface CasebookServiceOptions {
  entities: CtiaEntityService
  activeCases: ActiveCaseStore
  audit: AuditLog
}

/**
 * Casebook work beyond CRUD: the `{operation}` routes on observables, texts and bundle, and
 * the ribbon's "active case" (one casebook per analyst that the pivot menu adds to).
 */
export class CasebookService {
  private readonly entities: CtiaEntityService
  private readonly activeCases: ActiveCaseStore
  private readonly audit: AuditLog

  constructor(options: CasebookServiceOptions) {
    this.entities = options.entities
    this.activeCases = options.activeCases
    this.audit = options.audit
  }

  /** `POST /ctia/casebook/{id}/{observables,texts,bundle}`. */
  async operate(
    caller: Caller,
    id: string,
    field: CasebookField,
    operation: PatchOperation,
    value: unknown,
    context: WriteContext = {},
  ): Promise<CtiaEntity> {
    return this.entities.patch(caller, 'casebook', id, { [field]: value }, operation, {
      ...context,
      action: `${field}.${operation}`,
    })
  }

  /** The caller's active casebook, or undefined (none set, or it was deleted). */
  async activeCase(caller: Caller): Promise<CtiaEntity | undefined> {
    const userId = requireUser(caller)
    const active = await this.activeCases.get(caller.orgId, userId)
    if (!active) return undefined
    return this.entities.store.get(caller.orgId, 'casebook', active.casebookId)
  }

  async setActiveCase(
    caller: Caller,
    casebookId: string,
    context: WriteContext = {},
  ): Promise<CtiaEntity> {
    const userId = requireUser(caller)
    const casebook = await this.entities.get(caller, 'casebook', casebookId)
    await this.activeCases.set(caller.orgId, userId, casebook.id, this.entities.now())
    await this.audit.record({
      orgId: caller.orgId,
      actor: auditActorOf(caller),
      source: context.source ?? 'api',
      remoteIp: context.remoteIp ?? null,
      action: 'casebook.activate',
      target: { type: 'casebook', id: casebook.id },
      outcome: 'success',
    })
    return casebook
  }

  async clearActiveCase(caller: Caller): Promise<boolean> {
    return this.activeCases.clear(caller.orgId, requireUser(caller))
  }

  /**
   * The pivot menu's "add to case": adds the observables to the caller's active casebook, or,
   * when there is none, creates a casebook with them and makes it the active one.
   */
  async addToActiveCase(
    caller: Caller,
    observables: Observable[],
    options: { title?: string; context?: WriteContext } = {},
  ): Promise<{ casebook: CtiaEntity; created: boolean }> {
    const userId = requireUser(caller)
    const context = options.context ?? {}
    const active = await this.activeCase(caller)
    if (active) {
      const casebook = await this.operate(
        caller,
        active.id,
        'observables',
        'add',
        observables,
        context,
      )
      return { casebook, created: false }
    }
    const title =
      options.title ??
      `Case ${new Date(this.entities.now()).toISOString().slice(0, 16).replace('T', ' ')} UTC`
    const casebook = await this.entities.create(
      caller,
      'casebook',
      { title, observables, tlp: 'amber', timestamp: new Date(this.entities.now()).toISOString() },
      context,
    )
    await this.activeCases.set(caller.orgId, userId, casebook.id, this.entities.now())
    return { casebook, created: true }
  }
}

/** The active case belongs to a person; API clients without a user have none. */
function requireUser(caller: Caller): string {
  if (!caller.userId) throw privateIntelErrors.ACTIVE_CASE_NEEDS_USER()
  return caller.userId
}
