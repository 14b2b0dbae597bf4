import { z } from 'zod'
import type { HttpApp } from '@postern/http'
import { reportRequestSchema } from './query.js'
import type { ReportingService } from './service.js'

const counts = z.object({
  total: z.number(),
  clean: z.number(),
  spam: z.number(),
  virus: z.number(),
  malformed: z.number(),
  blocked: z.number(),
  phish: z.number(),
  authFailed: z.number(),
  quarantined: z.number(),
  policy: z.number(),
})
const ranked = z.array(z.object({ value: z.string(), count: z.number() }))

export const reportView = z.object({
  bucket: z.string(),
  range: z.object({ since: z.number(), until: z.number(), bucketMs: z.number() }),
  timeline: z.array(z.object({ start: z.number(), incoming: counts, outgoing: counts })),
  totals: z.object({ incoming: counts, outgoing: counts }),
  topSenders: ranked,
  topSenderDomains: ranked,
  topRecipients: ranked,
  topThreats: z.object({ urls: ranked, domains: ranked, hashes: ranked }),
  relationships: z.object({
    nodes: z.array(
      z.object({
        id: z.string(),
        kind: z.enum(['sender', 'recipient']),
        address: z.string(),
        messages: z.number(),
      }),
    ),
    edges: z.array(z.object({ source: z.string(), target: z.string(), messages: z.number() })),
  }),
})

/** Email reporting: one call returns the timeline, the top lists and the relationship graph. */
export function registerReportingRoutes(app: HttpApp, reporting: ReportingService): void {
  app.post(
    '/api/v1/reporting/report',
    {
      config: { role: 'read-only' },
      schema: {
        summary:
          'Counts by verdict per time bucket, top senders/domains/recipients/threats and the sender→recipient graph, for any tracking filter',
        body: reportRequestSchema,
        response: { 200: reportView },
      },
    },
    async (request) => reporting.report(request.body),
  )
}
