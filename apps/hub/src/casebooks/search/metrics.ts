/**
 * CTIA's aggregation routes (`/ctia/{entity}/metric/{histogram,topn,cardinality}`): date
 * buckets of a time field and term counts, answered as `{data, type, filters}`.
 */
export type Granularity = 'day' | 'week' | 'month'

/** Start of the UTC bucket holding `ms`; weeks start on Monday (ISO 8601), as Elasticsearch's. */
export function bucketStart(ms: number, granularity: Granularity): number {
  const d = new Date(ms)
  const day = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate())
  if (granularity === 'day') return day
  if (granularity === 'month') return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1)
  const weekday = (d.getUTCDay() + 6) % 7
  return day - weekday * 86_400_000
}

/** Histogram data: one `{key, value}` per non-empty bucket, oldest first. */
export function histogram(
  values: readonly number[],
  granularity: Granularity,
): { key: string; value: number }[] {
  const counts = new Map<number, number>()
  for (const v of values) {
    const key = bucketStart(v, granularity)
    counts.set(key, (counts.get(key) ?? 0) + 1)
  }
  return [...counts.entries()]
    .sort(([a], [b]) => a - b)
    .map(([key, value]) => ({ key: new Date(key).toISOString(), value }))
}
