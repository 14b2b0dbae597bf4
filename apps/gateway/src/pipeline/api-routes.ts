import { z } from 'zod'
import type { HttpApp } from '@postern/http'
import type { AuditLog, ContentRecords } from '@postern/store'
import type { BlocklistService } from '../blocklists/blocklist-service.js'
import { registerBlocklistRoutes } from '../blocklists/routes.js'
import { gwErrors } from '../errors.js'
import type { QuarantineService } from '../quarantine/quarantine-service.js'
import { registerPolicyRoutes } from '../policy/routes.js'
import type { PolicyEditor } from '../policy/policy-editor.js'
import { registerQuarantineRoutes } from '../quarantine/routes.js'
import { analysisView, urlView } from '../api/tracking-views.js'

export interface ContentRouteDeps {
  quarantine: QuarantineService
  blocklists: BlocklistService
  records: ContentRecords
  policyEditor: PolicyEditor
  audit: AuditLog
}

/**
 * Every route of the content pipeline: quarantine, block lists, mail policies, and a message's
 * analysis.
 */
export function registerContentRoutes(app: HttpApp, deps: ContentRouteDeps): void {
  registerQuarantineRoutes(app, deps.quarantine)
  registerBlocklistRoutes(app, deps.blocklists)
  registerPolicyRoutes(app, deps.policyEditor)

  app.get(
    '/api/v1/tracking/messages/:mid/analysis',
    {
      config: { role: 'read-only' },
      schema: {
        summary:
          'What the content pipeline found in a message: verdicts, authentication, URLs, attachments',
        params: z.object({ mid: z.coerce.number().int().positive() }).strict(),
        response: {
          200: z.object({
            analysis: analysisView.extend({
              mid: z.number(),
              at: z.number(),
              direction: z.string(),
            }),
            urls: z.array(urlView),
            attachments: z.array(
              z.object({
                idx: z.number(),
                parentIdx: z.number().nullable(),
                part: z.string(),
                filename: z.string().nullable(),
                declaredType: z.string().nullable(),
                sniffedType: z.string().nullable(),
                extension: z.string().nullable(),
                size: z.number(),
                sha256: z.string().nullable(),
                md5: z.string().nullable(),
                sha1: z.string().nullable(),
                encrypted: z.boolean(),
                macros: z.boolean(),
              }),
            ),
          }),
        },
      },
    },
    async (request) => {
      const { mid } = request.params
      const analysis = await deps.records.analysis(mid)
      if (!analysis) throw gwErrors.TRACKING_MESSAGE_NOT_FOUND({ mid })
      return {
        analysis,
        urls: await deps.records.urls(mid),
        attachments: await deps.records.attachments(mid),
      }
    },
  )
}
