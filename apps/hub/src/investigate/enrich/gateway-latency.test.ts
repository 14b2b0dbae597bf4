import { describe, expect, it } from 'vitest'
import { GatewayLatency } from './gateway-latency.js'

const gateways = (...ids: string[]) => ids.map((id) => ({ id }))
const ids = (list: { id: string }[]) => list.map((g) => g.id)

describe('GatewayLatency', () => {
  it.each([
    ['nothing heard yet: the given order', [], ['a', 'b', 'c']],
    [
      'slowest answer first',
      [
        ['a', 5],
        ['b', 50],
        ['c', 20],
      ],
      ['b', 'c', 'a'],
    ],
    [
      'a gateway not heard from goes first',
      [
        ['a', 5],
        ['c', 20],
      ],
      ['b', 'c', 'a'],
    ],
    [
      'estimates follow recent answers (moving average)',
      [
        ['a', 50],
        ['b', 30],
        ['a', 5],
        ['a', 5],
        ['a', 5],
        ['c', 10],
      ],
      ['b', 'a', 'c'],
    ],
  ] as [string, [string, number][], string[]][])('%s', (_name, answers, expected) => {
    const latency = new GatewayLatency()
    for (const [id, ms] of answers) latency.record(id, ms)
    expect(ids(latency.slowestFirst(gateways('a', 'b', 'c')))).toEqual(expected)
  })

  it('leaves the caller’s list alone', () => {
    const latency = new GatewayLatency()
    latency.record('a', 1)
    latency.record('b', 2)
    const list = gateways('a', 'b')
    latency.slowestFirst(list)
    expect(ids(list)).toEqual(['a', 'b'])
  })
})
