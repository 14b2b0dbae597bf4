import {
  Command,
  InvalidArgumentError,
  Option,
  printResult,
  printable,
  renderTable,
} from '@postern/cli-kit'
import type { GatewayClient } from '../cli/client.js'
import { readPassword } from '../cli/password-input.js'
import { BUCKETS } from '../reporting/query.js'
import type { ReportView } from '../reporting/service.js'
import { DELIVERY_STATUSES, parseTextFilterArg, SORT_FIELDS, VERDICTS } from '../search/query.js'
import type { SearchResult, MessageDetailView } from '../search/service.js'
import { gwErrors } from '../errors.js'
import { PROFILE_KINDS, type ProfileKind } from './profile-kinds.js'
import type { ProfileView } from './profiles.js'
import { eventTimeline, time } from '../cli/format.js'

/** What `cli/index.ts` shares with the commands of this area. */
export interface CliHelpers {
  gateway: Command
  tracking: Command
  /** Adds --config/--url/--token/--json. */
  connection(command: Command): Command
  /** Wraps a command body: coded errors are reported and set the exit code. */
  action<A extends unknown[]>(body: (...args: A) => Promise<void>): (...args: A) => Promise<void>
  client(options: { config?: string; url?: string; token?: string }): GatewayClient
}

interface Common {
  config?: string
  url?: string
  token?: string
  json?: boolean
}

interface RunResult {
  run: {
    id: string
    action: string
    status: string
    attempts: number
    counts: { total: number; done: number; notFound: number; failed: number }
    createdAt: number
  }
  targets: {
    messageId: string
    recipient: string
    mids: number[]
    profile: string | null
    status: string
    forwarded: boolean
    deleted: boolean
    folders: string[]
    error: { code: string; message: string } | null
  }[]
}

/** Secret field of each profile kind, read with --secret-stdin or a prompt. */
const SECRET_FIELD: Record<ProfileKind, string | null> = {
  imap: 'masterPassword',
  doveadm: 'apiKey',
  graph: 'clientSecret',
  maildir: null,
  chained: null,
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value]
const collectMid = (value: string, previous: number[] = []): number[] => [
  ...previous,
  positiveInt(value),
]

function positiveInt(value: string): number {
  const n = Number(value)
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError('a positive integer')
  return n
}

function oneOf<T extends string>(values: readonly T[]): (value: string, previous?: T[]) => T[] {
  return (value, previous = []) => {
    if (!(values as readonly string[]).includes(value)) {
      throw new InvalidArgumentError(`one of ${values.join(', ')}`)
    }
    return [...previous, value as T]
  }
}

/** Epoch ms, ISO 8601, or a duration back from now (`30m`, `24h`, `7d`). */
export function parseTime(value: string, now = Date.now()): number {
  const relative = /^(\d+)(m|h|d)$/.exec(value)
  if (relative) {
    const unit = { m: 60_000, h: 3_600_000, d: 86_400_000 }[relative[2] as 'm' | 'h' | 'd']
    return now - Number(relative[1]) * unit
  }
  if (/^\d{10,16}$/.test(value)) return Number(value)
  const parsed = Date.parse(value)
  if (Number.isNaN(parsed))
    throw new InvalidArgumentError('epoch ms, an ISO date-time, or 30m / 24h / 7d ago')
  return parsed
}

function filterOptions(command: Command): Command {
  return command
    .option(
      '--sender <op:value>',
      'envelope sender, is:|begins_with:|contains: (repeatable, any matches)',
      collect,
    )
    .option('--recipient <op:value>', 'envelope recipient (repeatable)', collect)
    .option('--subject <op:value>', 'subject (repeatable)', collect)
    .option('--mid <mid>', 'MID (repeatable)', collectMid)
    .option('--message-id <id>', 'Message-ID header')
    .option('--sender-ip <ip>', 'connecting client address')
    .option('--attachment <op:name>', 'attachment file name (repeatable)', collect)
    .option('--hash <sha256>', 'attachment SHA-256, MD5 or SHA-1 (repeatable)', collect)
    .option('--link <url>', 'a URL found in the message, exact (repeatable)', collect)
    .option('--url-domain <domain>', 'domain of a URL in the message (repeatable)', collect)
    .option('--domain <domain>', 'sender or recipient domain (repeatable)', collect)
    .option('--sender-domain <domain>', 'envelope sender domain (repeatable)', collect)
    .addOption(
      new Option('--verdict <verdict>', `${VERDICTS.join(', ')} (repeatable)`).argParser(
        oneOf(VERDICTS),
      ),
    )
    .addOption(new Option('--direction <direction>').choices(['incoming', 'outgoing']))
    .addOption(
      new Option('--status <status>', 'delivery status (repeatable)').argParser(
        oneOf(DELIVERY_STATUSES),
      ),
    )
}

interface FilterArgs {
  sender?: string[]
  recipient?: string[]
  subject?: string[]
  mid?: number[]
  messageId?: string
  senderIp?: string
  attachment?: string[]
  hash?: string[]
  link?: string[]
  urlDomain?: string[]
  domain?: string[]
  senderDomain?: string[]
  verdict?: string[]
  direction?: string
  status?: string[]
}

function filterBody(o: FilterArgs): Record<string, unknown> {
  return {
    envelopeSenders: (o.sender ?? []).map(parseTextFilterArg),
    envelopeRecipients: (o.recipient ?? []).map(parseTextFilterArg),
    subjects: (o.subject ?? []).map(parseTextFilterArg),
    mids: o.mid ?? [],
    ...(o.messageId ? { messageId: o.messageId } : {}),
    ...(o.senderIp ? { senderIp: o.senderIp } : {}),
    attachmentNames: (o.attachment ?? []).map(parseTextFilterArg),
    attachmentHashes: o.hash ?? [],
    urls: o.link ?? [],
    urlDomains: o.urlDomain ?? [],
    domains: o.domain ?? [],
    senderDomains: o.senderDomain ?? [],
    verdicts: o.verdict ?? [],
    ...(o.direction ? { direction: o.direction } : {}),
    statuses: o.status ?? [],
  }
}

function renderRun(result: RunResult): string {
  const { run } = result
  return [
    `run ${run.id}  ${run.action}  ${run.status}  attempt ${run.attempts}: ${run.counts.done} done, ${run.counts.notFound} not found, ${run.counts.failed} failed of ${run.counts.total}`,
    renderTable(
      ['RECIPIENT', 'STATUS', 'PROFILE', 'FOLDERS', 'FWD', 'DEL', 'ERROR'],
      result.targets.map((t) => [
        t.recipient,
        t.status,
        t.profile ?? '',
        t.folders.join(','),
        t.forwarded ? 'yes' : '',
        t.deleted ? 'yes' : '',
        t.error ? `${t.error.code}: ${t.error.message}` : '',
      ]),
    ),
  ].join('\n')
}

/** Exit code of a remediation command: 0 when nothing failed, 1 otherwise (scripts can retry). */
function runExitCode(result: RunResult): number {
  return result.run.counts.failed > 0 || result.run.status === 'running' ? 1 : 0
}

/**
 * `postern gateway tracking search|detail|report`, `postern gateway remediate` and
 * `postern gateway remediation runs|run|retry|profile …`, all through the running gateway's API.
 */
export function addRemediationCommands(h: CliHelpers): void {
  const { connection, action, client } = h

  h.tracking.addCommand(
    filterOptions(connection(new Command('search')))
      .description('Search tracked messages (the ESA grammar: is:, begins_with:, contains:)')
      .option(
        '--since <time>',
        'received at or after: epoch ms, ISO date-time, or 30m/24h/7d ago',
        (v) => parseTime(v),
      )
      .option('--until <time>', 'received before', (v) => parseTime(v))
      .addOption(new Option('--sort <field>').choices([...SORT_FIELDS]).default('received_at'))
      .option('--asc', 'oldest / smallest first')
      .option('--limit <n>', 'rows per page (max 1000)', positiveInt, 50)
      .option('--offset <n>', 'rows to skip', (v) => Number(v), 0)
      .addHelpText(
        'after',
        '\nExamples:\n  postern gateway tracking search --sender contains:evil.test --sender is:ceo@example.org --since 24h\n  postern gateway tracking search --url-domain evil.test --verdict spam --verdict virus --json',
      )
      .action(
        action(
          async (
            o: Common &
              FilterArgs & {
                since?: number
                until?: number
                sort: string
                asc?: boolean
                limit: number
                offset: number
              },
          ) => {
            const result = await client(o).request<SearchResult>(
              'POST',
              '/api/v1/tracking/search',
              {
                ...filterBody(o),
                ...(o.since !== undefined ? { since: o.since } : {}),
                ...(o.until !== undefined ? { until: o.until } : {}),
                sort: { field: o.sort, order: o.asc ? 'asc' : 'desc' },
                limit: o.limit,
                offset: o.offset,
              },
            )
            printResult(result, {
              json: Boolean(o.json),
              render: (r) =>
                [
                  renderTable(
                    [
                      'MID',
                      'RECEIVED',
                      'DIR',
                      'SENDER',
                      'RECIPIENTS',
                      'SUBJECT',
                      'STATUS',
                      'VERDICTS',
                    ],
                    r.data.map((m) => [
                      m.mid,
                      time(m.receivedAt),
                      m.direction === 'outgoing' ? 'out' : 'in',
                      m.envelopeSender || '<>',
                      m.recipients.length > 2
                        ? `${m.recipients.slice(0, 2).join(',')} +${m.recipients.length - 2}`
                        : m.recipients.join(','),
                      (m.subject ?? '').slice(0, 50),
                      m.status,
                      m.verdicts.join(','),
                    ]),
                  ),
                  `${r.data.length} shown of ${r.meta.totalIsCapped ? `more than ${r.meta.total}` : r.meta.total} (offset ${r.meta.offset})`,
                ].join('\n'),
            })
          },
        ),
      ),
  )

  h.tracking.addCommand(
    connection(new Command('detail'))
      .description(
        'Everything about a message: envelope, recipients, timeline, verdicts, URLs, attachments, remediation',
      )
      .argument('<mid>', 'message id', positiveInt)
      .action(
        action(async (mid: number, o: Common) => {
          const d = await client(o).request<MessageDetailView>(
            'GET',
            `/api/v1/tracking/messages/${mid}/detail`,
          )
          printResult(d, {
            json: Boolean(o.json),
            render: (r) =>
              [
                `MID ${r.message.mid}  ${r.message.status}  ${r.message.direction}  ${time(r.message.receivedAt)}`,
                `from ${printable(r.message.envelopeSender || '<>')} [${r.message.senderIp}]  Message-ID ${printable(r.message.messageId ?? '(none)')}`,
                `subject ${printable(r.message.subject ?? '')}`,
                `verdicts ${r.analysis ? r.analysis.verdicts.join(', ') || 'clean' : '(not analysed)'}${r.analysis?.policy ? `  policy ${r.analysis.policy}` : ''}`,
                '',
                renderTable(
                  ['RECIPIENT', 'STATUS', 'LAST REPLY'],
                  r.recipients.map((x) => [x.address, x.status, x.lastReply ?? '']),
                ),
                ...(r.urls.length
                  ? [
                      '',
                      renderTable(
                        ['URL', 'DOMAIN'],
                        r.urls.map((u) => [u.url.slice(0, 100), u.domain]),
                      ),
                    ]
                  : []),
                ...(r.attachments.length
                  ? [
                      '',
                      renderTable(
                        ['ATTACHMENT', 'TYPE', 'SIZE', 'SHA-256'],
                        r.attachments.map((a) => [
                          a.filename ?? '',
                          a.sniffedType ?? a.declaredType ?? '',
                          a.size,
                          a.sha256 ?? '',
                        ]),
                      ),
                    ]
                  : []),
                '',
                eventTimeline(r.events),
                ...(r.remediation.length
                  ? [
                      '',
                      renderTable(
                        ['REMEDIATION', 'ACTION', 'BY', 'RECIPIENT', 'STATUS'],
                        r.remediation.map((x) => [
                          time(x.run.createdAt),
                          x.run.action,
                          `${x.run.actor.id} (${x.run.source})`,
                          x.recipient,
                          x.status,
                        ]),
                      ),
                    ]
                  : []),
              ].join('\n'),
          })
        }),
      ),
  )

  h.tracking.addCommand(
    filterOptions(connection(new Command('report')))
      .description(
        'Email reporting: counts by verdict, top senders/recipients/threats, sender→recipient graph',
      )
      .requiredOption('--since <time>', 'start: epoch ms, ISO date-time, or 30m/24h/7d ago', (v) =>
        parseTime(v),
      )
      .option('--until <time>', 'end (default now)', (v) => parseTime(v))
      .addOption(new Option('--bucket <bucket>').choices([...BUCKETS]))
      .option('--top <n>', 'rows per top list', positiveInt, 10)
      .action(
        action(
          async (
            o: Common &
              FilterArgs & { since: number; until?: number; bucket?: string; top: number },
          ) => {
            const report = await client(o).request<ReportView>('POST', '/api/v1/reporting/report', {
              since: o.since,
              until: o.until ?? Date.now(),
              ...(o.bucket ? { bucket: o.bucket } : {}),
              top: o.top,
              filter: filterBody(o),
            })
            printResult(report, {
              json: Boolean(o.json),
              render: (r) => {
                const t = r.totals
                const rankedTable = (title: string, rows: { value: string; count: number }[]) =>
                  rows.length
                    ? `\n${renderTable(
                        [title, 'MESSAGES'],
                        rows.map((x) => [x.value, x.count]),
                      )}`
                    : ''
                return [
                  `incoming ${t.incoming.total} (clean ${t.incoming.clean}, spam ${t.incoming.spam}, virus ${t.incoming.virus}, blocked ${t.incoming.blocked}, phish ${t.incoming.phish}, auth failed ${t.incoming.authFailed}, quarantined ${t.incoming.quarantined})`,
                  `outgoing ${t.outgoing.total} (clean ${t.outgoing.clean}, spam ${t.outgoing.spam}, virus ${t.outgoing.virus})`,
                  rankedTable('TOP SENDER', r.topSenders),
                  rankedTable('TOP SENDER DOMAIN', r.topSenderDomains),
                  rankedTable('TOP RECIPIENT', r.topRecipients),
                  rankedTable('THREAT URL', r.topThreats.urls),
                  rankedTable('THREAT DOMAIN', r.topThreats.domains),
                  rankedTable('THREAT SHA-256', r.topThreats.hashes),
                  `\nrelationship graph: ${r.relationships.nodes.length} nodes, ${r.relationships.edges.length} edges (--json for the data)`,
                ].join('\n')
              },
            })
          },
        ),
      ),
  )

  h.gateway.addCommand(
    connection(new Command('remediate'))
      .description(
        'Delete, forward, or forward and delete a delivered message in its recipients’ mailboxes',
      )
      .addOption(
        new Option('--action <action>')
          .choices(['delete', 'forward', 'forward-delete'])
          .makeOptionMandatory(),
      )
      .option('--mid <mid>', 'MID (repeatable)', collectMid)
      .option('--message-id <id>', 'Message-ID: every MID tracked with it (repeatable)', collect)
      .option(
        '--recipient <address>',
        'only this recipient (repeatable; default: all delivered)',
        collect,
      )
      .option(
        '--forward-to <address>',
        'forward address (repeatable; default remediation.forward.address)',
        collect,
      )
      .option('--reason <text>', 'why (kept with the run and in forwards)')
      .option(
        '--idempotency-key <key>',
        'repeating the command with the same key returns the first run',
      )
      .option('--no-wait', 'return at once with the run id instead of waiting for the results')
      .addHelpText(
        'after',
        '\nExit code: 0 when every mailbox is done or not found, 1 when any failed (retry with\n`postern gateway remediation retry <run>`).',
      )
      .action(
        action(
          async (
            o: Common & {
              action: string
              mid?: number[]
              messageId?: string[]
              recipient?: string[]
              forwardTo?: string[]
              reason?: string
              idempotencyKey?: string
              wait: boolean
            },
          ) => {
            if (!o.mid?.length && !o.messageId?.length) {
              throw gwErrors.REMEDIATION_MESSAGE_NOT_FOUND({
                what: 'the command: give --mid or --message-id',
              })
            }
            const result = await client(o).request<RunResult>('POST', '/api/v1/remediation', {
              action: o.action,
              ...(o.mid?.length ? { mids: o.mid } : {}),
              ...(o.messageId?.length ? { messageIds: o.messageId } : {}),
              ...(o.recipient?.length ? { recipients: o.recipient } : {}),
              ...(o.forwardTo?.length ? { forwardTo: o.forwardTo } : {}),
              ...(o.reason ? { reason: o.reason } : {}),
              ...(o.idempotencyKey ? { idempotencyKey: o.idempotencyKey } : {}),
              wait: o.wait,
            })
            printResult(result, { json: Boolean(o.json), render: renderRun })
            if (o.wait) process.exitCode = runExitCode(result)
          },
        ),
      ),
  )

  const remediation = new Command('remediation').description(
    'Remediation runs and profiles of a running gateway',
  )
  remediation.addCommand(
    connection(new Command('runs'))
      .description('Recent remediation runs')
      .addOption(
        new Option('--status <status>').choices(['running', 'completed', 'partial', 'failed']),
      )
      .option('--limit <n>', 'rows', positiveInt, 50)
      .action(
        action(async (o: Common & { status?: string; limit: number }) => {
          const query = new URLSearchParams({
            limit: String(o.limit),
            ...(o.status ? { status: o.status } : {}),
          })
          const result = await client(o).request<{ total: number; runs: RunResult['run'][] }>(
            'GET',
            `/api/v1/remediation/runs?${query}`,
          )
          printResult(result, {
            json: Boolean(o.json),
            render: (r) =>
              renderTable(
                ['RUN', 'CREATED', 'ACTION', 'STATUS', 'DONE', 'NOT FOUND', 'FAILED'],
                r.runs.map((x) => [
                  x.id,
                  time(x.createdAt),
                  x.action,
                  x.status,
                  x.counts.done,
                  x.counts.notFound,
                  x.counts.failed,
                ]),
              ),
          })
        }),
      ),
  )
  remediation.addCommand(
    connection(new Command('run'))
      .description('A run with its result per mailbox')
      .argument('<id>', 'run id')
      .action(
        action(async (id: string, o: Common) => {
          const result = await client(o).request<RunResult>(
            'GET',
            `/api/v1/remediation/runs/${encodeURIComponent(id)}`,
          )
          printResult(result, { json: Boolean(o.json), render: renderRun })
        }),
      ),
  )
  remediation.addCommand(
    connection(new Command('retry'))
      .description('Run again the mailboxes of a run that failed or did not finish')
      .argument('<id>', 'run id')
      .action(
        action(async (id: string, o: Common) => {
          const result = await client(o).request<RunResult>(
            'POST',
            `/api/v1/remediation/runs/${encodeURIComponent(id)}/retry`,
            { wait: true },
          )
          printResult(result, { json: Boolean(o.json), render: renderRun })
          process.exitCode = runExitCode(result)
        }),
      ),
  )

  const profile = new Command('profile').description(
    'Remediation profiles: how to reach the mailboxes of each recipient domain',
  )
  const renderProfiles = (rows: ProfileView[]) =>
    renderTable(
      ['PROFILE', 'KIND', 'ENABLED', 'DOMAINS', 'SECRETS', 'DESCRIPTION'],
      rows.map((p) => [
        p.name,
        p.kind,
        p.enabled ? 'yes' : 'no',
        p.domains.join(','),
        p.secretsSet.join(','),
        p.description,
      ]),
    )
  profile.addCommand(
    connection(new Command('list'))
      .description('List profiles')
      .action(
        action(async (o: Common) => {
          const { profiles } = await client(o).request<{ profiles: ProfileView[] }>(
            'GET',
            '/api/v1/remediation/profiles',
          )
          printResult(profiles, { json: Boolean(o.json), render: renderProfiles })
        }),
      ),
  )
  profile.addCommand(
    connection(new Command('show'))
      .description('One profile with its settings')
      .argument('<name>')
      .action(
        action(async (name: string, o: Common) => {
          const p = await client(o).request<ProfileView>(
            'GET',
            `/api/v1/remediation/profiles/${encodeURIComponent(name)}`,
          )
          printResult(p, {
            json: Boolean(o.json),
            render: (v) =>
              `${renderProfiles([v])}\n\n${renderTable(
                ['SETTING', 'VALUE'],
                Object.entries(v.settings).map(([k, x]) => [k, JSON.stringify(x)]),
              )}`,
          })
        }),
      ),
  )
  const profileFields = (command: Command) =>
    command
      .option(
        '--domain <domain>',
        'recipient domain served: example.org, *.example.org or * (repeatable)',
        collect,
      )
      .option(
        '--set <key=value>',
        'a setting of the kind (repeatable; JSON values allowed), e.g. host=imap.example.org',
        collect,
      )
      .option('--description <text>', 'free text')
      .option(
        '--secret-stdin',
        'read the secret (IMAP master password / Graph client secret) from standard input',
      )
  profile.addCommand(
    profileFields(connection(new Command('add')))
      .description('Create a profile (asks for the secret of imap and graph profiles)')
      .argument('<name>')
      .addOption(new Option('--kind <kind>').choices([...PROFILE_KINDS]).makeOptionMandatory())
      .option('--disabled', 'create it disabled')
      .addHelpText(
        'after',
        '\nExamples:\n  postern gateway remediation profile add dovecot --kind imap --domain example.org \\\n    --set host=imap.example.org --set masterUser=postern\n  postern gateway remediation profile add m365 --kind graph --domain cloud.example.org \\\n    --set tenantId=contoso.onmicrosoft.com --set clientId=… --secret-stdin < secret.txt\n  postern gateway remediation profile add hybrid --kind chained --domain example.com --set profiles=\'["dovecot","m365"]\'',
      )
      .action(
        action(
          async (
            name: string,
            o: Common & {
              kind: ProfileKind
              domain?: string[]
              set?: string[]
              description?: string
              secretStdin?: boolean
              disabled?: boolean
            },
          ) => {
            const field = SECRET_FIELD[o.kind]
            const secrets = field
              ? {
                  [field]: await readPassword(`${field} for profile ${name}: `, {
                    fromStdin: Boolean(o.secretStdin),
                    confirm: false,
                  }),
                }
              : {}
            const created = await client(o).request<ProfileView>(
              'POST',
              '/api/v1/remediation/profiles',
              {
                name,
                kind: o.kind,
                description: o.description ?? '',
                domains: o.domain ?? [],
                enabled: !o.disabled,
                settings: parseSettings(o.set ?? []),
                secrets,
              },
            )
            printResult(created, {
              json: Boolean(o.json),
              render: (p) =>
                `profile ${p.name} created (${p.kind}, domains ${p.domains.join(',') || 'none'})`,
            })
          },
        ),
      ),
  )
  profile.addCommand(
    profileFields(connection(new Command('update')))
      .description(
        'Change a profile (settings given replace those keys; the secret is kept unless --secret-stdin)',
      )
      .argument('<name>')
      .option('--enable', 'enable it')
      .option('--disable', 'disable it')
      .action(
        action(
          async (
            name: string,
            o: Common & {
              domain?: string[]
              set?: string[]
              description?: string
              secretStdin?: boolean
              enable?: boolean
              disable?: boolean
            },
          ) => {
            const c = client(o)
            const current = await c.request<ProfileView>(
              'GET',
              `/api/v1/remediation/profiles/${encodeURIComponent(name)}`,
            )
            const field = SECRET_FIELD[current.kind]
            const updated = await c.request<ProfileView>(
              'PATCH',
              `/api/v1/remediation/profiles/${encodeURIComponent(name)}`,
              {
                ...(o.domain ? { domains: o.domain } : {}),
                ...(o.set ? { settings: parseSettings(o.set) } : {}),
                ...(o.description !== undefined ? { description: o.description } : {}),
                ...(o.enable ? { enabled: true } : o.disable ? { enabled: false } : {}),
                ...(o.secretStdin && field
                  ? {
                      secrets: {
                        [field]: await readPassword('', { fromStdin: true, confirm: false }),
                      },
                    }
                  : {}),
              },
            )
            printResult(updated, {
              json: Boolean(o.json),
              render: (p) => `profile ${p.name} updated`,
            })
          },
        ),
      ),
  )
  profile.addCommand(
    connection(new Command('delete'))
      .description('Delete a profile')
      .argument('<name>')
      .action(
        action(async (name: string, o: Common) => {
          const result = await client(o).request<{ ok: boolean }>(
            'DELETE',
            `/api/v1/remediation/profiles/${encodeURIComponent(name)}`,
          )
          printResult(result, { json: Boolean(o.json), render: () => `profile ${name} deleted` })
        }),
      ),
  )
  profile.addCommand(
    connection(new Command('test'))
      .description('Open a mailbox through the profile and search it, changing nothing')
      .argument('<name>')
      .requiredOption('--mailbox <address>', 'a mailbox the profile serves')
      .action(
        action(async (name: string, o: Common & { mailbox: string }) => {
          const result = await client(o).request<{ ok: boolean; profile: string; mailbox: string }>(
            'POST',
            `/api/v1/remediation/profiles/${encodeURIComponent(name)}/test`,
            { mailbox: o.mailbox },
          )
          printResult(result, {
            json: Boolean(o.json),
            render: (r) => `ok: ${r.mailbox} opened and searched through profile ${r.profile}`,
          })
        }),
      ),
  )
  remediation.addCommand(profile)
  h.gateway.addCommand(remediation)
}

/** `key=value` pairs; values that parse as JSON (numbers, booleans, arrays) are taken as such. */
export function parseSettings(pairs: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const pair of pairs) {
    const eq = pair.indexOf('=')
    if (eq < 1) throw new InvalidArgumentError(`--set takes key=value, got "${pair}"`)
    const raw = pair.slice(eq + 1)
    let value: unknown = raw
    try {
      value = JSON.parse(raw)
    } catch {
      value = raw
    }
    out[pair.slice(0, eq)] = value
  }
  return out
}
