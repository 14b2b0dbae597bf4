import { describe, expect, it } from 'vitest'
import { bucketStart, histogram } from './metrics.js'

describe('histogram buckets', () => {
  it.each([
    ['day', '2026-06-03T17:45:00Z', '2026-06-03T00:00:00.000Z'],
    ['week', '2026-06-03T17:45:00Z', '2026-06-01T00:00:00.000Z'],
    ['week', '2026-06-07T23:59:59Z', '2026-06-01T00:00:00.000Z'],
    ['week', '2026-06-08T00:00:00Z', '2026-06-08T00:00:00.000Z'],
    ['month', '2026-06-30T23:00:00Z', '2026-06-01T00:00:00.000Z'],
  ] as const)('%s of %s starts %s', (granularity, at, start) => {
    expect(new Date(bucketStart(Date.parse(at), granularity)).toISOString()).toBe(start)
  })

  it('counts per bucket, oldest first', () => {
    const t = (iso: string) => Date.parse(iso)
    expect(
      histogram(
        [t('2026-06-03T01:00:00Z'), t('2026-06-01T05:00:00Z'), t('2026-06-03T09:00:00Z')],
        'day',
      ),
    ).toEqual([
      { key: '2026-06-01T00:00:00.000Z', value: 1 },
      { key: '2026-06-03T00:00:00.000Z', value: 2 },
    ])
  })
})
