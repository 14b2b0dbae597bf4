import { describe, expect, it } from 'vitest'
import { median, percentile, ratio, summarize } from './stats.js'

describe('percentile', () => {
  it.each([
    { values: [5], p: 50, expected: 5 },
    { values: [5], p: 99, expected: 5 },
    { values: [3, 1, 2], p: 50, expected: 2 },
    { values: [4, 1, 3, 2], p: 50, expected: 2.5 },
    { values: [1, 2, 3, 4], p: 0, expected: 1 },
    { values: [1, 2, 3, 4], p: 100, expected: 4 },
    { values: [10, 20, 30, 40, 50], p: 25, expected: 20 },
    { values: [10, 20, 30, 40, 50], p: 90, expected: 46 },
    { values: Array.from({ length: 100 }, (_, i) => i + 1), p: 99, expected: 99.01 },
  ])('p$p of $values is $expected', ({ values, p, expected }) => {
    expect(percentile(values, p)).toBeCloseTo(expected, 10)
  })

  it('does not reorder its input', () => {
    const values = [3, 1, 2]
    percentile(values, 50)
    expect(values).toEqual([3, 1, 2])
  })

  it.each([
    [[], 50],
    [[1], -1],
    [[1], 101],
    [[1], Number.NaN],
  ] as const)('rejects %j at p%d', (values, p) => {
    expect(() => percentile(values, p)).toThrow(RangeError)
  })
})

describe('median and summarize', () => {
  it('summarises a sample', () => {
    expect(median([700, 834, 650])).toBe(700)
    expect(summarize([1, 2, 3, 4])).toEqual({
      count: 4,
      min: 1,
      max: 4,
      mean: 2.5,
      p50: 2.5,
      p90: 3.7,
      p99: expect.closeTo(3.97, 10),
    })
  })

  it('refuses an empty sample', () => {
    expect(() => summarize([])).toThrow(RangeError)
  })
})

describe('ratio', () => {
  it.each([
    { a: 1400, b: 700, expected: 2 },
    { a: 1, b: 0, expected: undefined },
    { a: undefined, b: 700, expected: undefined },
    { a: 700, b: undefined, expected: undefined },
    { a: Number.NaN, b: 1, expected: undefined },
  ])('$a / $b is $expected', ({ a, b, expected }) => {
    expect(ratio(a, b)).toBe(expected)
  })
})
