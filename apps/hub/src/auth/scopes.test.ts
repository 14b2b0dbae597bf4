import { describe, expect, it } from 'vitest'
import { scopesOfRole } from './roles.js'
import {
  normaliseGrant,
  RIBBON_CLIENT_SCOPES,
  scopeCovers,
  scopesCover,
  splitScopes,
} from './scopes.js'

describe('scope grammar', () => {
  it.each([
    ['users', 'users/profile:read', true],
    ['users', 'users', true],
    ['users:read', 'users/profile:read', true],
    ['users:read', 'users:write', false],
    ['users:read', 'users', false],
    ['enrich:read', 'enrich/observables/observe:read', true],
    ['enrich:read', 'enrich:write', false],
    ['users/profile', 'users:read', false],
    ['casebook', 'casebooks', false],
    ['registry/user/ribbon', 'registry/user/ribbon:read', true],
    ['integration', 'integration/health:read', true],
  ])('%s covers %s: %s', (granted, required, expected) => {
    expect(scopeCovers(granted, required)).toBe(expected)
  })

  it.each(['', 'a b', 'users:admin', 'users/', '/users', 'users::read', 'ü'])(
    'rejects %j',
    (scope) => {
      expect(() => scopeCovers(scope, 'users')).toThrow(
        expect.objectContaining({ code: 'HUB_ERR_SCOPE_INVALID' }),
      )
    },
  )

  it('accepts the seed ribbon list and refuses scopes outside the catalogue', () => {
    expect(normaliseGrant(RIBBON_CLIENT_SCOPES)).toHaveLength(RIBBON_CLIENT_SCOPES.length)
    expect(() => normaliseGrant(['enrich'])).toThrow(
      expect.objectContaining({ code: 'HUB_ERR_SCOPE_UNKNOWN' }),
    )
    expect(() => normaliseGrant(['galaxy'])).toThrow(
      expect.objectContaining({ code: 'HUB_ERR_SCOPE_UNKNOWN' }),
    )
    expect(splitScopes('a b,c  d')).toEqual(['a', 'b', 'c', 'd'])
  })

  it('gives roles what they need and no more', () => {
    expect(scopesCover(scopesOfRole('admin'), 'devices:write')).toBe(true)
    expect(scopesCover(scopesOfRole('analyst'), 'devices:write')).toBe(false)
    expect(scopesCover(scopesOfRole('analyst'), 'response')).toBe(true)
    expect(scopesCover(scopesOfRole('read-only'), 'casebook:write')).toBe(false)
    expect(scopesCover(scopesOfRole('read-only'), 'profile:read')).toBe(true)
    for (const role of ['admin', 'analyst', 'read-only'])
      expect(() => normaliseGrant(scopesOfRole(role))).not.toThrow()
  })
})
