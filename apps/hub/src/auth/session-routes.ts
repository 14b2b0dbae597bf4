import { z } from 'zod'
import type { HttpApp } from '@postern/http'
import { toUserView, userView } from '../api/views.js'
import type { HubServices } from '../services.js'
import { SESSION_COOKIE } from './authenticator.js'

/** Console login and logout (session cookie + CSRF token). */
export function registerSessionRoutes(app: HttpApp, services: HubServices): void {
  const secure = (): boolean =>
    services.config.auth.secureCookies ?? services.publicUrl.startsWith('https:')

  app.post(
    '/api/v1/session',
    {
      config: { public: true },
      schema: {
        summary: 'Log in to the console',
        tags: ['session'],
        security: [],
        body: z
          .object({ email: z.string().min(1).max(320), password: z.string().min(1).max(1024) })
          .strict(),
        response: {
          200: z.object({ user: userView, csrfToken: z.string(), expiresAt: z.number() }),
        },
      },
    },
    async (request, reply) => {
      const result = await services.sessions.login({
        email: request.body.email,
        password: request.body.password,
        remoteIp: request.ip,
        userAgent: request.headers['user-agent'] ?? null,
      })
      void reply.setCookie(SESSION_COOKIE, result.token, {
        httpOnly: true,
        sameSite: 'strict',
        secure: secure(),
        path: '/',
        expires: new Date(result.expiresAt + services.config.auth.sessionMaxHours * 3_600_000),
      })
      return {
        user: toUserView(result.user),
        csrfToken: result.csrfToken,
        expiresAt: result.expiresAt,
      }
    },
  )

  app.get(
    '/api/v1/session',
    {
      config: { authenticated: true },
      schema: {
        summary: 'Who is logged in (or whose token this is)',
        tags: ['session'],
        response: {
          200: z.object({
            kind: z.enum(['user', 'client']),
            orgId: z.string(),
            userId: z.string().nullable(),
            clientId: z.string().nullable(),
            scopes: z.array(z.string()),
          }),
        },
      },
    },
    async (request) => ({
      kind: request.auth.kind,
      orgId: request.auth.orgId,
      userId: request.auth.userId,
      clientId: request.auth.clientId,
      scopes: [...request.auth.scopes],
    }),
  )

  app.delete(
    '/api/v1/session',
    { config: { authenticated: true }, schema: { summary: 'Log out', tags: ['session'] } },
    async (request, reply) => {
      if (request.auth.sessionId) {
        await services.sessions.logout(request.auth.sessionId)
        await services.audit.record({
          orgId: request.auth.orgId,
          actor: { type: 'user', id: request.auth.userId ?? 'unknown' },
          source: 'console',
          remoteIp: request.ip,
          action: 'session.logout',
          outcome: 'success',
        })
      }
      void reply.clearCookie(SESSION_COOKIE, { path: '/' })
      return reply.code(204).send()
    },
  )
}
