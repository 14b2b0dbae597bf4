import { z } from 'zod'
import type { HttpApp } from '@postern/http'
import { BLOCKLIST_KINDS } from '@postern/store'
import { apiActor } from '../quarantine/routes.js'
import type { BlocklistService } from './blocklist-service.js'

const entrySchema = z.object({
  id: z.number(),
  kind: z.enum(BLOCKLIST_KINDS),
  value: z.string().describe('The normalised value that is matched'),
  source: z.string().describe('cli, api, hub or policy'),
  reason: z.string(),
  createdBy: z.string(),
  createdAt: z.number(),
  expiresAt: z.number().nullable(),
  externalRef: z
    .string()
    .nullable()
    .describe('Identifier in the system that pushed it (hub action)'),
})

const blockedSenderSchema = z.object({
  address: z.string(),
  reason: z.string(),
  source: z.string(),
  createdBy: z.string(),
  createdAt: z.number(),
  mid: z.number().nullable().describe('The message that got the sender blocked, if a policy did'),
})

/**
 * Block list and blocked-user routes. Changes apply at once in this process and within
 * `pipeline.blocklists.refreshInterval` in every other process sharing the database; each is
 * audited with who made it.
 */
export function registerBlocklistRoutes(app: HttpApp, blocklists: BlocklistService): void {
  app.get(
    '/api/v1/blocklists',
    {
      config: { role: 'read-only' },
      schema: {
        summary: 'Block list entries, newest first',
        querystring: z
          .object({
            kind: z.enum(BLOCKLIST_KINDS).optional().describe('Only this kind'),
            search: z.string().max(200).optional().describe('Text in the value'),
            source: z.string().max(20).optional().describe('Only entries from this source'),
            includeExpired: z.coerce
              .boolean()
              .default(false)
              .describe('Also entries past their expiry'),
            limit: z.coerce.number().int().min(1).max(10_000).default(100),
            offset: z.coerce.number().int().min(0).default(0),
          })
          .strict(),
        response: { 200: z.object({ total: z.number(), entries: z.array(entrySchema) }) },
      },
    },
    async (request) => blocklists.list(request.query),
  )

  app.post(
    '/api/v1/blocklists',
    {
      config: { role: 'operator' },
      schema: {
        summary: 'Add a block list entry (the value is normalised; defanged values are accepted)',
        body: z
          .object({
            kind: z.enum(BLOCKLIST_KINDS),
            value: z.string().min(1).max(4096),
            reason: z.string().min(1).max(500),
            expiresAt: z
              .number()
              .int()
              .positive()
              .nullable()
              .optional()
              .describe('Epoch ms; omitted or null: never'),
            externalRef: z.string().max(200).nullable().optional(),
          })
          .strict(),
        response: { 201: entrySchema },
      },
    },
    async (request, reply) => {
      const entry = await blocklists.add(request.body, apiActor(request.principal, request.ip))
      return reply.code(201).send(entry)
    },
  )

  app.delete(
    '/api/v1/blocklists/:id',
    {
      config: { role: 'operator' },
      schema: {
        summary: 'Remove a block list entry',
        params: z.object({ id: z.coerce.number().int().positive() }).strict(),
        response: { 200: entrySchema },
      },
    },
    async (request) =>
      blocklists.remove(request.params.id, apiActor(request.principal, request.ip)),
  )

  app.get(
    '/api/v1/blocked-users',
    {
      config: { role: 'read-only' },
      schema: {
        summary: 'Internal users whose outgoing mail is blocked (compromised accounts)',
        response: { 200: z.object({ users: z.array(blockedSenderSchema) }) },
      },
    },
    async () => ({ users: await blocklists.blockedSenders() }),
  )

  app.post(
    '/api/v1/blocked-users',
    {
      config: { role: 'operator' },
      schema: {
        summary: 'Block an internal user’s outgoing mail until unblocked',
        body: z
          .object({ address: z.string().min(3).max(320), reason: z.string().min(1).max(500) })
          .strict(),
        response: { 200: z.object({ user: blockedSenderSchema, created: z.boolean() }) },
      },
    },
    async (request) => {
      const { sender, created } = await blocklists.blockSender(
        request.body.address,
        request.body.reason,
        apiActor(request.principal, request.ip),
      )
      return { user: sender, created }
    },
  )

  app.delete(
    '/api/v1/blocked-users/:address',
    {
      config: { role: 'operator' },
      schema: {
        summary: 'Unblock a user: their outgoing mail is accepted again',
        params: z.object({ address: z.string().min(3).max(320) }).strict(),
        response: { 200: blockedSenderSchema },
      },
    },
    async (request) =>
      blocklists.unblockSender(request.params.address, apiActor(request.principal, request.ip)),
  )
}
