import { z } from 'zod'
import { gwErrors } from '../errors.js'
import { timestampSchema, trackingSearchFields } from '../search/query.js'

export const BUCKETS = ['minute', 'hour', 'day', 'week'] as const
export type Bucket = (typeof BUCKETS)[number]
export const BUCKET_MS: Record<Bucket, number> = {
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
  week: 604_800_000,
}
/** Most buckets one report returns, so that a minute bucket over a year cannot be asked for. */
export const MAX_BUCKETS = 2_000

/** The filter part of the tracking search: every report can be narrowed like a search. */
const filterSchema = trackingSearchFields.omit({
  since: true,
  until: true,
  sort: true,
  limit: true,
  offset: true,
})

export const reportRequestSchema = z
  .object({
    since: timestampSchema.describe('Start of the range (inclusive)'),
    until: timestampSchema.describe('End of the range (exclusive)'),
    bucket: z
      .enum(BUCKETS)
      .optional()
      .describe('Time bucket of the timeline; chosen from the range when omitted'),
    top: z.number().int().min(1).max(100).default(10).describe('Rows of each top list'),
    graphLimit: z
      .number()
      .int()
      .min(1)
      .max(2000)
      .default(200)
      .describe('Most sender→recipient edges in the relationship graph (heaviest first)'),
    filter: filterSchema.prefault({}).describe('Narrows the report like a tracking search'),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (r.until <= r.since)
      ctx.addIssue({ code: 'custom', path: ['until'], message: 'must be after since' })
  })

export type ReportRequest = z.output<typeof reportRequestSchema> & { bucket: Bucket }
export type ReportRequestInput = z.input<typeof reportRequestSchema>

export function parseReportRequest(input: unknown): ReportRequest {
  const result = reportRequestSchema.safeParse(input)
  if (!result.success) {
    throw gwErrors.REPORT_QUERY_INVALID({
      reason: result.error.issues
        .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
        .join('; '),
    })
  }
  const range = result.data.until - result.data.since
  const bucket = result.data.bucket ?? autoBucket(range)
  if (Math.ceil(range / BUCKET_MS[bucket]) > MAX_BUCKETS) {
    throw gwErrors.REPORT_QUERY_INVALID({
      reason: `a ${bucket} bucket over this range gives more than ${MAX_BUCKETS} buckets; choose a larger bucket`,
    })
  }
  return { ...result.data, bucket }
}

/** About 24–200 points: minutes up to 3 h, hours up to 8 days, days up to 200 days, else weeks. */
export function autoBucket(rangeMs: number): Bucket {
  if (rangeMs <= 3 * BUCKET_MS.hour) return 'minute'
  if (rangeMs <= 8 * BUCKET_MS.day) return 'hour'
  if (rangeMs <= 200 * BUCKET_MS.day) return 'day'
  return 'week'
}
