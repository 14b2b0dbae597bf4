import { z } from 'zod'
import type { HttpApp } from '@postern/http'
import type { Principal } from '../api/auth.js'
import type { QuarantineActor, QuarantineService } from './quarantine-service.js'

const STATUSES = ['held', 'released', 'deleted', 'expired'] as const

export const quarantineItemSchema = z.object({
  id: z.number().describe('Quarantine item id'),
  mid: z.number().describe('MID of the message'),
  quarantine: z.string(),
  status: z.enum(STATUSES),
  reason: z.string().describe('Policy and rule (or scanner failure) that held it'),
  direction: z.string(),
  envelopeSender: z.string(),
  recipients: z.array(z.string()).describe('The envelope recipients held'),
  subject: z.string().nullable(),
  headerFrom: z.string().nullable(),
  size: z.number(),
  createdAt: z.number(),
  expiresAt: z.number(),
  resolvedAt: z.number().nullable(),
  resolvedBy: z.string().nullable(),
})

const idParams = z
  .object({ id: z.coerce.number().int().positive().describe('Quarantine item id') })
  .strict()

/** Who acts through the API (the local CLI credential counts as the CLI). */
export function apiActor(principal: Principal | undefined, remoteIp: string): QuarantineActor {
  if (!principal) return { source: 'api', id: 'unknown', remoteIp }
  if (principal.kind === 'local') return { source: 'cli', id: 'local-cli', remoteIp }
  return { source: 'api', id: `${principal.kind}:${principal.name}`, remoteIp }
}

/**
 * Quarantine routes: list and search held messages, look at one safely (headers and text; the
 * console escapes what it shows), download the original (admins), release through the
 * delivery queue, delete. Releases and deletions are audited and tracked by the service.
 */
export function registerQuarantineRoutes(app: HttpApp, quarantine: QuarantineService): void {
  app.get(
    '/api/v1/quarantines',
    {
      config: { role: 'read-only' },
      schema: {
        summary: 'The named quarantines with their settings and what they hold',
        response: {
          200: z.object({
            quarantines: z.array(
              z.object({
                name: z.string(),
                retentionMs: z.number(),
                onExpiry: z.enum(['delete', 'release']),
                description: z.string().nullable(),
                held: z.number(),
                bytes: z.number(),
              }),
            ),
          }),
        },
      },
    },
    async () => {
      const counts = await quarantine.counts()
      return {
        quarantines: quarantine.names.map((name) => {
          const settings = quarantine.settings(name)
          const count = counts.find((c) => c.quarantine === name)
          return {
            name,
            retentionMs: settings.retentionMs,
            onExpiry: settings.onExpiry,
            description: settings.description,
            held: count?.held ?? 0,
            bytes: count?.bytes ?? 0,
          }
        }),
      }
    },
  )

  app.get(
    '/api/v1/quarantine/messages',
    {
      config: { role: 'read-only' },
      schema: {
        summary: 'Quarantined messages, newest first, with filters and text search',
        querystring: z
          .object({
            quarantine: z.string().max(50).optional().describe('Only this quarantine'),
            status: z.enum(STATUSES).optional().describe('Only this status (default: all)'),
            search: z
              .string()
              .max(200)
              .optional()
              .describe('Text in the sender, header From, subject or a recipient'),
            mid: z.coerce.number().int().positive().optional().describe('Only this MID'),
            since: z.coerce
              .number()
              .int()
              .nonnegative()
              .optional()
              .describe('Held at or after (epoch ms)'),
            until: z.coerce
              .number()
              .int()
              .nonnegative()
              .optional()
              .describe('Held before (epoch ms)'),
            limit: z.coerce.number().int().min(1).max(1000).default(50),
            offset: z.coerce.number().int().min(0).default(0),
          })
          .strict(),
        response: { 200: z.object({ total: z.number(), items: z.array(quarantineItemSchema) }) },
      },
    },
    async (request) => quarantine.list(request.query),
  )

  app.get(
    '/api/v1/quarantine/messages/:id',
    {
      config: { role: 'read-only' },
      schema: {
        summary: 'One quarantined message',
        params: idParams,
        response: { 200: quarantineItemSchema },
      },
    },
    async (request) => quarantine.get(request.params.id),
  )

  app.get(
    '/api/v1/quarantine/messages/:id/view',
    {
      config: { role: 'operator' },
      schema: {
        summary: 'Headers and readable text of a quarantined message (never its raw HTML)',
        params: idParams,
        response: {
          200: z.object({
            item: quarantineItemSchema,
            headers: z.array(z.object({ name: z.string(), value: z.string() })),
            text: z.string().nullable(),
            attachments: z.array(
              z.object({
                filename: z.string().nullable(),
                type: z.string(),
                size: z.number(),
                sha256: z.string(),
              }),
            ),
            urls: z.array(z.string()),
          }),
        },
      },
    },
    async (request) => quarantine.view(request.params.id),
  )

  app.get(
    '/api/v1/quarantine/messages/:id/raw',
    {
      config: { role: 'admin' },
      schema: {
        summary: 'The original message (message/rfc822), for administrators',
        params: idParams,
      },
    },
    async (request, reply) => {
      const content = await quarantine.content(request.params.id)
      return reply
        .type('message/rfc822')
        .header('content-disposition', `attachment; filename="quarantine-${request.params.id}.eml"`)
        .send(content)
    },
  )

  app.post(
    '/api/v1/quarantine/messages/:id/release',
    {
      config: { role: 'operator' },
      schema: {
        summary: 'Release a held message: it is delivered through the queue as a new MID',
        params: idParams,
        response: { 200: quarantineItemSchema },
      },
    },
    async (request) =>
      quarantine.release(request.params.id, apiActor(request.principal, request.ip)),
  )

  app.delete(
    '/api/v1/quarantine/messages/:id',
    {
      config: { role: 'operator' },
      schema: {
        summary: 'Delete a held message (its bytes are removed; tracking keeps the record)',
        params: idParams,
        response: { 200: quarantineItemSchema },
      },
    },
    async (request) =>
      quarantine.delete(request.params.id, apiActor(request.principal, request.ip)),
  )
}
