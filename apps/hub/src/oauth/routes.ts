import { z } from 'zod'
import type { HttpApp } from '@postern/http'
import { OAuthError } from '../clients/client-service.js'
import type { HubServices } from '../services.js'
import { TUNNEL_PATH } from '../tunnel/device-tunnel.js'

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString())

/**
 * OAuth2 and identity routes of the Threat Response API: the client-credentials token endpoint
 * (RFC 6749 §4.4), the JWKS (RFC 7517) and authorisation-server metadata (RFC 8414) that relay
 * modules and clients discover keys with, and whoami.
 */
export async function registerOAuthRoutes(app: HttpApp, services: HubServices): Promise<void> {
  await app.register(async (scope) => {
    // RFC 6749 §5.2: errors of the token endpoint are `{error, error_description}`; the
    // reference answers bad client credentials with 400 as well.
    scope.setErrorHandler(async (error, request, reply) => {
      if (error instanceof OAuthError) {
        return reply
          .code(400)
          .header('cache-control', 'no-store')
          .send({ error: error.error, error_description: error.description })
      }
      const status = (error as { statusCode?: number }).statusCode
      if (status !== undefined && status >= 400 && status < 500) {
        return reply.code(400).send({
          error: 'invalid_request',
          error_description: 'The request body must be application/x-www-form-urlencoded',
        })
      }
      request.log.error({ event: 'OAUTH_TOKEN_FAILED', err: error }, 'token endpoint failed')
      return reply.code(500).send({
        error: 'server_error',
        error_description: `Unexpected error (trace id ${request.id})`,
      })
    })

    scope.post(
      '/iroh/oauth2/token',
      {
        config: { public: true },
        schema: {
          summary: 'OAuth2 client-credentials token (HTTP Basic client_id:client_secret)',
          tags: ['oauth'],
          security: [],
          body: z
            .object({
              grant_type: z.string().optional().describe('Must be client_credentials'),
              scope: z
                .string()
                .optional()
                .describe("Space-separated subset of the client's scopes"),
              client_id: z.string().optional().describe('Instead of HTTP Basic (RFC 6749 §2.3.1)'),
              client_secret: z.string().optional(),
            })
            .loose(),
          response: {
            200: z.object({
              access_token: z.string(),
              token_type: z.literal('bearer'),
              expires_in: z.number(),
              scope: z.string(),
            }),
          },
        },
      },
      async (request, reply) => {
        const body = (request.body ?? {}) as Record<string, unknown>
        const credentials = clientCredentials(request.headers.authorization, body)
        if (!credentials)
          throw new OAuthError(
            'invalid_client',
            'Send the client id and secret with HTTP Basic authentication',
          )
        if (body.grant_type === undefined)
          throw new OAuthError('invalid_request', 'grant_type is required')
        if (body.grant_type !== 'client_credentials') {
          throw new OAuthError(
            'unsupported_grant_type',
            'Only grant_type=client_credentials is supported',
          )
        }
        const scope = typeof body.scope === 'string' ? body.scope : undefined
        const token = await services.clients.grant(
          credentials.id,
          credentials.secret,
          scope,
          request.ip,
        )
        void reply.header('cache-control', 'no-store').header('pragma', 'no-cache')
        return token
      },
    )
  })

  app.get(
    '/.well-known/jwks',
    {
      config: { public: true },
      schema: {
        summary: 'Public keys that verify hub-signed tokens (RFC 7517)',
        tags: ['oauth'],
        security: [],
      },
    },
    async (_request, reply) => {
      void reply.header('cache-control', 'public, max-age=300')
      return services.keys.jwks()
    },
  )

  app.get(
    '/.well-known/oauth-authorization-server',
    {
      config: { public: true },
      schema: {
        summary: 'Authorisation server metadata (RFC 8414)',
        tags: ['oauth'],
        security: [],
      },
    },
    async () => ({
      issuer: services.config.auth.issuer,
      token_endpoint: `${services.publicUrl}/iroh/oauth2/token`,
      jwks_uri: `${services.publicUrl}/.well-known/jwks`,
      grant_types_supported: ['client_credentials'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      response_types_supported: ['token'],
      token_endpoint_auth_signing_alg_values_supported: ['RS256'],
    }),
  )

  app.get(
    '/iroh/profile/whoami',
    {
      config: { scope: 'profile:read' },
      schema: { summary: 'The calling user and organisation', tags: ['oauth'] },
    },
    async (request) => {
      const { auth } = request
      const org = await services.orgs.get(auth.orgId)
      const user = auth.userId ? await services.repos.users.get(auth.orgId, auth.userId) : undefined
      return {
        user: {
          role: user?.role ?? null,
          scopes: [...auth.scopes],
          'user-id': auth.userId,
          'user-email': user?.email ?? null,
          'user-name': user?.name ?? null,
          'user-nick': user?.name ?? null,
          'org-id': auth.orgId,
          'enabled?': user?.enabled ?? true,
          'created-at': iso(user?.createdAt ?? null),
          'updated-at': iso(user?.updatedAt ?? null),
          'last-logged-at': iso(user?.lastLoginAt ?? null),
          'idp-mappings': [],
          ...(auth.clientId ? { 'client-id': auth.clientId } : {}),
        },
        org: {
          id: org.id,
          name: org.name,
          'enabled?': org.enabled,
          'activation-status': 'activated',
          'scim-status': null,
          'allow-all-role-to-login': true,
          'allow-all-role-to-login-editable?': false,
          'created-at': iso(org.createdAt),
          'updated-at': iso(org.updatedAt),
        },
      }
    },
  )

  // Clients in "token only" mode check a token with any 2xx from this route (reference §1).
  app.get(
    '/iroh/iroh-enrich/settings',
    {
      config: { authenticated: true },
      schema: { summary: 'Token check used by Threat Response clients', tags: ['oauth'] },
    },
    async (request) => ({ 'org-id': request.auth.orgId, scopes: [...request.auth.scopes] }),
  )

  app.get(
    '/api/v1/hub',
    {
      config: { public: true },
      schema: {
        summary: 'What this hub is: region, public URL, tunnel URL, version',
        tags: ['hub'],
        security: [],
        response: {
          200: z.object({
            region: z.string(),
            publicUrl: z.string(),
            tunnelUrl: z.string(),
            jwksUrl: z.string(),
            issuer: z.string(),
          }),
        },
      },
    },
    async () => ({
      region: services.config.region,
      publicUrl: services.publicUrl,
      tunnelUrl: `${services.publicUrl.replace(/^http/, 'ws')}${TUNNEL_PATH}`,
      jwksUrl: `${services.publicUrl}/.well-known/jwks`,
      issuer: services.config.auth.issuer,
    }),
  )
}

/** Client id and secret from HTTP Basic (RFC 7617; RFC 6749 §2.3.1 form-encodes both parts) or the body. */
function clientCredentials(
  header: string | undefined,
  body: Record<string, unknown>,
): { id: string; secret: string } | null {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '')
  if (match?.[1]) {
    const decoded = Buffer.from(match[1], 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    if (colon <= 0) return null
    try {
      return {
        id: decodeURIComponent(decoded.slice(0, colon)),
        secret: decodeURIComponent(decoded.slice(colon + 1)),
      }
    } catch {
      return { id: decoded.slice(0, colon), secret: decoded.slice(colon + 1) }
    }
  }
  if (typeof body.client_id === 'string' && typeof body.client_secret === 'string') {
    return { id: body.client_id, secret: body.client_secret }
  }
  return null
}
