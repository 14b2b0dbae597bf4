import { z } from 'zod'

/** JSON a webhook template may hold: placeholders `{{name}}` in its strings. */
const jsonValue: z.ZodType<unknown> = z.lazy(() =>
  z.union([
    z.string().max(4096),
    z.number(),
    z.boolean(),
    z.null(),
    z.array(jsonValue).max(100),
    z.record(z.string().max(200), jsonValue),
  ]),
)

/** What the receiver gets when the integration has no template of its own. */
export const DEFAULT_WEBHOOK_TEMPLATE = {
  id: '{{ticket_id}}',
  title: '{{title}}',
  description: '{{description}}',
  link: '{{link}}',
  subject_type: '{{subject_type}}',
  subject: '{{subject}}',
  organisation: '{{org_id}}',
  created_by: '{{created_by}}',
  created_at: '{{created_at}}',
}

/** A generic webhook: JSON rendered from a template, signed with HMAC-SHA256, retried. */
export const webhookSettingsSchema = z
  .object({
    url: z
      .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
      .max(2048)
      .describe('Where tickets are POSTed'),
    secret: z
      .string()
      .min(16)
      .max(512)
      .describe(
        'HMAC-SHA256 key: `X-Postern-Signature: t=<unix time>,v1=<hex of HMAC(t + "." + body)>`',
      ),
    template: z
      .record(z.string().max(200), jsonValue)
      .default(DEFAULT_WEBHOOK_TEMPLATE)
      .describe(
        'JSON body whose strings have their `{{name}}` placeholders replaced (ticket_id, title, ' +
          'description, link, subject_type, subject, observable_type, observable_value, org_id, ' +
          'created_by, created_at)',
      ),
    headers: z
      .record(z.string().regex(/^[A-Za-z0-9-]{1,64}$/), z.string().max(1024))
      .default({})
      .describe('Extra request headers (e.g. an API key the ticket system wants)'),
    max_attempts: z
      .number()
      .int()
      .min(1)
      .max(10)
      .default(5)
      .describe('Tries before the ticket fails'),
    backoff_ms: z
      .number()
      .int()
      .min(1)
      .max(60_000)
      .default(1000)
      .describe('Wait before the second try; doubles for each further try'),
    timeout_ms: z.number().int().min(100).max(60_000).default(10_000).describe('One try'),
  })
  .strict()
export type WebhookSettings = z.output<typeof webhookSettingsSchema>

/** E-mail to the IT desk through a configured SMTP server. */
export const emailTicketSettingsSchema = z
  .object({
    smtp: z
      .object({
        host: z.string().min(1).max(253),
        port: z.number().int().min(1).max(65_535).default(587),
        security: z
          .enum(['tls', 'starttls', 'none'])
          .default('starttls')
          .describe(
            'tls: implicit TLS (465); starttls: required upgrade; none: plain (test networks)',
          ),
        user: z.string().max(320).optional(),
        password: z.string().max(1024).optional(),
      })
      .strict(),
    from: z.email().max(320),
    to: z.array(z.email().max(320)).min(1).max(20),
    subject_prefix: z.string().max(100).default('[Postern]'),
  })
  .strict()
export type EmailTicketSettings = z.output<typeof emailTicketSettingsSchema>

export const TICKET_SECRET_KEYS = ['secret', 'password'] as const
