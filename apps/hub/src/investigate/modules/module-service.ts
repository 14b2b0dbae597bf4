import { randomUUID } from 'node:crypto'
import type { Clock, SecretBox } from '@postern/core'
import type { AuditLog, ModuleInstanceRecord, ModulesRepo, ModuleTypeRecord } from '@postern/store'
import { z } from 'zod'
import { hubErrors } from '../../errors.js'
import type { OrgCache } from '../../orgs/org-cache.js'
import { parseIroh } from '../iroh-errors.js'
import {
  BUILTIN_MODULE_TYPES,
  EMAIL_GATEWAY_MODULE_TYPE_ID,
  RELAY_MODULE_TYPE_ID,
  customTypeSettingsSchema,
  emailGatewaySettingsSchema,
  moduleTypePropertiesSchema,
  relaySettingsSchema,
  type EmailGatewaySettings,
} from './builtin-types.js'

export type Actor = { type: 'user' | 'client'; id: string }

/** A module type as the API shows it (built-in or defined by the organisation). */
export interface ModuleTypeView {
  id: string
  name: string
  title: string
  description: string
  properties: Record<string, unknown>
  configuration_spec: unknown[]
  org_id: string | null
  built_in: boolean
  created_at: string | null
  updated_at: string | null
}

/** A module instance as the API shows it (reference §2 ModuleInstance); secrets masked. */
export interface ModuleInstanceView {
  id: string
  name: string
  module_type_id: string
  org_id: string
  user_id: string | null
  client_id?: string
  enabled: boolean
  visibility: string
  settings: Record<string, unknown>
  external_references: unknown[]
  created_at: string
  updated_at: string
}

/** An enabled instance ready to be called by the fan-outs. */
export type ResolvedModule =
  | {
      kind: 'email-gateway'
      instance: ModuleInstanceRecord
      typeName: string
      settings: EmailGatewaySettings
    }
  | {
      kind: 'relay'
      instance: ModuleInstanceRecord
      typeName: string
      url: string
      supportedApis: string[]
      /** Settings passed to the module as token claims (`custom_*`). */
      settings: Record<string, unknown>
    }

export const MASKED = '*****'
const SECRET_KEY = /key|secret|password|token|credential/i

const visibility = z.enum(['global', 'org', 'user'])

export const newModuleTypeBody = z
  .object({
    name: z.string().min(1).max(200),
    title: z.string().min(1).max(200).optional(),
    description: z.string().max(4000).optional(),
    properties: moduleTypePropertiesSchema,
    configuration_spec: z
      .array(z.looseObject({ key: z.string().min(1).max(100) }))
      .max(100)
      .optional(),
  })
  .strict()

export const patchModuleTypeBody = newModuleTypeBody.partial().strict()

export const newModuleInstanceBody = z
  .object({
    name: z.string().min(1).max(200),
    module_type_id: z.string().min(1).max(100),
    visibility: visibility.optional(),
    settings: z.record(z.string(), z.unknown()).optional(),
    enabled: z.boolean().optional(),
  })
  .strict()

export const patchModuleInstanceBody = newModuleInstanceBody
  .omit({ module_type_id: true })
  .partial()
  .strict()

const iso = (ms: number) => new Date(ms).toISOString()

/**
 * Module types and module instances of an organisation (reference §2, `/iroh/iroh-int/…`), and
 * the resolved list of enabled instances the enrich and respond fan-outs call.
 */
export class ModuleService {
  constructor(
    private readonly deps: {
      repo: ModulesRepo
      box: SecretBox
      audit: AuditLog
      clock: Clock
      cache: OrgCache
    },
  ) {}

  async listTypes(orgId: string): Promise<ModuleTypeView[]> {
    const own = await this.deps.repo.listTypes(orgId)
    return [...BUILTIN_MODULE_TYPES.map(builtinView), ...own.map(typeView)]
  }

  async getType(orgId: string, id: string): Promise<ModuleTypeView> {
    const builtin = BUILTIN_MODULE_TYPES.find((t) => t.id === id)
    if (builtin) return builtinView(builtin)
    const record = await this.deps.repo.getType(orgId, id)
    if (!record) throw hubErrors.MODULE_TYPE_NOT_FOUND({ id })
    return typeView(record)
  }

  async createType(orgId: string, actor: Actor, input: unknown): Promise<ModuleTypeView> {
    const body = parseIroh(newModuleTypeBody, input)
    const now = this.deps.clock.now()
    const record = await this.deps.repo.insertType({
      id: `module-type-${randomUUID()}`,
      orgId,
      name: body.name,
      title: body.title ?? body.name,
      description: body.description ?? '',
      properties: body.properties,
      configurationSpec: body.configuration_spec ?? [],
      createdBy: actor,
      createdAt: now,
      updatedAt: now,
    })
    await this.audit(orgId, actor, 'module_type.create', 'module_type', record.id, {
      name: body.name,
    })
    return typeView(record)
  }

  async patchType(
    orgId: string,
    actor: Actor,
    id: string,
    input: unknown,
  ): Promise<ModuleTypeView> {
    this.refuseBuiltin(id)
    const body = parseIroh(patchModuleTypeBody, input)
    const record = await this.deps.repo.updateType(
      orgId,
      id,
      {
        name: body.name,
        title: body.title,
        description: body.description,
        properties: body.properties,
        configurationSpec: body.configuration_spec,
      },
      this.deps.clock.now(),
    )
    if (!record) throw hubErrors.MODULE_TYPE_NOT_FOUND({ id })
    await this.audit(orgId, actor, 'module_type.update', 'module_type', id, {
      keys: Object.keys(body),
    })
    return typeView(record)
  }

  async deleteType(orgId: string, actor: Actor, id: string): Promise<void> {
    this.refuseBuiltin(id)
    if (!(await this.deps.repo.getType(orgId, id))) throw hubErrors.MODULE_TYPE_NOT_FOUND({ id })
    const count = await this.deps.repo.countInstancesOfType(orgId, id)
    if (count > 0) throw hubErrors.MODULE_TYPE_IN_USE({ id, count })
    await this.deps.repo.deleteType(orgId, id)
    await this.audit(orgId, actor, 'module_type.delete', 'module_type', id, {})
  }

  async listInstances(orgId: string, moduleTypeId?: string): Promise<ModuleInstanceView[]> {
    const records = await this.deps.repo.listInstances(orgId, { moduleTypeId })
    return records.map((r) => this.instanceView(r))
  }

  async getInstance(orgId: string, id: string): Promise<ModuleInstanceView> {
    return this.instanceView(await this.requireInstance(orgId, id))
  }

  async createInstance(
    orgId: string,
    actor: Actor,
    userId: string | null,
    input: unknown,
  ): Promise<ModuleInstanceView> {
    const body = parseIroh(newModuleInstanceBody, input)
    const type = await this.getType(orgId, body.module_type_id)
    const settings = this.validateSettings(type.id, body.settings ?? {})
    const now = this.deps.clock.now()
    const id = randomUUID()
    const record = await this.deps.repo.insertInstance({
      id,
      orgId,
      moduleTypeId: type.id,
      name: body.name,
      enabled: body.enabled ?? true,
      visibility: body.visibility ?? 'org',
      settingsSealed: this.seal(id, settings),
      createdBy: actor.type === 'client' ? actor : { type: 'user', id: userId ?? actor.id },
      createdAt: now,
      updatedAt: now,
    })
    await this.audit(orgId, actor, 'module_instance.create', 'module_instance', id, {
      name: body.name,
      moduleTypeId: type.id,
    })
    return this.instanceView(record)
  }

  async patchInstance(
    orgId: string,
    actor: Actor,
    id: string,
    input: unknown,
  ): Promise<ModuleInstanceView> {
    const current = await this.requireInstance(orgId, id)
    const body = parseIroh(patchModuleInstanceBody, input)
    let settingsSealed: string | undefined
    if (body.settings !== undefined) {
      // A masked value sent back unchanged keeps the stored secret.
      const previous = this.open(current)
      const merged = Object.fromEntries(
        Object.entries(body.settings).map(([k, v]) => [k, v === MASKED ? previous[k] : v]),
      )
      settingsSealed = this.seal(id, this.validateSettings(current.moduleTypeId, merged))
    }
    const record = await this.deps.repo.updateInstance(
      orgId,
      id,
      { name: body.name, enabled: body.enabled, visibility: body.visibility, settingsSealed },
      this.deps.clock.now(),
    )
    if (!record) throw hubErrors.MODULE_INSTANCE_NOT_FOUND({ id })
    await this.audit(orgId, actor, 'module_instance.update', 'module_instance', id, {
      keys: Object.keys(body),
    })
    return this.instanceView(record)
  }

  async deleteInstance(orgId: string, actor: Actor, id: string): Promise<void> {
    if (!(await this.deps.repo.deleteInstance(orgId, id)))
      throw hubErrors.MODULE_INSTANCE_NOT_FOUND({ id })
    await this.audit(orgId, actor, 'module_instance.delete', 'module_instance', id, {})
  }

  /** Finds an instance by id or, as the reference's older trigger URLs do, by name. */
  async findInstance(orgId: string, idOrName: string): Promise<ModuleInstanceRecord> {
    const byId = await this.deps.repo.getInstance(orgId, idOrName)
    if (byId) return byId
    const named = (await this.deps.repo.listInstances(orgId)).filter((r) => r.name === idOrName)
    if (named.length > 1) throw hubErrors.MODULE_INSTANCE_AMBIGUOUS({ name: idOrName })
    if (named[0]) return named[0]
    throw hubErrors.MODULE_INSTANCE_NOT_FOUND({ id: idOrName })
  }

  /**
   * Every enabled instance of the organisation, resolved for calling (settings opened): read
   * again only after the org changed (instances, types and settings writes bump its counter).
   */
  async enabledModules(orgId: string): Promise<readonly ResolvedModule[]> {
    return (await this.deps.cache.at(orgId)).remember('enabled modules', () =>
      this.loadEnabledModules(orgId),
    )
  }

  private async loadEnabledModules(orgId: string): Promise<ResolvedModule[]> {
    const records = await this.deps.repo.listInstances(orgId, { enabledOnly: true })
    const resolved: ResolvedModule[] = []
    for (const instance of records) {
      const module = await this.resolve(orgId, instance)
      if (module) resolved.push(module)
    }
    return resolved
  }

  async resolve(
    orgId: string,
    instance: ModuleInstanceRecord,
  ): Promise<ResolvedModule | undefined> {
    const settings = this.open(instance)
    if (instance.moduleTypeId === EMAIL_GATEWAY_MODULE_TYPE_ID) {
      return {
        kind: 'email-gateway',
        instance,
        typeName: 'Postern Email Gateway',
        settings: emailGatewaySettingsSchema.parse(settings),
      }
    }
    if (instance.moduleTypeId === RELAY_MODULE_TYPE_ID) {
      const relay = relaySettingsSchema.parse(settings)
      const { url, supported_apis: supportedApis, ...custom } = relay
      return {
        kind: 'relay',
        instance,
        typeName: instance.name,
        url,
        supportedApis,
        settings: custom,
      }
    }
    const type = await this.deps.repo.getType(orgId, instance.moduleTypeId)
    if (!type) return undefined
    const properties = moduleTypePropertiesSchema.parse(type.properties)
    return {
      kind: 'relay',
      instance,
      typeName: type.name,
      url: properties.url,
      supportedApis: properties['supported-apis'],
      settings,
    }
  }

  private validateSettings(typeId: string, settings: unknown): Record<string, unknown> {
    const schema =
      typeId === EMAIL_GATEWAY_MODULE_TYPE_ID
        ? emailGatewaySettingsSchema
        : typeId === RELAY_MODULE_TYPE_ID
          ? relaySettingsSchema
          : customTypeSettingsSchema
    return parseIroh(z.object({ settings: schema }), { settings }).settings as Record<
      string,
      unknown
    >
  }

  private refuseBuiltin(id: string): void {
    if (BUILTIN_MODULE_TYPES.some((t) => t.id === id)) throw hubErrors.MODULE_TYPE_BUILTIN({ id })
  }

  private async requireInstance(orgId: string, id: string): Promise<ModuleInstanceRecord> {
    const record = await this.deps.repo.getInstance(orgId, id)
    if (!record) throw hubErrors.MODULE_INSTANCE_NOT_FOUND({ id })
    return record
  }

  private seal(id: string, settings: Record<string, unknown>): string {
    return this.deps.box.encrypt(JSON.stringify(settings), `module-instance:${id}`)
  }

  private open(record: ModuleInstanceRecord): Record<string, unknown> {
    return JSON.parse(
      this.deps.box.decrypt(record.settingsSealed, `module-instance:${record.id}`),
    ) as Record<string, unknown>
  }

  private instanceView(record: ModuleInstanceRecord): ModuleInstanceView {
    const settings = Object.fromEntries(
      Object.entries(this.open(record)).map(([k, v]) => [
        k,
        SECRET_KEY.test(k) && typeof v === 'string' ? MASKED : v,
      ]),
    )
    return {
      id: record.id,
      name: record.name,
      module_type_id: record.moduleTypeId,
      org_id: record.orgId,
      user_id: record.createdBy.type === 'user' ? record.createdBy.id : null,
      ...(record.createdBy.type === 'client' ? { client_id: record.createdBy.id } : {}),
      enabled: record.enabled,
      visibility: record.visibility,
      settings,
      external_references: [],
      created_at: iso(record.createdAt),
      updated_at: iso(record.updatedAt),
    }
  }

  private async audit(
    orgId: string,
    actor: Actor,
    action: string,
    targetType: string,
    targetId: string,
    details: Record<string, unknown>,
  ): Promise<void> {
    await this.deps.audit.record({
      orgId,
      actor,
      source: 'api',
      action,
      target: { type: targetType, id: targetId },
      outcome: 'success',
      details,
    })
  }
}

function builtinView(type: (typeof BUILTIN_MODULE_TYPES)[number]): ModuleTypeView {
  return { ...type, org_id: null, built_in: true, created_at: null, updated_at: null }
}

function typeView(record: ModuleTypeRecord): ModuleTypeView {
  return {
    id: record.id,
    name: record.name,
    title: record.title,
    description: record.description,
    properties: record.properties,
    configuration_spec: record.configurationSpec,
    org_id: record.orgId,
    built_in: false,
    created_at: iso(record.createdAt),
    updated_at: iso(record.updatedAt),
  }
}
