/**
 * `npm run bench:enrich`: one hub, N simulated gateways connected through the real device
 * tunnel (each answers observe after its own delay, 5–50 ms), and enrich observe requests over
 * HTTP. The figure is the hub's overhead: a request's latency minus its slowest gateway's
 * answer time. Target (issue 6): under 10 ms at p99 with 50 gateways.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { Command, Progress, renderTable } from '@postern/cli-kit'
import { silentLogger, validateConfig } from '@postern/core'
import { Hub, SCOPE_CATALOGUE, hubConfigSchema } from '@postern/hub'
import { createTestDatabase } from '@postern/store/testing'
import { tempDir, waitFor } from '@postern/testkit'
import { TUNNEL_METHODS, TunnelClient, moduleCall } from '@postern/tunnel'
import {
  describeMachine,
  formatMachine,
  loadAverage,
  markdownTable,
  summarize,
  writeSection,
} from '../lib/index.js'

const program = new Command('bench:enrich')
  .description('Enrich fan-out to N simulated gateways: hub overhead over the slowest gateway')
  .option('--gateways <n>', 'simulated gateways (tunnel connections)', (v) => Number(v), 50)
  .option('--requests <n>', 'observe requests measured', (v) => Number(v), 300)
  .option('--warmup <n>', 'requests before measuring', (v) => Number(v), 30)
  .option('--min-delay <ms>', 'shortest gateway answer time', (v) => Number(v), 5)
  .option('--max-delay <ms>', 'longest gateway answer time', (v) => Number(v), 50)
  .option('--json', 'print results as JSON', false)
  .option('--no-write', 'do not update docs/benchmarks.md')
  .option('--note <text>', 'note recorded with the results', '')
program.parse()
const options = program.opts<{
  gateways: number
  requests: number
  warmup: number
  minDelay: number
  maxDelay: number
  json: boolean
  write: boolean
  note: string
}>()

const TARGET_MS = 10
const loadStart = loadAverage()
const testDb = await createTestDatabase('sqlite')
const dir = tempDir('postern-bench-enrich-')
const machine = await describeMachine(dir.path)
const hub = await Hub.start({
  config: validateConfig(hubConfigSchema, {
    dataDir: dir.path,
    database: testDb.configValue,
    listen: '127.0.0.1:0',
    nodeId: 'bench',
    // Every gateway is called at once: the limit is above the number of gateways.
    investigate: { concurrency: Math.max(16, options.gateways * 2), moduleTimeoutSeconds: 10 },
  }),
  logger: silentLogger(),
})
const clients: TunnelClient[] = []
/** Answer times (ms) of the gateway handlers during the current request. */
let answers: number[] = []
const overheads: number[] = []
const latencies: number[] = []
let failed = 0
try {
  await hub.admin.createOrgWithAdmin({ orgName: 'Bench', email: 'admin@bench.example' })
  const client = await hub.admin.createApiClient({
    org: 'Bench',
    name: 'bench',
    scopes: SCOPE_CATALOGUE,
  })
  const tokenResponse = await fetch(`${hub.url}/iroh/oauth2/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${client.client.id}:${client.secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials',
  })
  const token = ((await tokenResponse.json()) as { access_token: string }).access_token

  const connect = new Progress('connect gateways', options.gateways)
  for (let i = 0; i < options.gateways; i++) {
    const registration = await hub.services.devices.register(
      {
        token: (await hub.admin.createRegistrationToken({ org: 'Bench' })).token,
        uid: `BENCH-${i}`,
        model: 'postern-gateway',
        version: '0.1.0',
        hostname: `gw${i}.bench.example`,
        deployment: 'standalone',
        clusterName: null,
        name: `gw${i}`,
      },
      null,
    )
    const tunnel = new TunnelClient({
      url: `${hub.url.replace(/^http/, 'ws')}/api/v1/tunnel`,
      credential: () => registration.credential,
      logger: silentLogger(),
      backoff: { initialMs: 50, maxMs: 500 },
      handlers: {
        requests: {
          [TUNNEL_METHODS.moduleCall]: async (params) => {
            const started = performance.now()
            const call = moduleCall.parse(params)
            const delay = options.minDelay + Math.random() * (options.maxDelay - options.minDelay)
            await sleep(delay)
            const observable = (call.body as { type: string; value: string }[])[0]
            const answer = {
              data: {
                sightings: {
                  count: 1,
                  docs: [
                    {
                      type: 'sighting',
                      source: `gw${i}`,
                      count: 1,
                      confidence: 'High',
                      observed_time: { start_time: new Date().toISOString() },
                      observables: [observable],
                    },
                  ],
                },
              },
            }
            answers.push(performance.now() - started)
            return answer
          },
        },
      },
    })
    tunnel.start()
    clients.push(tunnel)
    await waitFor(() => hub.tunnel.isConnected(registration.device.id), {
      what: `gw${i} tunnel`,
      timeoutMs: 15_000,
    })
    connect.tick()
  }
  connect.finish()
  const created = await fetch(`${hub.url}/iroh/iroh-int/module-instance`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Gateways', module_type_id: 'postern-email-gateway' }),
  })
  if (created.status !== 201) throw new Error(`module instance: HTTP ${created.status}`)

  const body = JSON.stringify([{ type: 'domain', value: 'login-micros0ft.com' }])
  const measure = new Progress('observe requests', options.warmup + options.requests)
  for (let n = 0; n < options.warmup + options.requests; n++) {
    answers = []
    const started = performance.now()
    const response = await fetch(`${hub.url}/iroh/iroh-enrich/observe/observables`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body,
    })
    const result = (await response.json()) as {
      data: { data: { sightings?: { count: number } } }[]
      errors: unknown[]
    }
    const latency = performance.now() - started
    measure.tick()
    const complete =
      response.status === 200 &&
      result.errors.length === 0 &&
      result.data[0]?.data.sightings?.count === options.gateways &&
      answers.length === options.gateways
    if (!complete) failed++
    if (n < options.warmup || !complete) continue
    latencies.push(latency)
    overheads.push(latency - Math.max(...answers))
  }
  measure.finish()
} finally {
  for (const tunnel of clients) await tunnel.stop()
  await hub.stop()
  await testDb.drop()
  dir.remove()
}

const loadEnd = loadAverage()
const overhead = summarize(overheads)
const latency = summarize(latencies)
const met = overhead.p99 < TARGET_MS
const rows = [
  ['overhead over the slowest gateway', overhead],
  ['request latency', latency],
] as const
if (options.json) {
  process.stdout.write(
    `${JSON.stringify({ options, loadStart, loadEnd, failed, overhead, latency }, null, 2)}\n`,
  )
} else {
  process.stdout.write(
    `${renderTable(
      ['measure', 'p50 ms', 'p99 ms', 'max ms'],
      rows.map(([name, s]) => [name, s.p50.toFixed(2), s.p99.toFixed(2), s.max.toFixed(2)]),
    )}\n${options.gateways} gateways, ${overheads.length} requests measured, ${failed} incomplete; target p99 < ${TARGET_MS} ms: ${met ? 'met' : 'missed'}\n`,
  )
}
if (options.write) {
  writeSection(
    new URL('../../docs/benchmarks.md', import.meta.url).pathname,
    'enrich',
    [
      '## Enrich fan-out (`npm run bench:enrich`)',
      '',
      `One hub and ${options.gateways} simulated gateways on the real device tunnel (WebSocket), each answering observe after ${options.minDelay}–${options.maxDelay} ms; ${options.requests} observe requests over HTTP after ${options.warmup} warm-up requests. Overhead = request latency − the slowest gateway's answer time. Target: overhead < ${TARGET_MS} ms at p99 with 50 gateways.`,
      '',
      `- Date: ${new Date().toISOString()}; ${options.note || 'machine shared with other engineers working at the same time: figures are noisy'}`,
      `- Machine: ${formatMachine(machine)}; load average ${loadStart.toFixed(2)} at start, ${loadEnd.toFixed(2)} at end`,
      `- Node.js ${process.version}; hub database sqlite; ${failed} incomplete requests`,
      '',
      markdownTable(
        ['Measure', 'p50 ms', 'p99 ms', 'Max ms'],
        rows.map(([name, s]) => [name, s.p50.toFixed(2), s.p99.toFixed(2), s.max.toFixed(2)]),
        ['left', 'right', 'right', 'right'],
      ),
      '',
      `Target (p99 overhead < ${TARGET_MS} ms): **${met ? 'met' : 'missed'}** (${overhead.p99.toFixed(2)} ms).`,
      '',
    ].join('\n'),
  )
}
process.exitCode = failed > 0 || !met ? 1 : 0
