import { z } from 'zod'
import { duration } from '../config-values.js'

export const authenticationConfigSchema = z
  .object({
    enabled: z.boolean().default(true).describe('Check SPF, DKIM, DMARC and ARC on every message.'),
    authservId: z
      .string()
      .regex(/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/i, 'a host name')
      .optional()
      .describe(
        'authserv-id written into Authentication-Results (RFC 8601 §2.5); defaults to ' +
          '`hostname`. Incoming Authentication-Results fields claiming it are removed.',
      ),
    addHeader: z
      .boolean()
      .default(true)
      .describe('Add Authentication-Results and Received-SPF to delivered messages.'),
    arc: z.boolean().default(true).describe('Validate ARC chains (RFC 8617).'),
    dmarc: z.boolean().default(true).describe('Evaluate DMARC (RFC 7489).'),
    minKeyBits: z
      .number()
      .int()
      .min(512)
      .default(1024)
      .describe('Smallest RSA key accepted for DKIM and ARC signatures (RFC 8301 §3.2).'),
    timeout: duration(
      'Budget for all checks of one message; beyond it the results are `temperror`.',
    ).prefault('10s'),
    dns: z
      .object({
        servers: z
          .array(
            z
              .string()
              .regex(
                /^(\[[0-9a-f:]+\]|[0-9a-f:.]+)(:\d{1,5})?$/i,
                'an IP address, optionally with :port',
              ),
          )
          .default([])
          .describe(
            'DNS servers to ask (`ip` or `ip:port`); empty means the system’s resolv.conf.',
          ),
        timeout: duration('Timeout of one DNS query.').prefault('2s'),
        tries: z.number().int().min(1).max(5).default(2).describe('Attempts per query and server.'),
        cacheTtl: duration('How long a DNS answer is reused.').prefault('5m'),
        negativeCacheTtl: duration('How long "no such name / no record" is reused.').prefault('1m'),
        failureCacheTtl: duration(
          'How long a failed query (timeout, SERVFAIL) is reused.',
        ).prefault('10s'),
        cacheSize: z
          .number()
          .int()
          .positive()
          .default(50_000)
          .describe('Most DNS answers cached per analysis worker.'),
      })
      .strict()
      .prefault({})
      .describe('The caching DNS resolver used by the checks.'),
  })
  .strict()

export type AuthenticationConfig = z.output<typeof authenticationConfigSchema>
