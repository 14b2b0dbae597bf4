import { randomUUID } from 'node:crypto'
import type { Clock, SecretBox } from '@postern/core'
import type {
  AuditLog,
  TicketIntegrationKind,
  TicketIntegrationRecord,
  TicketRecord,
  TicketsRepo,
  TicketSubjectType,
} from '@postern/store'
import { hubErrors } from '../errors.js'
import { renderTemplate, type TicketFields } from './render.js'
import { sendTicketMail, sendWebhook, type Delivery } from './senders.js'
import {
  TICKET_SECRET_KEYS,
  emailTicketSettingsSchema,
  webhookSettingsSchema,
  type EmailTicketSettings,
  type WebhookSettings,
} from './settings.js'

export type Actor = { type: 'user' | 'client'; id: string }

/** What a ticket is about. */
export type TicketSubject =
  | { type: 'observable'; observable: { type: string; value: string } }
  | { type: Exclude<TicketSubjectType, 'observable'>; id: string }

export interface NewTicket {
  integration: string
  subject: TicketSubject
  title?: string
  description?: string
}

const MASK = '*****'

function settingsSchema(kind: TicketIntegrationKind) {
  return kind === 'webhook' ? webhookSettingsSchema : emailTicketSettingsSchema
}

/** Settings as the API shows them: secrets masked, wherever they sit. */
function masked(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(masked)
  if (value === null || typeof value !== 'object') return value
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [
      k,
      (TICKET_SECRET_KEYS as readonly string[]).includes(k) ? MASK : masked(v),
    ]),
  )
}

export function integrationView(record: TicketIntegrationRecord, settings: unknown) {
  return {
    id: record.id,
    name: record.name,
    kind: record.kind,
    enabled: record.enabled,
    settings: masked(settings),
    created_by: record.createdBy,
    created_at: new Date(record.createdAt).toISOString(),
  }
}

export function ticketView(ticket: TicketRecord) {
  return {
    id: ticket.id,
    integration_id: ticket.integrationId,
    subject_type: ticket.subjectType,
    subject: ticket.subjectRef,
    title: ticket.title,
    link: ticket.link,
    status: ticket.status,
    attempts: ticket.attempts,
    last_error: ticket.lastError,
    external_ref: ticket.externalRef,
    created_by: ticket.createdBy,
    created_at: new Date(ticket.createdAt).toISOString(),
    updated_at: new Date(ticket.updatedAt).toISOString(),
  }
}

/**
 * IT tickets (seed §1): per-organisation integrations — a signed webhook or e-mail through an
 * SMTP server — and "create ticket" on an observable, an action, a casebook or an incident,
 * with a link back into the hub. Every ticket's delivery state is recorded and audited.
 */
export class TicketService {
  constructor(
    private readonly deps: {
      repo: TicketsRepo
      box: SecretBox
      audit: AuditLog
      clock: Clock
      publicUrl: () => string
      /** Waits between webhook tries (tests pass a shorter one through the settings instead). */
      sleep?: (ms: number) => Promise<void>
    },
  ) {}

  async createIntegration(
    orgId: string,
    actor: Actor,
    input: { name: string; kind: TicketIntegrationKind; settings: unknown; enabled?: boolean },
  ) {
    const settings = settingsSchema(input.kind).parse(input.settings)
    const id = randomUUID()
    const now = this.deps.clock.now()
    const record: TicketIntegrationRecord = {
      id,
      orgId,
      name: input.name,
      kind: input.kind,
      enabled: input.enabled ?? true,
      settingsSealed: this.deps.box.encrypt(JSON.stringify(settings), `ticket-integration:${id}`),
      createdBy: actor,
      createdAt: now,
      updatedAt: now,
    }
    if (!(await this.deps.repo.insertIntegration(record)))
      throw hubErrors.TICKET_INTEGRATION_EXISTS({ name: input.name })
    await this.deps.audit.record({
      orgId,
      actor,
      source: 'api',
      action: 'ticket_integration.create',
      target: { type: 'ticket_integration', id },
      outcome: 'success',
      details: { name: input.name, kind: input.kind, settings: masked(settings) },
    })
    return integrationView(record, settings)
  }

  async listIntegrations(orgId: string) {
    const records = await this.deps.repo.integrations(orgId)
    return records.map((r) => integrationView(r, this.open(r)))
  }

  async deleteIntegration(orgId: string, actor: Actor, idOrName: string): Promise<void> {
    const record = await this.integration(orgId, idOrName)
    await this.deps.repo.deleteIntegration(orgId, record.id)
    await this.deps.audit.record({
      orgId,
      actor,
      source: 'api',
      action: 'ticket_integration.delete',
      target: { type: 'ticket_integration', id: record.id },
      outcome: 'success',
      details: { name: record.name },
    })
  }

  /** Creates a ticket and delivers it now (webhook tries included); the record says how it went. */
  async createTicket(orgId: string, actor: Actor, input: NewTicket) {
    const integration = await this.integration(orgId, input.integration)
    if (!integration.enabled)
      throw hubErrors.TICKET_INTEGRATION_DISABLED({ name: integration.name })
    const settings = this.open(integration)
    const now = this.deps.clock.now()
    const id = randomUUID()
    const { subject } = input
    const title = (input.title ?? defaultTitle(subject)).slice(0, 500)
    const link = this.linkTo(subject)
    const ticket = await this.deps.repo.insertTicket({
      id,
      orgId,
      integrationId: integration.id,
      subjectType: subject.type,
      subjectRef:
        subject.type === 'observable' ? { observable: subject.observable } : { id: subject.id },
      title,
      link,
      status: 'pending',
      attempts: 0,
      lastError: null,
      externalRef: null,
      createdBy: actor,
      createdAt: now,
      updatedAt: now,
    })
    const fields: TicketFields = {
      ticket_id: id,
      title,
      description: input.description ?? '',
      link,
      subject_type: subject.type,
      subject:
        subject.type === 'observable'
          ? `${subject.observable.type}:${subject.observable.value}`
          : subject.id,
      observable_type: subject.type === 'observable' ? subject.observable.type : '',
      observable_value: subject.type === 'observable' ? subject.observable.value : '',
      org_id: orgId,
      created_by: `${actor.type}:${actor.id}`,
      created_at: new Date(now).toISOString(),
    }
    const delivery = await this.deliver(integration.kind, settings, fields)
    const status = delivery.ok ? 'sent' : 'failed'
    await this.deps.repo.updateTicket(orgId, id, {
      status,
      attempts: delivery.attempts,
      lastError: delivery.error,
      externalRef: delivery.externalRef,
      now: this.deps.clock.now(),
    })
    await this.deps.audit.record({
      orgId,
      actor,
      source: 'api',
      action: 'ticket.create',
      target: { type: 'ticket', id },
      outcome: delivery.ok ? 'success' : 'failure',
      details: {
        integration: integration.name,
        kind: integration.kind,
        subject: ticket.subjectRef,
        subjectType: subject.type,
        attempts: delivery.attempts,
        externalRef: delivery.externalRef,
        error: delivery.error,
      },
    })
    return this.getTicket(orgId, id)
  }

  async listTickets(orgId: string) {
    return (await this.deps.repo.tickets(orgId)).map(ticketView)
  }

  async getTicket(orgId: string, id: string) {
    const ticket = await this.deps.repo.ticket(orgId, id)
    if (!ticket) throw hubErrors.TICKET_NOT_FOUND({ id })
    return ticketView(ticket)
  }

  private deliver(
    kind: TicketIntegrationKind,
    settings: unknown,
    fields: TicketFields,
  ): Promise<Delivery> {
    if (kind === 'webhook') {
      const webhook = settings as WebhookSettings
      return sendWebhook(webhook, renderTemplate(webhook.template, fields), fields.ticket_id!, {
        now: () => this.deps.clock.now(),
        ...(this.deps.sleep ? { sleep: this.deps.sleep } : {}),
      })
    }
    return sendTicketMail(settings as EmailTicketSettings, {
      subject: fields.title!,
      ticketId: fields.ticket_id!,
      text: [
        fields.title,
        '',
        fields.description,
        '',
        `About: ${fields.subject_type} ${fields.subject}`,
        `Open in Postern: ${fields.link}`,
        `Created by ${fields.created_by} at ${fields.created_at} (ticket ${fields.ticket_id})`,
      ].join('\n'),
    })
  }

  private linkTo(subject: TicketSubject): string {
    const base = this.deps.publicUrl().replace(/\/+$/, '')
    switch (subject.type) {
      case 'observable': {
        const query = new URLSearchParams({
          observable_type: subject.observable.type,
          observable_value: subject.observable.value,
        })
        return `${base}/investigate?${query}`
      }
      case 'action':
        return `${base}/api/v1/approvals/${encodeURIComponent(subject.id)}`
      case 'casebook':
        return `${base}/ctia/casebook/${encodeURIComponent(subject.id)}`
      case 'incident':
        return `${base}/ctia/incident/${encodeURIComponent(subject.id)}`
    }
  }

  private async integration(orgId: string, idOrName: string): Promise<TicketIntegrationRecord> {
    const record = await this.deps.repo.integration(orgId, idOrName)
    if (!record) throw hubErrors.TICKET_INTEGRATION_NOT_FOUND({ id: idOrName })
    return record
  }

  private open(record: TicketIntegrationRecord): unknown {
    return JSON.parse(
      this.deps.box.decrypt(record.settingsSealed, `ticket-integration:${record.id}`),
    )
  }
}

function defaultTitle(subject: TicketSubject): string {
  if (subject.type === 'observable')
    return `Investigate ${subject.observable.type} ${subject.observable.value}`
  return `Follow up ${subject.type} ${subject.id}`
}
