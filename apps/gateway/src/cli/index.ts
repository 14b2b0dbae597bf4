import { existsSync } from 'node:fs'
import { hashPassword, silentLogger } from '@postern/core'
import {
  Command,
  InvalidArgumentError,
  Option,
  printResult,
  printable,
  renderTable,
  reportError,
} from '@postern/cli-kit'
import type { ApiAccountStore, GatewaySchema } from '@postern/store'
import type { ApiAuth } from '../api/auth.js'
import { cloudServiceConfigCommand, clusterCommand, openGatewayCloud } from '../cloud/index.js'
import { checkPassword, isRole, MIN_PASSWORD_LENGTH } from '../api/credentials.js'
import { loadGatewayConfig, parseDuration, type GatewayConfig } from '../config.js'
import type { QueueItemView } from '../delivery/queue.js'
import { blockedUsersCommand, blocklistCommand, quarantineCommand } from '../pipeline/cli.js'
import { addRemediationCommands } from '../remediation/cli.js'
import { GatewayClient } from './client.js'
import { PasswordMismatch, readPassword } from './password-input.js'
import { eventTimeline, time } from './format.js'

const DEFAULT_CONFIG = '/etc/postern/gateway.yaml'

interface CommonOptions {
  config?: string
  url?: string
  token?: string
  json?: boolean
}

function configFile(options: CommonOptions): string | undefined {
  if (options.config) return options.config
  if (process.env.POSTERN_CONFIG) return process.env.POSTERN_CONFIG
  return existsSync(DEFAULT_CONFIG) ? DEFAULT_CONFIG : undefined
}

function loadConfig(options: CommonOptions): GatewayConfig {
  return loadGatewayConfig(configFile(options), process.env)
}

/** Adds the options every command that reaches a gateway or its database takes. */
function connection(command: Command): Command {
  return command
    .option(
      '-c, --config <file>',
      `gateway configuration file (default: $POSTERN_CONFIG or ${DEFAULT_CONFIG})`,
    )
    .addOption(
      new Option('--url <url>', 'API address of a remote gateway (with --token)').env(
        'POSTERN_GATEWAY_URL',
      ),
    )
    .addOption(
      new Option('--token <token>', 'API token (default: the local CLI credential)').env(
        'POSTERN_TOKEN',
      ),
    )
    .option('--json', 'print machine-readable JSON')
}

/** Runs a command body, reporting any error the postern way and setting the exit code. */
function action<A extends unknown[]>(
  body: (...args: A) => Promise<void>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const command = args[args.length - 1] as Command
    // `postern gateway --config X queue list` and `… queue list --config X` both work: the
    // parent's options are merged under the command's own.
    const options = args[args.length - 2] as Record<string, unknown> | undefined
    if (options && typeof options === 'object') {
      for (const [key, value] of Object.entries(command.optsWithGlobals())) {
        if (options[key] === undefined) options[key] = value
      }
    }
    const json = Boolean((command.opts() as CommonOptions).json)
    try {
      await body(...args)
    } catch (err) {
      const reported = err instanceof PasswordMismatch ? new Error(err.message) : err
      process.exitCode = reportError(reported, { json })
    }
  }
}

function client(options: CommonOptions): GatewayClient {
  const url = options.url
  const dataDir = url ? '(remote)' : loadConfig(options).dataDir
  return GatewayClient.connect({ dataDir, url, token: options.token })
}

function parseMid(value: string): number {
  const mid = Number(value)
  if (!Number.isSafeInteger(mid) || mid <= 0)
    throw new InvalidArgumentError('a MID is a positive integer')
  return mid
}

function collectMids(value: string, previous: number[] = []): number[] {
  return [...previous, parseMid(value)]
}

async function withAccounts<T>(
  options: CommonOptions,
  body: (auth: ApiAuth, accounts: ApiAccountStore) => Promise<T>,
): Promise<T> {
  const config = loadConfig(options)
  // Loaded on demand, so that commands talking to a running gateway start fast.
  const { ApiAccountStore, Database, migrateToLatest, resolveDatabaseTarget } =
    await import('@postern/store')
  const { ApiAuth } = await import('../api/auth.js')
  const database = await Database.open<GatewaySchema>(
    resolveDatabaseTarget(config.database, config.dataDir, 'gateway.db'),
  )
  try {
    await migrateToLatest(database, 'gateway')
    const accounts = new ApiAccountStore(database.db)
    return await body(new ApiAuth(accounts, config, silentLogger()), accounts)
  } finally {
    await database.close()
  }
}

function roleOption(): Option {
  return new Option('--role <role>', 'admin, operator or read-only').argParser((value) => {
    if (!isRole(value)) throw new InvalidArgumentError('use admin, operator or read-only')
    return value
  })
}

/** `postern gateway …`: runs the gateway and operates a running one. */
export function gatewayCommand(): Command {
  const gateway = new Command('gateway')
    .description('Run or operate the Postern email security gateway')
    .option(
      '-c, --config <file>',
      `configuration file (default: $POSTERN_CONFIG or ${DEFAULT_CONFIG})`,
    )
    .addHelpText(
      'after',
      '\nWithout a subcommand, runs the gateway in the foreground until SIGTERM or SIGINT.\n' +
        'It logs JSON lines to standard output and prints where it listens on standard error.',
    )
    .action(
      action(async (options: CommonOptions) => {
        const { runGateway } = await import('../main.js')
        await runGateway({ configFile: configFile(options), env: process.env })
      }),
    )

  // --- queue ---------------------------------------------------------------------------------
  const queue = new Command('queue').description(
    'Look at and act on the queue of a running gateway',
  )
  queue.addCommand(
    connection(new Command('list'))
      .description('List queued messages, oldest first')
      .addOption(
        new Option('--state <state>', 'only this state').choices([
          'processing',
          'active',
          'deferred',
          'held',
        ]),
      )
      .option('--limit <n>', 'at most this many', (v) => Number(v), 100)
      .action(
        action(async (options: CommonOptions & { state?: string; limit: number }) => {
          const query = new URLSearchParams({ limit: String(options.limit) })
          if (options.state) query.set('state', options.state)
          const result = await client(options).request<{ total: number; items: QueueItemView[] }>(
            'GET',
            `/api/v1/queue?${query}`,
          )
          printResult(result, {
            json: Boolean(options.json),
            render: (r) =>
              r.items.length === 0
                ? 'The queue is empty.'
                : `${renderTable(
                    [
                      'MID',
                      'STATE',
                      'RECEIVED',
                      'FROM',
                      'RCPTS',
                      'SIZE',
                      'ATTEMPTS',
                      'NEXT TRY',
                      'LAST ERROR',
                    ],
                    r.items.map((i) => [
                      i.mid,
                      i.state,
                      time(i.receivedAt),
                      i.from || '<>',
                      i.recipients.filter((x) => x.status === 'pending').length,
                      i.size,
                      i.attempts,
                      time(i.nextAttemptAt),
                      (i.lastError ?? '').slice(0, 60),
                    ]),
                  )}\n${r.items.length} of ${r.total} shown`,
          })
        }),
      ),
  )
  queue.addCommand(
    connection(new Command('summary'))
      .description('Count queued messages by state')
      .action(
        action(async (options: CommonOptions) => {
          const result = await client(options).request<Record<string, number>>(
            'GET',
            '/api/v1/queue/summary',
          )
          printResult(result, {
            json: Boolean(options.json),
            render: (r) =>
              renderTable(
                ['STATE', 'MESSAGES'],
                Object.entries(r).map(([k, v]) => [k, v]),
              ),
          })
        }),
      ),
  )
  queue.addCommand(
    connection(new Command('show'))
      .description('Show one queued message')
      .argument('<mid>', 'message id', parseMid)
      .action(
        action(async (mid: number, options: CommonOptions) => {
          const item = await client(options).request<QueueItemView>('GET', `/api/v1/queue/${mid}`)
          printResult(item, {
            json: Boolean(options.json),
            render: (i) =>
              [
                `MID ${i.mid}  ${i.state}${i.busy ? ' (attempt running)' : ''}`,
                `from      ${printable(i.from || '<>')}`,
                `subject   ${printable(i.subject ?? '')}`,
                `received  ${time(i.receivedAt)}  size ${i.size}  attempts ${i.attempts}`,
                `next try  ${time(i.nextAttemptAt)}`,
                `error     ${printable(i.lastError ?? '')}`,
                ...i.recipients.map(
                  (r) => `  ${r.status === 'done' ? 'done   ' : 'pending'} ${printable(r.address)}`,
                ),
              ].join('\n'),
          })
        }),
      ),
  )
  for (const [name, method, verb, description] of [
    ['hold', 'POST', 'hold', 'Hold messages: no delivery until released'],
    ['release', 'POST', 'release', 'Release held messages for delivery now'],
    ['delete', 'DELETE', '', 'Delete messages from the queue (no delivery, no bounce)'],
  ] as const) {
    queue.addCommand(
      connection(new Command(name))
        .description(description)
        .argument('<mid...>', 'message ids', (v: string, prev: number[]) => collectMids(v, prev))
        .action(
          action(async (mids: number[], options: CommonOptions) => {
            const api = client(options)
            const done: { mid: number; ok: boolean; error?: string }[] = []
            let failed: unknown
            for (const mid of mids) {
              try {
                await api.request(method, `/api/v1/queue/${mid}${verb ? `/${verb}` : ''}`)
                done.push({ mid, ok: true })
              } catch (err) {
                failed ??= err
                done.push({ mid, ok: false, error: (err as Error).message })
              }
            }
            printResult(done, {
              json: Boolean(options.json),
              render: (rows) =>
                rows
                  .map((r) => `${r.mid}: ${r.ok ? `${name} done` : `failed: ${r.error}`}`)
                  .join('\n'),
            })
            if (failed) process.exitCode = reportError(failed, { json: Boolean(options.json) })
          }),
        ),
    )
  }
  queue.addCommand(
    connection(new Command('flush'))
      .description('Retry every deferred message now')
      .action(
        action(async (options: CommonOptions) => {
          const result = await client(options).request<{ retried: number }>(
            'POST',
            '/api/v1/queue/flush',
          )
          printResult(result, {
            json: Boolean(options.json),
            render: (r) => `${r.retried} deferred messages retried`,
          })
        }),
      ),
  )
  gateway.addCommand(queue)

  // --- content pipeline: quarantine, block lists, blocked users ---------------------------------
  const helpers = { connection, action, client, time }
  gateway.addCommand(quarantineCommand<CommonOptions>(helpers))
  gateway.addCommand(blocklistCommand<CommonOptions>(helpers))
  gateway.addCommand(blockedUsersCommand<CommonOptions>(helpers))

  // --- tracking ------------------------------------------------------------------------------
  const tracking = new Command('tracking').description('Message tracking of a running gateway')
  tracking.addCommand(
    connection(new Command('show'))
      .description('A message with its timeline')
      .argument('<mid>', 'message id', parseMid)
      .action(
        action(async (mid: number, options: CommonOptions) => {
          const result = await client(options).request<{
            message: {
              mid: number
              status: string
              envelopeSender: string
              subject: string | null
              senderIp: string
              recipients: { address: string; status: string; lastReply: string | null }[]
            }
            events: {
              at: number
              event: string
              recipient: string | null
              details: Record<string, unknown>
            }[]
          }>('GET', `/api/v1/tracking/messages/${mid}`)
          printResult(result, {
            json: Boolean(options.json),
            render: (r) =>
              [
                `MID ${r.message.mid}  ${r.message.status}  from ${printable(r.message.envelopeSender || '<>')} [${r.message.senderIp}]`,
                `subject ${printable(r.message.subject ?? '')}`,
                ...r.message.recipients.map(
                  (x) =>
                    `  ${x.status.padEnd(11)} ${printable(x.address)}  ${printable(x.lastReply ?? '')}`,
                ),
                '',
                eventTimeline(r.events),
              ].join('\n'),
          })
        }),
      ),
  )
  gateway.addCommand(tracking)
  addRemediationCommands({ gateway, tracking, connection, action, client })

  // --- users (directly on the gateway's database) ---------------------------------------------
  const user = new Command('user').description('API users (works whether or not the gateway runs)')
  user.addCommand(
    connection(new Command('add'))
      .description('Create a user (the first admin, typically)')
      .argument('<username>')
      .addOption(roleOption().default('admin'))
      .option('--password-stdin', 'read the password from standard input')
      .action(
        action(
          async (
            username: string,
            options: CommonOptions & { role: string; passwordStdin?: boolean },
          ) => {
            const password = await readPassword(
              `Password for ${username} (at least ${MIN_PASSWORD_LENGTH} characters): `,
              {
                fromStdin: Boolean(options.passwordStdin),
                confirm: true,
              },
            )
            const created = await withAccounts(options, (auth) =>
              auth.createUser(username, password, options.role as never),
            )
            printResult(created, {
              json: Boolean(options.json),
              render: (u) => `user ${u.username} created (${u.role})`,
            })
          },
        ),
      ),
  )
  user.addCommand(
    connection(new Command('list'))
      .description('List users')
      .action(
        action(async (options: CommonOptions) => {
          const users = await withAccounts(options, (_auth, accounts) => accounts.listUsers())
          printResult(users, {
            json: Boolean(options.json),
            render: (rows) =>
              renderTable(
                ['USER', 'ROLE', 'CREATED', 'LAST LOGIN'],
                rows.map((u) => [u.username, u.role, time(u.createdAt), time(u.lastLoginAt)]),
              ),
          })
        }),
      ),
  )
  user.addCommand(
    connection(new Command('passwd'))
      .description("Set a user's password")
      .argument('<username>')
      .option('--password-stdin', 'read the password from standard input')
      .action(
        action(async (username: string, options: CommonOptions & { passwordStdin?: boolean }) => {
          const password = await readPassword(`New password for ${username}: `, {
            fromStdin: Boolean(options.passwordStdin),
            confirm: true,
          })
          await withAccounts(options, (auth) => auth.updateUser(username, { password }))
          printResult(
            { username, ok: true },
            { json: Boolean(options.json), render: () => `password of ${username} changed` },
          )
        }),
      ),
  )
  user.addCommand(
    connection(new Command('role'))
      .description("Change a user's role")
      .argument('<username>')
      .argument('<role>', 'admin, operator or read-only', (value: string) => {
        if (!isRole(value)) throw new InvalidArgumentError('use admin, operator or read-only')
        return value
      })
      .action(
        action(async (username: string, role: string, options: CommonOptions) => {
          const updated = await withAccounts(options, (auth) =>
            auth.updateUser(username, { role: role as never }),
          )
          printResult(updated, {
            json: Boolean(options.json),
            render: (u) => `${u.username} is now ${u.role}`,
          })
        }),
      ),
  )
  user.addCommand(
    connection(new Command('delete'))
      .description('Delete a user and its sessions')
      .argument('<username>')
      .action(
        action(async (username: string, options: CommonOptions) => {
          await withAccounts(options, (auth) => auth.deleteUser(username))
          printResult(
            { username, ok: true },
            { json: Boolean(options.json), render: () => `user ${username} deleted` },
          )
        }),
      ),
  )
  gateway.addCommand(user)

  // --- API tokens ----------------------------------------------------------------------------
  const token = new Command('token').description('API tokens for scripts and integrations')
  token.addCommand(
    connection(new Command('create'))
      .description('Create a token; its value is printed once')
      .argument('<name>', 'what the token is for')
      .addOption(roleOption().makeOptionMandatory())
      .option('--expires <duration>', 'lifetime, e.g. 90d (default: none)')
      .action(
        action(
          async (name: string, options: CommonOptions & { role: string; expires?: string }) => {
            const expires = options.expires === undefined ? null : parseDuration(options.expires)
            if (expires !== null && !(expires > 0))
              throw new InvalidArgumentError('--expires takes a duration such as 90d')
            const { token: value, record } = await withAccounts(options, (auth) =>
              auth.createToken(name, options.role as never, expires, null),
            )
            printResult(
              {
                id: record.id,
                name: record.name,
                role: record.role,
                expiresAt: record.expiresAt,
                token: value,
              },
              {
                json: Boolean(options.json),
                render: (t) =>
                  `token ${t.id} (${t.role}) created; store it now, it is not shown again:\n${t.token}`,
              },
            )
          },
        ),
      ),
  )
  token.addCommand(
    connection(new Command('list'))
      .description('List API tokens (never their values)')
      .action(
        action(async (options: CommonOptions) => {
          const tokens = await withAccounts(options, (_auth, accounts) =>
            accounts.listTokens('api'),
          )
          printResult(tokens, {
            json: Boolean(options.json),
            render: (rows) =>
              renderTable(
                ['ID', 'NAME', 'ROLE', 'CREATED', 'EXPIRES', 'LAST USED'],
                rows.map((t) => [
                  t.id,
                  t.name,
                  t.role,
                  time(t.createdAt),
                  time(t.expiresAt),
                  time(t.lastUsedAt),
                ]),
              ),
          })
        }),
      ),
  )
  token.addCommand(
    connection(new Command('revoke'))
      .description('Revoke a token')
      .argument('<id>', 'token id', parseMid)
      .action(
        action(async (id: number, options: CommonOptions) => {
          await withAccounts(options, (auth) => auth.revokeToken(id))
          printResult(
            { id, ok: true },
            { json: Boolean(options.json), render: () => `token ${id} revoked` },
          )
        }),
      ),
  )
  gateway.addCommand(token)

  gateway.addCommand(
    new Command('hash-password')
      .description('Print the scrypt hash of a password, for `auth.users` and `api.initialAdmin`')
      .option('--password-stdin', 'read the password from standard input')
      .action(
        action(async (options: { passwordStdin?: boolean }) => {
          const password = await readPassword('Password: ', {
            fromStdin: Boolean(options.passwordStdin),
            confirm: true,
          })
          checkPassword(password)
          process.stdout.write(`${await hashPassword(password)}\n`)
        }),
      ),
  )
  // --- cloud services (directly on the gateway's database) -------------------------------------
  const openCloud = (file: string | undefined) => openGatewayCloud(configFile({ config: file }))
  gateway.addCommand(cloudServiceConfigCommand(openCloud))
  gateway.addCommand(clusterCommand(openCloud))
  return gateway
}
