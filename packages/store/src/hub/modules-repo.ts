import type { Kysely } from 'kysely'
import { changingOrg } from './org-versions.js'
import type { HubSchema, ModuleInstancesTable, ModuleTypesTable } from './schema.js'

export interface ModuleTypeRecord {
  id: string
  orgId: string
  name: string
  title: string
  description: string
  properties: Record<string, unknown>
  configurationSpec: unknown[]
  createdBy: { type: string; id: string }
  createdAt: number
  updatedAt: number
}

export interface ModuleInstanceRecord {
  id: string
  orgId: string
  moduleTypeId: string
  name: string
  enabled: boolean
  visibility: string
  /** Sealed settings JSON; the hub opens it with its secret box. */
  settingsSealed: string
  createdBy: { type: string; id: string }
  createdAt: number
  updatedAt: number
}

function toType(row: ModuleTypesTable): ModuleTypeRecord {
  return {
    id: row.id,
    orgId: row.org_id,
    name: row.name,
    title: row.title,
    description: row.description,
    properties: JSON.parse(row.properties) as Record<string, unknown>,
    configurationSpec: JSON.parse(row.configuration_spec) as unknown[],
    createdBy: { type: row.created_by_type, id: row.created_by_id },
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  }
}

function toInstance(row: ModuleInstancesTable): ModuleInstanceRecord {
  return {
    id: row.id,
    orgId: row.org_id,
    moduleTypeId: row.module_type_id,
    name: row.name,
    enabled: row.enabled === 1,
    visibility: row.visibility,
    settingsSealed: row.settings_sealed,
    createdBy: { type: row.created_by_type, id: row.created_by_id },
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  }
}

/** Module types an organisation defined and its module instances; every query is per org. */
export class ModulesRepo {
  constructor(private readonly db: Kysely<HubSchema>) {}

  async insertType(record: ModuleTypeRecord): Promise<ModuleTypeRecord> {
    await changingOrg(this.db, record.orgId, (db) =>
      db
        .insertInto('module_types')
        .values({
          id: record.id,
          org_id: record.orgId,
          name: record.name,
          title: record.title,
          description: record.description,
          properties: JSON.stringify(record.properties),
          configuration_spec: JSON.stringify(record.configurationSpec),
          created_by_type: record.createdBy.type,
          created_by_id: record.createdBy.id,
          created_at: record.createdAt,
          updated_at: record.updatedAt,
        })
        .execute(),
    )
    return record
  }

  async listTypes(orgId: string): Promise<ModuleTypeRecord[]> {
    const rows = await this.db
      .selectFrom('module_types')
      .selectAll()
      .where('org_id', '=', orgId)
      .orderBy('created_at')
      .orderBy('id')
      .execute()
    return rows.map(toType)
  }

  async getType(orgId: string, id: string): Promise<ModuleTypeRecord | undefined> {
    const row = await this.db
      .selectFrom('module_types')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('id', '=', id)
      .executeTakeFirst()
    return row && toType(row)
  }

  async updateType(
    orgId: string,
    id: string,
    patch: Partial<
      Pick<ModuleTypeRecord, 'name' | 'title' | 'description' | 'properties' | 'configurationSpec'>
    >,
    now: number,
  ): Promise<ModuleTypeRecord | undefined> {
    await changingOrg(this.db, orgId, (db) =>
      db
        .updateTable('module_types')
        .set({
          ...(patch.name !== undefined ? { name: patch.name } : {}),
          ...(patch.title !== undefined ? { title: patch.title } : {}),
          ...(patch.description !== undefined ? { description: patch.description } : {}),
          ...(patch.properties !== undefined
            ? { properties: JSON.stringify(patch.properties) }
            : {}),
          ...(patch.configurationSpec !== undefined
            ? { configuration_spec: JSON.stringify(patch.configurationSpec) }
            : {}),
          updated_at: now,
        })
        .where('org_id', '=', orgId)
        .where('id', '=', id)
        .execute(),
    )
    return this.getType(orgId, id)
  }

  async deleteType(orgId: string, id: string): Promise<boolean> {
    const result = await changingOrg(this.db, orgId, (db) =>
      db
        .deleteFrom('module_types')
        .where('org_id', '=', orgId)
        .where('id', '=', id)
        .executeTakeFirst(),
    )
    return Number(result.numDeletedRows) > 0
  }

  async insertInstance(record: ModuleInstanceRecord): Promise<ModuleInstanceRecord> {
    await changingOrg(this.db, record.orgId, (db) =>
      db
        .insertInto('module_instances')
        .values({
          id: record.id,
          org_id: record.orgId,
          module_type_id: record.moduleTypeId,
          name: record.name,
          enabled: record.enabled ? 1 : 0,
          visibility: record.visibility,
          settings_sealed: record.settingsSealed,
          created_by_type: record.createdBy.type,
          created_by_id: record.createdBy.id,
          created_at: record.createdAt,
          updated_at: record.updatedAt,
        })
        .execute(),
    )
    return record
  }

  async listInstances(
    orgId: string,
    filter: { moduleTypeId?: string; enabledOnly?: boolean } = {},
  ): Promise<ModuleInstanceRecord[]> {
    let query = this.db.selectFrom('module_instances').selectAll().where('org_id', '=', orgId)
    if (filter.moduleTypeId !== undefined)
      query = query.where('module_type_id', '=', filter.moduleTypeId)
    if (filter.enabledOnly) query = query.where('enabled', '=', 1)
    const rows = await query.orderBy('created_at').orderBy('id').execute()
    return rows.map(toInstance)
  }

  async getInstance(orgId: string, id: string): Promise<ModuleInstanceRecord | undefined> {
    const row = await this.db
      .selectFrom('module_instances')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('id', '=', id)
      .executeTakeFirst()
    return row && toInstance(row)
  }

  async updateInstance(
    orgId: string,
    id: string,
    patch: { name?: string; enabled?: boolean; visibility?: string; settingsSealed?: string },
    now: number,
  ): Promise<ModuleInstanceRecord | undefined> {
    await changingOrg(this.db, orgId, (db) =>
      db
        .updateTable('module_instances')
        .set({
          ...(patch.name !== undefined ? { name: patch.name } : {}),
          ...(patch.enabled !== undefined ? { enabled: patch.enabled ? 1 : 0 } : {}),
          ...(patch.visibility !== undefined ? { visibility: patch.visibility } : {}),
          ...(patch.settingsSealed !== undefined ? { settings_sealed: patch.settingsSealed } : {}),
          updated_at: now,
        })
        .where('org_id', '=', orgId)
        .where('id', '=', id)
        .execute(),
    )
    return this.getInstance(orgId, id)
  }

  async deleteInstance(orgId: string, id: string): Promise<boolean> {
    const result = await changingOrg(this.db, orgId, (db) =>
      db
        .deleteFrom('module_instances')
        .where('org_id', '=', orgId)
        .where('id', '=', id)
        .executeTakeFirst(),
    )
    return Number(result.numDeletedRows) > 0
  }

  async countInstancesOfType(orgId: string, moduleTypeId: string): Promise<number> {
    const row = await this.db
      .selectFrom('module_instances')
      .select((eb) => eb.fn.countAll<string | number>().as('n'))
      .where('org_id', '=', orgId)
      .where('module_type_id', '=', moduleTypeId)
      .executeTakeFirstOrThrow()
    return Number(row.n)
  }
}
