import { randomUUID } from 'node:crypto'
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import nodemailer from 'nodemailer'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { SCOPE_CATALOGUE } from '@postern/hub'
import { NODE_ID_SPACE } from '@postern/store'
import { createTestDatabase, type TestDatabase } from '@postern/store/testing'
import {
  freePort,
  requireNats,
  startProcess,
  tempDir,
  waitFor,
  type RunningProcess,
} from '@postern/testkit'
import { POSTERN, ROOT, bootstrapHub, ok } from '../support/postern-cli.js'
import { startSmtpCapture, type SmtpCapture } from '../support/smtp-capture.js'
import { startTcpBalancer, type TcpBalancer } from '../support/tcp-balancer.js'

// Six Node processes and a dozen CLI calls share two cores with other work: waits are generous
// and bounded, and nothing here asserts on time.
const START_MS = 120_000
const SETTLE_MS = 120_000
const STEP_MS = 600_000

// Replies of the hub API, read loosely by the assertions.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any

const HUB_NODES = ['hub-a', 'hub-b'] as const
type HubNode = (typeof HUB_NODES)[number]

const GATEWAYS = [
  { n: 1, domain: 'example.org', users: ['alice', 'bob'] },
  { n: 2, domain: 'example.net', users: ['carol'] },
] as const

function phish(messageId: string, senderDomain: string, to: string[]): string {
  return [
    `From: "IT Helpdesk" <helpdesk@${senderDomain}>`,
    `To: ${to.join(', ')}`,
    'Subject: Your password expires today',
    `Message-ID: <${messageId}>`,
    'Date: Thu, 01 Jan 2026 10:00:00 +0000',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    `Reset it at https://${senderDomain}/reset now.`,
    '',
  ].join('\r\n')
}

/** Every Message-ID header in the Maildir trees under `dir`. */
function messageIdsUnder(dir: string): string[] {
  if (!existsSync(dir)) return []
  const found: string[] = []
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue
    const text = readFileSync(join(entry.parentPath, entry.name), 'utf8')
    const match = /^Message-ID:\s*(<[^>]+>)/im.exec(text)
    if (match?.[1]) found.push(match[1])
  }
  return found
}

/**
 * Issue 9's "done when": two `postern hub` processes on one PostgreSQL database and one NATS
 * bus, behind a round-robin TCP load balancer, and two `postern gateway` processes (cluster node
 * numbers 1 and 2) registered through the cloud-services CLI. The seed's investigate → remediate
 * → block flow runs through each hub node in turn — inspect a pasted report, observe sightings
 * from both gateways (whichever node holds each tunnel, the call is routed over NATS), forward
 * and delete the Message-ID from the Maildir mailboxes, block the sender domain on the gateways
 * and see the next attempt refused — then the node holding the tunnels is killed and its
 * gateways reconnect to the other node, which answers for both.
 */
describe('two hub nodes and two gateways on PostgreSQL and NATS', () => {
  const dir = tempDir('postern-scale-')
  const databases: TestDatabase[] = []
  const hubs = new Map<HubNode, { process: RunningProcess; url: string; config: string }>()
  const gateways = new Map<number, { process: RunningProcess; api: string; smtp: number }>()
  let balancer: TcpBalancer
  let soc: SmtpCapture
  let client: { client_id: string; client_secret: string }
  const tokens = new Map<HubNode, string>()
  const deviceIds = new Map<number, string>()
  const gwConfig = (n: number) => join(dir.path, `gw${n}.yaml`)
  const mailDir = (n: number) => join(dir.path, `gw${n}`, 'mail')

  async function database(): Promise<string> {
    const db = await createTestDatabase('postgres')
    databases.push(db)
    return db.configValue
  }

  async function freshToken(node: HubNode): Promise<string> {
    const res = await fetch(`${hubs.get(node)!.url}/iroh/oauth2/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials',
    })
    expect(res.status).toBe(200)
    return ((await res.json()) as { access_token: string }).access_token
  }

  /** A call to one hub node, with a token that node (or any other) minted. */
  async function hubApi(
    node: HubNode,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: Json }> {
    const send = () =>
      fetch(`${hubs.get(node)!.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${tokens.get(node)}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      })
    let res = await send()
    if (res.status === 401) {
      tokens.set(node, await freshToken(node))
      res = await send()
    }
    const text = await res.text()
    return { status: res.status, body: text ? JSON.parse(text) : null }
  }

  async function gatewayApi(n: number, method: string, path: string, body?: unknown) {
    const token = readFileSync(join(dir.path, `gw${n}`, 'cli-token'), 'utf8').trim()
    const res = await fetch(`${gateways.get(n)!.api}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await res.text()
    return { status: res.status, body: text ? (JSON.parse(text) as Json) : null }
  }

  async function startHub(node: HubNode): Promise<void> {
    const hub = hubs.get(node)!
    hub.process = startProcess(process.execPath, [POSTERN, 'hub', '--config', hub.config], {
      cwd: ROOT,
    })
    await hub.process.waitForLine(/HUB_LISTENING/, START_MS)
  }

  async function send(n: number, messageId: string, senderDomain: string): Promise<void> {
    const gateway = GATEWAYS.find((g) => g.n === n)!
    const to = gateway.users.map((u) => `${u}@${gateway.domain}`)
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: gateways.get(n)!.smtp,
      secure: false,
      ignoreTLS: true,
      name: 'mx.sender.example',
    })
    try {
      await transport.sendMail({
        envelope: { from: `helpdesk@${senderDomain}`, to },
        raw: phish(messageId, senderDomain, to),
      })
    } finally {
      transport.close()
    }
  }

  /** The org's devices as `node` lists them. */
  async function devices(node: HubNode): Promise<Json[]> {
    return (await hubApi(node, 'GET', '/api/v1/devices')).body.items
  }

  beforeAll(async () => {
    const natsUrl = await requireNats()
    soc = await startSmtpCapture()
    const hubDatabase = await database()
    const ports = { 'hub-a': await freePort(), 'hub-b': await freePort() }
    balancer = await startTcpBalancer([ports['hub-a'], ports['hub-b']])
    const subjectPrefix = `postern-test.${randomUUID().replaceAll('-', '')}`
    for (const node of HUB_NODES) {
      const config = join(dir.path, `${node}.yaml`)
      writeFileSync(
        config,
        [
          `dataDir: ${join(dir.path, node)}`,
          `database: ${hubDatabase}`,
          // Every node of one database seals its signing keys with the same key file.
          `secretKeyFile: ${join(dir.path, 'hub-secret.key')}`,
          `listen: 127.0.0.1:${ports[node]}`,
          `publicUrl: ${balancer.url}`,
          `nodeId: ${node}`,
          'region: nam',
          'cluster:',
          `  natsUrl: ${natsUrl}`,
          `  subjectPrefix: ${subjectPrefix}`,
          'tunnel:',
          '  heartbeatSeconds: 1',
          'log:',
          '  level: info',
        ].join('\n'),
      )
      hubs.set(node, {
        config,
        url: `http://127.0.0.1:${ports[node]}`,
        process: undefined as unknown as RunningProcess,
      })
    }
    const hubA = hubs.get('hub-a')!.config
    client = await bootstrapHub(hubA, { name: 'scale', scopes: SCOPE_CATALOGUE.join(' ') })
    for (const node of HUB_NODES) await startHub(node)
    for (const node of HUB_NODES) tokens.set(node, await freshToken(node))

    for (const { n, domain } of GATEWAYS) {
      writeFileSync(
        gwConfig(n),
        [
          `dataDir: ${join(dir.path, `gw${n}`)}`,
          `database: ${await database()}`,
          `nodeNumber: ${n}`,
          `hostname: gw${n}.example`,
          'http: 127.0.0.1:0',
          'listeners:',
          '  - name: inbound',
          '    smtp: 127.0.0.1:0',
          '    rat:',
          `      - recipient: ${domain}`,
          '        action: ACCEPT',
          'smtpRoutes:',
          `  - domain: ${domain}`,
          `    to: ['maildir:${mailDir(n)}']`,
          'tracking:',
          '  flushInterval: 50ms',
          'pipeline:',
          '  workers: 1',
          '  authentication:',
          '    dns:',
          "      servers: ['127.0.0.1:9']",
          '      timeout: 200',
          '      tries: 1',
          'remediation:',
          '  forward:',
          '    address: soc@example.com',
          `    from: postern@gw${n}.example`,
          '  relay:',
          `    host: ${soc.host}`,
          `    port: ${soc.port}`,
          '    security: none',
          'log:',
          '  level: info',
          'cloud:',
          `  machineName: gw${n}`,
          '  servers:',
          `    nam: ${balancer.url}`,
          '  failoverServers:',
          `    nam: [${HUB_NODES.map((node) => hubs.get(node)!.url).join(', ')}]`,
          '  settingsPollSeconds: 0.5',
          '  heartbeatSeconds: 1',
          '  reconnectMinMs: 100',
          '  reconnectMaxSeconds: 1',
          '  requestTimeoutSeconds: 10',
        ].join('\n'),
      )
      const gateway = startProcess(
        process.execPath,
        [POSTERN, 'gateway', '--config', gwConfig(n)],
        {
          cwd: ROOT,
        },
      )
      const ready = await gateway.waitForLine(
        /postern gateway ready: smtp inbound=127\.0\.0\.1:(\d+), http=127\.0\.0\.1:(\d+)/,
        START_MS,
      )
      gateways.set(n, {
        process: gateway,
        smtp: Number(ready[1]),
        api: `http://127.0.0.1:${ready[2]}`,
      })
      const profile = await gatewayApi(n, 'POST', '/api/v1/remediation/profiles', {
        name: 'mailboxes',
        kind: 'maildir',
        domains: [domain],
        settings: { pathTemplate: `${mailDir(n)}/%d/%n`, layout: 'fs' },
      })
      expect(profile.status).toBe(201)

      const token = (await ok(['hub', 'token', 'create', '--config', hubA])).trim()
      await ok(['gateway', 'cloudserviceconfig', 'enable', '-c', gwConfig(n)])
      await ok(['gateway', 'cloudserviceconfig', 'settrs', '--server', 'nam', '-c', gwConfig(n)])
      await ok(['gateway', 'cloudserviceconfig', 'register', '--token', token, '-c', gwConfig(n)])
      await ok(['gateway', 'cloudserviceconfig', 'securex', 'enable', '-c', gwConfig(n)])
    }
    const connected = await waitFor(
      async () => {
        const items = await devices('hub-a')
        return items.length === 2 &&
          items.every((d) => d.status === 'connected' && d.threatResponse === 'enabled')
          ? items
          : false
      },
      { timeoutMs: SETTLE_MS, what: 'both gateways connected with Threat Response on' },
    )
    for (const device of connected)
      deviceIds.set(Number(/^gw(\d)$/.exec(device.name)?.[1]), device.id)
    const instance = await hubApi('hub-b', 'POST', '/iroh/iroh-int/module-instance', {
      name: 'Gateways',
      module_type_id: 'postern-email-gateway',
    })
    expect(instance.status).toBe(201)
  }, STEP_MS)

  // A failure on a loaded machine is only understood with what the processes said.
  afterEach((context) => {
    if (context.task.result?.state !== 'fail') return
    const all = [
      ...[...hubs].map(([name, h]) => [name, h.process] as const),
      ...[...gateways].map(([n, g]) => [`gw${n}`, g.process] as const),
    ]
    for (const [name, p] of all) {
      process.stderr.write(
        `--- ${name} output, last 6000 characters ---\n${p?.output().slice(-6000)}\n`,
      )
    }
  })

  afterAll(async () => {
    for (const g of gateways.values()) await g.process.stop()
    for (const h of hubs.values()) await h.process?.stop()
    await balancer?.close()
    await soc?.close()
    for (const db of databases) await db.drop()
    dir.remove()
  })

  it('both hub nodes serve the same org: one JWKS, tokens of one node accepted by the other', async () => {
    const [a, b] = await Promise.all(
      HUB_NODES.map(async (node) =>
        (await fetch(`${hubs.get(node)!.url}/.well-known/jwks`)).json(),
      ),
    )
    expect(a).toEqual(b)
    const minted = await freshToken('hub-a')
    const res = await fetch(`${hubs.get('hub-b')!.url}/api/v1/devices`, {
      headers: { authorization: `Bearer ${minted}` },
    })
    expect(res.status).toBe(200)
    expect(((await res.json()) as Json).items).toHaveLength(2)
  })

  it.each(HUB_NODES)(
    'investigate → remediate → block through %s',
    async (node) => {
      const senderDomain = `login-micros0ft-${node}.com`
      const messageId = `invoice-${randomUUID()}@${senderDomain}`
      for (const { n } of GATEWAYS) await send(n, messageId, senderDomain)

      // Inspect: the analyst pastes the user's report.
      const report = [
        'Forwarded phishing report from Alice:',
        `From: IT Helpdesk <helpdesk@${senderDomain.replace('.com', '[.]com')}>`,
        `Message-ID: <${messageId}>`,
      ].join('\n')
      const inspected = await hubApi(node, 'POST', '/iroh/iroh-inspect/inspect', {
        content: report,
      })
      expect(inspected.status).toBe(200)
      expect(inspected.body).toEqual(
        expect.arrayContaining([
          { type: 'email', value: `helpdesk@${senderDomain}` },
          { type: 'email_messageid', value: `<${messageId}>` },
        ]),
      )

      // Observe: sightings from both gateways, whichever node holds their tunnels.
      const sightings = await waitFor(
        async () => {
          const res = await hubApi(node, 'POST', '/iroh/iroh-enrich/observe/observables', [
            { type: 'email_messageid', value: messageId },
          ])
          const docs = res.body?.data?.find((d: Json) => d.module === 'Gateways')?.data?.sightings
            ?.docs as Json[] | undefined
          return docs?.length === 2 && res.body.errors.length === 0 ? docs : false
        },
        { timeoutMs: SETTLE_MS, what: `sightings from both gateways through ${node}` },
      )
      const targets = sightings
        .flatMap((s: Json) => s.targets.map((t: Json) => t.observables[0].value))
        .sort()
      expect(targets).toEqual(['alice@example.org', 'bob@example.org', 'carol@example.net'])

      // Remediate: forward to the SOC and delete from every mailbox.
      // Tracking knows the message when it is accepted; the mailbox has it once delivered.
      for (const { n } of GATEWAYS)
        await waitFor(() => messageIdsUnder(mailDir(n)).includes(`<${messageId}>`), {
          timeoutMs: SETTLE_MS,
          what: `delivery into gw${n}'s mailboxes`,
        })
      const actions = await hubApi(node, 'POST', '/iroh/iroh-response/respond/observables', [
        { type: 'email_messageid', value: messageId },
      ])
      const action = actions.body.data.find(
        (a: Json) => a.module === 'Gateways' && a.id === 'forward-and-delete',
      )
      expect(action).toBeDefined()
      const trigger = await hubApi(node, 'POST', `/iroh/iroh-response${action.url}`)
      expect(trigger.status).toBe(200)
      expect(trigger.body.data.status).toBe('success')
      const perRecipient = trigger.body.data.results
        .flatMap((r: Json) => r.results.map((t: Json) => [t.recipient, t.forwarded, t.deleted]))
        .sort()
      expect(perRecipient).toEqual([
        ['alice@example.org', true, true],
        ['bob@example.org', true, true],
        ['carol@example.net', true, true],
      ])
      for (const { n } of GATEWAYS)
        expect(messageIdsUnder(mailDir(n))).not.toContain(`<${messageId}>`)
      expect(soc.messages.filter((m) => m.raw.toString().includes(messageId))).toHaveLength(3)

      // Block: the sender domain goes on both gateways' block lists; the next attempt is refused.
      for (const { n } of GATEWAYS) {
        const added = await gatewayApi(n, 'POST', '/api/v1/blocklists', {
          kind: 'sender_domain',
          value: senderDomain,
          reason: `phishing campaign ${messageId}`,
        })
        expect(added.status).toBe(201)
        await waitFor(
          () =>
            send(n, `again-${randomUUID()}@${senderDomain}`, senderDomain).then(
              () => false,
              (err: { responseCode?: number }) =>
                err.responseCode !== undefined && err.responseCode >= 500,
            ),
          { timeoutMs: SETTLE_MS, what: `gw${n} refusing ${senderDomain}` },
        )
      }

      // Each gateway numbers its MIDs in its own range (node numbers 1 and 2).
      const nodesOfMids = sightings
        .map((s: Json) => {
          const contains = s.relations.find((r: Json) => r.source.type === 'cisco_mid')
          return Math.floor(Number(contains.source.value) / NODE_ID_SPACE)
        })
        .sort()
      expect(nodesOfMids).toEqual([1, 2])
    },
    STEP_MS,
  )

  it(
    'a dead hub node hands its gateways to the other node',
    async () => {
      const listed = await devices('hub-a')
      const holders = listed.map((d) => d.connectedNode as HubNode)
      // Kill the node holding the first gateway's tunnel; the other node survives.
      const victim = holders[0] as HubNode
      const survivor = HUB_NODES.find((n) => n !== victim)!
      await hubs.get(victim)!.process.kill9()
      await waitFor(
        async () => {
          const items = await devices(survivor)
          return (
            items.length === 2 &&
            items.every((d) => d.status === 'connected' && d.connectedNode === survivor)
          )
        },
        { timeoutMs: SETTLE_MS, what: `both gateways reconnected to ${survivor}` },
      )
      for (const [n, id] of deviceIds) {
        const health = await hubApi(survivor, 'POST', `/api/v1/devices/${id}/health`)
        expect(health.status, `gw${n} health through ${survivor}`).toBe(200)
        expect(health.body.reply.data.status).toBe('ok')
      }
    },
    STEP_MS,
  )
})
