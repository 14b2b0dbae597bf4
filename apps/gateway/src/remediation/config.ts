import { z } from 'zod'

/** What a block-list policy does to already-delivered mail carrying a newly blocked entry. */
export const retroActionSchema = z
  .enum(['none', 'delete', 'forward', 'forward-delete'])
  .describe('none (record only), delete, forward, or forward-delete')

const relaySchema = z
  .object({
    host: z.string().min(1).describe('Host name or IP of the SMTP relay that sends forwards'),
    port: z.number().int().min(1).max(65535).default(25).describe('TCP port of the relay'),
    security: z
      .enum(['none', 'starttls', 'tls'])
      .default('starttls')
      .describe(
        'none (plain SMTP), starttls (upgrade required, RFC 3207) or tls (implicit TLS, RFC 8314)',
      ),
    rejectUnauthorized: z
      .boolean()
      .default(true)
      .describe('Verify the relay certificate; turn off only for a relay on the same host'),
    user: z.string().optional().describe('SMTP AUTH user (RFC 4954); omit for no authentication'),
    passwordFile: z
      .string()
      .optional()
      .describe('File holding the SMTP AUTH password (read once at start; keep it mode 0600)'),
    timeoutMs: z
      .number()
      .int()
      .positive()
      .default(30_000)
      .describe('Connection and command timeout for the relay'),
    maxConnections: z
      .number()
      .int()
      .positive()
      .default(4)
      .describe('Pooled connections kept open to the relay'),
  })
  .strict()

export const remediationConfigSchema = z
  .object({
    enabled: z.boolean().default(true).describe('Allow mailbox remediation on this gateway'),
    forward: z
      .object({
        address: z
          .string()
          .email()
          .optional()
          .describe('Default forward address (the SOC mailbox) for forward and forward-delete'),
        allowedRecipients: z
          .array(z.string().min(3))
          .default([])
          .describe(
            'Other addresses (`soc@example.org`) or whole domains (`@example.org`) a request may forward to; nothing else is accepted, so a stolen token cannot exfiltrate mail',
          ),
        from: z
          .string()
          .email()
          .default('postern-remediation@localhost')
          .describe('Envelope and header sender of forwards'),
        subjectPrefix: z
          .string()
          .default('[Postern remediation]')
          .describe('Put before the original subject in forwards'),
        maxMessageBytes: z
          .number()
          .int()
          .positive()
          .default(50 * 1024 * 1024)
          .describe('Largest original message that is fetched from a mailbox and forwarded'),
        scope: z
          .enum(['mailbox', 'message'])
          .default('mailbox')
          .describe(
            'mailbox: one forward per mailbox copy (the SOC sees each copy as delivered); message: one forward per Message-ID per run, taken from the first mailbox that has it, so that a campaign to thousands of mailboxes sends one mail, not thousands',
          ),
      })
      .strict()
      .prefault({})
      .describe('Forwarding of remediated messages'),
    relay: relaySchema
      .optional()
      .describe('SMTP relay used to send forwards; required for forward and forward-delete'),
    concurrency: z
      .number()
      .int()
      .min(1)
      .max(256)
      .default(16)
      .describe(
        'Mailboxes worked on at once across all profiles (each profile has its own limit too)',
      ),
    maxTargetsPerRun: z
      .number()
      .int()
      .positive()
      .default(20_000)
      .describe('Most mailboxes one run may cover'),
    attempts: z
      .number()
      .int()
      .min(1)
      .max(10)
      .default(3)
      .describe(
        'Tries per mailbox within a run when the failure is transient (connection, throttling)',
      ),
    retryBackoffMs: z
      .number()
      .int()
      .min(0)
      .default(500)
      .describe('First wait between tries; doubles each time (a Retry-After from the server wins)'),
    mailboxTimeoutMs: z
      .number()
      .int()
      .positive()
      .default(120_000)
      .describe('Longest time spent on one mailbox before its result is "failed" with a timeout'),
    retro: z
      .object({
        enabled: z
          .boolean()
          .default(false)
          .describe('Remediate delivered mail when a URL, domain, hash or sender is blocked later'),
        pollIntervalMs: z
          .number()
          .int()
          .min(100)
          .default(5_000)
          .describe('How often new block-list entries are looked for'),
        lookbackHours: z
          .number()
          .int()
          .positive()
          .default(168)
          .describe('How far back delivered mail is searched for a newly blocked entry'),
        maxMessagesPerEntry: z
          .number()
          .int()
          .positive()
          .default(1000)
          .describe(
            'Most messages one blocked entry may remediate (more is logged and left alone)',
          ),
        actions: z
          .object({
            sender_address: retroActionSchema
              .default('none')
              .describe('For a blocked sender address'),
            sender_domain: retroActionSchema
              .default('none')
              .describe('For a blocked sender domain'),
            sender_ip: retroActionSchema
              .default('none')
              .describe('For a blocked sending IP address'),
            url: retroActionSchema.default('none').describe('For a blocked URL'),
            url_domain: retroActionSchema
              .default('none')
              .describe('For a blocked URL domain (any URL on that domain or its subdomains)'),
            attachment_hash: retroActionSchema
              .default('none')
              .describe('For a blocked attachment SHA-256'),
          })
          .strict()
          .prefault({})
          .describe('Action per kind of block-list entry'),
        sources: z
          .record(z.string(), retroActionSchema)
          .default({})
          .describe(
            'Action for entries from a given source (e.g. `hub`, `api`), overriding the action for their kind',
          ),
      })
      .strict()
      .prefault({})
      .describe('Automatic retro-remediation'),
  })
  .strict()
  .prefault({})
  .describe('Mailbox remediation: forwarding, limits and retro-remediation')

export type RemediationConfig = z.output<typeof remediationConfigSchema>
export type RetroAction = z.output<typeof retroActionSchema>
