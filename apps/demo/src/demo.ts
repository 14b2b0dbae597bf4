import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join, resolve } from 'node:path'
import nodemailer from 'nodemailer'
import {
  createLogger,
  fileDestination,
  randomToken,
  validateConfig,
  type Logger,
} from '@postern/core'
import {
  Gateway,
  defaultExtensions,
  gatewayConfigSchema,
  type GatewayConfig,
} from '@postern/gateway'
import { cloudHostOf, openCloudContext, type CloudStatus } from '@postern/gateway/cloud'
import { Hub, hubConfigSchema } from '@postern/hub'
import { demoErrors } from './errors.js'
import { GatewayApi } from './gateway-client.js'
import { investigateAndRespond, type InvestigateOutcome } from './investigate.js'
import { demoIntel, type DemoIntel } from './hub-intel.js'
import {
  CAMPAIGN_URL,
  DEMO_DOMAIN,
  initialSamples,
  trafficSample,
  type SampleMessage,
} from './samples.js'

export interface DemoOptions {
  /** Where the demo keeps its databases, spool, mailboxes, logs and credentials. */
  dataDir: string
  smtpPort: number
  gatewayPort: number
  hubPort: number
  /** Send a sample message every `trafficIntervalMs` while running. */
  traffic: boolean
  trafficIntervalMs?: number
  out: NodeJS.WritableStream
}

export interface DemoCredentials {
  gateway: { username: string; password: string }
  hub: { email: string; password: string }
}

/** A message the demo sent, with what the gateway decided. */
export interface SampleOutcome {
  label: string
  mid: number
  status: string
  verdicts: string[]
  timeline: string[]
}

export interface RunningDemo {
  hubUrl: string
  /** The gateway as the hub sees it: its device id and cloud-services state. */
  registration: { deviceId: string | null; state: string }
  gatewayUrl: string
  smtp: string
  credentials: DemoCredentials
  outcomes: SampleOutcome[]
  remediation: { url: string; found: number[]; results: { recipient: string; status: string }[] }
  /** Inspect → respond on the hub: recommended steps and the phishing domain blocked. */
  investigate: InvestigateOutcome
  /** The hub's casebook of the demo's phishing and the incidents the gateway raised. */
  intel: DemoIntel
  stop(): Promise<void>
}

const DEMO_ORG = 'Demo'

const FINAL_STATUSES = new Set([
  'delivered',
  'quarantined',
  'bounced',
  'dropped',
  'deleted',
  'rejected',
])

/**
 * `postern demo`: a gateway on the embedded SQLite database with the content pipeline and
 * mailbox remediation, delivering into a Maildir tree under the data directory, fed with sample
 * mail; then a phishing campaign found by its URL and deleted from the mailboxes it reached.
 */
export async function startDemo(options: DemoOptions): Promise<RunningDemo> {
  const dataDir = resolve(options.dataDir)
  mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  const credentials = loadOrCreateCredentials(dataDir)
  const logger = createLogger({ level: 'info', name: 'postern-demo' })
  await ensurePortFree(options.smtpPort, 'gateway SMTP', '--smtp-port')
  await ensurePortFree(options.gatewayPort, 'gateway console and API', '--gateway-port')
  await ensurePortFree(options.hubPort, 'hub console and API', '--hub-port')

  const hub = await Hub.start({
    config: validateConfig(hubConfigSchema, {
      dataDir: join(dataDir, 'hub'),
      database: 'sqlite',
      listen: `127.0.0.1:${options.hubPort}`,
      region: 'nam',
      log: { level: 'info' },
      bootstrap: {
        org: DEMO_ORG,
        adminEmail: credentials.hub.email,
        adminPasswordFile: join(dataDir, 'hub-admin-password'),
      },
    }),
    logger: fileLogger(join(dataDir, 'hub.log'), 'postern-hub'),
  })

  const gatewayConfig = demoGatewayConfig(dataDir, options, hub.url)
  const gateway = await Gateway.create(gatewayConfig, {
    logger: fileLogger(join(dataDir, 'gateway.log'), 'postern-gateway'),
    extensions: defaultExtensions(),
  })
  const addresses = await gateway.start()
  const smtpAddress = addresses.smtp.inbound as { host: string; port: number }
  const gatewayUrl = `http://127.0.0.1:${addresses.http.port}`
  const api = new GatewayApi(gatewayUrl, gatewayConfig.dataDir)
  await ensureRemediationProfile(api, dataDir)
  const registration = await registerWithHub(hub, gateway, gatewayConfig)

  const send = (sample: SampleMessage): Promise<number> => sendSample(smtpAddress.port, sample)
  const outcomes: SampleOutcome[] = []
  for (const sample of initialSamples()) {
    const mid = await send(sample)
    outcomes.push(await settle(gateway, api, sample.label, mid))
  }
  const remediation = await remediateCampaign(gateway, api)
  const investigate = await investigateAndRespond(hub)
  const intel = await demoIntel(hub, DEMO_ORG)

  let tick = 0
  const timer = options.traffic
    ? setInterval(() => {
        const sample = trafficSample(tick++)
        send(sample).catch((err: unknown) =>
          logger.warn(
            { event: 'DEMO_TRAFFIC_FAILED', err: (err as Error).message },
            'sample not sent',
          ),
        )
      }, options.trafficIntervalMs ?? 15_000)
    : undefined

  return {
    hubUrl: hub.url,
    registration,
    gatewayUrl,
    smtp: `127.0.0.1:${smtpAddress.port}`,
    credentials,
    outcomes,
    remediation,
    investigate,
    intel,
    async stop() {
      if (timer) clearInterval(timer)
      await gateway.stop()
      await hub.stop()
    },
  }
}

function demoGatewayConfig(dataDir: string, options: DemoOptions, hubUrl: string): GatewayConfig {
  const gatewayDir = join(dataDir, 'gateway')
  return validateConfig(gatewayConfigSchema, {
    dataDir: gatewayDir,
    database: 'sqlite',
    hostname: 'gateway.demo.postern.test',
    http: `127.0.0.1:${options.gatewayPort}`,
    log: { level: 'info' },
    rdns: { forTracking: false },
    tracking: { flushInterval: '200ms' },
    api: {
      initialAdmin: { username: 'admin', passwordFile: join(dataDir, 'gateway-admin-password') },
    },
    listeners: [
      {
        name: 'inbound',
        smtp: `127.0.0.1:${options.smtpPort}`,
        rat: [{ recipient: DEMO_DOMAIN, action: 'ACCEPT' }],
      },
    ],
    smtpRoutes: [{ domain: DEMO_DOMAIN, to: [`maildir:${join(dataDir, 'mailboxes')}`] }],
    cloud: { servers: { nam: hubUrl } },
    // No DNS on a demo machine: authentication runs against a resolver that answers nothing
    // quickly instead of waiting on the internet.
    pipeline: {
      workers: 1,
      authentication: { dns: { servers: ['127.0.0.1:9'], timeout: 200, tries: 1 } },
    },
  })
}

function loadOrCreateCredentials(dataDir: string): DemoCredentials {
  const file = join(dataDir, 'credentials.json')
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as DemoCredentials
  const credentials: DemoCredentials = {
    gateway: { username: 'admin', password: randomToken(12) },
    hub: { email: 'admin@example.com', password: randomToken(12) },
  }
  writeFileSync(file, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 })
  writeFileSync(join(dataDir, 'gateway-admin-password'), credentials.gateway.password, {
    mode: 0o600,
  })
  writeFileSync(join(dataDir, 'hub-admin-password'), credentials.hub.password, { mode: 0o600 })
  return credentials
}

/**
 * The seed's integration procedure, done the way an operator would: enable cloud services,
 * choose the region, switch Threat Response on, register with a token made in the hub, and wait
 * until the hub sees the gateway connected. Done once; later starts reuse the registration.
 */
async function registerWithHub(
  hub: Hub,
  gateway: Gateway,
  config: GatewayConfig,
): Promise<RunningDemo['registration']> {
  const context = await openCloudContext({
    host: cloudHostOf(config),
    logger: gateway.logger,
    clock: gateway.clock,
    database: gateway.database,
  })
  const actor = { type: 'system' as const, id: 'postern-demo' }
  const { cloud } = context
  if (!(await cloud.registration())) {
    await cloud.setEnabled(true, actor)
    await cloud.setServer('nam', actor)
    await cloud.setThreatResponse(true, actor)
    const { token } = await hub.admin.createRegistrationToken({ label: 'demo gateway' })
    await cloud.register(token, actor, { name: 'demo-gateway' })
  }
  const deadline = Date.now() + 60_000
  let status: CloudStatus = await cloud.status()
  while (status.state !== 'connected' && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250))
    status = await cloud.status()
  }
  return { deviceId: status.registration?.deviceId ?? null, state: status.state }
}

async function ensureRemediationProfile(api: GatewayApi, dataDir: string): Promise<void> {
  const { profiles } = await api.call<{ profiles: { name: string }[] }>(
    'GET',
    '/api/v1/remediation/profiles',
  )
  if (profiles.some((p) => p.name === 'demo-mailboxes')) return
  await api.call('POST', '/api/v1/remediation/profiles', {
    name: 'demo-mailboxes',
    kind: 'maildir',
    description: 'The demo mailboxes (Maildir on this host)',
    domains: [DEMO_DOMAIN],
    settings: { pathTemplate: `${join(dataDir, 'mailboxes')}/%d/%n`, layout: 'fs' },
  })
}

async function sendSample(port: number, sample: SampleMessage): Promise<number> {
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port,
    secure: false,
    ignoreTLS: true,
    name: 'mx.sender.example',
  })
  try {
    const info = await transport.sendMail({
      envelope: { from: sample.from, to: sample.to },
      raw: sample.raw,
    })
    const mid = Number(/queued as (\d+)/.exec(info.response)?.[1])
    if (!Number.isInteger(mid))
      throw demoErrors.SAMPLE_REFUSED({ label: sample.label, reason: info.response })
    return mid
  } catch (err) {
    if ((err as { code?: string }).code?.startsWith('DEMO_')) throw err
    throw demoErrors.SAMPLE_REFUSED(
      { label: sample.label, reason: (err as Error).message },
      { cause: err },
    )
  } finally {
    transport.close()
  }
}

interface Detail {
  message: { status: string }
  events: { event: string; recipient: string | null; details: Record<string, unknown> }[]
  analysis: { verdicts: string[] } | null
}

async function settle(
  gateway: Gateway,
  api: GatewayApi,
  label: string,
  mid: number,
): Promise<SampleOutcome> {
  const deadline = Date.now() + 60_000
  for (;;) {
    await gateway.tracking.writer.flush()
    const detail = await api
      .call<Detail>('GET', `/api/v1/tracking/messages/${mid}/detail`)
      .catch(() => undefined)
    if (detail && FINAL_STATUSES.has(detail.message.status)) {
      return {
        label,
        mid,
        status: detail.message.status,
        verdicts: detail.analysis?.verdicts ?? [],
        timeline: detail.events.map(describeEvent),
      }
    }
    if (Date.now() > deadline) throw demoErrors.NOT_SETTLED({ mid, seconds: 60 })
    await new Promise((r) => setTimeout(r, 200))
  }
}

// The details worth a glance on a terminal, in this order; the console shows all of them.
const HEADLINE_DETAILS = [
  'senderGroup',
  'policy',
  'scanner',
  'status',
  'verdicts',
  'rule',
  'quarantine',
  'action',
  'spf',
  'dkim',
  'dmarc',
  'reply',
]

function describeEvent(event: Detail['events'][number]): string {
  const facts = HEADLINE_DETAILS.flatMap((key) => {
    const value = event.details[key]
    if (value === undefined || value === null || value === '') return []
    const text = Array.isArray(value)
      ? value.join(',')
      : typeof value === 'object'
        ? ''
        : String(value)
    return text ? [`${key}=${text.slice(0, 60)}`] : []
  }).slice(0, 3)
  const who = event.recipient ? ` ${event.recipient}` : ''
  return `${event.event}${who}${facts.length > 0 ? `  ${facts.join(' ')}` : ''}`
}

/** The analyst's loop on the gateway: find the campaign by its URL, delete it from every mailbox. */
async function remediateCampaign(
  gateway: Gateway,
  api: GatewayApi,
): Promise<RunningDemo['remediation']> {
  await gateway.tracking.writer.flush()
  const found = await api.call<{ data: { mid: number; status: string }[] }>(
    'POST',
    '/api/v1/tracking/search',
    {
      urls: [CAMPAIGN_URL],
      statuses: ['delivered'],
    },
  )
  const mids = found.data.map((row) => row.mid)
  if (mids.length === 0) return { url: CAMPAIGN_URL, found: [], results: [] }
  const run = await api.call<{ targets: { recipient: string; status: string }[] }>(
    'POST',
    '/api/v1/remediation',
    {
      action: 'delete',
      mids,
      reason: 'demo: phishing campaign found by its URL',
      idempotencyKey: `demo-campaign-${mids.join('-')}`,
      wait: true,
    },
  )
  return {
    url: CAMPAIGN_URL,
    found: mids,
    results: run.targets.map((t) => ({ recipient: t.recipient, status: t.status })),
  }
}

function fileLogger(path: string, name: string): Logger {
  // The demo's terminal shows the summary; the apps' JSON logs go to files beside their data.
  return createLogger({ level: 'info', name, destination: fileDestination(path) })
}

async function ensurePortFree(port: number, what: string, option: string): Promise<void> {
  if (port === 0) return
  await new Promise<void>((resolvePromise, reject) => {
    const server = createServer()
    server.once('error', () => reject(demoErrors.PORT_IN_USE({ port, what, option })))
    server.listen(port, '127.0.0.1', () => server.close(() => resolvePromise()))
  })
}
