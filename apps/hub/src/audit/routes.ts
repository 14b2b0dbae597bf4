import { z } from 'zod'
import type { HttpApp } from '@postern/http'
import { auditEntryView, toAuditEntryView } from '../api/views.js'
import type { HubServices } from '../services.js'

/** The organisation's audit log: who did what, when, from where, and how it ended. */
export function registerAuditRoutes(app: HttpApp, services: HubServices): void {
  app.get(
    '/api/v1/audit',
    {
      config: { scope: 'audit:read' },
      schema: {
        summary: 'Audit log, newest first',
        tags: ['audit'],
        querystring: z
          .object({
            action: z.string().max(100).optional(),
            actorId: z.string().max(200).optional(),
            since: z.coerce.number().int().nonnegative().optional(),
            until: z.coerce.number().int().nonnegative().optional(),
            limit: z.coerce.number().int().min(1).max(1000).default(100),
            offset: z.coerce.number().int().min(0).default(0),
          })
          .strict(),
        response: { 200: z.object({ total: z.number(), items: z.array(auditEntryView) }) },
      },
    },
    async (request) => {
      const result = await services.audit.list({ ...request.query, orgId: request.auth.orgId })
      return { total: result.total, items: result.entries.map(toAuditEntryView) }
    },
  )
}
