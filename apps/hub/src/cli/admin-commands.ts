import { userInfo } from 'node:os'
import { createInterface } from 'node:readline'
import { createLogger } from '@postern/core'
import {
  Command,
  InvalidArgumentError,
  Option,
  printResult,
  renderTable,
  reportError,
} from '@postern/cli-kit'
import { HubAdmin } from '../admin.js'
import { ROLES, type Role } from '../auth/roles.js'
import { splitScopes } from '../auth/scopes.js'
import { openHubServices, type HubServices } from '../services.js'
import { loadHubConfig } from './load-config.js'

interface CommonOptions {
  config?: string
  json?: boolean
}

/**
 * Runs an operator command against the hub's database directly (same config file as the
 * server), so it works whether or not the hub is running; every change is audited as the OS user.
 */
async function withServices(
  options: CommonOptions,
  fn: (services: HubServices, admin: HubAdmin) => Promise<void>,
): Promise<void> {
  let services: HubServices | undefined
  try {
    const config = loadHubConfig(options.config)
    services = await openHubServices({
      config,
      logger: createLogger({
        level: 'warn',
        name: 'postern-hub-cli',
        destination: process.stderr as never,
      }),
    })
    await fn(services, new HubAdmin(services, { type: 'cli', id: safeUser() }))
  } catch (err) {
    process.exitCode = reportError(err, { json: options.json === true })
  } finally {
    await services?.database.close()
  }
}

function safeUser(): string {
  try {
    return userInfo().username
  } catch {
    return 'unknown'
  }
}

function withCommon(command: Command): Command {
  return command.option('--json', 'print JSON for scripts')
}

/** The command's options plus `--config`, which belongs to `postern hub` and may follow any subcommand. */
function all<T>(command: Command): T {
  return command.optsWithGlobals<T & Record<string, unknown>>()
}

function positiveInt(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n <= 0)
    throw new InvalidArgumentError('expected a positive whole number')
  return n
}

async function readFirstLine(): Promise<string> {
  const rl = createInterface({ input: process.stdin })
  for await (const line of rl) {
    rl.close()
    return line
  }
  return ''
}

export function orgCommand(): Command {
  const org = new Command('org').description('Manage organisations')
  withCommon(
    org
      .command('create')
      .description('Create an organisation')
      .requiredOption('--name <name>', 'organisation name'),
  ).action((_options: unknown, command: Command) => {
    const options = all<CommonOptions & { name: string }>(command)
    return withServices(options, async (services) => {
      const created = await services.orgs.create(options.name, { type: 'cli', id: safeUser() })
      printResult(created, {
        json: options.json === true,
        render: (o) => `created organisation ${o.name} (${o.id})`,
      })
    })
  })
  withCommon(org.command('list').description('List organisations')).action(
    (_options: unknown, command: Command) => {
      const options = all<CommonOptions>(command)
      return withServices(options, async (services) => {
        const orgs = await services.orgs.list()
        printResult(orgs, {
          json: options.json === true,
          render: (list) =>
            renderTable(
              ['ID', 'NAME', 'ENABLED'],
              list.map((o) => [o.id, o.name, o.enabled ? 'yes' : 'no']),
            ),
        })
      })
    },
  )
  return org
}

export function userCommand(): Command {
  const user = new Command('user').description('Manage console users')
  withCommon(
    user
      .command('create')
      .description(
        'Create a user; a password is generated and printed unless --password-stdin is given',
      )
      .requiredOption('--email <email>', 'login e-mail address')
      .option('--name <name>', 'display name')
      .addOption(new Option('--role <role>', 'role').choices([...ROLES]).default('admin'))
      .option('--org <org>', 'organisation id or name (default: the only one)')
      .option('--create-org <name>', 'create this organisation for the user first')
      .option('--password-stdin', 'read the password from the first line of standard input'),
  ).action((_options: unknown, command: Command) => {
    const options = all<
      CommonOptions & {
        email: string
        name?: string
        role: Role
        org?: string
        createOrg?: string
        passwordStdin?: boolean
      }
    >(command)
    return withServices(options, async (services, admin) => {
      const password = options.passwordStdin ? (await readFirstLine()).trim() : undefined
      let orgRef = options.org
      if (options.createOrg !== undefined)
        orgRef = (await services.orgs.create(options.createOrg, { type: 'cli', id: safeUser() })).id
      const {
        user: created,
        password: used,
        org,
      } = await admin.createUser({
        org: orgRef,
        email: options.email,
        name: options.name,
        role: options.role,
        password,
      })
      const result = {
        id: created.id,
        orgId: org.id,
        org: org.name,
        email: created.email,
        role: created.role,
        ...(password === undefined ? { password: used } : {}),
      }
      printResult(result, {
        json: options.json === true,
        render: (r) =>
          `created ${r.role} ${r.email} in ${r.org}` +
          (r.password ? `\npassword (shown once): ${r.password}` : ''),
      })
    })
  })
  return user
}

export function tokenCommand(): Command {
  const token = new Command('token').description('Device registration tokens')
  withCommon(
    token
      .command('create')
      .description('Create a single-use device registration token and print it')
      .option('--org <org>', 'organisation id or name (default: the only one)')
      .option('--label <label>', 'note shown in the token list')
      .option('--ttl <seconds>', 'lifetime in seconds (default from config: 3600)', positiveInt),
  ).action((_options: unknown, command: Command) => {
    const options = all<CommonOptions & { org?: string; label?: string; ttl?: number }>(command)
    return withServices(options, async (_services, admin) => {
      const {
        token: value,
        record,
        org,
      } = await admin.createRegistrationToken({
        org: options.org,
        label: options.label,
        ttlSeconds: options.ttl,
      })
      if (options.json) {
        printResult(
          { token: value, id: record.id, orgId: org.id, expiresAt: record.expiresAt },
          { json: true, render: () => '' },
        )
      } else {
        // The token alone on stdout, so that TOKEN=$(postern hub token create) works.
        process.stderr.write(
          `registration token for ${org.name}, single use, expires ${new Date(record.expiresAt).toISOString()}:\n`,
        )
        process.stdout.write(`${value}\n`)
      }
    })
  })
  return token
}

export function apiClientCommand(): Command {
  const client = new Command('api-client').description('API clients (OAuth2 client credentials)')
  client
    .command('create')
    .description(
      'Create an API client and print its client_id and client_secret as JSON (the secret is shown once)',
    )
    .requiredOption('--name <name>', 'client name')
    .requiredOption(
      '--scopes <scopes>',
      'space- or comma-separated scopes, e.g. "inspect:read enrich:read"',
    )
    .option('--org <org>', 'organisation id or name (default: the only one)')
    .option('--description <text>', 'what the client is for')
    .option('--expires-in-days <days>', 'expire the client after this many days', positiveInt)
    .action((_options: unknown, command: Command) => {
      const options = all<{
        config?: string
        name: string
        scopes: string
        org?: string
        description?: string
        expiresInDays?: number
      }>(command)
      return withServices({ ...options, json: true }, async (_services, admin) => {
        const {
          client: created,
          secret,
          org,
        } = await admin.createApiClient({
          org: options.org,
          name: options.name,
          description: options.description,
          scopes: splitScopes(options.scopes),
          expiresInDays: options.expiresInDays,
        })
        printResult(
          {
            client_id: created.id,
            client_secret: secret,
            org_id: org.id,
            name: created.name,
            scopes: created.scopes,
            expires_at: created.expiresAt,
          },
          { json: true, render: () => '' },
        )
      })
    })
  return client
}

export function keysCommand(): Command {
  const keys = new Command('keys').description('Token signing keys')
  withCommon(
    keys
      .command('rotate')
      .description(
        'Start signing with a new key now; older keys stay published until their tokens expire',
      )
      .option(
        '--revoke-old',
        'remove older keys from the JWKS at once: every token they signed stops working',
      ),
  ).action((_options: unknown, command: Command) => {
    const options = all<CommonOptions & { revokeOld?: boolean }>(command)
    return withServices(options, async (services) => {
      const kid = await services.keys.rotate({ revokeOld: options.revokeOld === true })
      await services.audit.record({
        actor: { type: 'cli', id: safeUser() },
        source: 'cli',
        action: 'signing-key.rotate',
        target: { type: 'signing-key', id: kid },
        outcome: 'success',
        details: { revokedOld: options.revokeOld === true },
      })
      printResult(
        { kid },
        { json: options.json === true, render: (r) => `now signing with key ${r.kid}` },
      )
    })
  })
  return keys
}
