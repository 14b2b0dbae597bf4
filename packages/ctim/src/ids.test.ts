import { describe, expect, it } from 'vitest'
import { ctiaIdUrl, newCtiaId, newShortId, parseCtiaId, requireCtiaId, transientId } from './ids.js'

const UUID = '0b3d2e7a-9c1f-4e5a-8b6d-2f4a6c8e0a1b'

describe('CTIA ids', () => {
  it.each([
    [`https://private.intel.amp.cisco.com:443/ctia/casebook/casebook-${UUID}`, 'casebook'],
    [`https://hub.example.com/ctia/casebook/casebook-${UUID}`, 'casebook'],
    [encodeURIComponent(`https://hub.example.com/ctia/casebook/casebook-${UUID}`), 'casebook'],
    [`casebook-${UUID}`, 'casebook'],
    [`CASEBOOK-${UUID.toUpperCase()}`, 'casebook'],
    [`attack-pattern-${UUID}`, 'attack-pattern'],
    [`asset-mapping-${UUID}`, 'asset-mapping'],
    [`https://hub.example.com/ctia/incident/incident-${UUID}`, 'incident'],
  ])('parses %s', (input, entity) => {
    const parsed = parseCtiaId(input)
    expect(parsed).toEqual({ entity, uuid: UUID, shortId: `${entity}-${UUID}`, transient: false })
  })

  it.each([
    `casebook-${UUID}x`,
    `casebook-not-a-uuid`,
    `https://hub.example.com/ctia/incident/casebook-${UUID}`,
    `https://hub.example.com/other/casebook/casebook-${UUID}`,
    `gizmo-${UUID}`,
    '',
    '%E0%A4%A',
  ])('refuses %s', (input) => {
    expect(parseCtiaId(input)).toBeNull()
  })

  it('checks the expected entity', () => {
    expect(parseCtiaId(`incident-${UUID}`, 'casebook')).toBeNull()
    expect(() => requireCtiaId(`incident-${UUID}`, 'casebook')).toThrow(
      expect.objectContaining({ code: 'CTIM_ERR_ID_INVALID', status: 400 }),
    )
    expect(requireCtiaId(`casebook-${UUID}`, 'casebook').uuid).toBe(UUID)
  })

  it('makes ids and transient ids', () => {
    expect(newShortId('casebook', UUID)).toBe(`casebook-${UUID}`)
    expect(ctiaIdUrl('https://hub.example.com:443/', 'casebook', `casebook-${UUID}`)).toBe(
      `https://hub.example.com:443/ctia/casebook/casebook-${UUID}`,
    )
    const { id, shortId } = newCtiaId('https://hub.example.com:443', 'incident')
    expect(parseCtiaId(id)?.shortId).toBe(shortId)
    const transient = transientId('sighting')
    expect(parseCtiaId(transient)).toMatchObject({ entity: 'sighting', transient: true })
    expect(() => requireCtiaId(transient, 'sighting')).toThrow()
  })
})
