import { z } from 'zod'
import type { HttpApp } from '@postern/http'
import { requestContext } from '../remediation/request-context.js'
import type { PolicyEditor } from './policy-editor.js'

const documentView = z.object({
  source: z
    .enum(['configuration', 'console'])
    .describe('configuration until policies are saved through the API, console after'),
  document: z
    .unknown()
    .describe('The policies section (groups, lists, incoming, outgoing), as configured'),
  updatedAt: z.number().nullable(),
  updatedBy: z.string().nullable(),
  quarantines: z.array(z.string()).describe('Quarantines a rule may name'),
})

/**
 * Mail policy routes (the console's Mail Policies page): read the policies in use, replace
 * them with a document validated and compiled server-side, or go back to the configuration's.
 * Changes are audited; only admins make them.
 */
export function registerPolicyRoutes(app: HttpApp, editor: PolicyEditor): void {
  app.get(
    '/api/v1/policies',
    {
      config: { role: 'read-only' },
      schema: {
        summary: 'The mail policies in use (incoming and outgoing, groups and lists)',
        response: { 200: documentView },
      },
    },
    async () => editor.view(),
  )

  app.put(
    '/api/v1/policies',
    {
      config: { role: 'admin' },
      schema: {
        summary:
          'Replace the mail policies (same keys as `pipeline.policies` but notifyFrom); applied at once',
        body: z
          .object({
            document: z
              .record(z.string(), z.unknown())
              .describe('groups, lists, incoming, outgoing: checked like the configuration'),
          })
          .strict(),
        response: { 200: documentView },
      },
    },
    async (request) => editor.save(request.body.document, requestContext(request)),
  )

  app.delete(
    '/api/v1/policies',
    {
      config: { role: 'admin' },
      schema: {
        summary: 'Drop the policies saved through the API: the configuration’s apply again',
        response: { 200: documentView },
      },
    },
    async (request) => editor.reset(requestContext(request)),
  )
}
