import { z } from 'zod'
import { authenticationConfigSchema } from '../auth/config.js'
import { policiesConfigSchema } from '../policy/config.js'
import { quarantinesConfigSchema } from '../quarantine/config.js'
import { scannersConfigSchema } from '../scanners/config.js'
import { byteSize, duration } from '../config-values.js'

export const limitsConfigSchema = z
  .object({
    maxDepth: z
      .number()
      .int()
      .min(1)
      .max(100)
      .default(20)
      .describe('Deepest MIME nesting (multiparts and attached messages); deeper is malformed.'),
    maxParts: z
      .number()
      .int()
      .min(1)
      .max(100_000)
      .default(500)
      .describe('Most MIME parts in one message, attached messages included; more is malformed.'),
    maxHeaderSize: byteSize('Largest header block of one MIME part; larger is malformed.').prefault(
      '256KB',
    ),
    maxDecodedSize: byteSize(
      'Most bytes decoding may produce for one message (transfer encodings, attached messages, ' +
        'zip entries); more is malformed (zip bombs end here).',
    ).prefault('100MB'),
    maxParseTime: duration(
      'Time budget for parsing and extracting one message; beyond it the message is malformed ' +
        'and the worker thread is replaced.',
    ).prefault('10s'),
    maxTextSize: byteSize(
      'Largest text or HTML part scanned for URLs; the rest is skipped.',
    ).prefault('2MB'),
    maxUrls: z
      .number()
      .int()
      .min(1)
      .default(1000)
      .describe('Most URLs recorded for one message (all are counted).'),
    maxArchiveEntries: z
      .number()
      .int()
      .min(1)
      .default(1000)
      .describe('Most entries listed per zip archive.'),
    maxArchiveEntrySize: byteSize(
      'Largest zip entry decompressed to be hashed; larger entries are listed without a hash.',
    ).prefault('25MB'),
  })
  .strict()

export const blocklistsConfigSchema = z
  .object({
    enabled: z.boolean().default(true).describe('Apply the block lists to every message.'),
    refuseAtSmtp: z
      .boolean()
      .default(true)
      .describe(
        'Refuse blocked senders, sender domains and client IPs at MAIL FROM with a 550 (they ' +
          'are also checked in the pipeline either way), and blocked users’ outgoing mail.',
      ),
    refreshInterval: duration(
      'How often the lists are reloaded when another process (CLI, another node) changed them.',
    ).prefault('10s'),
  })
  .strict()

/**
 * The content pipeline's configuration (one key of the gateway's configuration, `pipeline`):
 * analysis limits, sender authentication, scanners, block lists, mail policies, quarantines.
 */
export const pipelineConfigSchema = z
  .object({
    enabled: z
      .boolean()
      .default(true)
      .describe('Run the content pipeline; when false every message is delivered as received.'),
    workers: z
      .union([z.literal('auto'), z.number().int().min(1).max(64)])
      .default('auto')
      .describe(
        'Analysis worker threads; `auto` is the number of CPUs minus one (at least 1), shared ' +
          'out between the SMTP processes when `smtpProcesses` is more than 1.',
      ),
    jobsPerWorker: z
      .number()
      .int()
      .min(1)
      .max(256)
      .default(16)
      .describe(
        'Messages one worker analyses at once (they overlap while DNS answers are pending).',
      ),
    internalDomains: z
      .array(z.string().min(1))
      .default([])
      .describe(
        'Domains of internal users (for display-name spoofing and learning). The domains the ' +
          'listeners accept mail for (RAT) are added automatically.',
      ),
    limits: limitsConfigSchema
      .prefault({})
      .describe('Caps of the analysis; a message over one is `malformed`.'),
    authentication: authenticationConfigSchema.prefault({}).describe('SPF, DKIM, DMARC and ARC.'),
    scanners: scannersConfigSchema.prefault({}).describe('Content scanners.'),
    blocklists: blocklistsConfigSchema
      .prefault({})
      .describe('Block lists (managed with the CLI, the API or the hub).'),
    policies: policiesConfigSchema.prefault({}).describe('Incoming and outgoing mail policies.'),
    quarantine: quarantinesConfigSchema
      .prefault({})
      .describe('Named quarantines and their retention.'),
  })
  .strict()
  .superRefine((config, ctx) => {
    const quarantines = config.quarantine.quarantines
    for (const scanner of ['rspamd', 'clamav'] as const) {
      const name = config.scanners[scanner].failureQuarantine
      if (!quarantines[name]) {
        ctx.addIssue({
          code: 'custom',
          path: ['scanners', scanner, 'failureQuarantine'],
          message: `there is no quarantine named "${name}" (pipeline.quarantine.queues)`,
        })
      }
    }
  })

export type PipelineConfig = z.output<typeof pipelineConfigSchema>
