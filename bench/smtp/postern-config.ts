/**
 * The gateway configurations bench:smtp writes, one per Postern row, with the keys of
 * apps/gateway/src/config.ts (`dataDir`, `listeners[]` with `hat`/`rat`, `smtpRoutes`, `http`).
 * Everything else stays at the gateway's defaults: fsync before 250 (the targets are measured
 * with it), no pregreet delay, opportunistic TLS towards smtp-sink (which
 * offers none, as Postfix and Haraka are left to find out by themselves).
 *
 * The `pipeline` key is apps/gateway/src/pipeline/config.ts (issue 3): off for the relay row,
 * on with its defaults for the pipeline rows (authentication through the system's resolver,
 * block lists, default policies, tracking), scanners only in the last row. When the gateway
 * rejects a file (exit code 78), the bench shows that row as "not available" with the gateway's
 * own validation message, so a drift is visible, never silent.
 *
 * Every row runs the gateway as one process by default (on 2 cores, `smtpProcesses: auto`
 * measured 12–31 % more CPU per message and nearly twice the idle-session memory);
 * `bench:smtp --smtp-processes <n|auto>` runs that many SMTP processes next to a primary (each
 * with its own spool and the same fsync before 250), for machines with cores to spread over.
 */

/** The gateway's `smtpProcesses`: a count, or `auto` (one per CPU). */
export type SmtpProcessesSetting = number | 'auto'

export type PosternVariant = 'relay' | 'pipeline' | 'scanners'

export interface ScannerEndpoints {
  /** rspamd's normal worker, e.g. http://127.0.0.1:11333 */
  rspamdUrl: string
  /** clamd's TCP socket. */
  clamd: { host: string; port: number }
}

export interface PosternConfigInput {
  dataDir: string
  smtpPort: number
  httpPort: number
  sinkPort: number
  /** The gateway's `smtpProcesses` (default 1: everything in one process). */
  smtpProcesses?: SmtpProcessesSetting
  /** Only for the "scanners" variant. */
  scanners?: ScannerEndpoints
}

export function posternConfig(variant: PosternVariant, input: PosternConfigInput): object {
  const relay = {
    dataDir: input.dataDir,
    http: `127.0.0.1:${input.httpPort}`,
    listeners: [
      {
        name: 'bench',
        smtp: `127.0.0.1:${input.smtpPort}`,
        // Mail for example.org arrives as from the internet (an ACCEPTED group, incoming
        // direction), the case a security gateway exists for: the pipeline rows then run every
        // check (outgoing mail skips the display-name and new-sender-domain checks). Haraka's
        // host_list and Postfix's mynetworks accept the same mail.
        hat: [
          {
            senderGroup: 'BENCH',
            match: ['127.0.0.0/8'],
            policy: 'ACCEPTED',
            // The idle-session measurement holds 1 000 sessions from 10 loopback addresses;
            // the listener's default of 50 per IP is meant for internet clients.
            maxConnectionsPerIp: 1000,
          },
        ],
        rat: [{ recipient: 'example.org', action: 'ACCEPT' }],
      },
    ],
    smtpRoutes: [{ domain: '*', to: [`127.0.0.1:${input.sinkPort}`] }],
    smtpProcesses: input.smtpProcesses ?? 1,
  }
  switch (variant) {
    case 'relay':
      // A pure relay: the content pipeline (on by default) delivers every message as received.
      return { ...relay, pipeline: { enabled: false } }
    case 'pipeline':
      // Parse, hashes, authentication (caching resolver), block lists, policies, tracking;
      // no external scanner.
      return {
        ...relay,
        pipeline: {
          enabled: true,
          scanners: { rspamd: { enabled: false }, clamav: { enabled: false } },
        },
      }
    case 'scanners': {
      if (!input.scanners) throw new Error('the scanners variant needs rspamd and clamd endpoints')
      const { rspamdUrl, clamd } = input.scanners
      return {
        ...relay,
        pipeline: {
          enabled: true,
          scanners: {
            rspamd: { enabled: true, url: rspamdUrl },
            clamav: { enabled: true, address: `${clamd.host}:${clamd.port}` },
          },
        },
      }
    }
  }
}

/** The file the gateway reads: JSON is valid YAML, so no YAML library is needed to write it. */
export function renderConfigFile(config: object): string {
  return `# Written by npm run bench:smtp for one measurement; safe to delete.\n${JSON.stringify(config, null, 2)}\n`
}
