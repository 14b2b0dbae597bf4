import { z } from 'zod'
import type { HttpApp } from '@postern/http'
import { targetView } from '../remediation/routes.js'
import { analysisView, recipientView, urlView } from '../api/tracking-views.js'
import { trackingSearchSchema } from './query.js'
import type { TrackingSearchService } from './service.js'

const searchRow = z.object({
  mid: z.number(),
  icid: z.number(),
  receivedAt: z.number(),
  direction: z.string(),
  senderIp: z.string(),
  envelopeSender: z.string(),
  senderDomain: z.string().nullable(),
  recipients: z.array(z.string()),
  recipientCount: z.number(),
  subject: z.string().nullable(),
  messageId: z.string().nullable(),
  status: z.string(),
  size: z.number(),
  verdicts: z.array(z.string()),
  policy: z.string().nullable(),
})

const detailView = z.object({
  message: searchRow.omit({ recipients: true, verdicts: true, policy: true }).extend({
    listener: z.string(),
    senderGroup: z.string().nullable(),
    hatPolicy: z.string().nullable(),
    senderRdns: z.string().nullable(),
    helo: z.string().nullable(),
    tls: z.string().nullable(),
    authUser: z.string().nullable(),
    headerFrom: z.string().nullable(),
    headerTo: z.string().nullable(),
    headerReplyTo: z.string().nullable(),
    reply: z.string().nullable(),
  }),
  recipients: z.array(recipientView),
  events: z.array(
    z.object({
      id: z.number(),
      at: z.number(),
      mid: z.number().nullable(),
      icid: z.number().nullable(),
      dcid: z.number().nullable(),
      event: z.string(),
      recipient: z.string().nullable(),
      details: z.record(z.string(), z.unknown()),
    }),
  ),
  analysis: analysisView.nullable(),
  urls: z.array(urlView),
  attachments: z.array(
    z.object({
      index: z.number(),
      parentIndex: z.number().nullable(),
      part: z.string(),
      filename: z.string().nullable(),
      declaredType: z.string().nullable(),
      sniffedType: z.string().nullable(),
      size: z.number(),
      sha256: z.string().nullable(),
      md5: z.string().nullable(),
      sha1: z.string().nullable(),
      encrypted: z.boolean(),
      macros: z.boolean(),
    }),
  ),
  remediation: z.array(
    targetView.extend({
      run: z.object({
        id: z.string(),
        action: z.string(),
        trigger: z.string(),
        reason: z.string(),
        actor: z.object({ type: z.string(), id: z.string() }),
        source: z.string(),
        remoteIp: z.string().nullable(),
        createdAt: z.number(),
      }),
    }),
  ),
})

/** Message tracking search (ESA grammar) and the full message detail. */
export function registerSearchRoutes(app: HttpApp, search: TrackingSearchService): void {
  app.post(
    '/api/v1/tracking/search',
    {
      config: { role: 'read-only' },
      schema: {
        summary:
          'Search tracked messages: senders, recipients, subjects (is | begins_with | contains), observables, verdicts, status, time',
        body: trackingSearchSchema,
        response: {
          200: z.object({
            data: z.array(searchRow),
            meta: z.object({
              total: z.number(),
              totalIsCapped: z.boolean(),
              limit: z.number(),
              offset: z.number(),
            }),
          }),
        },
      },
    },
    async (request) => search.search(request.body),
  )

  app.get(
    '/api/v1/tracking/messages/:mid/detail',
    {
      config: { role: 'read-only' },
      schema: {
        summary:
          'Envelope, headers, per-recipient status, timeline, verdicts, URLs, attachments and remediation history',
        params: z.object({ mid: z.coerce.number().int().positive() }).strict(),
        response: { 200: detailView },
      },
    },
    async (request) => search.detail(request.params.mid),
  )
}
