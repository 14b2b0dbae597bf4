/**
 * `npm run bench:remediate`: one message delivered (LMTP) into N Dovecot mailboxes, then removed
 * with `delete` and with `forward-delete` through each profile kind that reaches Dovecot (IMAP
 * with a master user, Dovecot's doveadm HTTP API, same-host Maildir). Forwards go through Postfix's smtp-sink as the relay.
 * Target (issue 4): 1 000 mailboxes in under 10 s.
 */
import { cpus, loadavg, totalmem } from 'node:os'
import { randomBytes } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { Command, Progress, renderTable } from '@postern/cli-kit'
import { SecretBox, silentLogger } from '@postern/core'
import { Database, migrateToLatest, type Dialect, type GatewaySchema } from '@postern/store'
import { createTestDatabase } from '@postern/store/testing'
import { freePort, requireProgram, startProcess, waitForPort } from '@postern/testkit'
import {
  createRemediationModule,
  remediationConfigSchema,
  type RemediationModule,
} from '../../apps/gateway/src/remediation/index.js'
import { startDovecot, type DovecotServer } from '../../test/support/dovecot.js'
import { sampleProcessTree, writeSection } from '../lib/index.js'

interface Row {
  profile: string
  action: string
  mailboxes: number
  done: number
  seconds: number
  perSecond: number
  /** CPU time of the remediating process (Dovecot's own CPU is not included). */
  gatewayCpuSeconds: number
  /** CPU time of the Dovecot process tree during the run. */
  dovecotCpuSeconds: number
  target: string
}

const program = new Command('bench:remediate')
  .description('Delete and forward-delete one message from N Dovecot mailboxes')
  .option('--mailboxes <n>', 'mailboxes that received the message', (v) => Number(v), 1000)
  .option(
    '--concurrency <n>',
    'remediation.concurrency and per-profile connections',
    (v) => Number(v),
    32,
  )
  .option(
    '--cold',
    'skip the warm-up logins: Dovecot builds its indexes during the first remediation',
    false,
  )
  .option(
    '--profiles <list>',
    'profile kinds to measure: imap,doveadm,maildir',
    'imap,doveadm,maildir',
  )
  .option('--database <dialect>', 'sqlite or postgres', 'sqlite')
  .option('--json', 'print results as JSON', false)
  .option('--no-write', 'do not update docs/benchmarks.md')
  .option('--note <text>', 'note recorded with the results', '')

program.parse()
const options = program.opts<{
  mailboxes: number
  concurrency: number
  profiles: string
  cold: boolean
  database: Dialect
  json: boolean
  write: boolean
  note: string
}>()

const loadStart = loadavg()[0] ?? 0
const users = Array.from({ length: options.mailboxes }, (_, i) => `user${i}@bench.example`)
const dovecot = await startDovecot({ users, processLimit: Math.max(256, options.concurrency * 4) })
const sinkPort = await freePort()
const sink = startProcess(requireProgram('smtp-sink', 'postfix'), [
  ...(process.getuid?.() === 0 ? ['-u', 'nobody'] : []),
  `127.0.0.1:${sinkPort}`,
  '1000',
])
const testDb = await createTestDatabase(options.database)
const database = await Database.open<GatewaySchema>(testDb.target)
await migrateToLatest(database, 'gateway')
const config = remediationConfigSchema.parse({
  forward: { address: 'soc@bench.example' },
  relay: { host: '127.0.0.1', port: sinkPort, security: 'none', maxConnections: 8 },
  concurrency: options.concurrency,
  maxTargetsPerRun: Math.max(20_000, options.mailboxes),
})
const remediation: RemediationModule = createRemediationModule({
  database,
  config,
  box: SecretBox.fromKey(randomBytes(32)),
  logger: silentLogger(),
})
const context = { actor: { type: 'cli' as const, id: 'bench' }, source: 'cli' as const }

/** Each action measured, with the forward scope it runs under (`remediation.forward.scope`). */
const MEASURED = [
  ['delete', 'mailbox'],
  ['forward-delete', 'mailbox'],
  ['forward-delete', 'message'],
] as const
const rows: Row[] = []
try {
  await waitForPort(sinkPort)
  // Lived-in mailboxes: the usual folders exist and hold other mail, so every search has
  // several folders and messages to go through.
  const populate = new Progress('populate mailboxes', users.length)
  for (const [i, user] of users.entries()) {
    for (const folder of ['Trash', 'Junk', 'Sent', 'Archive']) dovecot.ensureFolder(user, folder)
    for (const folder of ['INBOX', 'INBOX', 'Archive', 'Sent']) {
      dovecot.writeMaildir(
        user,
        otherMessage(`${i}.${folder}.${randomBytes(4).toString('hex')}`),
        folder,
      )
    }
    populate.tick()
  }
  populate.finish()
  // Users read their mail: each mailbox has been opened once over IMAP, so Dovecot has built
  // its indexes and moved new mail to cur/, as on a server in use.
  if (!options.cold) await warmUp(dovecot, users, options.concurrency)
  await remediation.profiles.create(
    {
      name: 'imap',
      kind: 'imap',
      domains: [],
      settings: {
        host: dovecot.host,
        port: dovecot.imapPort,
        security: 'none',
        masterUser: dovecot.master.user,
        maxConnections: options.concurrency,
      },
      secrets: { masterPassword: dovecot.master.password },
    },
    context,
  )
  await remediation.profiles.create(
    {
      name: 'doveadm',
      kind: 'doveadm',
      domains: [],
      settings: {
        url: `http://${dovecot.host}:${dovecot.doveadmPort}/doveadm/v1`,
        maxConnections: options.concurrency,
      },
      secrets: { apiKey: dovecot.doveadmApiKey },
    },
    context,
  )
  await remediation.profiles.create(
    {
      name: 'maildir',
      kind: 'maildir',
      domains: [],
      settings: { pathTemplate: dovecot.maildirTemplate, maxConnections: options.concurrency },
    },
    context,
  )
  for (const kind of options.profiles.split(',').map((p) => p.trim())) {
    await remediation.profiles.update(kind, { domains: ['bench.example'] }, context)
    for (const [action, scope] of MEASURED) {
      // The service reads the forward scope at each forward: one module serves both.
      config.forward.scope = scope
      const messageId = `bench.${randomBytes(8).toString('hex')}@evil.test`
      await deliver(dovecot, messageId, users)
      const dovecotBefore = sampleProcessTree(dovecot.pid, { memory: false }).cpuMs
      const cpuBefore = process.cpuUsage()
      const started = process.hrtime.bigint()
      const { run } = await remediation.service.remediate(
        { action, messages: [{ messageId, mids: [], recipients: users }], wait: true },
        context,
      )
      const seconds = Number(process.hrtime.bigint() - started) / 1e9
      const cpu = process.cpuUsage(cpuBefore)
      const gatewayCpuSeconds = (cpu.user + cpu.system) / 1e6
      const dovecotCpuSeconds =
        (sampleProcessTree(dovecot.pid, { memory: false }).cpuMs - dovecotBefore) / 1000
      const label = action === 'delete' ? action : `${action} (forward per ${scope})`
      rows.push({
        profile: kind,
        action: label,
        mailboxes: users.length,
        done: run.counts.done,
        seconds,
        perSecond: run.counts.done / seconds,
        gatewayCpuSeconds,
        dovecotCpuSeconds,
        target:
          users.length >= 1000
            ? seconds < 10
              ? 'met (< 10 s)'
              : 'missed (≥ 10 s)'
            : 'n/a (< 1 000)',
      })
      process.stderr.write(
        `${kind} ${label}: ${run.counts.done}/${users.length} in ${seconds.toFixed(2)} s (gateway CPU ${gatewayCpuSeconds.toFixed(2)} s, Dovecot CPU ${dovecotCpuSeconds.toFixed(2)} s)\n`,
      )
    }
    await remediation.profiles.update(kind, { domains: [] }, context)
  }
} finally {
  await remediation.close()
  await database.close()
  await testDb.drop()
  await sink.stop()
  await dovecot.stop()
}

const loadEnd = loadavg()[0] ?? 0
const failed = rows.some((r) => r.done !== r.mailboxes)
if (options.json) {
  process.stdout.write(`${JSON.stringify({ options, loadStart, loadEnd, rows }, null, 2)}\n`)
} else {
  process.stdout.write(
    `${renderTable(
      ['profile', 'action', 'mailboxes', 'done', 'seconds', 'mailboxes/s', 'target'],
      rows.map((r) => [
        r.profile,
        r.action,
        r.mailboxes,
        r.done,
        r.seconds.toFixed(2),
        Math.round(r.perSecond),
        r.target,
      ]),
    )}\n`,
  )
}
if (options.write) {
  const dovecotVersion = execFileSync(requireProgram('dovecot', 'dovecot-imapd'), ['--version'])
    .toString()
    .trim()
  const cpu = cpus()[0]?.model ?? 'unknown CPU'
  writeSection(
    new URL('../../docs/benchmarks.md', import.meta.url).pathname,
    'remediate',
    [
      '## Mailbox remediation (`npm run bench:remediate`)',
      '',
      `One message delivered by LMTP into ${options.mailboxes} Dovecot mailboxes, then removed by one run; forwards go to Postfix smtp-sink. Target: 1 000 mailboxes in under 10 s.`,
      '',
      `- Date: ${new Date().toISOString()}; ${options.note || 'machine shared with other engineers working at the same time: figures are noisy'}`,
      `- Machine: ${cpus().length} × ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM; load average ${loadStart.toFixed(2)} at start, ${loadEnd.toFixed(2)} at end`,
      `- Versions: Node.js ${process.version}, Dovecot ${dovecotVersion}; database ${options.database}; concurrency ${options.concurrency}; mailboxes ${options.cold ? 'never opened before (cold Dovecot indexes)' : 'opened once by their users beforehand (warm Dovecot indexes)'}`,
      '',
      '| Profile | Action | Mailboxes | Done | Seconds | Mailboxes/s | Gateway CPU s | Dovecot CPU s | Target |',
      '|---|---|---:|---:|---:|---:|---:|---:|---|',
      ...rows.map(
        (r) =>
          `| ${r.profile} | ${r.action} | ${r.mailboxes} | ${r.done} | ${r.seconds.toFixed(2)} | ${Math.round(r.perSecond)} | ${r.gatewayCpuSeconds.toFixed(2)} | ${r.dovecotCpuSeconds.toFixed(2)} | ${r.target} |`,
      ),
      '',
    ].join('\n'),
  )
}
process.exitCode = failed ? 1 : 0

async function warmUp(server: DovecotServer, addresses: string[], concurrency: number) {
  const progress = new Progress('users open their mailboxes', addresses.length)
  const queue = [...addresses]
  const openAll = async (): Promise<void> => {
    for (let address = queue.shift(); address; address = queue.shift()) {
      const client = await server.loginAsUser(address)
      for (const folder of await client.list()) await client.mailboxOpen(folder.path)
      await client.logout()
      progress.tick()
    }
  }
  await Promise.all(Array.from({ length: concurrency }, openAll))
  progress.finish()
}

function otherMessage(id: string): string {
  return `From: colleague@bench.example\r\nSubject: Lunch\r\nMessage-ID: <${id}@bench.example>\r\n\r\nAt noon?\r\n`
}

async function deliver(
  server: DovecotServer,
  messageId: string,
  recipients: string[],
): Promise<void> {
  const raw = [
    'From: "Payroll" <payroll@evil.test>',
    'Subject: Your payslip',
    `Message-ID: <${messageId}>`,
    'Date: Thu, 01 Jan 2026 10:00:00 +0000',
    '',
    'Open https://evil.test/payslip',
    '',
  ].join('\r\n')
  const progress = new Progress(`deliver ${messageId.slice(0, 14)}`, recipients.length)
  for (let i = 0; i < recipients.length; i += 100) {
    const chunk = recipients.slice(i, i + 100)
    await server.deliverLmtp(raw, chunk)
    progress.tick(chunk.length)
  }
  progress.finish()
}
