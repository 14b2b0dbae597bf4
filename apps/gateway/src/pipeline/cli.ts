import {
  Command,
  InvalidArgumentError,
  Option,
  printable,
  printResult,
  renderTable,
  reportError,
} from '@postern/cli-kit'
import type { BlockedSender, BlocklistEntry, BlocklistKind, QuarantineItem } from '@postern/store'
import { parseDuration } from '../config-values.js'
import type { QuarantineView } from '../quarantine/quarantine-service.js'

/**
 * The block list kinds, spelled here so that the CLI does not load the storage layer to print
 * its help; the type below fails to compile if the store gains a kind this list lacks.
 */
const BLOCKLIST_KINDS = [
  'sender_address',
  'sender_domain',
  'sender_ip',
  'url',
  'url_domain',
  'attachment_hash',
] as const satisfies readonly BlocklistKind[]
type UnlistedKinds = Exclude<BlocklistKind, (typeof BLOCKLIST_KINDS)[number]>
const EVERY_KIND_LISTED: [UnlistedKinds] extends [never] ? true : never = true

/** What the gateway CLI shares with the content commands (connection options, errors, client). */
export interface CliHelpers<O extends { json?: boolean }> {
  connection(command: Command): Command
  action<A extends unknown[]>(body: (...args: A) => Promise<void>): (...args: A) => Promise<void>
  client(options: O): { request<T>(method: string, path: string, body?: unknown): Promise<T> }
  time(ms: number | null): string
}

function positiveId(value: string): number {
  const id = Number(value)
  if (!Number.isSafeInteger(id) || id <= 0)
    throw new InvalidArgumentError('an id is a positive integer')
  return id
}

function collectIds(value: string, previous: number[] = []): number[] {
  return [...previous, positiveId(value)]
}

function duration(value: string): number {
  const ms = parseDuration(value)
  if (!Number.isFinite(ms) || ms <= 0) throw new InvalidArgumentError('write e.g. 12h, 7d or 30d')
  return ms
}

/** Runs `request` for each id, prints one line per id, and fails (exit code) if any failed. */
async function forEachId<O extends { json?: boolean }>(
  ids: number[],
  options: O,
  verb: string,
  request: (id: number) => Promise<unknown>,
): Promise<void> {
  const done: { id: number; ok: boolean; error?: string }[] = []
  let failed: unknown
  for (const id of ids) {
    try {
      await request(id)
      done.push({ id, ok: true })
    } catch (err) {
      failed ??= err
      done.push({ id, ok: false, error: (err as Error).message })
    }
  }
  printResult(done, {
    json: Boolean(options.json),
    render: (rows) => rows.map((r) => `${r.id}: ${r.ok ? verb : `failed: ${r.error}`}`).join('\n'),
  })
  if (failed) process.exitCode = reportError(failed, { json: Boolean(options.json) })
}

/** `postern gateway quarantine …`: list, show, release and delete quarantined messages. */
export function quarantineCommand<O extends { json?: boolean }>(h: CliHelpers<O>): Command {
  const quarantine = new Command('quarantine').description(
    'Look at and act on quarantined messages',
  )
  quarantine.addCommand(
    h
      .connection(new Command('summary'))
      .description('The quarantines with their retention and what they hold')
      .action(
        h.action(async (options: O) => {
          const result = await h.client(options).request<{
            quarantines: {
              name: string
              retentionMs: number
              onExpiry: string
              held: number
              bytes: number
            }[]
          }>('GET', '/api/v1/quarantines')
          printResult(result, {
            json: Boolean(options.json),
            render: (r) =>
              renderTable(
                ['QUARANTINE', 'HELD', 'BYTES', 'RETENTION', 'ON EXPIRY'],
                r.quarantines.map((q) => [
                  q.name,
                  q.held,
                  q.bytes,
                  `${Math.round(q.retentionMs / 86_400_000)}d`,
                  q.onExpiry,
                ]),
              ),
          })
        }),
      ),
  )
  quarantine.addCommand(
    h
      .connection(new Command('list'))
      .description('Quarantined messages, newest first')
      .option('--quarantine <name>', 'only this quarantine (policy, virus, spam, malformed …)')
      .addOption(
        new Option('--status <status>', 'only this status')
          .choices(['held', 'released', 'deleted', 'expired'])
          .default('held'),
      )
      .option('--search <text>', 'text in the sender, From, subject or a recipient')
      .option('--mid <mid>', 'only this MID', positiveId)
      .option('--limit <n>', 'at most this many', (v) => Number(v), 50)
      .action(
        h.action(
          async (
            options: O & {
              quarantine?: string
              status: string
              search?: string
              mid?: number
              limit: number
            },
          ) => {
            const query = new URLSearchParams({
              status: options.status,
              limit: String(options.limit),
            })
            if (options.quarantine) query.set('quarantine', options.quarantine)
            if (options.search) query.set('search', options.search)
            if (options.mid) query.set('mid', String(options.mid))
            const result = await h
              .client(options)
              .request<{ total: number; items: QuarantineItem[] }>(
                'GET',
                `/api/v1/quarantine/messages?${query}`,
              )
            printResult(result, {
              json: Boolean(options.json),
              render: (r) =>
                r.items.length === 0
                  ? 'Nothing is quarantined with these filters.'
                  : `${renderTable(
                      [
                        'ID',
                        'MID',
                        'QUARANTINE',
                        'HELD SINCE',
                        'FROM',
                        'RCPTS',
                        'SUBJECT',
                        'REASON',
                      ],
                      r.items.map((i) => [
                        i.id,
                        i.mid,
                        i.quarantine,
                        h.time(i.createdAt),
                        i.envelopeSender || '<>',
                        i.recipients.length,
                        (i.subject ?? '').slice(0, 50),
                        i.reason.slice(0, 50),
                      ]),
                    )}\n${r.items.length} of ${r.total} shown`,
            })
          },
        ),
      ),
  )
  quarantine.addCommand(
    h
      .connection(new Command('show'))
      .description(
        'Headers and readable text of a quarantined message (control characters replaced)',
      )
      .argument('<id>', 'quarantine item id', positiveId)
      .action(
        h.action(async (id: number, options: O) => {
          const view = await h
            .client(options)
            .request<QuarantineView>('GET', `/api/v1/quarantine/messages/${id}/view`)
          printResult(view, {
            json: Boolean(options.json),
            render: (v) =>
              [
                `Item ${v.item.id}  MID ${v.item.mid}  ${v.item.quarantine} (${v.item.status})  ${v.item.reason}`,
                `from ${printable(v.item.envelopeSender || '<>')} to ${v.item.recipients.map(printable).join(', ')}`,
                '',
                ...v.headers.map((hd) => `${printable(hd.name)}: ${printable(hd.value)}`),
                '',
                ...(v.text ?? '(no readable text)').split('\n').map(printable),
                ...(v.attachments.length > 0
                  ? [
                      '',
                      'Attachments:',
                      ...v.attachments.map(
                        (a) =>
                          `  ${printable(a.filename ?? '(unnamed)')}  ${a.type}  ${a.size} bytes  sha256 ${a.sha256}`,
                      ),
                    ]
                  : []),
                ...(v.urls.length > 0
                  ? ['', 'URLs:', ...v.urls.map((u) => `  ${printable(u)}`)]
                  : []),
              ].join('\n'),
          })
        }),
      ),
  )
  for (const [name, method, suffix, verb, description] of [
    [
      'release',
      'POST',
      '/release',
      'released',
      'Release held messages: delivered through the queue',
    ],
    ['delete', 'DELETE', '', 'deleted', 'Delete held messages'],
  ] as const) {
    quarantine.addCommand(
      h
        .connection(new Command(name))
        .description(description)
        .argument('<id...>', 'quarantine item ids', collectIds)
        .action(
          h.action(async (ids: number[], options: O) => {
            const api = h.client(options)
            await forEachId(ids, options, verb, (id) =>
              api.request(method, `/api/v1/quarantine/messages/${id}${suffix}`),
            )
          }),
        ),
    )
  }
  return quarantine
}

/** `postern gateway blocklist …`: the block lists (senders, domains, IPs, URLs, hashes). */
export function blocklistCommand<O extends { json?: boolean }>(h: CliHelpers<O>): Command {
  const blocklist = new Command('blocklist').description('Manage the block lists')
  const kinds = EVERY_KIND_LISTED && [...BLOCKLIST_KINDS].join(', ')
  blocklist.addCommand(
    h
      .connection(new Command('list'))
      .description('Block list entries, newest first')
      .addOption(new Option('--kind <kind>', 'only this kind').choices([...BLOCKLIST_KINDS]))
      .option('--search <text>', 'text in the value')
      .option('--all', 'include entries past their expiry')
      .option('--limit <n>', 'at most this many', (v) => Number(v), 100)
      .action(
        h.action(
          async (options: O & { kind?: string; search?: string; all?: boolean; limit: number }) => {
            const query = new URLSearchParams({ limit: String(options.limit) })
            if (options.kind) query.set('kind', options.kind)
            if (options.search) query.set('search', options.search)
            if (options.all) query.set('includeExpired', 'true')
            const result = await h
              .client(options)
              .request<{ total: number; entries: BlocklistEntry[] }>(
                'GET',
                `/api/v1/blocklists?${query}`,
              )
            printResult(result, {
              json: Boolean(options.json),
              render: (r) =>
                r.entries.length === 0
                  ? 'No block list entries.'
                  : `${renderTable(
                      ['ID', 'KIND', 'VALUE', 'SOURCE', 'BY', 'CREATED', 'EXPIRES', 'REASON'],
                      r.entries.map((e) => [
                        e.id,
                        e.kind,
                        e.value.slice(0, 80),
                        e.source,
                        e.createdBy,
                        h.time(e.createdAt),
                        h.time(e.expiresAt),
                        e.reason.slice(0, 50),
                      ]),
                    )}\n${r.entries.length} of ${r.total} shown`,
            })
          },
        ),
      ),
  )
  blocklist.addCommand(
    h
      .connection(new Command('add'))
      .description('Add an entry (defanged values such as hxxps://evil[.]example are accepted)')
      .argument('<kind>', kinds, (value: string) => {
        if (!(BLOCKLIST_KINDS as readonly string[]).includes(value))
          throw new InvalidArgumentError(`use one of ${kinds}`)
        return value
      })
      .argument('<value>', 'address, domain, IP or CIDR, URL, or hash')
      .requiredOption('--reason <text>', 'why (shown in tracking and to other operators)')
      .option('--expires <duration>', 'remove automatically after this long (e.g. 7d)', duration)
      .action(
        h.action(
          async (
            kind: string,
            value: string,
            options: O & { reason: string; expires?: number },
          ) => {
            const entry = await h
              .client(options)
              .request<BlocklistEntry>('POST', '/api/v1/blocklists', {
                kind,
                value,
                reason: options.reason,
                ...(options.expires ? { expiresAt: Date.now() + options.expires } : {}),
              })
            printResult(entry, {
              json: Boolean(options.json),
              render: (e) =>
                `added ${e.kind} ${e.value} (id ${e.id}${e.expiresAt ? `, expires ${h.time(e.expiresAt)}` : ''})`,
            })
          },
        ),
      ),
  )
  blocklist.addCommand(
    h
      .connection(new Command('remove'))
      .description('Remove entries by id')
      .argument('<id...>', 'entry ids', collectIds)
      .action(
        h.action(async (ids: number[], options: O) => {
          const api = h.client(options)
          await forEachId(ids, options, 'removed', (id) =>
            api.request('DELETE', `/api/v1/blocklists/${id}`),
          )
        }),
      ),
  )
  return blocklist
}

/** `postern gateway blocked-users …`: internal users whose outgoing mail is refused. */
export function blockedUsersCommand<O extends { json?: boolean }>(h: CliHelpers<O>): Command {
  const users = new Command('blocked-users').description(
    'Internal users whose outgoing mail is refused (compromised accounts)',
  )
  users.addCommand(
    h
      .connection(new Command('list'))
      .description('Blocked users, newest first')
      .action(
        h.action(async (options: O) => {
          const result = await h
            .client(options)
            .request<{ users: BlockedSender[] }>('GET', '/api/v1/blocked-users')
          printResult(result, {
            json: Boolean(options.json),
            render: (r) =>
              r.users.length === 0
                ? 'No user is blocked.'
                : renderTable(
                    ['ADDRESS', 'SINCE', 'SOURCE', 'BY', 'MID', 'REASON'],
                    r.users.map((u) => [
                      u.address,
                      h.time(u.createdAt),
                      u.source,
                      u.createdBy,
                      u.mid ?? '',
                      u.reason.slice(0, 60),
                    ]),
                  ),
          })
        }),
      ),
  )
  users.addCommand(
    h
      .connection(new Command('block'))
      .description('Refuse a user’s outgoing mail until unblocked')
      .argument('<address>', 'the user’s address')
      .requiredOption('--reason <text>', 'why')
      .action(
        h.action(async (address: string, options: O & { reason: string }) => {
          const result = await h
            .client(options)
            .request<{ user: BlockedSender; created: boolean }>('POST', '/api/v1/blocked-users', {
              address,
              reason: options.reason,
            })
          printResult(result, {
            json: Boolean(options.json),
            render: (r) =>
              r.created
                ? `blocked ${r.user.address}`
                : `${r.user.address} was already blocked (${r.user.reason})`,
          })
        }),
      ),
  )
  users.addCommand(
    h
      .connection(new Command('unblock'))
      .description('Accept a user’s outgoing mail again')
      .argument('<address>', 'the user’s address')
      .action(
        h.action(async (address: string, options: O) => {
          const user = await h
            .client(options)
            .request<BlockedSender>(
              'DELETE',
              `/api/v1/blocked-users/${encodeURIComponent(address)}`,
            )
          printResult(user, {
            json: Boolean(options.json),
            render: (u) => `unblocked ${u.address}`,
          })
        }),
      ),
  )
  return users
}
