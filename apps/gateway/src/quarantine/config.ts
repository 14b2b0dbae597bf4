import { z } from 'zod'
import { duration } from '../config-values.js'

/** The quarantines every gateway has (policies and scanner failures refer to them). */
export const BUILT_IN_QUARANTINES = ['policy', 'virus', 'spam', 'malformed'] as const

const DEFAULT_RETENTION: Record<string, string> = {
  policy: '30d',
  virus: '30d',
  spam: '14d',
  malformed: '30d',
}

const quarantineSchema = z
  .object({
    retention: duration('How long a message stays held before `onExpiry` applies.').optional(),
    onExpiry: z
      .enum(['delete', 'release'])
      .default('delete')
      .describe('What happens to a held message when its retention is over.'),
    description: z.string().max(200).optional().describe('Shown in the console and the API.'),
  })
  .strict()

export interface QuarantineSettings {
  name: string
  retentionMs: number
  onExpiry: 'delete' | 'release'
  description: string | null
}

export const quarantinesConfigSchema = z
  .object({
    sweepInterval: duration('How often held messages past their retention are expired.').prefault(
      '10m',
    ),
    queues: z
      .record(
        z.string().regex(/^[a-z0-9][a-z0-9_-]{0,49}$/, 'a lower-case quarantine name'),
        quarantineSchema,
      )
      .default({})
      .describe(
        'Named quarantines. `policy`, `virus`, `spam` and `malformed` always exist (retention ' +
          '30d, 30d, 14d, 30d); list them here to change their settings, or add new names.',
      ),
  })
  .strict()
  .transform((config) => {
    const settings: Record<string, QuarantineSettings> = {}
    const names = new Set<string>([...BUILT_IN_QUARANTINES, ...Object.keys(config.queues)])
    for (const name of names) {
      const configured = config.queues[name]
      settings[name] = {
        name,
        retentionMs: configured?.retention ?? parseDays(DEFAULT_RETENTION[name] ?? '30d'),
        onExpiry: configured?.onExpiry ?? 'delete',
        description: configured?.description ?? null,
      }
    }
    return { sweepIntervalMs: config.sweepInterval, quarantines: settings }
  })

function parseDays(value: string): number {
  return Number(value.replace(/d$/, '')) * 86_400_000
}

export type QuarantinesConfig = z.output<typeof quarantinesConfigSchema>
