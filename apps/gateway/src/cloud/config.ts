import { hostname } from 'node:os'
import { z } from 'zod'

/** The default server list: the seed's three regions, pointing at nothing until configured. */
export const DEFAULT_REGIONS = ['nam', 'eu', 'apjc'] as const

const regionName = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,31}$/, 'a region name is lower-case letters, digits and "-"')

/**
 * The `cloud:` section of the gateway configuration (the cloud-services connector), mounted in
 * the gateway's root schema.
 */
export const cloudConfigSchema = z
  .object({
    servers: z
      .record(regionName, z.url().nullable())
      .default({})
      .transform(
        (servers) =>
          ({ ...Object.fromEntries(DEFAULT_REGIONS.map((r) => [r, null])), ...servers }) as Record<
            string,
            string | null
          >,
      )
      .describe(
        'Hub server per region: region name → hub URL (http(s)://host[:port]). nam, eu and apjc are always listed and point at nothing until set; add other regions freely.',
      ),
    failoverServers: z
      .record(regionName, z.array(z.url()).max(32))
      .default({})
      .describe(
        "Further nodes of a region's hub: region → list of hub node URLs (http(s)://host[:port]) serving the same database as cloud.servers.{region}. When the tunnel's node is unreachable or drops the connection, the gateway tries the next URL in turn.",
      ),
    machineName: z
      .string()
      .min(1)
      .max(128)
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/)
      .default(hostname().split('.')[0] || 'gateway')
      .describe(
        "This machine's name in a cluster and in machine-level settings (default: the short host name).",
      ),
    settingsPollSeconds: z
      .number()
      .positive()
      .max(300)
      .default(2)
      .describe(
        'How often the running gateway re-reads cloud settings changed by the CLI or by other cluster nodes.',
      ),
    requestTimeoutSeconds: z
      .number()
      .int()
      .positive()
      .max(300)
      .default(15)
      .describe('Timeout of registration calls to the hub.'),
    heartbeatSeconds: z
      .number()
      .int()
      .positive()
      .max(600)
      .default(15)
      .describe('Ping interval on the tunnel to the hub.'),
    reconnectMinMs: z
      .number()
      .int()
      .positive()
      .max(60_000)
      .default(500)
      .describe(
        'First reconnect delay after the tunnel drops (doubles up to reconnectMaxSeconds, with jitter).',
      ),
    reconnectMaxSeconds: z
      .number()
      .int()
      .positive()
      .max(3_600)
      .default(60)
      .describe('Longest wait between reconnect attempts.'),
    secretKeyFile: z
      .string()
      .optional()
      .describe(
        'Key file (32 random bytes, created on first use) sealing the device credential at rest (default: dataDir/secret.key).',
      ),
    telemetryIntervalHours: z
      .number()
      .positive()
      .max(720)
      .default(24)
      .describe('Usage telemetry (when enabled) is sent this often, and at once when it changes.'),
    outbox: z
      .object({
        maxEvents: z
          .number()
          .int()
          .min(100)
          .max(10_000_000)
          .default(100_000)
          .describe(
            'Most private-intelligence events (detections, watched-observable reports) queued for the hub per machine; beyond it the oldest are dropped and counted.',
          ),
        maxAgeHours: z
          .number()
          .positive()
          .max(8_760)
          .default(168)
          .describe(
            'Queued events older than this are dropped and counted instead of being sent late.',
          ),
      })
      .strict()
      .default({ maxEvents: 100_000, maxAgeHours: 168 })
      .describe(
        "Cap of the queue of events for the hub while it is unreachable; the count of dropped events goes to the hub with the next batch (its audit log: intel.events_lost) and to the gateway's log and metrics.",
      ),
  })
  .strict()

export type CloudConfig = z.output<typeof cloudConfigSchema>
