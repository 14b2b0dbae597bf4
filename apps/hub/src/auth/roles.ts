import { hubErrors } from '../errors.js'
import { SCOPE_CATALOGUE } from './scopes.js'

export const ROLES = ['admin', 'analyst', 'read-only'] as const
export type Role = (typeof ROLES)[number]

/**
 * What each console role may do, as scopes, so that users and API clients go through the same
 * checks. Admins hold the whole catalogue; analysts investigate, respond and keep casebooks but
 * do not manage users, API clients or devices; read-only users only look.
 */
const ROLE_SCOPES: Record<Role, readonly string[]> = {
  admin: SCOPE_CATALOGUE,
  analyst: [
    'ao',
    'asset',
    'audit:read',
    'casebook',
    'devices:read',
    'enrich:read',
    'event',
    'feedback',
    'global-intel:read',
    'inspect:read',
    'integration:read',
    'investigation',
    'notification',
    'oauth:read',
    'orbital',
    'private-intel',
    'profile',
    'registry/user',
    'response',
    'users:read',
  ],
  'read-only': [
    'asset:read',
    'casebook:read',
    'devices:read',
    'enrich:read',
    'global-intel:read',
    'inspect:read',
    'integration:read',
    'investigation:read',
    'private-intel:read',
    'profile:read',
    'registry/user/ribbon:read',
    'users:read',
  ],
}

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value)
}

export function scopesOfRole(role: string): readonly string[] {
  if (!isRole(role)) throw hubErrors.ROLE_INVALID({ role })
  return ROLE_SCOPES[role]
}
