import { isIP } from 'node:net'
import { hostname } from 'node:os'
import { z } from 'zod'
import { loadConfig, parseHostPort } from '@postern/core'
import { MAX_NODE_NUMBER } from '@postern/store'
import { cloudConfigSchema } from './cloud/config.js'
import { byteSize, duration } from './config-values.js'
import { pipelineConfigSchema } from './pipeline/config.js'
import { relayModuleConfigSchema } from './relay-module/config.js'
import { remediationConfigSchema } from './remediation/config.js'
import { MAX_SMTP_PROCESSES } from './smtp-processes/numbering.js'

/**
 * The gateway's configuration: one zod schema, validated once at start (`loadConfig`), frozen
 * and passed down. Every key has a `.describe()`; `docs/configuration.md` is rendered from them.
 * Other areas (content pipeline, remediation, cloud connector) add their own sub-schema as one
 * key of `gatewayConfigSchema`.
 */

// ---------------------------------------------------------------------------------------------
// Shared value types
// ---------------------------------------------------------------------------------------------

// Durations and sizes are shared with the areas' own sub-schemas (content pipeline …), which
// cannot import this file without an import cycle.
export { byteSize, duration, parseDuration } from './config-values.js'

/** `host:port` (`[v6]:port`, `:port` for all interfaces); port 0 lets the OS choose. */
export function listenAddress(description: string) {
  return z
    .string()
    .refine((value) => {
      try {
        parseHostPort(value)
        return true
      } catch {
        return false
      }
    }, 'write it as host:port, e.g. 0.0.0.0:25, [::1]:2525 or 127.0.0.1:0')
    .meta({ description, 'x-format': 'host:port' })
}

// ---------------------------------------------------------------------------------------------
// Host access table (HAT)
// ---------------------------------------------------------------------------------------------

/**
 * What a sender group may do (the vocabulary of Cisco's mail flow policies):
 * - `ACCEPTED`: may send mail to recipients the listener's RAT accepts (incoming mail).
 * - `RELAYED`: may also send to any other domain (outgoing mail from your own servers).
 * - `REJECTED`: the connection is answered `554` and closed.
 * - `TCPREFUSE`: the connection is reset before any greeting.
 * - `THROTTLED`: like ACCEPTED, with a per-IP recipient rate (`rate`).
 */
export const HAT_POLICIES = ['ACCEPTED', 'RELAYED', 'REJECTED', 'TCPREFUSE', 'THROTTLED'] as const
export type HatPolicy = (typeof HAT_POLICIES)[number]

const hatRuleSchema = z
  .object({
    senderGroup: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'letters, digits, "_", "." and "-" only')
      .describe('Name of the sender group, recorded with every connection it matches.'),
    match: z
      .array(z.string().min(1))
      .min(1)
      .describe(
        'What the group matches, any of: an IP address (`192.0.2.7`, `2001:db8::1`), a CIDR block ' +
          '(`10.0.0.0/8`), a reverse-DNS name (`mx.example.com`), a reverse-DNS suffix ' +
          '(`.example.com` matches every host under it), a glob on the reverse-DNS name ' +
          '(`*.dynamic.example.net`), or `*` for every client. Reverse DNS is looked up only ' +
          'when a rule needs it, cached, and bounded by `rdns.timeout`.',
      ),
    policy: z.enum(HAT_POLICIES).describe('What the group may do: ' + HAT_POLICIES.join(', ')),
    pregreet: duration(
      'How long to wait before the greeting; a client that talks before it is refused ' +
        '(`554 5.5.1`). A real anti-spam test for unknown internet hosts, pointless for your ' +
        'own relays. 0 greets at once.',
    ).prefault(0),
    rate: z
      .object({
        recipients: z
          .number()
          .int()
          .positive()
          .describe('Recipients one IP address of this group may send to per window.'),
        per: duration('The window of the rate, e.g. `1h`.').prefault('1h'),
      })
      .strict()
      .optional()
      .describe(
        'Per-IP recipient rate; required for THROTTLED, optional for others. Over the rate, ' +
          'RCPT is answered `452 4.7.1`.',
      ),
    maxConnectionsPerIp: z
      .number()
      .int()
      .positive()
      .optional()
      .describe('Overrides `limits.maxConnectionsPerIp` of the listener for this group.'),
    maxRecipientsPerMessage: z
      .number()
      .int()
      .positive()
      .optional()
      .describe('Overrides `limits.maxRecipientsPerMessage` of the listener for this group.'),
    maxMessagesPerConnection: z
      .number()
      .int()
      .positive()
      .optional()
      .describe('Overrides `limits.maxMessagesPerConnection` of the listener for this group.'),
    maxMessageSize: byteSize(
      'Overrides `limits.maxMessageSize` of the listener for this group (only smaller values ' +
        'take effect; the listener advertises its own SIZE).',
    ).optional(),
    tls: z
      .enum(['preferred', 'required'])
      .default('preferred')
      .describe(
        '`preferred`: STARTTLS is offered when the listener has a certificate. `required`: MAIL ' +
          'is refused (`530 5.7.0`) until the client has started TLS.',
      ),
  })
  .strict()

export type HatRule = z.output<typeof hatRuleSchema>

// ---------------------------------------------------------------------------------------------
// Recipient access table (RAT)
// ---------------------------------------------------------------------------------------------

const ratRuleSchema = z
  .object({
    recipient: z
      .string()
      .min(1)
      .describe(
        'A domain (`example.com`), every subdomain of one (`.example.com`), an address ' +
          '(`postmaster@example.com`), or `*` (only with `action: REJECT`).',
      ),
    action: z
      .enum(['ACCEPT', 'REJECT'])
      .describe(
        '`ACCEPT`: clients of ACCEPTED and THROTTLED groups may send to it. `REJECT`: RCPT is ' +
          'refused (`550 5.7.1`) for every client, RELAYED or authenticated ones included.',
      ),
  })
  .strict()

export type RatRule = z.output<typeof ratRuleSchema>

// ---------------------------------------------------------------------------------------------
// Listeners
// ---------------------------------------------------------------------------------------------

const listenerLimitsSchema = z
  .object({
    maxMessageSize: byteSize(
      'Largest message accepted, advertised with SIZE (RFC 1870). A larger message is read to ' +
        'its end, answered `552 5.3.4`, and nothing of it is stored.',
    ).prefault('25MB'),
    maxRecipientsPerMessage: z
      .number()
      .int()
      .positive()
      .default(1000)
      .describe('RCPT beyond this number are answered `452 4.5.3` (RFC 5321 §4.5.3.1.8).'),
    maxConnections: z
      .number()
      .int()
      .positive()
      .default(5000)
      .describe('Concurrent connections on this listener; more are answered `421 4.3.2`.'),
    maxConnectionsPerIp: z
      .number()
      .int()
      .positive()
      .default(50)
      .describe('Concurrent connections from one IP address; more are answered `421 4.7.0`.'),
    maxMessagesPerConnection: z
      .number()
      .int()
      .positive()
      .default(1000)
      .describe('Messages per connection; the next MAIL is answered `421 4.7.0` and closed.'),
    maxLineLength: z
      .number()
      .int()
      .min(1000)
      .default(10_000)
      .describe(
        'Longest line of message content in octets, CRLF excluded (RFC 5321 §4.5.3.1.6 sets ' +
          '998 for senders; real mail is sometimes longer). Longer lines: `554 5.6.0`.',
      ),
    maxHeaderSize: byteSize(
      'Largest header section; larger ones are answered `552 5.3.4` after the final dot.',
    ).prefault('1MB'),
    maxReceivedHeaders: z
      .number()
      .int()
      .positive()
      .default(100)
      .describe(
        'A message with more Received headers is refused as a mail loop (`554 5.4.6`, ' +
          'RFC 5321 §6.3).',
      ),
    idleTimeout: duration(
      'A client silent for this long is disconnected (`421 4.4.2`); RFC 5321 §4.5.3.2.7 ' +
        'recommends at least 5 minutes.',
    ).prefault('5m'),
    commandTimeout: duration(
      "Longest time from our last reply to the client's next complete command, however many " +
        'bytes trickle in meanwhile (slowloris); then `421 4.4.2` and the connection is closed.',
    ).prefault('5m'),
    dataRateFloor: z
      .number()
      .int()
      .nonnegative()
      .default(256)
      .describe(
        'Least average rate of message data in bytes per second, enforced once ' +
          '`dataRateGrace` has passed since DATA; a slower client gets `421 4.4.2`. 0 turns it off.',
      ),
    dataRateGrace: duration(
      'Time after DATA before `dataRateFloor` is enforced (a slow start is normal).',
    ).prefault('30s'),
  })
  .strict()

const listenerTlsSchema = z
  .object({
    cert: z
      .string()
      .optional()
      .describe('PEM certificate chain file for STARTTLS; falls back to the top-level `tls`.'),
    key: z.string().optional().describe('PEM private key file matching `cert`.'),
    starttls: z
      .boolean()
      .default(true)
      .describe('Offer STARTTLS (RFC 3207) when a certificate is available.'),
    implicit: z
      .boolean()
      .default(false)
      .describe(
        'Implicit TLS (RFC 8314 §3.3, e.g. submission on port 465): the handshake comes before ' +
          'the greeting. Needs a certificate.',
      ),
  })
  .strict()

const smtpAuthSchema = z
  .object({
    enabled: z
      .boolean()
      .default(false)
      .describe(
        'Offer AUTH PLAIN and LOGIN (RFC 4954), only after STARTTLS. An authenticated client ' +
          'may relay to any domain.',
      ),
    required: z
      .boolean()
      .default(false)
      .describe('Refuse MAIL from clients that have not authenticated (`530 5.7.0`).'),
    users: z
      .array(
        z
          .object({
            username: z.string().min(1).describe('Login name.'),
            passwordHash: z
              .string()
              .regex(/^scrypt\$/, 'an scrypt hash made by `postern gateway hash-password`')
              .describe('scrypt hash of the password, from `postern gateway hash-password`.'),
          })
          .strict(),
      )
      .default([])
      .describe('Accounts that may authenticate on this listener.'),
  })
  .strict()

const listenerSchema = z
  .object({
    name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, 'lower-case letters, digits, "_" and "-"')
      .describe('Name of the listener, recorded with every message it accepts.'),
    smtp: listenAddress('Address to listen on, `host:port` (`0.0.0.0:25`; port 0 picks one).'),
    hat: z
      .array(hatRuleSchema)
      .min(1)
      .prefault([{ senderGroup: 'ALL', match: ['*'], policy: 'ACCEPTED' }])
      .describe(
        'Host access table: sender groups in order, the first that matches the client decides. ' +
          'A client no group matches is refused (`554 5.7.1`).',
      ),
    rat: z
      .array(ratRuleSchema)
      .default([])
      .describe(
        'Recipient access table: the domains and addresses this listener accepts mail for, in ' +
          'order, first match wins. Recipients no entry accepts are refused (`550 5.7.1`) ' +
          'unless the client is RELAYED or authenticated.',
      ),
    lineEndings: z
      .enum(['reject', 'normalize'])
      .default('reject')
      .describe(
        'A bare LF or bare CR in DATA (the SMTP smuggling vector): `reject` answers ' +
          '`554 5.5.2` and keeps nothing; `normalize` turns them into CRLF and accepts.',
      ),
    limits: listenerLimitsSchema.prefault({}).describe('Resource limits of this listener.'),
    tls: listenerTlsSchema.prefault({}).describe('STARTTLS on this listener.'),
    auth: smtpAuthSchema.prefault({}).describe('SMTP AUTH, for submission listeners.'),
    banner: z
      .string()
      .max(200)
      .regex(/^[\x20-\x7e]*$/, 'printable ASCII only')
      .optional()
      .describe('Text after the host name in the 220 greeting.'),
  })
  .strict()
  .superRefine((listener, ctx) => {
    for (const [i, rule] of listener.hat.entries()) {
      for (const problem of hatRuleProblems(rule)) {
        ctx.addIssue({ code: 'custom', path: ['hat', i, 'match'], message: problem })
      }
    }
    for (const [i, rule] of listener.rat.entries()) {
      const problem = ratRuleProblem(rule)
      if (problem) ctx.addIssue({ code: 'custom', path: ['rat', i, 'recipient'], message: problem })
    }
    if (listener.auth.enabled && listener.auth.users.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['auth', 'users'],
        message: 'AUTH is enabled but no user is listed: add users or disable auth',
      })
    }
  })

export type ListenerConfig = z.output<typeof listenerSchema>

/**
 * Refuses HAT entries that would open the relay to the internet by accident: a RELAYED group
 * may only match IP addresses and CIDR blocks of bounded size — never `*`, never reverse DNS
 * (the owner of an IP address controls its PTR record).
 */
export function hatRuleProblems(rule: {
  match: readonly string[]
  policy: string
  rate?: unknown
}): string[] {
  const problems: string[] = []
  for (const entry of rule.match) {
    const kind = classifyMatch(entry)
    if (kind === 'invalid') {
      problems.push(`"${entry}" is neither an IP address, a CIDR block, a host name pattern nor *`)
      continue
    }
    if (rule.policy !== 'RELAYED') continue
    if (kind === 'any') {
      problems.push(
        'a RELAYED group matching "*" would relay for the whole internet (an open relay); ' +
          'list the IP addresses or networks of your own mail servers',
      )
    } else if (kind === 'rdns') {
      problems.push(
        `a RELAYED group cannot match reverse DNS ("${entry}"): whoever owns an IP address ` +
          'controls its PTR record; list IP addresses or networks instead',
      )
    } else if (kind === 'cidr') {
      const [address, bits] = entry.split('/') as [string, string]
      const min = isIP(address) === 4 ? 8 : 16
      if (Number(bits) < min) {
        problems.push(
          `"${entry}" is too broad for a RELAYED group (at most /${min}); relaying for such a ` +
            'network is an open relay in all but name',
        )
      }
    }
  }
  if (rule.policy === 'THROTTLED' && rule.rate === undefined) {
    problems.push('a THROTTLED group needs a rate, e.g. rate: { recipients: 100, per: 1h }')
  }
  return problems
}

export type MatchKind = 'ip' | 'cidr' | 'rdns' | 'any' | 'invalid'

/** What kind of HAT match entry a string is. */
export function classifyMatch(entry: string): MatchKind {
  if (entry === '*') return 'any'
  if (isIP(entry) !== 0) return 'ip'
  const slash = entry.indexOf('/')
  if (slash > 0) {
    const address = entry.slice(0, slash)
    const bits = entry.slice(slash + 1)
    const family = isIP(address)
    if (family === 0 || !/^\d{1,3}$/.test(bits)) return 'invalid'
    return Number(bits) <= (family === 4 ? 32 : 128) ? 'cidr' : 'invalid'
  }
  // Host names, `.suffix` and globs with `*` in place of whole or partial labels.
  return /^(\.|\*\.)?([a-z0-9*]([a-z0-9*_-]*[a-z0-9*])?\.)*[a-z0-9*]([a-z0-9*_-]*[a-z0-9*])?$/i.test(
    entry,
  )
    ? 'rdns'
    : 'invalid'
}

/** Refuses RAT entries that accept every domain, or a whole top-level domain. */
export function ratRuleProblem(rule: { recipient: string; action: string }): string | undefined {
  const value = rule.recipient.trim().toLowerCase()
  if (value === '*') {
    return rule.action === 'ACCEPT'
      ? 'accepting "*" would make this listener an open relay: list the domains you receive ' +
          'mail for, and use a RELAYED sender group for your own servers'
      : undefined
  }
  const at = value.lastIndexOf('@')
  const domain = (at >= 0 ? value.slice(at + 1) : value).replace(/^\./, '')
  if (at === 0 || domain.length === 0 || !/^[a-z0-9\u0080-\uffff.-]+$/.test(domain)) {
    return `"${rule.recipient}" is not a domain, ".domain" or address`
  }
  if (rule.action === 'ACCEPT' && !domain.includes('.') && value.startsWith('.')) {
    return `accepting every domain under ".${domain}" would relay for a whole top-level domain`
  }
  return undefined
}

// ---------------------------------------------------------------------------------------------
// Routes and delivery
// ---------------------------------------------------------------------------------------------

const routeSchema = z
  .object({
    domain: z
      .string()
      .min(1)
      .describe(
        'Recipient domain this route serves: `example.com`, `.example.com` (every subdomain), ' +
          'or `*` (every domain no other route serves).',
      ),
    to: z
      .array(z.string().min(1))
      .min(1)
      .describe(
        'Destinations in order of preference: `host:port` or `host` (port 25) of an SMTP ' +
          "server, `mx` to look up the domain's MX records (RFC 5321 §5.1), or `maildir:PATH` " +
          'to write into a local Maildir tree, one folder per recipient ' +
          '(`PATH/<domain>/<local-part>/`).',
      ),
    tls: z
      .enum(['opportunistic', 'required', 'none'])
      .default('opportunistic')
      .describe(
        '`opportunistic`: STARTTLS when offered, plaintext otherwise; `required`: defer ' +
          'rather than send in plaintext; `none`: never STARTTLS.',
      ),
    verifyCertificate: z
      .boolean()
      .default(false)
      .describe(
        'Check the server certificate against the system CAs and the host name (with ' +
          '`tls: required` this is what resists a man in the middle).',
      ),
  })
  .strict()
  .superRefine((route, ctx) => {
    for (const [i, target] of route.to.entries()) {
      const problem = routeTargetProblem(target)
      if (problem) ctx.addIssue({ code: 'custom', path: ['to', i], message: problem })
    }
    if (
      route.domain !== '*' &&
      !/^\.?[a-z0-9\u0080-\uffff-]+(\.[a-z0-9\u0080-\uffff-]+)*$/i.test(route.domain)
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['domain'],
        message: `"${route.domain}" is not a domain, ".domain" or *`,
      })
    }
  })

export type RouteConfig = z.output<typeof routeSchema>

export function routeTargetProblem(target: string): string | undefined {
  if (target === 'mx') return undefined
  if (target.startsWith('maildir:')) {
    return target.length > 'maildir:'.length && target.slice(8).startsWith('/')
      ? undefined
      : `"${target}": a Maildir route needs an absolute path, e.g. maildir:/var/mail/postern`
  }
  try {
    parseHostPort(target.includes(':') && !target.startsWith('[') ? target : `${target}:25`)
    return undefined
  } catch {
    return `"${target}" is not host:port, host, mx or maildir:/path`
  }
}

const retrySchema = z
  .object({
    initialDelay: duration('Wait before the first retry of a deferred delivery.').prefault('1m'),
    maxDelay: duration('Longest wait between two retries (the delay doubles up to it).').prefault(
      '1h',
    ),
  })
  .strict()

const queueSchema = z
  .object({
    lifetime: duration(
      'How long a message may stay deferred before it is bounced to its sender ' +
        '(RFC 5321 §4.5.4.1 suggests 4-5 days).',
    ).prefault('5d'),
    retry: retrySchema.prefault({}).describe('Retry schedule of deferred deliveries.'),
    processingConcurrency: z
      .number()
      .int()
      .positive()
      .default(64)
      .describe('Messages processed (content pipeline) at the same time.'),
    bodyCacheSize: byteSize(
      'Message bodies (and the copies the content pipeline rewrites) kept in memory between ' +
        'acceptance and delivery; beyond it, they are re-read from the spool.',
    ).prefault('64MB'),
  })
  .strict()

const deliverySchema = z
  .object({
    maxConnectionsPerDestination: z
      .number()
      .int()
      .positive()
      .default(20)
      .describe('Concurrent SMTP connections to one destination (a route or an MX host set).'),
    maxMessagesPerConnection: z
      .number()
      .int()
      .positive()
      .default(1000)
      .describe('Messages sent over one connection before it is closed and a new one opened.'),
    idleTimeout: duration('An idle outbound connection is closed after this long.').prefault('5s'),
    connectTimeout: duration('Time to establish a connection and receive the greeting.').prefault(
      '30s',
    ),
    commandTimeout: duration('Time to wait for any reply of the remote server.').prefault('5m'),
    hostDownFor: duration(
      'After a host refuses a connection, it is skipped for this long while others are tried.',
    ).prefault('30s'),
    heloName: z.string().optional().describe('Name sent with EHLO; defaults to `hostname`.'),
  })
  .strict()

// ---------------------------------------------------------------------------------------------
// Spool, tracking, TLS, reverse DNS, HTTP API, logs
// ---------------------------------------------------------------------------------------------

const spoolSchema = z
  .object({
    segmentSize: byteSize(
      'Size at which the spool starts a new segment file; emptied segments are deleted.',
    ).prefault('64MB'),
    inlineMaxSize: byteSize(
      'Messages up to this size are written into the segment; larger ones stream to a file ' +
        'of their own while they arrive.',
    ).prefault('1MB'),
    maxBatchBytes: byteSize(
      'Most bytes written by one group commit (one fsync for every message in it).',
    ).prefault('16MB'),
    compactAfter: duration(
      'A sealed segment still holding messages this long after it was sealed has them ' +
        'rewritten into the active segment so it can be deleted.',
    ).prefault('10m'),
    minFreeSpace: byteSize(
      'Free space kept on the spool filesystem. When storing a message would leave less, MAIL ' +
        '(with its declared SIZE), DATA and the final dot are answered `452 4.3.1` (RFC 3463, ' +
        'RFC 1870 §6.1) so senders retry later, and the reserve stays for delivery bookkeeping. ' +
        '`0B` turns the check off.',
    ).prefault('256MB'),
    freeSpaceCheckInterval: duration(
      'How long a measurement of free space (statfs) is reused before it is taken again; ' +
        'bytes accepted in between are subtracted from it.',
    ).prefault('2s'),
  })
  .strict()

const trackingSchema = z
  .object({
    flushInterval: duration('Longest time a tracking row waits before being written.').prefault(
      '250ms',
    ),
    maxBatchRows: z
      .number()
      .int()
      .positive()
      .default(5000)
      .describe('Rows that trigger a write before `flushInterval` is over.'),
    maxPendingRows: z
      .number()
      .int()
      .positive()
      .default(500_000)
      .describe(
        'Rows kept in memory while the database is unavailable; beyond it the oldest are ' +
          'dropped (counted in `postern_tracking_dropped_rows_total`).',
      ),
    retention: duration(
      'Messages received longer ago than this are deleted from tracking with their recipients, ' +
        'events, observables and content analysis (quarantined copies and remediation ' +
        'history keep their own retention). On PostgreSQL whole weeks are dropped once their ' +
        'last day is past retention, so a message stays up to a week longer. `0s` keeps ' +
        'tracking forever.',
    ).prefault('90d'),
    purgeInterval: duration(
      'How often tracking past its retention is deleted, and the coming weeks’ partitions ' +
        'are created on PostgreSQL.',
    ).prefault('1h'),
  })
  .strict()

const tlsSchema = z
  .object({
    cert: z.string().optional().describe('PEM certificate chain file used by every listener.'),
    key: z.string().optional().describe('PEM private key file matching `cert`.'),
    selfSigned: z
      .boolean()
      .default(false)
      .describe(
        'Without `cert`/`key`: generate a self-signed certificate for `hostname` in ' +
          '`dataDir/tls/` (for demos and tests; senders cannot verify it).',
      ),
  })
  .strict()

const rdnsSchema = z
  .object({
    timeout: duration('Longest wait for a reverse DNS answer; none counts as "no name".').prefault(
      '2s',
    ),
    cacheTtl: duration('How long answers (and failures) are cached.').prefault('1h'),
    cacheSize: z
      .number()
      .int()
      .positive()
      .default(100_000)
      .describe('Most addresses kept in the cache.'),
    forTracking: z
      .boolean()
      .default(true)
      .describe(
        'Also look up clients no HAT rule needs a name for, in the background, so that message ' +
          'tracking records their rDNS (the session never waits for it).',
      ),
  })
  .strict()

const apiSchema = z
  .object({
    initialAdmin: z
      .object({
        username: z.string().min(1).describe('Login name of the first administrator.'),
        passwordHash: z
          .string()
          .regex(/^scrypt\$/, 'an scrypt hash made by `postern gateway hash-password`')
          .optional()
          .describe('scrypt hash of the password (`postern gateway hash-password`).'),
        passwordFile: z
          .string()
          .optional()
          .describe('File holding the password in clear (read at start, e.g. a secret mount).'),
      })
      .strict()
      .optional()
      .describe(
        'Creates this administrator at start when the gateway has no user yet (or use ' +
          '`postern gateway user add`).',
      ),
    sessionTtl: duration('Lifetime of a login session token.').prefault('12h'),
    publicMetrics: z
      .boolean()
      .default(false)
      .describe('Serve `GET /metrics` without a token (for scrapers on a trusted network).'),
    trustProxy: z
      .boolean()
      .default(false)
      .describe('Trust X-Forwarded-For from a reverse proxy in front of the API.'),
  })
  .strict()

const logSchema = z
  .object({
    level: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info')
      .describe('Lowest level written to standard output (JSON lines).'),
  })
  .strict()

// ---------------------------------------------------------------------------------------------
// Root
// ---------------------------------------------------------------------------------------------

export const gatewayConfigSchema = z
  .object({
    dataDir: z
      .string()
      .default('/var/lib/postern/gateway')
      .describe('Directory of the spool, the SQLite database, TLS files and the CLI credential.'),
    hostname: z
      .string()
      .regex(/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/i, 'a host name')
      .optional()
      .transform((value) => value ?? hostname())
      .describe(
        'Name in the greeting, Received headers and bounce reports (default: the host name ' +
          'of the machine).',
      ),
    database: z
      .string()
      .default('sqlite')
      .describe(
        '`sqlite` (a file in `dataDir`), `sqlite:/path/file.db`, or a `postgres://` URL for ' +
          'the tracking database and API accounts. Gateway cluster nodes sharing one ' +
          'PostgreSQL database share settings, block lists, policies and tracking.',
      ),
    nodeNumber: z
      .number()
      .int()
      .min(0)
      .max(MAX_NODE_NUMBER)
      .default(0)
      .describe(
        "This gateway's number among the cluster nodes sharing one database: its MIDs, ICIDs " +
          'and DCIDs start at nodeNumber × 2^40, so ids stay unique across the cluster and tell ' +
          'which node handled a message. Give every node its own number; 0 for a standalone gateway.',
      ),
    smtpProcesses: z
      .union([z.number().int().min(1).max(MAX_SMTP_PROCESSES), z.literal('auto')])
      .default(1)
      .describe(
        'Processes that accept SMTP (1 to 31, or `auto`: one per CPU). With more than one, a ' +
          'primary process runs the HTTP API, the cloud connector, retention and the other ' +
          'single tasks, and forks this many SMTP processes that share the listening sockets ' +
          '(the kernel spreads the connections). Each has its own spool (`dataDir/spool-N`), ' +
          'queue, delivery thread and id range (MIDs of SMTP process N start at ' +
          'nodeNumber × 2^40 + N × 2^35), and answers 250 only after its own fsync; a process ' +
          'that dies is restarted and recovers its spool. All share the database. 1 keeps ' +
          'everything in one process.',
      ),
    http: listenAddress('Address of the HTTP API, `/metrics` and `/healthz`.').default(
      '127.0.0.1:8025',
    ),
    listeners: z
      .array(listenerSchema)
      .default([])
      .describe('SMTP listeners; each has its own host and recipient access tables.'),
    smtpRoutes: z
      .array(routeSchema)
      .default([])
      .describe(
        'Where mail goes, by recipient domain (exact, then the longest `.suffix`, then `*`); ' +
          'a domain no route serves is delivered to its MX hosts.',
      ),
    queue: queueSchema.prefault({}).describe('Queue lifetime, retries and processing.'),
    delivery: deliverySchema.prefault({}).describe('Outbound SMTP connections.'),
    spool: spoolSchema.prefault({}).describe('The durable spool (group commit, segments).'),
    tracking: trackingSchema.prefault({}).describe('Batched writes of message tracking.'),
    tls: tlsSchema.prefault({}).describe('Default certificate of the listeners.'),
    rdns: rdnsSchema.prefault({}).describe('Reverse DNS lookups for HAT rules and tracking.'),
    api: apiSchema.prefault({}).describe('HTTP API accounts and access.'),
    log: logSchema.prefault({}).describe('Logging.'),
    pipeline: pipelineConfigSchema
      .prefault({})
      .describe('Content pipeline: analysis, authentication, scanners, policies, quarantines.'),
    remediation: remediationConfigSchema,
    cloud: cloudConfigSchema
      .prefault({})
      .describe(
        'Cloud services: hub servers per region and the connector to the hub (registration, ' +
          'tunnel, usage telemetry). Registration and on/off live in the database, set with ' +
          '`postern gateway cloudserviceconfig`.',
      ),
    relayModule: relayModuleConfigSchema,
  })
  .strict()
  .superRefine((config, ctx) => {
    const names = new Set<string>()
    for (const [i, listener] of config.listeners.entries()) {
      if (names.has(listener.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['listeners', i, 'name'],
          message: `another listener is already named "${listener.name}"`,
        })
      }
      names.add(listener.name)
    }
  })

export type GatewayConfig = z.output<typeof gatewayConfigSchema>
/** What a config file may contain (before defaults are applied). */
export type GatewayConfigInput = z.input<typeof gatewayConfigSchema>

/** Loads and validates the gateway configuration: YAML file, then `POSTERN_*` environment. */
export function loadGatewayConfig(
  configFile: string | undefined,
  env: Record<string, string | undefined>,
): GatewayConfig {
  return loadConfig({ schema: gatewayConfigSchema, file: configFile, env })
}
