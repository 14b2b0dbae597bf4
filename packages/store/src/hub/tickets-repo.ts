import type { Kysely } from 'kysely'
import type { HubSchema, TicketIntegrationsTable, TicketsTable } from './schema.js'

export type TicketIntegrationKind = 'webhook' | 'email'
export type TicketSubjectType = 'observable' | 'action' | 'casebook' | 'incident'
export type TicketStatus = 'pending' | 'sent' | 'failed'

export interface TicketIntegrationRecord {
  id: string
  orgId: string
  name: string
  kind: TicketIntegrationKind
  enabled: boolean
  settingsSealed: string
  createdBy: { type: string; id: string }
  createdAt: number
  updatedAt: number
}

export interface TicketRecord {
  id: string
  orgId: string
  integrationId: string
  subjectType: TicketSubjectType
  subjectRef: Record<string, unknown>
  title: string
  link: string
  status: TicketStatus
  attempts: number
  lastError: string | null
  externalRef: string | null
  createdBy: { type: string; id: string }
  createdAt: number
  updatedAt: number
}

function toIntegration(row: TicketIntegrationsTable): TicketIntegrationRecord {
  return {
    id: row.id,
    orgId: row.org_id,
    name: row.name,
    kind: row.kind as TicketIntegrationKind,
    enabled: Number(row.enabled) === 1,
    settingsSealed: row.settings_sealed,
    createdBy: { type: row.created_by_type, id: row.created_by_id },
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  }
}

function toTicket(row: TicketsTable): TicketRecord {
  return {
    id: row.id,
    orgId: row.org_id,
    integrationId: row.integration_id,
    subjectType: row.subject_type as TicketSubjectType,
    subjectRef: JSON.parse(row.subject_ref) as Record<string, unknown>,
    title: row.title,
    link: row.link,
    status: row.status as TicketStatus,
    attempts: Number(row.attempts),
    lastError: row.last_error,
    externalRef: row.external_ref,
    createdBy: { type: row.created_by_type, id: row.created_by_id },
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  }
}

/** Ticket integrations and the tickets created through them, per organisation. */
export class TicketsRepo {
  constructor(private readonly db: Kysely<HubSchema>) {}

  /** Inserts an integration; false when the organisation already has one of that name. */
  async insertIntegration(record: TicketIntegrationRecord): Promise<boolean> {
    const result = await this.db
      .insertInto('ticket_integrations')
      .values({
        id: record.id,
        org_id: record.orgId,
        name: record.name,
        kind: record.kind,
        enabled: record.enabled ? 1 : 0,
        settings_sealed: record.settingsSealed,
        created_by_type: record.createdBy.type,
        created_by_id: record.createdBy.id,
        created_at: record.createdAt,
        updated_at: record.updatedAt,
      })
      .onConflict((oc) => oc.columns(['org_id', 'name']).doNothing())
      .returning('id')
      .executeTakeFirst()
    return result !== undefined
  }

  async integrations(orgId: string): Promise<TicketIntegrationRecord[]> {
    const rows = await this.db
      .selectFrom('ticket_integrations')
      .selectAll()
      .where('org_id', '=', orgId)
      .orderBy('name')
      .execute()
    return rows.map(toIntegration)
  }

  async integration(orgId: string, idOrName: string): Promise<TicketIntegrationRecord | undefined> {
    const row = await this.db
      .selectFrom('ticket_integrations')
      .selectAll()
      .where('org_id', '=', orgId)
      .where((eb) => eb.or([eb('id', '=', idOrName), eb('name', '=', idOrName)]))
      .orderBy('created_at')
      .executeTakeFirst()
    return row && toIntegration(row)
  }

  async deleteIntegration(orgId: string, id: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('ticket_integrations')
      .where('org_id', '=', orgId)
      .where('id', '=', id)
      .executeTakeFirst()
    return Number(result.numDeletedRows) === 1
  }

  async insertTicket(ticket: TicketRecord): Promise<TicketRecord> {
    await this.db
      .insertInto('tickets')
      .values({
        id: ticket.id,
        org_id: ticket.orgId,
        integration_id: ticket.integrationId,
        subject_type: ticket.subjectType,
        subject_ref: JSON.stringify(ticket.subjectRef),
        title: ticket.title,
        link: ticket.link,
        status: ticket.status,
        attempts: ticket.attempts,
        last_error: ticket.lastError,
        external_ref: ticket.externalRef,
        created_by_type: ticket.createdBy.type,
        created_by_id: ticket.createdBy.id,
        created_at: ticket.createdAt,
        updated_at: ticket.updatedAt,
      })
      .execute()
    return ticket
  }

  async updateTicket(
    orgId: string,
    id: string,
    change: {
      status: TicketStatus
      attempts: number
      lastError: string | null
      externalRef: string | null
      now: number
    },
  ): Promise<void> {
    await this.db
      .updateTable('tickets')
      .set({
        status: change.status,
        attempts: change.attempts,
        last_error: change.lastError,
        external_ref: change.externalRef,
        updated_at: change.now,
      })
      .where('org_id', '=', orgId)
      .where('id', '=', id)
      .execute()
  }

  async ticket(orgId: string, id: string): Promise<TicketRecord | undefined> {
    const row = await this.db
      .selectFrom('tickets')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('id', '=', id)
      .executeTakeFirst()
    return row && toTicket(row)
  }

  async tickets(orgId: string, limit = 200): Promise<TicketRecord[]> {
    const rows = await this.db
      .selectFrom('tickets')
      .selectAll()
      .where('org_id', '=', orgId)
      .orderBy('created_at', 'desc')
      .orderBy('id')
      .limit(limit)
      .execute()
    return rows.map(toTicket)
  }
}
