import { z } from 'zod'

/** `investigate`: how the hub fans enrich and respond calls out to module instances. */
export const investigateConfigSchema = z
  .object({
    moduleTimeoutSeconds: z
      .number()
      .positive()
      .max(300)
      .default(15)
      .describe(
        'Longest a module (a relay module, or one gateway of the email module) may take; a late module becomes an error entry beside the others’ data.',
      ),
    triggerTimeoutSeconds: z
      .number()
      .positive()
      .max(3600)
      .default(300)
      .describe('Longest a response action (e.g. mailbox remediation on a gateway) may take.'),
    concurrency: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(16)
      .describe(
        'Relay module calls one enrich request runs at the same time (gateways are all called at once, each over its own tunnel).',
      ),
    approvalTtlHours: z
      .number()
      .positive()
      .max(24 * 30)
      .default(24)
      .describe('A response action waiting for approval expires (is rejected) after this long.'),
    maxObservables: z
      .number()
      .int()
      .min(1)
      .max(10_000)
      .default(100)
      .describe('Most observables one enrich or respond request may carry.'),
  })
  .strict()
  .prefault({})
  .describe('Enrich and respond fan-out to module instances.')
export type InvestigateConfig = z.output<typeof investigateConfigSchema>
