import { z } from 'zod'
import type { HttpApp } from '@postern/http'
import type { Principal } from '../api/auth.js'
import type { RibbonLogin } from './ribbon-login.js'

const loginView = z.object({
  configured: z.boolean(),
  clientId: z.string().nullable(),
  hubUrl: z.string().nullable(),
  updatedAt: z.number().nullable(),
})
const tokenView = z.object({ accessToken: z.string(), expiresAt: z.number(), hubUrl: z.string() })

/** Whose ribbon login a request uses: the console user, or the API token by name. */
function ownerOf(principal: Principal | undefined): string {
  if (!principal) return 'unknown'
  return principal.userId !== null
    ? `user:${principal.userId}`
    : `${principal.kind}:${principal.name}`
}

/** The ribbon login dialog's API: every user keeps their own hub client. */
export function registerRibbonRoutes(app: HttpApp, login: RibbonLogin): void {
  const config = { role: 'read-only' as const }
  app.get(
    '/api/v1/ribbon/login',
    {
      config,
      schema: {
        summary: "The caller's ribbon login (never its secret)",
        response: { 200: loginView },
      },
    },
    async (request) => login.view(ownerOf(request.principal)),
  )
  app.put(
    '/api/v1/ribbon/login',
    {
      config,
      schema: {
        summary: 'Log in to use the ribbon: checked against the hub, then kept sealed',
        body: z
          .object({
            hubUrl: z
              .url({ protocol: /^https?$/ })
              .max(2000)
              .describe('The hub server'),
            clientId: z.string().min(1).max(200),
            clientSecret: z.string().min(1).max(1000),
          })
          .strict(),
        response: { 200: tokenView },
      },
    },
    async (request) => login.save(ownerOf(request.principal), request.body),
  )
  app.delete(
    '/api/v1/ribbon/login',
    { config, schema: { summary: 'Forget the ribbon login' } },
    async (request, reply) => {
      await login.remove(ownerOf(request.principal))
      return reply.code(204).send()
    },
  )
  app.post(
    '/api/v1/ribbon/token',
    {
      config,
      schema: {
        summary: 'A short-lived hub access token for the ribbon of this page',
        response: { 200: tokenView },
      },
    },
    async (request) => login.tokenFor(ownerOf(request.principal)),
  )
}
