import { describe, expect, it } from 'vitest'
import { inspect, INSPECT_MAX_LENGTH } from './inspect.js'
import { normalizeObservable } from './normalize.js'
import { INSPECT_CASES } from './inspect.fixtures.js'

const key = (o: { type: string; value: string }) => `${o.type}:${o.value}`

interface Tally {
  tp: number
  fp: number
  fn: number
}

function ratio(a: number, b: number): number {
  return b === 0 ? 1 : a / b
}

describe('inspect corpus', () => {
  const perType = new Map<string, Tally>()
  const failures: string[] = []
  const total: Tally = { tp: 0, fp: 0, fn: 0 }
  const tally = (type: string) => {
    let t = perType.get(type)
    if (!t) perType.set(type, (t = { tp: 0, fp: 0, fn: 0 }))
    return t
  }

  for (const testCase of INSPECT_CASES) {
    const found = inspect(testCase.input).map(key)
    const expected = new Set(testCase.expected)
    const got = new Set(found)
    for (const item of got) {
      const type = item.slice(0, item.indexOf(':'))
      if (expected.has(item)) {
        total.tp++
        tally(type).tp++
      } else {
        total.fp++
        tally(type).fp++
      }
    }
    for (const item of expected) {
      if (!got.has(item)) {
        total.fn++
        tally(item.slice(0, item.indexOf(':'))).fn++
      }
    }
    const missing = [...expected].filter((e) => !got.has(e))
    const extra = [...got].filter((g) => !expected.has(g))
    if (missing.length > 0 || extra.length > 0) {
      failures.push(
        `${testCase.name}\n    missing: ${missing.join(' | ') || '-'}\n    extra:   ${extra.join(' | ') || '-'}`,
      )
    }
  }

  const precision = ratio(total.tp, total.tp + total.fp)
  const recall = ratio(total.tp, total.tp + total.fn)
  const lines = [...perType.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(
      ([type, t]) =>
        `  ${type.padEnd(16)} precision ${ratio(t.tp, t.tp + t.fp).toFixed(3)}  recall ${ratio(t.tp, t.tp + t.fn).toFixed(3)}  (tp ${t.tp}, fp ${t.fp}, fn ${t.fn})`,
    )
  console.log(
    [
      `inspect corpus: ${INSPECT_CASES.length} cases, ${total.tp + total.fn} expected observables`,
      `  overall          precision ${precision.toFixed(3)}  recall ${recall.toFixed(3)}  (tp ${total.tp}, fp ${total.fp}, fn ${total.fn})`,
      ...lines,
      ...(failures.length > 0 ? ['cases that differ:', ...failures.map((f) => `  - ${f}`)] : []),
    ].join('\n'),
  )

  it('has at least 300 hand-written cases', () => {
    expect(INSPECT_CASES.length).toBeGreaterThanOrEqual(300)
  })

  // Thresholds: a false observable costs more than a missed one — it sends an analyst to enrich
  // and maybe block something that is not there — so precision must stay near perfect; a miss
  // is visible in the pasted text and can be added by hand, so recall has a little more room.
  it('keeps precision at or above 0.98', () => {
    expect(precision).toBeGreaterThanOrEqual(0.98)
  })
  it('keeps recall at or above 0.97', () => {
    expect(recall).toBeGreaterThanOrEqual(0.97)
  })
})

describe('inspect behaviour', () => {
  it('returns canonical, unique observables in order of first appearance', () => {
    const result = inspect(
      'B.example.com then 192.0.2.1 then b.EXAMPLE.com then hxxp://a-site[.]com/x',
    )
    expect(result).toEqual([
      { type: 'domain', value: 'b.example.com' },
      { type: 'ip', value: '192.0.2.1' },
      { type: 'url', value: 'http://a-site.com/x' },
    ])
  })

  it('only ever returns canonical values', () => {
    for (const testCase of INSPECT_CASES) {
      for (const observable of inspect(testCase.input)) {
        expect(normalizeObservable(observable)).toEqual(observable)
      }
    }
  })

  it('refuses content above the limit with a coded error', () => {
    expect(() => inspect('a'.repeat(101), { maxLength: 100 })).toThrow(
      expect.objectContaining({ code: 'CTIM_ERR_CONTENT_TOO_LARGE', status: 413 }),
    )
    expect(INSPECT_MAX_LENGTH).toBe(1_048_576)
  })

  // Hostile shapes that make naive patterns backtrack; each must simply finish (the suite's
  // timeout is the bound) and return a list.
  it.each([
    ['dotted labels', 'a.'.repeat(200_000)],
    ['digits and dots', '1.'.repeat(200_000)],
    ['colons', ':'.repeat(400_000)],
    ['hex run', 'a'.repeat(400_000)],
    ['at signs', 'a@'.repeat(200_000)],
    ['angle brackets', '<a@b'.repeat(100_000)],
    ['bracket defangs', 'x[.]'.repeat(100_000)],
    ['long url', `https://evil.com/${'a/'.repeat(200_000)}`],
    ['long key=value line', 'user=x '.repeat(100_000)],
    ['control bytes', '\u0000\u0001\u0002\u001b[31m'.repeat(50_000)],
    ['one huge header', `Subject: ${'word '.repeat(150_000)}`],
  ])('survives %s', (_name, content) => {
    expect(Array.isArray(inspect(content))).toBe(true)
  })
})
