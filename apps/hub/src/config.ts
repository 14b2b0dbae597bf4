import { hostname } from 'node:os'
import { z } from 'zod'
import { investigateConfigSchema } from './investigate/config.js'

const regionName = z
  .string()
  .regex(
    /^[a-z][a-z0-9-]{0,31}$/,
    'a region name is lower-case letters, digits and "-", e.g. nam, eu, apjc',
  )

const seconds = (max: number) => z.number().int().positive().max(max)

/** The hub's configuration (`postern hub --config FILE`); every key is documented in docs/configuration.md. */
export const hubConfigSchema = z
  .object({
    dataDir: z
      .string()
      .default('/var/lib/postern/hub')
      .describe('Directory for the SQLite database and the secret key file.'),
    database: z
      .string()
      .default('sqlite')
      .describe(
        'Where the hub keeps its state: "sqlite" (hub.db in dataDir), "sqlite:/path/file.db", or a postgres:// URL. Hub nodes sharing one PostgreSQL database serve the same organisations.',
      ),
    secretKeyFile: z
      .string()
      .optional()
      .describe(
        'File with the 32-byte key that encrypts the token-signing keys at rest (default dataDir/secret.key, created on first start). Every hub node of one database needs the same file.',
      ),
    listen: z
      .string()
      .default('127.0.0.1:8443')
      .describe(
        'host:port the HTTP API, the console and the device tunnel listen on; port 0 picks a free port.',
      ),
    publicUrl: z
      .url()
      .optional()
      .describe(
        'URL gateways, API clients and relay modules use to reach this hub (behind a TLS-terminating proxy, its https:// URL). Default: http://<listen address>.',
      ),
    region: regionName
      .default('nam')
      .describe(
        'Region this hub serves (gateways map region names to hub URLs in their cloud.servers list).',
      ),
    nodeId: z
      .string()
      .min(1)
      .max(128)
      .default(hostname())
      .describe(
        'Name of this hub node, recorded with each tunnel connection it holds (default: the host name).',
      ),
    trustProxy: z
      .union([z.boolean(), z.string(), z.array(z.string())])
      .default(false)
      .describe(
        'Trust X-Forwarded-* headers from these proxies (true, an address/CIDR, or a list).',
      ),
    log: z
      .object({
        level: z
          .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
          .default('info')
          .describe('Lowest level written to standard output.'),
      })
      .strict()
      .prefault({})
      .describe('Logging.'),
    auth: z
      .object({
        issuer: z
          .string()
          .min(1)
          .default('IROH Auth')
          .describe(
            '`iss` of the access tokens and issuer in /.well-known/oauth-authorization-server.',
          ),
        accessTokenTtlSeconds: seconds(86_400)
          .default(600)
          .describe('Lifetime of OAuth2 access tokens (the Threat Response API uses 600 s).'),
        signingKeyRotationDays: z
          .number()
          .positive()
          .max(365)
          .default(30)
          .describe(
            'A new RS256 signing key is made when the current one is this old; the old key stays in the JWKS until its tokens have expired.',
          ),
        signingKeyGraceSeconds: seconds(30 * 86_400)
          .default(86_400)
          .describe(
            'How long a retired key stays published in the JWKS after it stops signing (at least the access-token lifetime).',
          ),
        sessionIdleMinutes: seconds(10_080)
          .default(480)
          .describe('A console session ends after this many minutes without a request.'),
        sessionMaxHours: seconds(720)
          .default(24)
          .describe('A console session ends this many hours after login, however active.'),
        loginMaxFailures: z
          .number()
          .int()
          .positive()
          .max(1000)
          .default(5)
          .describe(
            'Failed logins per address and client IP within loginLockoutMinutes before further attempts are refused.',
          ),
        loginLockoutMinutes: seconds(1440)
          .default(15)
          .describe('Window and lockout period for loginMaxFailures.'),
        secureCookies: z
          .boolean()
          .optional()
          .describe('Mark the session cookie Secure (default: when publicUrl is https).'),
      })
      .strict()
      .prefault({})
      .describe('Users, sessions, API clients and OAuth2 tokens.'),
    devices: z
      .object({
        registrationTokenTtlSeconds: seconds(30 * 86_400)
          .default(3_600)
          .describe('Default lifetime of a device registration token (single use).'),
        offlineAfterSeconds: seconds(86_400)
          .default(90)
          .describe(
            'A device whose tunnel has shown no sign of life for this long is listed as disconnected.',
          ),
      })
      .strict()
      .prefault({})
      .describe('Device registration and status.'),
    tunnel: z
      .object({
        heartbeatSeconds: seconds(600)
          .default(15)
          .describe(
            'Ping interval on device tunnels; a device silent for two intervals is dropped.',
          ),
        requestTimeoutSeconds: seconds(600)
          .default(30)
          .describe('Default timeout of calls the hub makes to a device.'),
        maxFrameBytes: z
          .number()
          .int()
          .min(65_536)
          .max(256 * 1024 * 1024)
          .default(16 * 1024 * 1024)
          .describe('Largest tunnel message accepted from a device.'),
      })
      .strict()
      .prefault({})
      .describe('The gateway-to-hub WebSocket tunnel.'),
    cluster: z
      .object({
        natsUrl: z
          .string()
          .regex(/^(nats|tls|wss?):\/\/\S+$/, 'a NATS URL, e.g. nats://127.0.0.1:4222')
          .optional()
          .describe(
            "NATS server the hub nodes of one database talk through (nats://host:4222). Set it on every node when several `postern hub` processes share a PostgreSQL database: a module call reaching one node is then routed to the node holding the gateway's tunnel. Unset: a single node.",
          ),
        subjectPrefix: z
          .string()
          .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, 'dot-separated NATS subject tokens')
          .max(64)
          .default('postern.hub')
          .describe(
            'First tokens of every subject the hub uses; hub deployments sharing one NATS server use different prefixes.',
          ),
        connectTimeoutSeconds: seconds(300)
          .default(10)
          .describe('How long the hub waits for NATS at start before refusing to start.'),
        routeMarginMs: z
          .number()
          .int()
          .min(0)
          .max(60_000)
          .default(2_000)
          .describe(
            "Added to a routed module call's timeout for the hop between hub nodes; past it the call fails with a timeout error.",
          ),
      })
      .strict()
      .prefault({})
      .describe('Several hub nodes on one database (docs/operations.md, "Scaling out").'),
    telemetry: z
      .object({
        retentionDays: seconds(3_650)
          .default(365)
          .describe('Usage telemetry reports older than this are deleted.'),
      })
      .strict()
      .prefault({})
      .describe('Usage telemetry received from gateways.'),
    investigate: investigateConfigSchema,
    bootstrap: z
      .object({
        org: z
          .string()
          .min(1)
          .max(200)
          .default('Default')
          .describe('Name of the organisation created at first start.'),
        adminEmail: z
          .email()
          .optional()
          .describe('E-mail of the first admin, created at first start when the hub has no user.'),
        adminPassword: z
          .string()
          .min(12)
          .optional()
          .describe(
            'Password of the first admin (prefer adminPasswordFile or POSTERN_BOOTSTRAP__ADMIN_PASSWORD).',
          ),
        adminPasswordFile: z
          .string()
          .optional()
          .describe("File whose first line is the first admin's password."),
      })
      .strict()
      .prefault({})
      .describe(
        'First organisation and admin, created once when the database has no user (alternatively `postern hub user create`).',
      ),
  })
  .strict()

export type HubConfig = z.output<typeof hubConfigSchema>
