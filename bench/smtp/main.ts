import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Command, EXIT, InvalidArgumentError, renderTable } from '@postern/cli-kit'
import { MAX_SMTP_PROCESSES } from '@postern/gateway'
import {
  delay,
  describeMachine,
  formatDuration,
  formatInteger,
  installSignalHandlers,
  loadAverage,
  renderRunHeader,
  sampleProcessTree,
  sourceVersion,
  startClamd,
  startRspamd,
  waitUntilIdle,
  writeSection,
  type RunContext,
} from '../lib/index.js'
import { openIdleSessions } from './idle-sessions.js'
import { measureRun, type RunMeasurement } from './measure.js'
import { ensureHaraka } from './peers/haraka.js'
import { postfixAvailability } from './peers/postfix.js'
import { ConfigRejected, posternAvailability, REPO_ROOT, startPostern } from './peers/postern.js'
import type { Availability, RelayInstance } from './peers/relay.js'
import type { ScannerEndpoints, SmtpProcessesSetting } from './postern-config.js'
import {
  idleTable,
  methodNotes,
  ratioTable,
  renderMarkdownTable,
  runsTable,
  targetTable,
  terminalTable,
  throughputTable,
  type Table,
} from './render.js'
import { ROW_IDS, benchRows, type RowDefinition, type RowId } from './rows.js'
import { ensureSmtpTools, startSink, startSource, type Sink, type SmtpTools } from './smtp-tools.js'
import {
  compare,
  evaluateTargets,
  summarizeRow,
  type IdleResult,
  type RowSummary,
} from './summary.js'

/**
 * npm run bench:smtp — SMTP relay throughput of Postern against Postfix and Haraka on the same
 * machine in the same run, plus memory at many idle sessions. See bench/README.md.
 */

interface Options {
  runs: number
  messages: number
  sessions: number
  size: number
  warmup: number
  idleSessions: number
  only?: RowId[]
  note: string[]
  install: boolean
  write: boolean
  keep: boolean
  workDir: string
  json: boolean
  smtpProcesses: SmtpProcessesSetting
}

const positive = (name: string) => (value: string) => {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0)
    throw new InvalidArgumentError(`${name} must be a whole number`)
  return n
}

const program = new Command('bench:smtp')
  .description(
    'SMTP relay throughput: smtp-source → relay → smtp-sink for smtp-sink alone, Postfix, Haraka and Postern, same run; writes docs/benchmarks.md',
  )
  .option('--runs <n>', 'measured runs per relay (the median is reported)', positive('--runs'), 3)
  .option('--messages <n>', 'messages per measured run', positive('--messages'), 20_000)
  .option('--sessions <n>', 'parallel SMTP sessions of smtp-source', positive('--sessions'), 20)
  .option('--size <bytes>', 'payload bytes per message', positive('--size'), 5120)
  .option('--warmup <n>', 'unmeasured messages before each run', positive('--warmup'), 1000)
  .option(
    '--idle-sessions <n>',
    'idle SMTP sessions for the memory measurement (0 skips it)',
    positive('--idle-sessions'),
    1000,
  )
  .option(
    '--only <rows>',
    `comma-separated rows to measure: ${ROW_IDS.join(', ')}`,
    (value: string) => {
      const ids = value.split(',').map((v) => v.trim())
      for (const id of ids)
        if (!ROW_IDS.includes(id as RowId))
          throw new InvalidArgumentError(`unknown row "${id}"; rows: ${ROW_IDS.join(', ')}`)
      return ids as RowId[]
    },
  )
  .option(
    '--note <text>',
    'a note recorded with the results (repeatable), e.g. "preliminary: shared machine"',
    (value: string, previous: string[]) => [...previous, value],
    [] as string[],
  )
  .option(
    '--smtp-processes <n|auto>',
    "SMTP processes of the Postern rows (the gateway's smtpProcesses): 1 to 31, or auto (one per CPU)",
    (value: string): SmtpProcessesSetting => {
      if (value === 'auto') return value
      const n = Number(value)
      if (!Number.isInteger(n) || n < 1 || n > MAX_SMTP_PROCESSES)
        throw new InvalidArgumentError(
          `--smtp-processes must be 1 to ${MAX_SMTP_PROCESSES} or auto`,
        )
      return n
    },
    1 as SmtpProcessesSetting,
  )
  .option('--no-install', 'do not install missing peers; report them as not available')
  .option('--no-write', 'do not update docs/benchmarks.md')
  .option('--keep', 'keep the work directory (configs, queues, logs) for inspection', false)
  .option(
    '--work-dir <dir>',
    'where relays keep their queues (its disk is what fsync costs)',
    tmpdir(),
  )
  .option('--json', 'print the results as JSON on stdout instead of tables', false)
  .action(async (options: Options) => {
    process.exitCode = await run(options)
  })

const log = (line: string): void => {
  process.stderr.write(`${line}\n`)
}

async function run(options: Options): Promise<number> {
  const workRoot = mkdtempSync(join(options.workDir, 'postern-bench-smtp-'))
  // Relays that drop privileges (Postfix's daemons, smtp-sink as nobody) must reach their folders.
  chmodSync(workRoot, 0o755)
  const removeWorkRoot = (): void => {
    if (!options.keep) rmSync(workRoot, { recursive: true, force: true })
  }
  installSignalHandlers(removeWorkRoot)
  try {
    return await measureAll(options, workRoot)
  } finally {
    removeWorkRoot()
    if (options.keep) log(`Work directory kept: ${workRoot}`)
  }
}

async function measureAll(options: Options, workRoot: string): Promise<number> {
  const startedAt = new Date()
  const loadAtStart = loadAverage()
  const load = { messages: options.messages, sessions: options.sessions, size: options.size }
  log(
    `bench:smtp: ${formatInteger(load.messages)} messages × ${load.size} B, ${load.sessions} sessions, ${options.runs} run(s); work dir ${workRoot}`,
  )

  const tools = await ensureSmtpTools(log)
  const source = await sourceVersion(REPO_ROOT)
  const postfix = await postfixAvailability()
  const haraka = await ensureHaraka(log, options.install)
  const postern = await posternAvailability(source.commit)
  const availability = new Map<RowId, Availability>([
    ['sink', postfix.available ? postfix : { available: true, version: 'Postfix tools' }],
    ['postfix', postfix],
    ['haraka', haraka],
    ['haraka-nodelay', haraka],
    ['postern', postern],
    ['postern-pipeline', postern],
    ['postern-scanners', postern],
  ])
  const selected = benchRows(options.smtpProcesses).filter(
    (row) => !options.only || options.only.includes(row.id),
  )
  const scanners = await startScannersFor(selected, availability, workRoot)
  const labels = new Map(selected.map((row) => [row.id, labelOf(row, availability.get(row.id))]))
  const runs = new Map<RowId, RunMeasurement[]>(selected.map((row) => [row.id, []]))
  const problems = new Map<RowId, { status: 'not available' | 'failed'; reason: string }>()
  for (const row of selected) {
    const a = availability.get(row.id)
    if (a && !a.available) {
      problems.set(row.id, { status: 'not available', reason: a.reason })
      log(`  ${labels.get(row.id)}: not available: ${a.reason}`)
    }
  }

  const began = performance.now()
  for (let runIndex = 1; runIndex <= options.runs; runIndex++) {
    for (const row of selected) {
      if (problems.has(row.id)) continue
      const label = `${labels.get(row.id)} · run ${runIndex}/${options.runs}`
      const dir = join(workRoot, `${row.id}-${runIndex}`)
      mkdirSync(dir)
      try {
        const measurement = await withRelay(
          row,
          tools,
          { dir, workRoot, scanners },
          (sink, relay) =>
            measureRun({
              tools,
              dir,
              sink,
              targetPort: relay?.port ?? sink.port,
              relayPid: relay?.service.pid,
              ...(row.id === 'postern-scanners' && scanners ? { helperPids: scanners.pids } : {}),
              load,
              warmup: options.warmup,
              label: label.padEnd(44),
            }),
        )
        runs.get(row.id)?.push(measurement)
        log(
          `  ${label}: ${formatInteger(measurement.acceptedPerSec)} accepted/s, ${formatInteger(measurement.endToEndPerSec)} end-to-end/s` +
            (measurement.cpuMsPerMessage === undefined
              ? ''
              : `, ${measurement.cpuMsPerMessage.toFixed(2)} CPU ms/msg`),
        )
      } catch (err) {
        const status = err instanceof ConfigRejected ? 'not available' : 'failed'
        const reason = err instanceof Error ? err.message : String(err)
        problems.set(row.id, { status, reason: firstLines(reason, 6) })
        log(`  ${label}: ${status}: ${reason}`)
      } finally {
        if (!options.keep) rmSync(dir, { recursive: true, force: true })
      }
    }
  }
  log(`Throughput runs took ${formatDuration(performance.now() - began)}.`)
  await scanners?.stop()

  const idle: IdleResult[] = []
  if (options.idleSessions > 0) {
    for (const id of ['haraka', 'postern'] as const) {
      const row = selected.find((r) => r.id === id)
      if (!row || problems.get(id)?.status === 'not available') continue
      const dir = join(workRoot, `${id}-idle`)
      mkdirSync(dir)
      try {
        idle.push(
          await withRelay(row, tools, { dir, workRoot, scanners }, (sink, relay) =>
            measureIdle(tools, dir, sink, relay as RelayInstance, {
              id,
              label: labels.get(id) ?? id,
              count: options.idleSessions,
            }),
          ),
        )
      } catch (err) {
        log(`  ${labels.get(id)}: idle sessions failed: ${(err as Error).message}`)
      }
    }
  }

  const summaries: RowSummary[] = selected.map((row) =>
    summarizeRow(row, labels.get(row.id) ?? row.id, runs.get(row.id) ?? [], problems.get(row.id)),
  )
  const comparisons = compare(summaries)
  const targets = evaluateTargets(summaries, comparisons, idle)
  const idleNotes = [
    'Sessions are opened from 10 loopback addresses, read the greeting and EHLO reply, then stay idle; memory is the relay tree’s after 2 s with all of them open (highest of 3 samples).',
    'Postfix is not in this table: by default it runs at most 100 smtpd processes (default_process_limit), so further sessions wait in the listen queue without a greeting.',
  ]
  const tables: Table[] = [
    throughputTable(summaries),
    ratioTable(summaries, comparisons),
    targetTable(targets),
    ...(options.idleSessions > 0 ? [idleTable(idle, options.idleSessions, idleNotes)] : []),
  ]
  const finishedAt = new Date()
  const haraVersion = haraka.available ? haraka.version : 'not installed'
  const context: RunContext = {
    title: 'SMTP relay: Postern against Postfix and Haraka',
    command: 'npm run bench:smtp',
    startedAt,
    finishedAt,
    machine: await describeMachine(workRoot),
    loadAtStart,
    loadAtEnd: loadAverage(),
    versions: {
      Node: process.version,
      Postfix: postfix.available ? postfix.version : 'not available',
      Haraka: haraVersion,
      Postern: source.describe,
    },
    parameters: {
      Load: `${formatInteger(load.messages)} messages × ${formatInteger(load.size)} B payload, one per connection, ${load.sessions} parallel sessions`,
      Runs: `median of ${options.runs}, relays in turn within each run, ${formatInteger(options.warmup)} warm-up messages each`,
    },
    notes: options.note,
  }

  const result = { context, load, summaries, comparisons, targets, idle }
  const resultsDir = join(REPO_ROOT, 'bench', 'results')
  mkdirSync(resultsDir, { recursive: true })
  const resultsFile = join(resultsDir, `smtp-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`)
  writeFileSync(resultsFile, `${JSON.stringify(result, null, 2)}\n`)

  if (options.json) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`)
  } else {
    for (const table of tables) {
      const { headers, rows } = terminalTable(table)
      process.stdout.write(`\n${table.title}\n`)
      if (rows.length > 0) process.stdout.write(`${renderTable(headers, rows)}\n`)
      if (table.note) process.stdout.write(`${table.note}\n`)
    }
  }
  log(`\nRaw results: ${resultsFile}`)
  if (options.write) {
    const docsFile = join(REPO_ROOT, 'docs', 'benchmarks.md')
    const body = [
      renderRunHeader(context),
      ...tables.map((table) => renderMarkdownTable(table)),
      `### Method\n\n${methodNotes(load, options.warmup)
        .map((note) => `- ${note}`)
        .join('\n')}`,
      `<details><summary>Every run</summary>\n\n${renderMarkdownTable(runsTable(summaries), '')}\n\n</details>`,
    ].join('\n\n')
    writeSection(docsFile, 'smtp', body)
    log(`Updated the "smtp" section of ${docsFile}`)
  }
  return summaries.some((s) => s.status === 'failed') ? EXIT.FAILURE : EXIT.OK
}

function labelOf(row: RowDefinition, availability: Availability | undefined): string {
  if (row.product === 'smtp-sink') return 'smtp-sink alone'
  const version = availability?.available ? ` ${availability.version}` : ''
  const suffix =
    row.id === 'haraka-nodelay'
      ? ' + TCP_NODELAY'
      : row.id === 'postern-pipeline'
        ? ', full pipeline'
        : row.id === 'postern-scanners'
          ? ', pipeline + rspamd + ClamAV'
          : ''
  return `${row.product}${version}${suffix}`
}

interface RunningScanners extends ScannerEndpoints {
  /** Root processes of rspamd and clamd, whose CPU the scanners row counts. */
  pids: number[]
  stop(): Promise<void>
}

/**
 * rspamd and clamd, started once for the run when the scanners row is selected; if they
 * cannot start, that row is not available (with the reason) and the others go on.
 */
async function startScannersFor(
  selected: readonly RowDefinition[],
  availability: Map<RowId, Availability>,
  workRoot: string,
): Promise<RunningScanners | undefined> {
  if (!selected.some((row) => row.id === 'postern-scanners')) return undefined
  if (!availability.get('postern-scanners')?.available) return undefined
  // rspamd takes long to start: first make sure the gateway accepts the row's configuration.
  const rejected = await configRejection(workRoot)
  if (rejected) {
    availability.set('postern-scanners', { available: false, reason: rejected })
    return undefined
  }
  log('Starting rspamd and clamd for the scanners row (rspamd takes a while to load its rules)…')
  const started: { stop(): Promise<void> }[] = []
  try {
    const clamd = await startClamd(join(workRoot, 'clamd'))
    started.push(clamd)
    const rspamd = await startRspamd(join(workRoot, 'rspamd'))
    started.push(rspamd)
    const pids = [rspamd.service.pid, clamd.service.pid]
    const idle = await waitUntilIdle(pids)
    log(
      idle.settled
        ? `rspamd and clamd idle after ${(idle.waitedMs / 1000).toFixed(0)} s; measuring.`
        : `rspamd and clamd still busy after ${(idle.waitedMs / 1000).toFixed(0)} s; measuring anyway (the first rows may be slowed).`,
    )
    return {
      rspamdUrl: rspamd.url,
      clamd: { host: '127.0.0.1', port: clamd.port },
      pids,
      async stop() {
        for (const service of started) await service.stop()
      },
    }
  } catch (err) {
    for (const service of started) await service.stop()
    availability.set('postern-scanners', {
      available: false,
      reason: `rspamd or clamd did not start: ${firstLines((err as Error).message, 4)}`,
    })
    return undefined
  }
}

/**
 * Starts the gateway once with the scanners configuration (endpoints nobody listens on) and
 * returns why it was refused, or undefined when it starts.
 */
async function configRejection(workRoot: string): Promise<string | undefined> {
  const dir = join(workRoot, 'postern-scanners-probe')
  mkdirSync(dir)
  try {
    const probe = await startPostern(
      { dir, sinkPort: 9 },
      {
        variant: 'scanners',
        scanners: { rspamdUrl: 'http://127.0.0.1:9', clamd: { host: '127.0.0.1', port: 9 } },
      },
    )
    await probe.stop()
    return undefined
  } catch (err) {
    // Anything but a refused configuration is left for the measured runs to report.
    return err instanceof ConfigRejected ? firstLines(err.message, 6) : undefined
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Starts a fresh sink and the row's relay in `dir`, runs `body`, and always stops both. */
async function withRelay<T>(
  row: RowDefinition,
  tools: SmtpTools,
  where: { dir: string; workRoot: string; scanners: ScannerEndpoints | undefined },
  body: (sink: Sink, relay: RelayInstance | undefined) => Promise<T>,
): Promise<T> {
  const sink = await startSink(tools, where.dir)
  let relay: RelayInstance | undefined
  try {
    relay = await row.start?.({
      dir: where.dir,
      sinkPort: sink.port,
      workRoot: where.workRoot,
      ...(where.scanners ? { scanners: where.scanners } : {}),
    })
    return await body(sink, relay)
  } finally {
    await relay?.stop()
    await sink.stop()
  }
}

async function measureIdle(
  tools: SmtpTools,
  dir: string,
  sink: Sink,
  relay: RelayInstance,
  { id, label, count }: { id: RowId; label: string; count: number },
): Promise<IdleResult> {
  // A few messages first, so that the delivery path is loaded as it is in service.
  const warm = await startSource(
    tools,
    dir,
    relay.port,
    { messages: 200, sessions: 20, size: 5120 },
    'idle-warmup',
  )
  try {
    await warm.done
  } finally {
    await warm.stop()
  }
  await delay(1000)
  const before = sampleProcessTree(relay.service.pid)
  let lastShown = 0
  const sessions = await openIdleSessions({
    port: relay.port,
    count,
    onProgress: (established) => {
      if (established - lastShown >= count / 10 || established === count) {
        lastShown = established
        log(`  ${label}: ${established}/${count} idle sessions open`)
      }
    },
  })
  try {
    await delay(2000)
    let rss = 0
    let pss: number | undefined
    for (let i = 0; i < 3; i++) {
      const sample = sampleProcessTree(relay.service.pid)
      if (sample.rss > rss) {
        rss = sample.rss
        pss = sample.pss
      }
      await delay(500)
    }
    log(
      `  ${label}: ${sessions.established}/${count} idle sessions, RSS ${(rss / 1024 / 1024).toFixed(1)} MiB (${(before.rss / 1024 / 1024).toFixed(1)} MiB before)`,
    )
    return {
      id,
      label,
      requested: count,
      established: sessions.established,
      failures: Object.fromEntries(sessions.failures),
      baselineRss: before.rss,
      rss,
      ...(pss === undefined ? {} : { pss }),
    }
  } finally {
    await sessions.close()
  }
}

function firstLines(text: string, count: number): string {
  return text.split('\n').slice(0, count).join(' ').slice(0, 600)
}

await program.parseAsync(process.argv)
