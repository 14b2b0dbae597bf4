/**
 * `npm run bench:scale`: a gateway cluster of 1, 2, … nodes (issue 9) on one PostgreSQL
 * database — each node its own `postern gateway` process with its own spool and MID space,
 * sharing settings and tracking — relaying smtp-source's load to smtp-sink; then message
 * tracking looked up across the cluster. Prints relay msgs/s per cluster size with the ratio to
 * one node, and tracking lookup p50/p99 over every node's messages; writes docs/benchmarks.md.
 */
import { mkdirSync } from 'node:fs'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { Command, Progress, renderTable } from '@postern/cli-kit'
import { Database, TrackingStore, type GatewaySchema } from '@postern/store'
import { createTestDatabase } from '@postern/store/testing'
import { tempDir } from '@postern/testkit'
import {
  describeMachine,
  formatMachine,
  markdownTable,
  percentile,
  sampleProcessTree,
  sourceVersion,
  writeSection,
} from '../lib/index.js'
import { startPostern } from '../smtp/peers/postern.js'
import type { RelayInstance } from '../smtp/peers/relay.js'
import { ensureSmtpTools, startSink, startSource, type Sink } from '../smtp/smtp-tools.js'

const program = new Command('bench:scale')
  .description(
    'Gateway cluster scaling: relay msgs/s and tracking lookups vs number of gateway nodes on one PostgreSQL database',
  )
  .option('--nodes <list>', 'cluster sizes to measure, comma-separated', '1,2')
  .option(
    '--messages <n>',
    'messages per cluster size (split evenly over the nodes)',
    Number,
    10_000,
  )
  .option('--sessions <n>', 'parallel SMTP sessions in all (split over the nodes)', Number, 20)
  .option('--size <bytes>', 'payload bytes per message', Number, 5120)
  .option('--lookups <n>', 'tracking lookups measured per cluster size', Number, 500)
  .option('--json', 'print results as JSON', false)
  .option('--no-write', 'do not update docs/benchmarks.md')
  .option('--note <text>', 'note recorded with the results', '')
program.parse()
const options = program.opts<{
  nodes: string
  messages: number
  sessions: number
  size: number
  lookups: number
  json: boolean
  write: boolean
  note: string
}>()

const SENDER = 'sender@client.bench.example'
const sizes = options.nodes.split(',').map((n) => Number(n.trim()))
if (sizes.some((n) => !Number.isInteger(n) || n < 1 || n > 8)) {
  process.stderr.write('--nodes takes cluster sizes from 1 to 8, e.g. --nodes 1,2\n')
  process.exit(2)
}

interface ClusterResult {
  nodes: number
  messages: number
  acceptedPerSecond: number
  endToEndPerSecond: number
  cpuMsPerMessage: number
  trackedRows: number
  /** Message detail by MID (message, events, observables), any node's message. */
  detail: { p50: number; p99: number }
  /** The sender's latest 100 messages across the cluster (observable index). */
  bySender: { p50: number; p99: number }
}

const log = (line: string) => process.stderr.write(`${line}\n`)
const dir = tempDir('postern-bench-scale-')
const machine = await describeMachine(dir.path)
const version = await sourceVersion(process.cwd())
const tools = await ensureSmtpTools(log)
const loadStart = loadavg()
const results: ClusterResult[] = []

async function waitUntil(what: string, check: () => Promise<boolean> | boolean): Promise<void> {
  const deadline = Date.now() + 600_000
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

async function timed(run: () => Promise<unknown>, count: number) {
  const times: number[] = []
  for (let i = 0; i < count; i++) {
    const start = performance.now()
    await run()
    times.push(performance.now() - start)
  }
  return { p50: percentile(times, 50), p99: percentile(times, 99) }
}

async function measureCluster(nodes: number): Promise<ClusterResult> {
  const runDir = join(dir.path, `cluster-${nodes}`)
  mkdirSync(runDir, { recursive: true })
  const testDb = await createTestDatabase('postgres')
  const gateways: RelayInstance[] = []
  let sink: Sink | undefined
  let database: Database<GatewaySchema> | undefined
  try {
    sink = await startSink(tools, runDir)
    for (let n = 1; n <= nodes; n++) {
      const nodeDir = join(runDir, `node-${n}`)
      mkdirSync(nodeDir, { recursive: true })
      gateways.push(
        await startPostern(
          { dir: nodeDir, sinkPort: sink.port },
          { variant: 'pipeline', cluster: { database: testDb.configValue, nodeNumber: n } },
        ),
      )
    }
    const perNode = Math.floor(options.messages / nodes)
    const total = perNode * nodes
    const sessions = Math.max(1, Math.floor(options.sessions / nodes))
    const progress = new Progress(`${nodes} node(s): messages at smtp-sink`, total)
    let shown = 0
    const cpuBefore = gateways.map((g) => sampleProcessTree(g.service.pid, { memory: false }))
    const start = performance.now()
    const sources = await Promise.all(
      gateways.map((g, i) =>
        startSource(
          tools,
          runDir,
          g.port,
          { messages: perNode, sessions, size: options.size },
          `node-${i + 1}`,
        ),
      ),
    )
    const ticker = setInterval(() => {
      const received = Math.min(total, sink?.received() ?? 0)
      progress.tick(received - shown)
      shown = received
    }, 500)
    await Promise.all(sources.map((s) => s.done))
    const acceptedSeconds = (performance.now() - start) / 1000
    await waitUntil('every message at smtp-sink', () => (sink?.received() ?? 0) >= total)
    const endToEndSeconds = (performance.now() - start) / 1000
    clearInterval(ticker)
    progress.tick(total - shown)
    progress.finish()
    const cpuMs = gateways.reduce(
      (sum, g, i) =>
        sum + sampleProcessTree(g.service.pid, { memory: false }).cpuMs - cpuBefore[i]!.cpuMs,
      0,
    )

    database = await Database.open<GatewaySchema>(testDb.target)
    const db = database.db
    const tracked = async () =>
      Number(
        (
          await db
            .selectFrom('messages')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      )
    await waitUntil('tracking of every message', async () => (await tracked()) >= total)
    const tracking = new TrackingStore(db, 'postgres')
    const sample = (await db.selectFrom('messages').select('mid').execute()).map((r) =>
      Number(r.mid),
    )
    let next = 0
    const pick = () => sample[(next++ * 7919) % sample.length] as number
    const detail = await timed(async () => {
      const mid = pick()
      await Promise.all([
        tracking.getMessage(mid),
        tracking.listEvents(mid),
        tracking.listObservables(mid),
      ])
    }, options.lookups)
    const bySender = await timed(
      () => tracking.findByObservable('email', SENDER, { limit: 100 }),
      options.lookups,
    )
    return {
      nodes,
      messages: total,
      acceptedPerSecond: total / acceptedSeconds,
      endToEndPerSecond: total / endToEndSeconds,
      cpuMsPerMessage: cpuMs / total,
      trackedRows: await tracked(),
      detail,
      bySender,
    }
  } finally {
    await database?.close()
    for (const g of gateways) await g.stop()
    await sink?.stop()
    await testDb.drop()
  }
}

try {
  for (const nodes of sizes) {
    log(`measuring a cluster of ${nodes} gateway node(s)…`)
    results.push(await measureCluster(nodes))
  }
} finally {
  dir.remove()
}

const loadEnd = loadavg()
const base = results.find((r) => r.nodes === 1) ?? results[0]!
const headers = [
  'Gateway nodes',
  'Messages',
  'Accepted msg/s',
  'End-to-end msg/s',
  'vs 1 node',
  'Gateway CPU ms/msg',
  'Tracking: message detail p50 / p99 (ms)',
  "Tracking: sender's latest 100 p50 / p99 (ms)",
]
const cells = results.map((r) => [
  String(r.nodes),
  String(r.messages),
  r.acceptedPerSecond.toFixed(0),
  r.endToEndPerSecond.toFixed(0),
  `${(r.endToEndPerSecond / base.endToEndPerSecond).toFixed(2)}×`,
  r.cpuMsPerMessage.toFixed(2),
  `${r.detail.p50.toFixed(2)} / ${r.detail.p99.toFixed(2)}`,
  `${r.bySender.p50.toFixed(2)} / ${r.bySender.p99.toFixed(2)}`,
])
const loads = (l: number[]) => l.map((v) => v.toFixed(2)).join(' / ')
if (options.json) {
  process.stdout.write(
    `${JSON.stringify({ options, loadStart, loadEnd, results, version }, null, 2)}\n`,
  )
} else {
  process.stdout.write(
    `${renderTable(headers, cells)}\nload average (1/5/15 min) ${loads(loadStart)} at start, ${loads(loadEnd)} at end\n`,
  )
}
if (options.write) {
  writeSection(
    new URL('../../docs/benchmarks.md', import.meta.url).pathname,
    'scale',
    [
      '## Gateway cluster scaling (`npm run bench:scale`)',
      '',
      `A gateway cluster of ${sizes.join(', ')} node(s) on one PostgreSQL database (each node its own \`postern gateway\` process with its own spool and MID space, \`nodeNumber\` 1…N, the full content pipeline with tracking; rspamd and ClamAV off). smtp-source sends ${options.messages} messages of ${options.size} B payload, one per connection, split evenly over the nodes with ${options.sessions} sessions in all; every node relays to one smtp-sink. Then ${options.lookups} tracking lookups on the shared database, over every node's messages: a message's detail by MID (message, events, observables) and the sender's latest 100 messages (observable index). All processes share the machine's cores: on a 2-core machine a second node adds CPU only if one node leaves some idle.`,
      '',
      `- Date: ${new Date().toISOString()}; ${options.note || 'machine shared with other work: figures are noisy'}`,
      `- Machine: ${formatMachine(machine)}`,
      `- Load average (1/5/15 min): ${loads(loadStart)} at start, ${loads(loadEnd)} at end`,
      `- Node.js ${process.version}; source ${version.describe}`,
      '',
      markdownTable(headers, cells, [
        'right',
        'right',
        'right',
        'right',
        'right',
        'right',
        'right',
        'right',
      ]),
      '',
    ].join('\n'),
  )
}
