import type { Device } from '@postern/store'

/**
 * Who is calling, for every authenticated route: console users (session cookie) and API
 * clients (bearer access token) share this shape, so that route code checks one thing.
 */
export interface Principal {
  kind: 'user' | 'client'
  orgId: string
  /** The user, or the user who owns the API client (null for a client made without an owner). */
  userId: string | null
  /** Set for API clients. */
  clientId: string | null
  /** What the caller may do (a user's role scopes, or the token's scopes). */
  scopes: readonly string[]
  /** How the caller proved who it is. */
  via: 'session' | 'bearer'
  /** The console session, for logout. */
  sessionId: string | null
}

/** How a route is protected; exactly one of these keys goes in the route's `config`. */
export interface RouteAuthConfig {
  /** Required scope (see auth/scopes.ts). */
  scope?: string
  /** Any authenticated user or client, whatever its scopes. */
  authenticated?: boolean
  /** Authenticated with a device credential (gateways calling about themselves). */
  device?: boolean
  /** No authentication (token endpoint, JWKS, discovery, registration with a token, login). */
  public?: boolean
}

declare module 'fastify' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface FastifyContextConfig extends RouteAuthConfig {}
  interface FastifyRequest {
    /** The caller, on routes with `scope` or `authenticated`. */
    auth: Principal
    /** The calling device, on routes with `device`. */
    device: Device
  }
}

/** The actor recorded in audit entries for a principal. */
export function auditActor(principal: Principal): { type: 'user' | 'client'; id: string } {
  return principal.kind === 'client'
    ? { type: 'client', id: principal.clientId ?? 'unknown' }
    : { type: 'user', id: principal.userId ?? 'unknown' }
}
