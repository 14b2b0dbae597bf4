import { isIP } from 'node:net'
import { z } from 'zod'
import { gwErrors } from '../errors.js'

/** The operators of the tracking search grammar security teams know from ESA. */
export const TEXT_OPERATORS = ['is', 'begins_with', 'contains'] as const
export type TextOperator = (typeof TEXT_OPERATORS)[number]

export const VERDICTS = [
  'spam',
  'virus',
  'malformed',
  'quarantined',
  'policy',
  'blocked',
  'authentication_failed',
] as const
export type Verdict = (typeof VERDICTS)[number]

export const DELIVERY_STATUSES = [
  'rejected',
  'aborted',
  'queued',
  'deferred',
  'held',
  'delivered',
  'bounced',
  'quarantined',
  'dropped',
  'deleted',
  'completed',
] as const

export const SORT_FIELDS = ['received_at', 'mid', 'size', 'sender', 'subject'] as const

/** Epoch milliseconds, or an ISO 8601 date-time. */
export const timestampSchema = z
  .union([
    z.number().int().min(0),
    z
      .string()
      .datetime({ offset: true })
      .transform((v) => Date.parse(v)),
    z
      .string()
      .regex(/^\d{10,16}$/)
      .transform(Number),
  ])
  .describe('Epoch milliseconds or ISO 8601 date-time')

export const textFilterSchema = z
  .object({
    operator: z.enum(TEXT_OPERATORS).default('is').describe('is, begins_with or contains'),
    value: z.string().trim().min(1).max(998).describe('Compared case-insensitively'),
  })
  .strict()
export type TextFilter = z.output<typeof textFilterSchema>

const listOf = <T extends z.ZodType>(item: T, description: string) =>
  z.array(item).max(50).default([]).describe(description)

const hexHash = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^(?:[0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{64})$/, 'an MD5, SHA-1 or SHA-256 in hex')

/** The search fields, without the cross-field checks (reports reuse them as their filter). */
export const trackingSearchFields = z
  .object({
    since: timestampSchema.optional().describe('Received at or after (inclusive)'),
    until: timestampSchema.optional().describe('Received before (exclusive)'),
    envelopeSenders: listOf(textFilterSchema, 'Envelope senders (MAIL FROM); any of them matches'),
    envelopeRecipients: listOf(textFilterSchema, 'Envelope recipients (RCPT TO); any of them'),
    subjects: listOf(textFilterSchema, 'Subjects; any of them (contains uses the full-text index)'),
    mids: z.array(z.number().int().positive()).max(1000).default([]).describe('Exact MIDs'),
    messageId: z
      .string()
      .trim()
      .min(1)
      .max(998)
      .optional()
      .describe('Message-ID header, with or without <>'),
    senderIp: z
      .string()
      .trim()
      .refine((v) => isIP(v) !== 0, 'an IPv4 or IPv6 address')
      .optional()
      .describe('Connecting client address'),
    attachmentNames: listOf(textFilterSchema, 'Attachment file names (archive members included)'),
    attachmentHashes: listOf(hexHash, 'Attachment SHA-256 (or MD5 / SHA-1)'),
    urls: listOf(z.string().trim().min(1).max(8192), 'URLs found in the message (exact)'),
    urlDomains: listOf(
      z.string().trim().toLowerCase().min(1).max(253),
      'Domains of URLs in the message',
    ),
    domains: listOf(
      z.string().trim().toLowerCase().min(1).max(253),
      'Sender or recipient domains (envelope)',
    ),
    senderDomains: listOf(
      z.string().trim().toLowerCase().min(1).max(253),
      'Envelope sender domains only',
    ),
    verdicts: z
      .array(z.enum(VERDICTS))
      .max(VERDICTS.length)
      .default([])
      .describe('Any of these verdicts'),
    direction: z.enum(['incoming', 'outgoing']).optional().describe('Mail direction'),
    statuses: z
      .array(z.enum(DELIVERY_STATUSES))
      .max(DELIVERY_STATUSES.length)
      .default([])
      .describe('Message delivery status; any of them'),
    sort: z
      .object({
        field: z.enum(SORT_FIELDS).default('received_at'),
        order: z.enum(['asc', 'desc']).default('desc'),
      })
      .strict()
      .prefault({})
      .describe('Sort field and order (ties broken by MID)'),
    limit: z.number().int().min(1).max(1000).default(50).describe('Rows per page'),
    offset: z.number().int().min(0).max(100_000).default(0).describe('Rows to skip'),
  })
  .strict()

export const trackingSearchSchema = trackingSearchFields.superRefine((q, ctx) => {
  if (q.since !== undefined && q.until !== undefined && q.until <= q.since) {
    ctx.addIssue({ code: 'custom', path: ['until'], message: 'must be after since' })
  }
})

export type TrackingSearch = z.output<typeof trackingSearchSchema>
export type TrackingSearchInput = z.input<typeof trackingSearchSchema>

/** Validates a search, answering with a coded error that names every wrong field. */
export function parseTrackingSearch(input: unknown): TrackingSearch {
  const result = trackingSearchSchema.safeParse(input)
  if (result.success) return result.data
  throw gwErrors.SEARCH_QUERY_INVALID({
    reason: result.error.issues
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; '),
  })
}

/**
 * `contains:evil.test`, `begins_with:ceo`, `is:a@b.c` or a bare value (`is`), as the CLI takes
 * them (`--sender contains:evil.test`).
 */
export function parseTextFilterArg(arg: string): TextFilter {
  const match = /^(is|begins_with|contains):(.*)$/s.exec(arg)
  const operator = (match?.[1] ?? 'is') as TextOperator
  const value = (match ? match[2] : arg) ?? ''
  return textFilterSchema.parse({ operator, value })
}

/** Escapes `%`, `_` and the escape character itself for a LIKE pattern with `ESCAPE '\'`. */
export function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`)
}
