import { describe, expect, it } from 'vitest'
import {
  formatDuration,
  formatFixed,
  formatInteger,
  formatMiB,
  formatRatio,
  markdownTable,
} from './table.js'

describe('markdownTable', () => {
  it('renders headers, alignment and escaped cells', () => {
    expect(
      markdownTable(
        ['relay', 'msg/s'],
        [
          ['Postfix | defaults', 834],
          ['multi\nline', undefined],
        ],
        ['left', 'right'],
      ),
    ).toBe(
      [
        '| relay | msg/s |',
        '| --- | ---: |',
        '| Postfix \\| defaults | 834 |',
        '| multi line | — |',
      ].join('\n'),
    )
  })

  it('fills short rows with a dash', () => {
    expect(markdownTable(['a', 'b'], [['x']])).toContain('| x | — |')
  })
})

describe('formats', () => {
  it.each([
    [0, '0'],
    [999, '999'],
    [1000, '1 000'],
    [11172.4, '11 172'],
    [1234567, '1 234 567'],
    [undefined, ''],
    [Number.NaN, ''],
  ])('formatInteger(%s) is %j', (value, expected) => {
    expect(formatInteger(value)).toBe(expected)
  })

  it('formats fixed decimals, ratios, MiB and durations', () => {
    expect(formatFixed(2.345, 1)).toBe('2.3')
    expect(formatFixed(undefined, 1)).toBe('')
    expect(formatRatio(2.104)).toBe('2.10×')
    expect(formatRatio(undefined)).toBe('')
    expect(formatMiB(300 * 1024 * 1024)).toBe('300.0 MiB')
    expect(formatDuration(950)).toBe('950 ms')
    expect(formatDuration(12_345)).toBe('12.3 s')
    expect(formatDuration(61_500)).toBe('1 min 1.5 s')
  })
})
