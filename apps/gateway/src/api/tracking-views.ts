import { z } from 'zod'

/**
 * Response shapes shared by the tracking, search and content-analysis routes, so that a message
 * looks the same in every API answer that shows it.
 */
export const recipientView = z.object({
  index: z.number(),
  address: z.string(),
  domain: z.string(),
  status: z.string(),
  lastReply: z.string().nullable(),
  attempts: z.number(),
  updatedAt: z.number(),
})

export const analysisView = z.object({
  verdicts: z.array(z.string()),
  flags: z.record(z.string(), z.boolean()),
  spf: z.string().nullable(),
  dkim: z.string().nullable(),
  dmarc: z.string().nullable(),
  policy: z.string().nullable(),
  summary: z.record(z.string(), z.unknown()),
})

export const urlView = z.object({
  url: z.string(),
  host: z.string(),
  domain: z.string(),
  sources: z.array(z.string()),
})
