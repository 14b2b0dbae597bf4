import { z } from 'zod'
import type { HttpApp } from '@postern/http'
import { toUserView, userView } from '../api/views.js'
import { auditActor } from '../auth/principal.js'
import { ROLES } from '../auth/roles.js'
import type { HubServices } from '../services.js'

/** Users of the caller's organisation. */
export function registerUserRoutes(app: HttpApp, services: HubServices): void {
  app.get(
    '/api/v1/users',
    {
      config: { scope: 'users:read' },
      schema: {
        summary: 'List users',
        tags: ['users'],
        response: { 200: z.object({ items: z.array(userView) }) },
      },
    },
    async (request) => ({ items: (await services.users.list(request.auth.orgId)).map(toUserView) }),
  )

  app.post(
    '/api/v1/users',
    {
      config: { scope: 'users:write' },
      schema: {
        summary: 'Create a user',
        tags: ['users'],
        body: z
          .object({
            email: z.email().max(320),
            name: z.string().max(200).default(''),
            role: z.enum(ROLES),
            password: z.string().min(1).max(1024),
          })
          .strict(),
        response: { 201: userView },
      },
    },
    async (request, reply) => {
      const user = await services.users.create(
        { orgId: request.auth.orgId, ...request.body },
        auditActor(request.auth),
        request.ip,
      )
      return reply.code(201).send(toUserView(user))
    },
  )

  app.patch(
    '/api/v1/users/:userId',
    {
      config: { scope: 'users:write' },
      schema: {
        summary: 'Change a user (name, role, enabled, password)',
        tags: ['users'],
        params: z.object({ userId: z.string().min(1).max(64) }).strict(),
        body: z
          .object({
            name: z.string().min(1).max(200).optional(),
            role: z.enum(ROLES).optional(),
            enabled: z.boolean().optional(),
            password: z.string().min(1).max(1024).optional(),
          })
          .strict(),
        response: { 200: userView },
      },
    },
    async (request) =>
      toUserView(
        await services.users.update(
          request.auth.orgId,
          request.params.userId,
          request.body,
          auditActor(request.auth),
          request.ip,
        ),
      ),
  )
}
