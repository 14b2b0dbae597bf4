import type { FastifyRequest } from 'fastify'
import type { RequestContext } from './context.js'

/**
 * Who is calling, for audit records and remediation runs: a console user, an API token, or
 * the local CLI credential (whose requests count as coming from the CLI).
 */
export function requestContext(request: FastifyRequest): RequestContext {
  const principal = request.principal
  if (!principal)
    return { actor: { type: 'client', id: 'unknown' }, source: 'api', remoteIp: request.ip }
  if (principal.kind === 'local')
    return { actor: { type: 'cli', id: 'local-cli' }, source: 'cli', remoteIp: request.ip }
  return {
    actor: { type: principal.kind === 'session' ? 'user' : 'client', id: principal.name },
    source: 'api',
    remoteIp: request.ip,
  }
}
