/**
 * Summary statistics for benchmark samples. Percentiles interpolate linearly between the two
 * closest ranks (the "type 7" definition used by NumPy and R's default), so the median of an
 * even number of runs is the mean of the middle two and p99 of a small sample stays inside it.
 */

/** The `p`-th percentile (0–100) of `values`; throws on an empty sample or a `p` out of range. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new RangeError('percentile of an empty sample')
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile ${p} is outside 0–100`)
  const sorted = [...values].sort((a, b) => a - b)
  const rank = (p / 100) * (sorted.length - 1)
  const lower = Math.floor(rank)
  const upper = Math.ceil(rank)
  const low = sorted[lower] as number
  const high = sorted[upper] as number
  return low + (high - low) * (rank - lower)
}

export function median(values: readonly number[]): number {
  return percentile(values, 50)
}

export interface Summary {
  count: number
  min: number
  max: number
  mean: number
  p50: number
  p90: number
  p99: number
}

/** The usual latency/throughput summary of a sample. */
export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) throw new RangeError('summary of an empty sample')
  let sum = 0
  for (const v of values) sum += v
  return {
    count: values.length,
    min: Math.min(...values),
    max: Math.max(...values),
    mean: sum / values.length,
    p50: percentile(values, 50),
    p90: percentile(values, 90),
    p99: percentile(values, 99),
  }
}

/** `a / b`, or `undefined` when either side is missing or `b` is zero (a ratio that means nothing). */
export function ratio(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0)
    return undefined
  return a / b
}
