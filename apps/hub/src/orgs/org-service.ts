import { newUuid, type Clock } from '@postern/core'
import type { AuditLog, Org, OrgsRepo } from '@postern/store'
import { hubErrors } from '../errors.js'

export interface Actor {
  type: 'user' | 'client' | 'cli' | 'system'
  id: string
}

/** Organisations: created by operators (CLI, bootstrap, the demo), never through the org's own API. */
export class OrgService {
  constructor(private readonly deps: { orgs: OrgsRepo; audit: AuditLog; clock: Clock }) {}

  async create(name: string, actor: Actor): Promise<Org> {
    const org = await this.deps.orgs.insert({
      id: newUuid(),
      name: name.trim(),
      now: this.deps.clock.now(),
    })
    await this.deps.audit.record({
      orgId: org.id,
      actor,
      source: actor.type === 'cli' ? 'cli' : 'system',
      action: 'org.create',
      target: { type: 'org', id: org.id },
      outcome: 'success',
      details: { name: org.name },
    })
    return org
  }

  list(): Promise<Org[]> {
    return this.deps.orgs.list()
  }

  async get(id: string): Promise<Org> {
    const org = await this.deps.orgs.get(id)
    if (!org) throw hubErrors.ORG_NOT_FOUND({ org: id })
    return org
  }

  /**
   * Finds an org by id or name; with no reference, the only org there is. CLI commands take
   * `--org` this way so that a single-org hub needs no flag.
   */
  async resolve(reference: string | undefined): Promise<Org> {
    if (reference !== undefined) {
      const org =
        (await this.deps.orgs.get(reference)) ?? (await this.deps.orgs.findByName(reference))
      if (!org) throw hubErrors.ORG_NOT_FOUND({ org: reference })
      return org
    }
    const all = await this.deps.orgs.list()
    if (all.length === 1 && all[0]) return all[0]
    if (all.length === 0) throw hubErrors.ORG_NOT_FOUND({ org: '(none yet)' })
    throw hubErrors.ORG_AMBIGUOUS({ count: all.length })
  }

  async setEnabled(id: string, enabled: boolean, actor: Actor): Promise<void> {
    if (!(await this.deps.orgs.setEnabled(id, enabled, this.deps.clock.now())))
      throw hubErrors.ORG_NOT_FOUND({ org: id })
    await this.deps.audit.record({
      orgId: id,
      actor,
      source: actor.type === 'cli' ? 'cli' : 'system',
      action: enabled ? 'org.enable' : 'org.disable',
      target: { type: 'org', id },
      outcome: 'success',
    })
  }
}
