import { z } from 'zod'
import type { HttpApp } from '@postern/http'
import { clientView, toClientView } from '../api/views.js'
import { auditActor } from '../auth/principal.js'
import type { HubServices } from '../services.js'

/** API clients (client id + secret for the OAuth2 token endpoint). */
export function registerClientRoutes(app: HttpApp, services: HubServices): void {
  const clientParams = z.object({ clientId: z.string().min(1).max(80) }).strict()

  app.get(
    '/api/v1/api-clients',
    {
      config: { scope: 'oauth:read' },
      schema: {
        summary: 'List API clients',
        tags: ['api-clients'],
        response: { 200: z.object({ items: z.array(clientView) }) },
      },
    },
    async (request) => {
      const now = services.clock.now()
      return {
        items: (await services.clients.list(request.auth.orgId)).map((c) => toClientView(c, now)),
      }
    },
  )

  app.post(
    '/api/v1/api-clients',
    {
      config: { scope: 'oauth:write' },
      schema: {
        summary: 'Create an API client; the secret is shown only in this reply',
        tags: ['api-clients'],
        body: z
          .object({
            name: z.string().min(1).max(200),
            description: z.string().max(2000).optional(),
            scopes: z.array(z.string().min(1).max(200)).min(1).max(64),
            expiresInDays: z
              .number()
              .int()
              .positive()
              .max(3650)
              .optional()
              .describe('Omit for a client that does not expire'),
          })
          .strict(),
        response: { 201: clientView.extend({ clientSecret: z.string() }) },
      },
    },
    async (request, reply) => {
      const { name, description, scopes, expiresInDays } = request.body
      const now = services.clock.now()
      const { client, secret } = await services.clients.create(
        {
          orgId: request.auth.orgId,
          name,
          description,
          scopes,
          expiresAt: expiresInDays === undefined ? null : now + expiresInDays * 86_400_000,
          ownerUserId: request.auth.userId,
          grantorScopes: request.auth.scopes,
        },
        auditActor(request.auth),
        request.ip,
      )
      return reply.code(201).send({ ...toClientView(client, now), clientSecret: secret })
    },
  )

  app.delete(
    '/api/v1/api-clients/:clientId',
    {
      config: { scope: 'oauth:write' },
      schema: {
        summary: 'Revoke an API client (its tokens stop working at once)',
        tags: ['api-clients'],
        params: clientParams,
      },
    },
    async (request, reply) => {
      await services.clients.revoke(
        request.auth.orgId,
        request.params.clientId,
        auditActor(request.auth),
        request.ip,
      )
      return reply.code(204).send()
    },
  )
}
