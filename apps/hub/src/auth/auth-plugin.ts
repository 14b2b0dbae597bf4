import type { FastifyReply, FastifyRequest, RouteOptions } from 'fastify'
import type { HttpApp } from '@postern/http'
import type { Device } from '@postern/store'
import { hubErrors } from '../errors.js'
import type { Authenticator } from './authenticator.js'
import { missingScopeBody, unauthorisedBody } from './iroh-errors.js'
import type { Principal, RouteAuthConfig } from './principal.js'
import { parseScope, scopesCover } from './scopes.js'
import { SessionService } from './sessions.js'

/** One registered route and how it is protected; the route-walk test iterates these. */
export interface RouteRecord {
  method: string
  url: string
  auth: RouteAuthConfig
}

export interface AuthPluginDeps {
  authenticator: Authenticator
  /** Resolves a device credential (routes with `device: true`). */
  authenticateDevice: (credential: string) => Promise<Device | undefined>
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

/**
 * Installs the hub's one authentication and authorisation layer. Every route registered after
 * this call must declare how it is protected (`scope`, `authenticated`, `device` or `public` in
 * its config) or the hub refuses to start; each request is then checked before its body is even
 * parsed, and refusals use the Threat Response API's bodies. Returns the live list of routes.
 */
export function installAuth(app: HttpApp, deps: AuthPluginDeps): RouteRecord[] {
  const routes: RouteRecord[] = []
  app.decorateRequest('auth', null as unknown as Principal)
  app.decorateRequest('device', null as unknown as Device)

  app.addHook('onRoute', (route: RouteOptions) => {
    const config = (route.config ?? {}) as RouteAuthConfig
    const declared = [
      config.scope !== undefined,
      config.authenticated === true,
      config.device === true,
      config.public === true,
    ]
    const methods = Array.isArray(route.method) ? route.method : [route.method]
    if (declared.filter(Boolean).length !== 1) {
      throw hubErrors.ROUTE_AUTH_UNDECLARED({ method: methods.join(','), url: route.url })
    }
    if (config.scope !== undefined) parseScope(config.scope)
    for (const method of methods) {
      if (method === 'HEAD') continue
      routes.push({ method, url: route.url, auth: { ...config } })
    }
  })

  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.is404) return
    const config = request.routeOptions.config as RouteAuthConfig
    if (config.public) return
    if (config.device) return authenticateDeviceRequest(request, reply, deps)
    if (config.scope === undefined && config.authenticated !== true) return // routes outside installAuth's reach (openapi.json)

    const result = await deps.authenticator.authenticate(request.headers, request.cookies ?? {})
    if (!result.ok) {
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer realm="postern-hub"')
        .send(unauthorisedBody(result.description, request.id))
    }
    const { principal } = result
    if (config.scope !== undefined && !scopesCover(principal.scopes, config.scope)) {
      return reply.code(403).send(
        missingScopeBody({
          required: config.scope,
          held: principal.scopes,
          userId: principal.userId,
          orgId: principal.orgId,
          traceId: request.id,
        }),
      )
    }
    // A cookie is sent by the browser on its own; a change made with one must also carry the
    // session's CSRF token, which only the console's own script can read.
    if (result.csrfDigest !== null && !SAFE_METHODS.has(request.method)) {
      const presented = request.headers['x-csrf-token']
      if (
        !SessionService.csrfMatches(
          result.csrfDigest,
          typeof presented === 'string' ? presented : undefined,
        )
      ) {
        return reply.code(403).send(hubErrors.CSRF_INVALID().toJSON())
      }
    }
    request.auth = principal
  })
  return routes
}

async function authenticateDeviceRequest(
  request: FastifyRequest,
  reply: FastifyReply,
  deps: AuthPluginDeps,
): Promise<void> {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')
  const device = match?.[1] ? await deps.authenticateDevice(match[1]) : undefined
  if (!device) {
    await reply
      .code(401)
      .header('www-authenticate', 'Bearer realm="postern-devices"')
      .send(hubErrors.DEVICE_CREDENTIAL_INVALID().toJSON())
    return
  }
  request.device = device
}
