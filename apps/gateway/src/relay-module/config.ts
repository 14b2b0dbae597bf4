import { z } from 'zod'

/**
 * `relayModule`: the gateway as a relay module (reference §4). Through the hub tunnel it needs
 * nothing here; `https` additionally serves the contract on the gateway's HTTP API for any
 * platform that speaks it, authenticated with RS256 configuration tokens.
 */
export const relayModuleConfigSchema = z
  .object({
    consoleUrl: z
      .url({ protocol: /^https?$/ })
      .optional()
      .describe(
        'Base URL of this gateway’s console, for the links refer answers and sightings carry ' +
          '(default: the API address the gateway listens on).',
      ),
    maxMessagesPerObservable: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(100)
      .describe('Newest messages turned into sightings per observable.'),
    https: z
      .object({
        enabled: z
          .boolean()
          .default(false)
          .describe('Serve the relay contract on the HTTP API under `prefix`.'),
        prefix: z
          .string()
          .regex(/^\/[a-z0-9/_-]*[a-z0-9_-]$/i, 'a path such as /relay')
          .default('/relay')
          .describe(
            'Path the contract routes are mounted under (e.g. /relay/observe/observables).',
          ),
        audience: z
          .url({ protocol: /^https?$/ })
          .optional()
          .describe(
            'The module URL platforms call (the `aud` tokens must carry). Required when enabled: ' +
              'the gateway must not trust the Host header to name itself.',
          ),
        trustedJwksHosts: z
          .array(z.string().min(1).max(261))
          .default([])
          .describe('`jwks_host` values accepted (host or host:port of the hub or platform).'),
        jwksScheme: z
          .enum(['https', 'http'])
          .default('https')
          .describe('Scheme of the JWKS URL (http only for a hub on a private test network).'),
      })
      .strict()
      .prefault({})
      .superRefine((https, ctx) => {
        if (https.enabled && https.audience === undefined)
          ctx.addIssue({ code: 'custom', path: ['audience'], message: 'required when enabled' })
        if (https.enabled && https.trustedJwksHosts.length === 0)
          ctx.addIssue({
            code: 'custom',
            path: ['trustedJwksHosts'],
            message: 'name at least one host when enabled',
          })
      })
      .describe('The relay contract over HTTPS with configuration-token auth.'),
  })
  .strict()
  .prefault({})
  .describe('The gateway as a relay module (observe, deliberate, refer, respond).')
export type RelayModuleConfig = z.output<typeof relayModuleConfigSchema>
