import { describe, expect, it } from 'vitest'
import { mergedListsJson, moduleResultJson, serialiseLists } from './entity-lists.js'

const identity = {
  module: 'Gateways',
  module_instance_id: 'i1',
  module_type_id: 'postern-email-gateway',
  'module-type': 'Postern Email Gateway',
}

describe('entity lists serialised per answer', () => {
  it.each([
    {
      name: 'two gateways: docs concatenated in answer order, counts summed',
      answers: [
        { sightings: { count: 1, docs: [{ id: 'a' }] } },
        { sightings: { count: 2, docs: [{ id: 'b' }, { id: 'c' }] } },
      ],
      merged: { sightings: { count: 3, docs: [{ id: 'a' }, { id: 'b' }, { id: 'c' }] } },
    },
    {
      name: 'an empty list keeps its key; lists appear in first-seen order',
      answers: [
        { verdicts: { count: 0, docs: [] } },
        {
          sightings: { count: 1, docs: [{ id: 's' }] },
          verdicts: { count: 1, docs: [{ id: 'v' }] },
        },
      ],
      merged: {
        verdicts: { count: 1, docs: [{ id: 'v' }] },
        sightings: { count: 1, docs: [{ id: 's' }] },
      },
    },
    {
      name: 'the count is what was sent, not what the module claims',
      answers: [{ sightings: { count: 99, docs: [{ id: 'a' }] } }],
      merged: { sightings: { count: 1, docs: [{ id: 'a' }] } },
    },
    {
      name: 'values that are not lists are left out; hostile keys stay plain data',
      answers: [
        JSON.parse(
          '{"__proto__": {"count": 1, "docs": [{"polluted": true}]}, "notes": "x", "bad": {"docs": 3}}',
        ) as unknown,
        null,
        'text',
      ],
      merged: JSON.parse('{"__proto__": {"count": 1, "docs": [{"polluted": true}]}}') as unknown,
    },
  ])('$name', ({ answers, merged }) => {
    const json = mergedListsJson(answers.map(serialiseLists))
    expect(JSON.parse(json)).toEqual(merged)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('wraps the merged lists with the module identity', () => {
    const json = moduleResultJson(identity, mergedListsJson([serialiseLists({})]))
    expect(JSON.parse(json)).toEqual({ ...identity, data: {} })
  })
})
