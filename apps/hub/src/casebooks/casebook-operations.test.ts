import { describe, expect, it } from 'vitest'
import { canonicalJson, combineLists, patchDocument } from './casebook-operations.js'

const domain = { type: 'domain', value: 'evil.example' }
const ip = { type: 'ip', value: '192.0.2.1' }

describe('canonicalJson', () => {
  it('ignores key order and undefined values', () => {
    expect(canonicalJson({ b: 1, a: [{ y: 2, x: undefined, z: 'q' }] })).toBe(
      canonicalJson({ a: [{ z: 'q', y: 2 }], b: 1 }),
    )
  })
})

describe('combineLists', () => {
  it.each([
    [
      'add appends what is missing',
      [domain],
      'add',
      [{ value: 'evil.example', type: 'domain' }, ip],
      [domain, ip],
    ],
    ['remove drops equal elements', [domain, ip, domain], 'remove', [domain], [ip]],
    ['remove of something absent changes nothing', [ip], 'remove', [domain], [ip]],
    ['replace sets the list', [domain], 'replace', [ip], [ip]],
  ] as const)('%s', (_name, current, operation, items, expected) => {
    expect(combineLists(current, operation, items)).toEqual(expected)
  })
})

describe('patchDocument (CTIA deep-merge-with)', () => {
  it('combines lists, merges objects and replaces scalars', () => {
    const current = {
      title: 'Old',
      observables: [domain],
      bundle: { type: 'bundle', sightings: [{ id: 's1' }], source: 'a' },
    }
    expect(
      patchDocument(
        current,
        { title: 'New', observables: [ip], bundle: { sightings: [{ id: 's2' }], source: 'b' } },
        'add',
      ),
    ).toEqual({
      title: 'New',
      observables: [domain, ip],
      bundle: { type: 'bundle', sightings: [{ id: 's1' }, { id: 's2' }], source: 'b' },
    })
  })

  it('sets a field the document lacks, whatever the operation (texts remove on a new casebook)', () => {
    const texts = [{ type: 'test type', text: 'test text' }]
    expect(patchDocument({ title: 't' }, { texts }, 'remove')).toEqual({ title: 't', texts })
    expect(patchDocument({ title: 't', texts }, { texts }, 'remove')).toEqual({
      title: 't',
      texts: [],
    })
  })

  it('PATCH replaces lists and leaves other fields alone', () => {
    expect(
      patchDocument(
        { title: 'a', description: 'd', observables: [domain] },
        { title: 'b', observables: [] },
        'replace',
      ),
    ).toEqual({ title: 'b', description: 'd', observables: [] })
  })

  it('never writes to the stored document', () => {
    const current = { observables: [domain], nested: { list: [1] } }
    patchDocument(current, { observables: [ip], nested: { list: [2] } }, 'add')
    expect(current).toEqual({ observables: [domain], nested: { list: [1] } })
  })
})
