import { userInfo } from 'node:os'
import { createInterface, type Interface } from 'node:readline/promises'
import {
  Command,
  InvalidArgumentError,
  Option,
  printResult,
  printable,
  renderTable,
  reportError,
} from '@postern/cli-kit'
import type { SettingLevel } from '@postern/store'
import type { Actor, CloudStatus } from './cloud-service.js'
import type { CloudContext } from './context.js'

/** How the commands get at the gateway's cloud state for a `--config` file. */
export type OpenCloud = (configFile: string | undefined) => Promise<CloudContext>

interface Common {
  config?: string
  json?: boolean
  level?: SettingLevel
}

function cliActor(): Actor {
  try {
    return { type: 'cli', id: userInfo().username }
  } catch {
    return { type: 'cli', id: 'unknown' }
  }
}

async function withCloud(
  open: OpenCloud,
  options: Common,
  fn: (ctx: CloudContext) => Promise<void>,
): Promise<void> {
  let ctx: CloudContext | undefined
  try {
    ctx = await open(options.config)
    await fn(ctx)
  } catch (err) {
    process.exitCode = reportError(err, { json: options.json === true })
  } finally {
    await ctx?.close()
  }
}

const levelOption = (): Option =>
  new Option(
    '--level <level>',
    'where the setting applies: cluster, group or machine (default: cluster in a cluster, else machine)',
  ).choices(['cluster', 'group', 'machine'])

function time(ms: number | null | undefined): string {
  return ms ? new Date(ms).toISOString() : '-'
}

export function renderStatus(s: CloudStatus): string {
  const lines = [
    `Cloud Services:   ${s.settings.enabled ? 'enabled' : 'disabled'} (${s.sources.enabled})`,
    `Server (region):  ${s.settings.server ?? '(none selected)'}${s.hubUrl ? ` → ${s.hubUrl}` : ''}`,
    `Status:           ${s.state}`,
    `Threat Response:  ${s.settings.threatResponse ? 'enabled' : 'disabled'}`,
    `Usage telemetry:  ${s.settings.csn ? 'enabled' : 'disabled'}`,
    `Machine:          ${s.machine} (UID ${s.uid})${s.cluster ? `, cluster ${s.cluster.name}, group ${s.cluster.group}` : ', standalone'}`,
  ]
  if (s.registration) {
    lines.push(
      `Registration:     device ${s.registration.deviceId} "${printable(s.registration.deviceName)}" in ${s.registration.region}, ${s.registration.mode} mode, since ${time(s.registration.registeredAt)}`,
    )
  }
  if (s.connectedSince) lines.push(`Connected since:  ${time(s.connectedSince)}`)
  if (s.lastError)
    lines.push(`Last error:       ${printable(s.lastError.message)} (${time(s.lastError.at)})`)
  return lines.join('\n')
}

function onOff(value: string): boolean {
  if (value === 'enable') return true
  if (value === 'disable') return false
  throw new InvalidArgumentError('expected enable or disable')
}

/**
 * `postern gateway cloudserviceconfig`: the seed's CLI for Cloud Services. Subcommands for
 * scripts; an interactive menu when run in a terminal without one.
 */
export function cloudServiceConfigCommand(open: OpenCloud): Command {
  const command = new Command('cloudserviceconfig')
    .description(
      'Cloud services: hub server (region), registration, Threat Response, usage telemetry',
    )
    .option('-c, --config <file>', 'gateway configuration file')
    .option('--json', 'print JSON for scripts')
  const opts = (cmd: Command): Common => cmd.optsWithGlobals<Common & Record<string, unknown>>()
  const sub = (name: string, description: string): Command =>
    command.command(name).description(description).option('--json', 'print JSON for scripts')

  sub('status', 'Show settings, registration and connection status').action((_o, cmd: Command) =>
    withCloud(open, opts(cmd), async (ctx) => {
      printResult(await ctx.cloud.status(), { json: opts(cmd).json === true, render: renderStatus })
    }),
  )
  for (const [name, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    sub(name, `${enabled ? 'Enable' : 'Disable'} cloud services`)
      .addOption(levelOption())
      .action((_o, cmd: Command) =>
        withCloud(open, opts(cmd), async (ctx) => {
          await ctx.cloud.setEnabled(enabled, cliActor(), opts(cmd).level)
          printResult(await ctx.cloud.status(), {
            json: opts(cmd).json === true,
            render: renderStatus,
          })
        }),
      )
  }
  sub('settrs', 'Choose the hub server (region); only while not registered')
    .requiredOption('--server <region>', 'region from cloud.servers (nam, eu, apjc, …)')
    .addOption(levelOption())
    .action((_o, cmd: Command) =>
      withCloud(open, opts(cmd), async (ctx) => {
        const o = cmd.optsWithGlobals<Common & { server: string }>()
        await ctx.cloud.setServer(o.server, cliActor(), o.level)
        printResult(await ctx.cloud.status(), { json: o.json === true, render: renderStatus })
      }),
    )
  sub('servers', 'List the hub servers of the configuration').action((_o, cmd: Command) =>
    withCloud(open, opts(cmd), async (ctx) => {
      const servers = ctx.cloud.servers()
      printResult(servers, {
        json: opts(cmd).json === true,
        render: (s) =>
          renderTable(
            ['REGION', 'HUB URL'],
            Object.entries(s).map(([r, u]) => [r, u ?? '(not configured)']),
          ),
      })
    }),
  )
  sub('register', 'Register this machine with the selected hub using a registration token')
    .requiredOption('--token <token>', 'registration token from the hub')
    .option('--name <name>', 'name shown in the hub device list (default: host name)')
    .addOption(
      new Option('--mode <mode>', 'standalone, or machine for a cluster node').choices([
        'standalone',
        'machine',
        'cluster',
      ]),
    )
    .action((_o, cmd: Command) =>
      withCloud(open, opts(cmd), async (ctx) => {
        const o = cmd.optsWithGlobals<
          Common & { token: string; name?: string; mode?: 'standalone' | 'machine' | 'cluster' }
        >()
        await ctx.cloud.register(o.token, cliActor(), { mode: o.mode, name: o.name })
        printResult(await ctx.cloud.status(), { json: o.json === true, render: renderStatus })
      }),
    )
  sub('deregister', 'Deregister this machine (the hub revokes its credential)')
    .option('--force', 'forget the registration here even if the hub cannot be reached')
    .action((_o, cmd: Command) =>
      withCloud(open, opts(cmd), async (ctx) => {
        const o = cmd.optsWithGlobals<Common & { force?: boolean }>()
        await ctx.cloud.deregister(cliActor(), { force: o.force === true })
        printResult(await ctx.cloud.status(), { json: o.json === true, render: renderStatus })
      }),
    )
  sub('securex', 'Enable or disable Threat Response (module calls from the hub)')
    .argument('<action>', 'enable or disable', onOff)
    .addOption(levelOption())
    .action((enabled: boolean, _o, cmd: Command) =>
      withCloud(open, opts(cmd), async (ctx) => {
        await ctx.cloud.setThreatResponse(enabled, cliActor(), opts(cmd).level)
        printResult(await ctx.cloud.status(), {
          json: opts(cmd).json === true,
          render: renderStatus,
        })
      }),
    )
  sub('csn', 'Usage telemetry: enable, disable, or show exactly what would be sent')
    .argument('<action>', 'enable, disable or show')
    .addOption(levelOption())
    .action((action: string, _o, cmd: Command) =>
      withCloud(open, opts(cmd), async (ctx) => {
        if (action === 'show') {
          printResult(await ctx.cloud.telemetryPreview(), { json: true, render: () => '' })
          return
        }
        await ctx.cloud.setCsn(onOff(action), cliActor(), opts(cmd).level)
        printResult(await ctx.cloud.status(), {
          json: opts(cmd).json === true,
          render: renderStatus,
        })
      }),
    )

  command.action(async (_o, cmd: Command) => {
    if (!process.stdin.isTTY || !process.stdout.isTTY) {
      command.outputHelp()
      process.exitCode = 64
      return
    }
    await withCloud(open, opts(cmd), (ctx) => interactiveMenu(ctx))
  })
  return command
}

/** Asks a question and resolves with the next line typed, or null at end of input. */
type Ask = (query: string) => Promise<string | null>

/**
 * Prompts that keep what the operator typed ahead. `rl.question` drops a line that arrives
 * while no question is pending (say, typed while the menu still reads the status from a remote
 * database); the interface's line iterator queues it until the next prompt instead.
 */
function prompter(rl: Interface): Ask {
  const lines = rl[Symbol.asyncIterator]()
  return async (query) => {
    rl.setPrompt(query)
    rl.prompt()
    const next = await lines.next()
    return next.done ? null : (next.value as string)
  }
}

/** The seed's interactive `cloudserviceconfig`: status, a menu of operations, prompts. */
async function interactiveMenu(ctx: CloudContext): Promise<void> {
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true })
  const ask = prompter(rl)
  const say = (text: string): void => void process.stdout.write(`${text}\n`)
  try {
    for (;;) {
      const status = await ctx.cloud.status()
      say('')
      say(renderStatus(status))
      say('')
      say('Choose the operation you want to perform:')
      const choices: [string, string][] = [
        status.settings.enabled
          ? ['DISABLE', 'Disable cloud services.']
          : ['ENABLE', 'Enable cloud services.'],
        ['SETTRS', 'Choose the hub server (region).'],
        status.registration
          ? ['DEREGISTER', 'Deregister this gateway.']
          : ['REGISTER', 'Register with a registration token.'],
        ['SECUREX', `${status.settings.threatResponse ? 'Disable' : 'Enable'} Threat Response.`],
        ['CSN', 'Usage telemetry (enable, disable, show).'],
        ['STATUS', 'Show the status again.'],
      ]
      for (const [name, text] of choices) say(`- ${name} - ${text}`)
      const line = await ask('[]> ')
      if (line === null) return
      const answer = line.trim().toUpperCase()
      if (answer === '' || answer === 'QUIT' || answer === 'EXIT') return
      if (!choices.some(([name]) => name === answer)) {
        say(`Unknown operation "${printable(answer)}".`)
        continue
      }
      try {
        await runChoice(answer, ctx, ask, status, say)
      } catch (err) {
        reportError(err, { json: false })
      }
    }
  } finally {
    rl.close()
  }
}

async function runChoice(
  choice: string,
  ctx: CloudContext,
  ask: Ask,
  status: CloudStatus,
  say: (t: string) => void,
): Promise<void> {
  const actor = cliActor()
  switch (choice) {
    case 'ENABLE':
    case 'DISABLE':
      await ctx.cloud.setEnabled(choice === 'ENABLE', actor)
      say(`Cloud services ${choice === 'ENABLE' ? 'enabled' : 'disabled'}.`)
      return
    case 'SETTRS': {
      const regions = Object.entries(ctx.cloud.servers())
      regions.forEach(([region, url], i) => say(`${i + 1}. ${region} ${url ?? '(not configured)'}`))
      const pick = (
        (await ask(
          `Choose the server by number or region (current: ${status.settings.server ?? 'none'}): `,
        )) ?? ''
      ).trim()
      const chosen = /^\d+$/.test(pick) ? regions[Number(pick) - 1]?.[0] : pick
      if (!chosen) return
      await ctx.cloud.setServer(chosen, actor)
      say(`Server set to ${chosen}.`)
      return
    }
    case 'REGISTER': {
      const token = ((await ask('Enter the registration token: ')) ?? '').trim()
      if (!token) return
      say('Registering…')
      await ctx.cloud.register(token, actor)
      say('Registered.')
      return
    }
    case 'DEREGISTER': {
      const sure = ((await ask('Deregister this gateway from the hub? [N]> ')) ?? '')
        .trim()
        .toLowerCase()
      if (sure !== 'y' && sure !== 'yes') return
      await ctx.cloud.deregister(actor)
      say('Deregistered.')
      return
    }
    case 'SECUREX':
      await ctx.cloud.setThreatResponse(!status.settings.threatResponse, actor)
      say(`Threat Response ${status.settings.threatResponse ? 'disabled' : 'enabled'}.`)
      return
    case 'CSN': {
      const action = ((await ask('enable, disable or show? []> ')) ?? '').trim().toLowerCase()
      if (action === 'show') say(JSON.stringify(await ctx.cloud.telemetryPreview(), null, 2))
      else if (action === 'enable' || action === 'disable')
        await ctx.cloud.setCsn(action === 'enable', actor)
      return
    }
    default:
      return
  }
}

/** `postern gateway cluster`: cluster membership (nodes sharing one PostgreSQL database). */
export function clusterCommand(open: OpenCloud): Command {
  const command = new Command('cluster')
    .description('Cluster membership: nodes sharing settings through one database')
    .option('-c, --config <file>', 'gateway configuration file')
  const opts = (cmd: Command): Common => cmd.optsWithGlobals<Common & Record<string, unknown>>()
  command
    .command('join')
    .description(
      'Join (or create) the cluster of this database; refused while registered standalone',
    )
    .requiredOption('--name <cluster>', 'cluster name')
    .option('--group <group>', 'group within the cluster', 'main')
    .option('--json', 'print JSON for scripts')
    .action((_o, cmd: Command) =>
      withCloud(open, opts(cmd), async (ctx) => {
        const o = cmd.optsWithGlobals<Common & { name: string; group: string }>()
        await ctx.cloud.joinCluster(o.name, o.group, cliActor())
        printResult(await ctx.cloud.clusterMembers(), {
          json: o.json === true,
          render: (c) =>
            `${ctx.cloud.machine} joined cluster ${c.name} (${c.members.length} machines)`,
        })
      }),
    )
  command
    .command('leave')
    .description('Leave the cluster; refused while registered in machine mode')
    .option('--json', 'print JSON for scripts')
    .action((_o, cmd: Command) =>
      withCloud(open, opts(cmd), async (ctx) => {
        await ctx.cloud.leaveCluster(cliActor())
        printResult(
          { machine: ctx.cloud.machine },
          { json: opts(cmd).json === true, render: (r) => `${r.machine} left the cluster` },
        )
      }),
    )
  command
    .command('status')
    .description('Cluster name and members')
    .option('--json', 'print JSON for scripts')
    .action((_o, cmd: Command) =>
      withCloud(open, opts(cmd), async (ctx) => {
        printResult(await ctx.cloud.clusterMembers(), {
          json: opts(cmd).json === true,
          render: (c) =>
            c.name
              ? `cluster ${c.name}\n${renderTable(
                  ['MACHINE', 'GROUP', 'JOINED'],
                  c.members.map((m) => [m.machine, m.group, time(m.joinedAt)]),
                )}`
              : 'not in a cluster',
        })
      }),
    )
  return command
}
