import { z } from 'zod'
import { VERDICTS } from '../scanners/contract.js'
import { byteSize } from '../config-values.js'

/**
 * Mail policies (incoming and outgoing), Cisco-style: each policy has members (senders and/or
 * recipients), recipients go to the first policy they match, and the policy's rules run in
 * order — a rule whose conditions hold applies its actions, and a final action (deliver,
 * quarantine, drop, bounce, redirect) ends the evaluation for those recipients.
 */

const AUTH_RESULTS = [
  'pass',
  'fail',
  'softfail',
  'neutral',
  'none',
  'temperror',
  'permerror',
  'policy',
] as const
const SCAN_STATUSES = ['pass', 'fail', 'skip', 'error'] as const
const DEFECTS = [
  'nul-in-header',
  'nul-in-body',
  'eight-bit-header',
  'invalid-header-line',
  'missing-header-separator',
  'duplicate-singleton-header',
  'missing-from',
  'missing-boundary',
  'unterminated-multipart',
  'empty-multipart',
  'bare-line-ending',
  'invalid-base64',
  'unknown-transfer-encoding',
  'unknown-charset',
  'text-truncated',
  'urls-truncated',
  'archive-unreadable',
  'archive-entries-truncated',
  'archive-entry-too-large',
  'invalid-address',
] as const

/** One value or a list of values; always a list after parsing. */
function oneOrMany<T extends z.ZodType>(item: T) {
  return z
    .union([item, z.array(item).min(1)])
    .transform((v) => (Array.isArray(v) ? v : [v]) as z.output<T>[])
}

const leafConditionShape = {
  verdict: oneOrMany(z.enum(VERDICTS))
    .optional()
    .describe(
      'Any of these verdicts was raised by a scanner or the analysis (`spam`, `virus`, `blocked`, `malformed` …).',
    ),
  scanner: z
    .object({
      id: z
        .string()
        .describe(
          'Scanner id: rspamd, clamav, blocklists, attachments, phishing, display-name, new-sender-domain.',
        ),
      result: oneOrMany(z.enum(SCAN_STATUSES)).describe('Its result is one of these.'),
    })
    .strict()
    .optional()
    .describe('A scanner’s result (e.g. `{ id: clamav, result: error }`).'),
  score: z
    .object({
      scanner: z.string().default('rspamd').describe('Scanner whose score is compared.'),
      gte: z.number().optional().describe('Score at least this.'),
      lt: z.number().optional().describe('Score below this.'),
    })
    .strict()
    .optional()
    .describe('A scanner’s score (rspamd) within bounds.'),
  symbol: oneOrMany(z.string())
    .optional()
    .describe('A scanner finding by name (an rspamd symbol, a ClamAV signature).'),
  spf: oneOrMany(z.enum(AUTH_RESULTS)).optional().describe('SPF result is one of these.'),
  dkim: oneOrMany(z.enum(AUTH_RESULTS)).optional().describe('Overall DKIM result is one of these.'),
  dmarc: oneOrMany(z.enum(AUTH_RESULTS)).optional().describe('DMARC result is one of these.'),
  arc: oneOrMany(z.enum(AUTH_RESULTS)).optional().describe('ARC result is one of these.'),
  dmarcPolicy: oneOrMany(z.enum(['none', 'quarantine', 'reject']))
    .optional()
    .describe('The sender domain’s published DMARC policy is one of these.'),
  attachment: z
    .object({
      extension: z
        .array(z.string())
        .optional()
        .describe('File name extension (without the dot) is one of these.'),
      type: z
        .array(z.string())
        .optional()
        .describe('Declared or sniffed MIME type is one of these (`image/*` matches a family).'),
      name: z
        .array(z.string())
        .optional()
        .describe('File name matches one of these globs (`*` and `?`).'),
      executable: z
        .boolean()
        .optional()
        .describe('Is (or is not) flagged executable by the attachment check.'),
      encrypted: z.boolean().optional().describe('Is (or is not) an encrypted archive.'),
      macros: z.boolean().optional().describe('Is (or is not) an Office document with macros.'),
      inArchive: z
        .boolean()
        .optional()
        .describe(
          'Look at zip entries (true) or only top-level attachments (false); both when omitted.',
        ),
    })
    .strict()
    .optional()
    .describe('Some attachment has all of these properties.'),
  urlDomain: z
    .array(z.string())
    .optional()
    .describe(
      'Some URL’s host is one of these domains or a subdomain; `list:NAME` uses a named list.',
    ),
  url: z
    .array(z.string())
    .optional()
    .describe('Some URL starts with one of these; `list:NAME` uses a named list.'),
  senderDomain: z
    .array(z.string())
    .optional()
    .describe(
      'The header From (or envelope sender) domain is one of these or a subdomain; `list:NAME` allowed.',
    ),
  header: z
    .object({
      name: z.string().min(1).describe('Header field name (case-insensitive).'),
      contains: z.string().optional().describe('Some value contains this text (case-insensitive).'),
      exists: z.boolean().optional().describe('The field is (or is not) present.'),
    })
    .strict()
    .optional()
    .describe('A top-level header field.'),
  size: z
    .object({
      gt: byteSize('Larger than this.').optional(),
      lt: byteSize('Smaller than this.').optional(),
    })
    .strict()
    .optional()
    .describe('Message size.'),
  malformed: z.boolean().optional().describe('The message is (or is not) malformed.'),
  defect: oneOrMany(z.enum(DEFECTS))
    .optional()
    .describe('The analysis recorded any of these defects.'),
}

const leafCondition = z.object(leafConditionShape).strict()

/**
 * Conditions nest up to three levels (`all`/`any`/`not` of conditions that may themselves
 * combine leaf conditions): deep enough for any policy, and finite so the schema documents.
 */
function condition<T extends z.ZodObject>(inner: T) {
  return z
    .object({
      ...leafConditionShape,
      all: z.array(inner).min(1).optional().describe('Every one of these holds.'),
      any: z.array(inner).min(1).optional().describe('At least one of these holds.'),
      not: inner.optional().describe('This does not hold.'),
    })
    .strict()
}

const conditionLevel2 = condition(leafCondition)
const conditionLevel1 = condition(conditionLevel2)
export const conditionSchema = condition(conditionLevel1).describe(
  'Conditions; every key given must hold (keys combine with AND).',
)

export type Condition = z.output<typeof conditionSchema>

const address = z.string().regex(/^[^\s@]+@[^\s@]+$/, 'an email address')

export const actionsSchema = z
  .object({
    deliver: z.literal(true).optional().describe('Deliver (final).'),
    quarantine: z.string().optional().describe('Hold in this named quarantine (final).'),
    drop: z.literal(true).optional().describe('Discard silently (final).'),
    bounce: z
      .union([
        z.literal(true),
        z
          .object({
            status: z
              .string()
              .regex(/^5\.\d{1,3}\.\d{1,3}$/, 'a permanent RFC 3463 status like 5.7.1')
              .default('5.7.1')
              .describe('Enhanced status code in the bounce.'),
            message: z.string().max(200).optional().describe('Text given as the reason.'),
          })
          .strict(),
      ])
      .optional()
      .describe('Return to the sender with a bounce report (final).'),
    redirect: z
      .array(address)
      .min(1)
      .optional()
      .describe('Deliver to these addresses instead (final).'),
    tagSubject: z
      .string()
      .min(1)
      .max(100)
      .optional()
      .describe('Prefix the Subject with this text.'),
    addHeaders: z
      .array(
        z
          .object({
            name: z
              .string()
              .regex(/^[\x21-\x39\x3b-\x7e]+$/, 'a header field name')
              .describe('Field name.'),
            value: z.string().max(998).describe('Field value (plain text).'),
          })
          .strict(),
      )
      .optional()
      .describe('Add these header fields.'),
    stripHeaders: z
      .array(z.string().min(1))
      .optional()
      .describe('Remove every field with these names.'),
    notify: z
      .object({
        to: z
          .array(z.union([address, z.enum(['sender', 'recipients'])]))
          .min(1)
          .describe('Addresses to tell, or `sender` / `recipients` of the message.'),
        subject: z.string().max(200).optional().describe('Subject of the notification.'),
      })
      .strict()
      .optional()
      .describe('Send a notification (with the MID, verdicts and rule; never the message).'),
    blockSender: z
      .union([z.literal(true), z.object({ reason: z.string().max(200) }).strict()])
      .optional()
      .describe(
        'Outgoing policies: block the envelope sender’s further outgoing mail until an ' +
          'administrator unblocks it (a compromised account).',
      ),
  })
  .strict()
  .superRefine((actions, ctx) => {
    const finals = (['deliver', 'quarantine', 'drop', 'bounce', 'redirect'] as const).filter(
      (k) => actions[k] !== undefined,
    )
    if (finals.length > 1) {
      ctx.addIssue({
        code: 'custom',
        message: `only one final action per rule, got ${finals.join(' and ')}`,
      })
    }
  })

export type Actions = z.output<typeof actionsSchema>

export const ruleSchema = z
  .object({
    name: z.string().min(1).max(100).describe('Shown in tracking events and the console.'),
    when: conditionSchema.optional().describe('Conditions; omitted means always.'),
    then: actionsSchema.describe('Actions when the conditions hold.'),
  })
  .strict()

export type Rule = z.output<typeof ruleSchema>

const memberPatterns = (who: string) =>
  z
    .array(z.string().min(1))
    .optional()
    .describe(
      `${who}: \`user@example.com\`, \`@example.com\` (the domain), \`.example.com\` (the ` +
        'domain and its subdomains), `group:NAME`, or `*`. Omitted means anyone.',
    )

export const policySchema = z
  .object({
    name: z.string().min(1).max(100).describe('Policy name (unique within its direction).'),
    senders: memberPatterns('Envelope senders this policy applies to'),
    recipients: memberPatterns('Envelope recipients this policy applies to'),
    rules: z.array(ruleSchema).default([]).describe('Rules, in order.'),
  })
  .strict()

export type Policy = z.output<typeof policySchema>

/** The incoming policy used when none is configured (and for recipients no policy matches). */
export const DEFAULT_INCOMING_RULES: z.input<typeof ruleSchema>[] = [
  { name: 'malformed', when: { verdict: 'malformed' }, then: { quarantine: 'malformed' } },
  { name: 'virus', when: { verdict: 'virus' }, then: { quarantine: 'virus' } },
  { name: 'block-list', when: { verdict: 'blocked' }, then: { quarantine: 'policy' } },
  {
    name: 'dmarc-reject',
    when: { dmarc: 'fail', dmarcPolicy: 'reject' },
    then: { quarantine: 'policy' },
  },
  {
    name: 'dangerous-attachment',
    when: { verdict: ['executable', 'double-extension'] },
    then: { quarantine: 'policy' },
  },
  {
    name: 'credential-phishing',
    when: { verdict: ['credential-form', 'deceptive-link'] },
    then: { quarantine: 'policy' },
  },
  { name: 'spam', when: { verdict: 'spam' }, then: { quarantine: 'spam' } },
  {
    name: 'dmarc-quarantine',
    when: { dmarc: 'fail', dmarcPolicy: 'quarantine' },
    then: { quarantine: 'spam' },
  },
  {
    name: 'suspect-spam',
    when: { verdict: 'suspect-spam' },
    then: { tagSubject: '[SPAM]', addHeaders: [{ name: 'X-Spam-Flag', value: 'YES' }] },
  },
  {
    name: 'impersonation',
    when: { verdict: 'spoofed-display-name' },
    then: {
      tagSubject: '[EXTERNAL]',
      addHeaders: [{ name: 'X-Postern-Warning', value: 'display name matches an internal user' }],
    },
  },
  {
    name: 'new-sender-domain',
    when: { verdict: 'new-sender-domain' },
    then: { addHeaders: [{ name: 'X-Postern-New-Sender-Domain', value: 'yes' }] },
  },
]

/** The outgoing policy used when none is configured: compromised accounts get blocked. */
export const DEFAULT_OUTGOING_RULES: z.input<typeof ruleSchema>[] = [
  { name: 'malformed', when: { verdict: 'malformed' }, then: { quarantine: 'malformed' } },
  {
    name: 'virus',
    when: { verdict: 'virus' },
    then: { blockSender: { reason: 'sent malware' }, quarantine: 'virus' },
  },
  {
    name: 'spam',
    when: { verdict: 'spam' },
    then: { blockSender: { reason: 'sent spam' }, quarantine: 'spam' },
  },
  { name: 'block-list', when: { verdict: 'blocked' }, then: { quarantine: 'policy' } },
]

export const policiesConfigSchema = z
  .object({
    groups: z
      .record(
        z.string().regex(/^[a-z0-9][a-z0-9_-]*$/i, 'a group name'),
        z.array(z.string().min(1)),
      )
      .default({})
      .describe('Named groups of member patterns, used as `group:NAME` in `senders`/`recipients`.'),
    lists: z
      .record(z.string().regex(/^[a-z0-9][a-z0-9_-]*$/i, 'a list name'), z.array(z.string().min(1)))
      .default({})
      .describe('Named lists of domains or URLs, used as `list:NAME` in conditions.'),
    incoming: z
      .array(policySchema)
      .prefault([{ name: 'default', rules: DEFAULT_INCOMING_RULES }])
      .describe(
        'Incoming mail policies in order; recipients no policy matches get the built-in ' +
          'default incoming policy (see docs/pipeline.md).',
      ),
    outgoing: z
      .array(policySchema)
      .prefault([{ name: 'default', rules: DEFAULT_OUTGOING_RULES }])
      .describe(
        'Outgoing mail policies in order; senders no policy matches get the built-in default ' +
          'outgoing policy.',
      ),
    notifyFrom: address
      .optional()
      .describe('Sender address of notifications; defaults to `postmaster@<hostname>`.'),
  })
  .strict()

export type PoliciesConfig = z.output<typeof policiesConfigSchema>
