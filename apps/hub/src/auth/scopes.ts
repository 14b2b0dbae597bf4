import { hubErrors } from '../errors.js'

/**
 * Scope grammar of the Threat Response API (scopula): a scope is one token, `/` separates
 * sub-resources, and a trailing `:read` or `:write` narrows access; no suffix means both. A
 * scope covers another when its path is a prefix of the other's and it allows every access the
 * other needs, so `users` covers `users/profile:read` and `enrich:read` covers
 * `enrich/observables/observe:read`, but `enrich:read` does not cover `enrich:write`.
 */
export interface ParsedScope {
  path: readonly string[]
  read: boolean
  write: boolean
}

const SEGMENT = /^[a-z0-9][a-z0-9_-]{0,63}$/i

export function parseScope(scope: string): ParsedScope {
  const match = /^([^:\s]+)(?::(read|write))?$/.exec(scope)
  const path = match?.[1]?.split('/') ?? []
  if (!match || path.length === 0 || path.length > 8 || !path.every((s) => SEGMENT.test(s))) {
    throw hubErrors.SCOPE_INVALID({ scope: scope.slice(0, 100) })
  }
  const access = match[2]
  return { path, read: access !== 'write', write: access !== 'read' }
}

export function isValidScope(scope: string): boolean {
  try {
    parseScope(scope)
    return true
  } catch {
    return false
  }
}

function coversParsed(granted: ParsedScope, required: ParsedScope): boolean {
  if (granted.path.length > required.path.length) return false
  if (!granted.path.every((segment, i) => segment === required.path[i])) return false
  return (!required.read || granted.read) && (!required.write || granted.write)
}

/** True when `granted` (one scope) covers `required`. */
export function scopeCovers(granted: string, required: string): boolean {
  return coversParsed(parseScope(granted), parseScope(required))
}

/** True when any of `granted` covers `required`. Invalid granted scopes cover nothing. */
export function scopesCover(granted: readonly string[], required: string): boolean {
  const need = parseScope(required)
  return granted.some((g) => isValidScope(g) && coversParsed(parseScope(g), need))
}

/**
 * The scope catalogue: the Threat Response API's root scopes, the seed's list for the ribbon
 * client (casebook, enrich:read, global-intel:read, inspect:read, integration:read, profile,
 * private-intel, response, registry/user/ribbon, telemetry:write, users:read, orbital) and the
 * hub's own (`devices`, `audit`). A scope can be granted when a catalogue scope covers it.
 */
export const SCOPE_CATALOGUE: readonly string[] = [
  'admin',
  'ao',
  'asset',
  'audit',
  'casebook',
  'devices',
  'enrich:read',
  'event',
  'feedback',
  'global-intel:read',
  'inspect:read',
  'integration',
  'investigation',
  'invite',
  'notification',
  'oauth',
  'orbital',
  'private-intel',
  'profile',
  'registry',
  'response',
  'sse',
  'telemetry:write',
  'users',
  'webhook',
]

/** The seed's scope list for the gateway's ribbon API client (§ "Cisco SecureX Ribbon"). */
export const RIBBON_CLIENT_SCOPES: readonly string[] = [
  'casebook',
  'enrich:read',
  'global-intel:read',
  'inspect:read',
  'integration:read',
  'profile',
  'private-intel',
  'response',
  'registry/user/ribbon',
  'telemetry:write',
  'users:read',
  'orbital',
]

/** Validates scopes for a grant: well-formed, covered by the catalogue, de-duplicated, sorted. */
export function normaliseGrant(scopes: readonly string[]): string[] {
  const out = new Set<string>()
  for (const scope of scopes) {
    parseScope(scope)
    if (!scopesCover(SCOPE_CATALOGUE, scope)) throw hubErrors.SCOPE_UNKNOWN({ scope })
    out.add(scope)
  }
  return [...out].sort()
}

/** Splits the `scope` form parameter / CLI value (space- or comma-separated, RFC 6749 §3.3). */
export function splitScopes(value: string): string[] {
  return value
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
}
