import { ObservableSchema } from '@postern/ctim'
import type { HttpApp } from '@postern/http'
import { z } from 'zod'
import { auditActor } from '../auth/principal.js'
import { emailTicketSettingsSchema, webhookSettingsSchema } from './settings.js'
import type { TicketService } from './ticket-service.js'

const name = z.string().min(1).max(100)
const idParams = z.object({ id: z.string().min(1).max(200) }).strict()
const entityId = z.string().min(1).max(300)

const integrationBody = z.discriminatedUnion('kind', [
  z
    .object({
      name,
      kind: z.literal('webhook'),
      settings: webhookSettingsSchema,
      enabled: z.boolean().optional(),
    })
    .strict(),
  z
    .object({
      name,
      kind: z.literal('email'),
      settings: emailTicketSettingsSchema,
      enabled: z.boolean().optional(),
    })
    .strict(),
])

const ticketBody = z
  .object({
    integration: z.string().min(1).max(200).describe('Ticket integration id or name'),
    subject: z.discriminatedUnion('type', [
      z.object({ type: z.literal('observable'), observable: ObservableSchema }).strict(),
      z
        .object({
          type: z.literal('action'),
          id: entityId.describe('Action request (approval) id'),
        })
        .strict(),
      z.object({ type: z.literal('casebook'), id: entityId }).strict(),
      z.object({ type: z.literal('incident'), id: entityId }).strict(),
    ]),
    title: z.string().min(1).max(500).optional(),
    description: z.string().max(20_000).optional(),
  })
  .strict()

/**
 * IT ticket routes: integrations (admins: `integration/ticket:write`) and tickets (analysts:
 * `response/ticket:write`, which covers creating one on an observable, an action, a casebook or
 * an incident).
 */
export function registerTicketRoutes(app: HttpApp, tickets: TicketService): void {
  app.get(
    '/api/v1/ticket-integrations',
    {
      config: { scope: 'integration/ticket:read' },
      schema: { summary: 'Ticket integrations (secrets masked)', tags: ['tickets'] },
    },
    async (request) => ({ items: await tickets.listIntegrations(request.auth.orgId) }),
  )
  app.post(
    '/api/v1/ticket-integrations',
    {
      config: { scope: 'integration/ticket:write' },
      schema: {
        summary: 'Add a webhook or e-mail ticket integration',
        tags: ['tickets'],
        body: integrationBody,
      },
    },
    async (request, reply) => {
      const created = await tickets.createIntegration(
        request.auth.orgId,
        auditActor(request.auth),
        request.body,
      )
      return reply.code(201).send(created)
    },
  )
  app.delete(
    '/api/v1/ticket-integrations/:id',
    {
      config: { scope: 'integration/ticket:write' },
      schema: { summary: 'Remove a ticket integration', tags: ['tickets'], params: idParams },
    },
    async (request, reply) => {
      await tickets.deleteIntegration(
        request.auth.orgId,
        auditActor(request.auth),
        request.params.id,
      )
      return reply.code(204).send()
    },
  )
  app.post(
    '/api/v1/tickets',
    {
      config: { scope: 'response/ticket:write' },
      schema: {
        summary: 'Create an IT ticket (delivered now; its status says whether it arrived)',
        tags: ['tickets'],
        body: ticketBody,
      },
    },
    async (request, reply) => {
      const ticket = await tickets.createTicket(
        request.auth.orgId,
        auditActor(request.auth),
        request.body,
      )
      return reply.code(201).send(ticket)
    },
  )
  app.get(
    '/api/v1/tickets',
    {
      config: { scope: 'response/ticket:read' },
      schema: { summary: 'Tickets, newest first', tags: ['tickets'] },
    },
    async (request) => ({ items: await tickets.listTickets(request.auth.orgId) }),
  )
  app.get(
    '/api/v1/tickets/:id',
    {
      config: { scope: 'response/ticket:read' },
      schema: { summary: 'One ticket and its delivery state', tags: ['tickets'], params: idParams },
    },
    async (request) => tickets.getTicket(request.auth.orgId, request.params.id),
  )
}
