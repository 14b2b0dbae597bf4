import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ManualClock, silentLogger, validateConfig } from '@postern/core'
import { Hub, SCOPE_CATALOGUE, hubConfigSchema, type HubConfig } from '@postern/hub'
import { HubOutboxStore } from '@postern/store'
import { BACKENDS, createTestDatabase, type TestDatabase } from '@postern/store/testing'
import type { Dialect } from '@postern/store'
import { freePort, tempDir, waitFor } from '@postern/testkit'
import { cloudExtension } from '../../apps/gateway/src/cloud/extension.js'
import type { CloudContext } from '../../apps/gateway/src/cloud/context.js'
import {
  hubIntelExtension,
  type HubIntelExtension,
} from '../../apps/gateway/src/intel/extension.js'
import { remediationExtension } from '../../apps/gateway/src/remediation/extension.js'
import { startDovecot, type DovecotServer } from '../support/dovecot.js'
import { startLmtpBridge, type LmtpBridge } from '../support/lmtp-bridge.js'
import { fetchToken, signIn } from '../hub/harness.js'
import {
  startPipelineGateway,
  waitForStatus,
  type PipelineGateway,
} from '../support/pipeline-gateway.js'
import { validateStixBundle } from '../../apps/hub/src/sharing/stix-schemas.testing.js'

// Replies of the hub API, read loosely by the assertions.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any

const CAMPAIGN_URL = 'https://payroll-update.campaign.test/login'
const WATCHED_DOMAIN = 'watched-phish.test'
const CEO_FRAUD = 'boss@ceo-fraud.test'
const FRAUD_DOMAIN = 'invoice-fraud.test'
const RETRO_URL = 'https://shared-doc.retro-campaign.test/open'
const WIRE_FRAUD = 'wire@approval-fraud.test'
const PASSWORD = 'correct horse battery'
/** Org A's gateway delivers this domain into Dovecot (everything else into a Maildir tree). */
const MAILBOX_DOMAIN = 'mailbox.example'
const MAILBOX_USER = `alice@${MAILBOX_DOMAIN}`

function mail(
  from: string,
  to: string,
  subject: string,
  body: string,
  messageId = `${Math.random().toString(36).slice(2)}@${from.split('@')[1]}`,
): string {
  return [
    `From: <${from}>`,
    `To: <${to}>`,
    `Subject: ${subject}`,
    `Message-ID: <${messageId}>`,
    'Date: Thu, 01 Jan 2026 10:00:00 +0000',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    body,
    '',
  ].join('\r\n')
}

interface GatewayOfOrg {
  gw: PipelineGateway
  /** Org A's gateway delivers MAILBOX_DOMAIN into Dovecot and remediates there (retro too). */
  remediation?: ReturnType<typeof remediationExtension>
  intel: HubIntelExtension
  cloud: () => CloudContext
  deviceId: string
}

/**
 * Private intelligence between a real hub and real gateways (in process, ephemeral ports, the
 * real device tunnel, the gateways' own cloud connector and content pipeline, mail over SMTP):
 * detections grouped into one incident per campaign, a malicious judgement and a casebook
 * pushed as blocks that the gateway then enforces at SMTP (after a second user's approval when
 * the org's policy asks for it), delivered mail pulled back from Dovecot by retro-remediation
 * raising its incident, a watch that gets its sighting, the durable and capped queue while the
 * hub is away, and org isolation throughout.
 */
describe.each(BACKENDS)('hub ↔ gateway private intelligence on %s', (dialect: Dialect) => {
  let hubDb: TestDatabase
  let hubDir: ReturnType<typeof tempDir>
  let config: HubConfig
  let hub: Hub
  const clock = new ManualClock(Date.UTC(2026, 0, 1))
  let tokenA: string
  let tokenB: string
  let a: GatewayOfOrg
  let b: GatewayOfOrg
  let dovecot: DovecotServer
  let bridge: LmtpBridge

  async function call(token: string, method: string, url: string, payload?: unknown) {
    const res = await hub.app.inject({
      method: method as 'GET',
      url,
      headers: { authorization: `Bearer ${token}` },
      ...(payload === undefined ? {} : { payload: payload as object }),
    })
    return { status: res.statusCode, body: (res.body ? JSON.parse(res.body) : null) as Json }
  }

  async function startGateway(org: string, withMailboxes = false): Promise<GatewayOfOrg> {
    const intel = hubIntelExtension()
    const remediation = withMailboxes ? remediationExtension() : undefined
    // As the gateway's defaultExtensions wire them: remediation tells hub intel of its runs.
    remediation?.onRetroRemediated(intel.retroRemediated)
    let cloud: CloudContext | undefined
    const mailboxes = withMailboxes
      ? {
          remediation: {
            retryBackoffMs: 10,
            // Only what the hub blocks is pulled back (the tests' local blocks are left alone).
            retro: { enabled: true, pollIntervalMs: 200, sources: { hub: 'delete' } },
          },
        }
      : {}
    const gw = await startPipelineGateway(
      { workers: 1, authentication: { enabled: false } },
      {
        dialect,
        overrides: {
          cloud: {
            servers: { nam: hub.url },
            settingsPollSeconds: 0.5,
            outbox: { maxEvents: 100 },
          },
          ...mailboxes,
        },
        ...(withMailboxes
          ? { mailboxDomain: { domain: MAILBOX_DOMAIN, to: `127.0.0.1:${bridge.port}` } }
          : {}),
        extensions: (content) => [
          {
            name: 'blocklists-for-intel',
            setup: () => intel.useBlocklists(content().blocklists),
          },
          ...(remediation ? [remediation] : []),
          cloudExtension({
            onContext: (context) => {
              cloud = context
              intel.useCloud(context)
            },
          }),
          intel,
        ],
      },
    )
    const context = cloud!
    const actor = { type: 'system' as const, id: 'test' }
    await context.cloud.setEnabled(true, actor)
    await context.cloud.setServer('nam', actor)
    await context.cloud.setThreatResponse(true, actor)
    const { token } = await hub.admin.createRegistrationToken({ org })
    const registration = await context.cloud.register(token, actor, { name: `gw-${org}` })
    await context.connector().reconcile()
    await waitFor(() => hub.tunnel.isConnected(registration.deviceId), {
      timeoutMs: 60_000,
      what: `gateway of ${org} connected`,
    })
    if (remediation)
      await remediation.parts!.module.profiles.create(
        dovecot.imapProfile('dovecot', [MAILBOX_DOMAIN]),
        { actor: { type: 'cli', id: 'test' }, source: 'cli' },
      )
    return { gw, intel, remediation, cloud: () => context, deviceId: registration.deviceId }
  }

  async function startHub(): Promise<Hub> {
    return Hub.start({ config, clock, logger: silentLogger() })
  }

  beforeAll(async () => {
    hubDb = await createTestDatabase(dialect)
    hubDir = tempDir('postern-intel-hub-')
    config = validateConfig(hubConfigSchema, {
      dataDir: hubDir.path,
      database: hubDb.configValue,
      // A fixed port: the hub is restarted in a test and the gateways come back to it.
      listen: `127.0.0.1:${await freePort()}`,
      nodeId: 'intel-node',
      tunnel: { heartbeatSeconds: 1 },
    })
    dovecot = await startDovecot({ users: [MAILBOX_USER] })
    bridge = await startLmtpBridge({ host: dovecot.host, port: dovecot.lmtpPort })
    hub = await startHub()
    for (const org of ['Org A', 'Org B']) {
      await hub.admin.createOrgWithAdmin({
        orgName: org,
        email: `admin@${org.slice(-1).toLowerCase()}.example`,
        password: PASSWORD,
      })
    }
    for (const email of ['alice@a.example', 'bob@a.example'])
      await hub.admin.createUser({ org: 'Org A', email, role: 'analyst', password: PASSWORD })
    const clientA = await hub.admin.createApiClient({
      org: 'Org A',
      name: 'analyst',
      scopes: SCOPE_CATALOGUE,
    })
    const clientB = await hub.admin.createApiClient({
      org: 'Org B',
      name: 'analyst',
      scopes: SCOPE_CATALOGUE,
    })
    tokenA = await fetchToken(hub, clientA.client.id, clientA.secret)
    tokenB = await fetchToken(hub, clientB.client.id, clientB.secret)
    a = await startGateway('Org A', true)
    b = await startGateway('Org B')
  }, 300_000)

  afterAll(async () => {
    await a?.gw.stop()
    await b?.gw.stop()
    await hub?.stop()
    await bridge?.close()
    await dovecot?.stop()
    await hubDb?.drop()
    hubDir?.remove()
  }, 120_000)

  async function send(
    g: GatewayOfOrg,
    from: string,
    subject: string,
    body: string,
    options: { messageId?: string; to?: string } = {},
  ) {
    const to = options.to ?? 'alice@corp.example'
    const { response } = await g.gw.send(
      'inbound',
      { from, to: [to] },
      mail(from, to, subject, body, options.messageId),
    )
    const mid = Number(/queued as (\d+)/.exec(response)?.[1])
    expect(Number.isInteger(mid), response).toBe(true)
    return mid
  }

  async function smtpRefusal(g: GatewayOfOrg, from: string): Promise<string | null> {
    try {
      await g.gw.send(
        'inbound',
        { from, to: ['alice@corp.example'] },
        mail(from, 'alice@corp.example', 'hello', 'hi'),
      )
      return null
    } catch (err) {
      return String((err as { response?: string }).response ?? (err as Error).message)
    }
  }

  const incidentsOf = async (token: string) =>
    (await call(token, 'GET', '/ctia/incident/search?limit=100')).body as Json[]

  it('blocks a Malicious judgement on the gateways of its org, then groups the detections into one incident', async () => {
    const judgement = await call(tokenA, 'POST', '/ctia/judgement', {
      confidence: 'High',
      disposition: 2,
      observable: { type: 'url', value: CAMPAIGN_URL },
      priority: 95,
      severity: 'High',
      source: 'analyst',
    })
    expect(judgement.status).toBe(201)
    const jid = (judgement.body.id as string).split('/').pop()
    const pushed = await call(tokenA, 'POST', `/api/v1/judgements/${jid}/blocks`, {})
    expect(pushed.status, JSON.stringify(pushed.body)).toBe(200)
    expect(pushed.body.entries).toEqual([{ kind: 'url', value: CAMPAIGN_URL, expires_at: null }])
    // Only org A's gateway was asked; it added the entry, recording who asked.
    expect(pushed.body.gateways).toEqual([{ device_id: a.deviceId, ok: true, changed: 1 }])
    const listed = await a.gw.content.blocklists.list({ kind: 'url' })
    expect(listed.entries).toEqual([
      expect.objectContaining({
        value: CAMPAIGN_URL,
        source: 'hub',
        createdBy: expect.stringMatching(/^hub:/),
      }),
    ])
    expect((await b.gw.content.blocklists.list({})).total).toBe(0)

    const mids: number[] = []
    for (const n of [1, 2, 3])
      mids.push(
        await send(
          a,
          `payroll${n}@sender.test`,
          `Payroll change ${n}`,
          `Confirm at ${CAMPAIGN_URL} today.`,
        ),
      )
    for (const mid of mids)
      await waitForStatus(a.gw, mid, ['quarantined', 'delivered', 'dropped', 'bounced'])

    const incident = await waitFor(
      async () => {
        const found = (await incidentsOf(tokenA)).filter((i) =>
          String(i.title).includes(CAMPAIGN_URL),
        )
        if (found.length !== 1) return false
        const bundle = await call(
          tokenA,
          'GET',
          `/ctia/bundle/export?ids=${encodeURIComponent(found[0].id)}`,
        )
        const mids = (bundle.body.casebooks ?? []).flatMap((c: Json) =>
          (c.observables ?? [])
            .filter((o: Json) => o.type === 'cisco_mid')
            .map((o: Json) => Number(o.value)),
        )
        return mids.length === 3 ? { incident: found[0], mids } : false
      },
      { timeoutMs: 60_000, what: 'one incident with the three messages' },
    )
    expect(incident.mids.sort()).toEqual([...mids].sort())
    expect(incident.incident).toMatchObject({
      status: 'New',
      title: `Malicious URL in mail: ${CAMPAIGN_URL}`,
    })
    // Org B sees nothing of it.
    expect(
      (await incidentsOf(tokenB)).filter((i) => String(i.title).includes(CAMPAIGN_URL)),
    ).toEqual([])

    // The incident exports as a STIX 2.1 bundle valid against the STIX schemas.
    const iid = (incident.incident.id as string).split('/').pop()
    const stix = await hub.app.inject({
      method: 'GET',
      url: `/api/v1/incidents/${iid}/stix`,
      headers: { authorization: `Bearer ${tokenA}` },
    })
    expect(stix.statusCode).toBe(200)
    const stixBundle = stix.json()
    expect(validateStixBundle(stixBundle), JSON.stringify(validateStixBundle.errors)).toBe(true)
    expect(stixBundle.objects).toContainEqual(
      expect.objectContaining({ type: 'indicator', pattern: `[url:value = '${CAMPAIGN_URL}']` }),
    )
    expect((await call(tokenB, 'GET', `/api/v1/incidents/${iid}/stix`)).status).toBe(404)
  }, 300_000)

  it('reports retro-remediation: delivered mail pulled back from Dovecot after a judgement is pushed raises a Critical incident', async () => {
    const messageId = `retro-${Date.now()}@retro-campaign.test`
    const mid = await send(
      a,
      'docs@retro-campaign.test',
      'Shared document',
      `Open the document at ${RETRO_URL} please.`,
      { messageId, to: MAILBOX_USER },
    )
    expect(await waitForStatus(a.gw, mid, ['delivered', 'quarantined', 'bounced'])).toBe(
      'delivered',
    )
    const inMailbox = async () =>
      Object.values(await dovecot.messageIdsByFolder(MAILBOX_USER))
        .flat()
        .includes(`<${messageId}>`)
    await waitFor(inMailbox, { timeoutMs: 30_000, what: 'delivery into Dovecot' })

    const judgement = await call(tokenA, 'POST', '/ctia/judgement', {
      confidence: 'High',
      disposition: 2,
      observable: { type: 'url', value: RETRO_URL },
      priority: 95,
      severity: 'High',
      source: 'analyst',
    })
    const jid = (judgement.body.id as string).split('/').pop()
    const pushed = await call(tokenA, 'POST', `/api/v1/judgements/${jid}/blocks`, {})
    expect(pushed.body.gateways).toEqual([{ device_id: a.deviceId, ok: true, changed: 1 }])

    // The gateway's retro-remediation finds the delivered copy and deletes it from the mailbox…
    await waitFor(async () => !(await inMailbox()), {
      timeoutMs: 60_000,
      what: 'retro-remediation in Dovecot',
    })
    // …and reports it: one Critical incident for the URL, with the message in its casebook.
    const title = `Delivered mail turned malicious: ${RETRO_URL}`
    const found = await waitFor(
      async () => {
        const incidents = (await incidentsOf(tokenA)).filter((i) => i.title === title)
        return incidents.length === 1 ? incidents[0] : false
      },
      { timeoutMs: 60_000, what: 'the retro-remediation incident' },
    )
    expect(found).toMatchObject({ status: 'New', severity: 'Critical' })
    const bundle = await call(
      tokenA,
      'GET',
      `/ctia/bundle/export?ids=${encodeURIComponent(found.id)}`,
    )
    const observables = (bundle.body.casebooks as Json[]).flatMap((c) => c.observables)
    expect(observables).toEqual(
      expect.arrayContaining([
        { type: 'url', value: RETRO_URL },
        { type: 'cisco_mid', value: String(mid) },
        { type: 'email_messageid', value: `<${messageId}>` },
      ]),
    )
    expect((await incidentsOf(tokenB)).filter((i) => i.title === title)).toEqual([])
  }, 300_000)

  it("pushes a judgement's block only after a second user approves, when the org's policy asks for it", async () => {
    const admin = await signIn(hub, 'admin@a.example', PASSWORD)
    const alice = await signIn(hub, 'alice@a.example', PASSWORD)
    const bob = await signIn(hub, 'bob@a.example', PASSWORD)
    expect(
      (await admin('PUT', '/api/v1/sharing/block-policy', { approval_required: true })).statusCode,
    ).toBe(200)
    try {
      const judgement = await alice('POST', '/ctia/judgement', {
        confidence: 'High',
        disposition: 2,
        observable: { type: 'email', value: WIRE_FRAUD },
        priority: 95,
        severity: 'High',
        source: 'analyst',
      })
      const jid = (judgement.json().id as string).split('/').pop()
      const pushed = await alice('POST', `/api/v1/judgements/${jid}/blocks`, {})
      expect(pushed.statusCode).toBe(202)
      const approvalId = pushed.json().approval_id as string
      // Pending: nothing reached the gateway, which still takes the sender's mail.
      expect(await smtpRefusal(a, WIRE_FRAUD)).toBeNull()
      expect((await alice('POST', `/api/v1/approvals/${approvalId}/approve`, {})).statusCode).toBe(
        403,
      )
      expect(await smtpRefusal(a, WIRE_FRAUD)).toBeNull()

      const approved = await bob('POST', `/api/v1/approvals/${approvalId}/approve`, {})
      expect(approved.statusCode).toBe(200)
      expect(approved.json().result).toMatchObject({
        status: 'success',
        gateways: [{ device_id: a.deviceId, ok: true, changed: 1 }],
      })
      expect(await smtpRefusal(a, WIRE_FRAUD)).toMatch(/^5\d\d/)
      expect(await smtpRefusal(b, WIRE_FRAUD)).toBeNull()
      const listed = await a.gw.content.blocklists.list({ kind: 'sender_address' })
      expect(listed.entries).toContainEqual(
        expect.objectContaining({ value: WIRE_FRAUD, source: 'hub' }),
      )
    } finally {
      await admin('PUT', '/api/v1/sharing/block-policy', { approval_required: false })
    }
  }, 300_000)

  it("pushes a casebook's observables as blocks: the gateway refuses the sender and the domain over SMTP, until unblocked", async () => {
    const casebook = await call(tokenA, 'POST', '/ctia/casebook', {
      title: 'CEO fraud',
      observables: [
        { type: 'email', value: CEO_FRAUD },
        { type: 'domain', value: FRAUD_DOMAIN },
        { type: 'cisco_mid', value: '1' },
      ],
    })
    expect(casebook.status).toBe(201)
    const cid = (casebook.body.id as string).split('/').pop()
    expect(await smtpRefusal(a, CEO_FRAUD)).toBeNull()
    // Another org cannot push org A's casebook.
    expect((await call(tokenB, 'POST', `/api/v1/casebooks/${cid}/blocks`, {})).status).toBe(404)

    const pushed = await call(tokenA, 'POST', `/api/v1/casebooks/${cid}/blocks`, {})
    expect(pushed.status, JSON.stringify(pushed.body)).toBe(200)
    expect(pushed.body.skipped).toEqual([{ type: 'cisco_mid', value: '1' }])
    expect(pushed.body.gateways).toEqual([{ device_id: a.deviceId, ok: true, changed: 3 }])

    expect(await smtpRefusal(a, CEO_FRAUD)).toMatch(/^5\d\d/)
    expect(await smtpRefusal(a, `billing@${FRAUD_DOMAIN}`)).toMatch(/^5\d\d/)
    // Org B's gateway was not touched.
    expect(await smtpRefusal(b, CEO_FRAUD)).toBeNull()

    const audit = await call(tokenA, 'GET', '/api/v1/audit?limit=100')
    expect(JSON.stringify(audit.body)).toContain('casebook.push_blocks')

    const removed = await call(tokenA, 'DELETE', `/api/v1/casebooks/${cid}/blocks`)
    expect(removed.body.gateways).toEqual([{ device_id: a.deviceId, ok: true, changed: 3 }])
    expect(await smtpRefusal(a, CEO_FRAUD)).toBeNull()
  }, 300_000)

  it('records a sighting on a watch when mail with the watched URL flows, and opens its incident', async () => {
    const watch = await call(tokenA, 'POST', '/api/v1/watchlist', {
      observable: { type: 'domain', value: WATCHED_DOMAIN },
      incident_mode: 'open',
    })
    expect(watch.status, JSON.stringify(watch.body)).toBe(201)
    await waitFor(() => a.intel.intel!.watchedCount === 1, {
      timeoutMs: 30_000,
      what: 'watchlist on the gateway',
    })
    expect(b.intel.intel!.watchedCount).toBe(0)

    const mid = await send(
      a,
      'newsletter@other.test',
      'Spring offers',
      `See https://${WATCHED_DOMAIN}/offers now.`,
    )
    const sightings = await waitFor(
      async () => {
        const res = await call(tokenA, 'GET', `/api/v1/watchlist/${watch.body.id}/sightings`)
        return res.body.length > 0 ? res.body : false
      },
      { timeoutMs: 60_000, what: 'a sighting' },
    )
    expect(sightings).toEqual([
      expect.objectContaining({ message_ref: String(mid), device_id: a.deviceId }),
    ])
    // The sighting is recorded first, then the watch's incident is opened.
    const incidentId = await waitFor(
      async () =>
        (await call(tokenA, 'GET', `/api/v1/watchlist/${watch.body.id}`)).body.incident_id ?? false,
      { timeoutMs: 30_000, what: "the watch's incident" },
    )
    expect(incidentId).toMatch(/incident-/)
    expect((await call(tokenB, 'GET', `/api/v1/watchlist/${watch.body.id}/sightings`)).status).toBe(
      404,
    )

    // Mail from org B's gateway with the same URL is no sighting of org A's watch.
    await send(
      b,
      'newsletter@other.test',
      'Spring offers',
      `See https://${WATCHED_DOMAIN}/offers now.`,
    )
    await b.cloud().connector().flushOutbox()
    const after = await call(tokenA, 'GET', `/api/v1/watchlist/${watch.body.id}/sightings`)
    expect(after.body).toHaveLength(1)
  }, 300_000)

  it('keeps detections queued while the hub is away and sends them when it is back', async () => {
    await hub.stop()
    const outbox = new HubOutboxStore(a.gw.gateway.database.db)
    const url = 'https://while-away.campaign.test/pay'
    // The gateway's block list (pushed earlier) does not know this URL: add it locally.
    await a.gw.content.blocklists.add(
      { kind: 'url', value: url, reason: 'local analyst' },
      { source: 'api', id: 'analyst' },
    )
    const machine = a.cloud().cloud.machine
    // The queue is capped at 100 events (cloud.outbox.maxEvents): fill it while the hub is away.
    await outbox.enqueue(
      machine,
      Array.from({ length: 103 }, (_, n) => ({ kind: 'filler', n })),
      Date.now(),
    )
    const mid = await send(a, 'away@sender.test', 'Pay now', `Pay at ${url}`)
    await waitForStatus(a.gw, mid, ['quarantined', 'delivered', 'dropped', 'bounced'])
    await waitFor(
      async () =>
        (await outbox.oldest(machine, 200)).some((item) => (item.body.key as Json)?.value === url),
      { timeoutMs: 30_000, what: 'the detection queued' },
    )
    // The oldest go to keep the cap; the gateway counts them for the hub and its metrics.
    await waitFor(async () => (await outbox.losses(machine))?.dropped === 4, {
      timeoutMs: 30_000,
      what: 'the queue trimmed to its cap',
    })
    expect(await outbox.count(machine)).toBe(100)
    const metric = await a.gw.gateway.metrics.registry.getSingleMetricAsString(
      'postern_hub_outbox_lost_events',
    )
    expect(metric).toContain('postern_hub_outbox_lost_events 4')

    hub = await startHub()
    await waitFor(async () => (await outbox.count(machine)) === 0, {
      timeoutMs: 90_000,
      what: 'the queue sent once the hub is back',
    })
    const titles = (await incidentsOf(tokenA)).map((i) => i.title)
    expect(titles).toContain(`Malicious URL in mail: ${url}`)
    // The hub records the loss against the gateway (its audit log), once; the count is cleared.
    expect(await outbox.losses(machine)).toBeNull()
    const lost = (await call(tokenA, 'GET', '/api/v1/audit?action=intel.events_lost&limit=10')).body
      .items as Json[]
    expect(lost).toEqual([
      expect.objectContaining({
        action: 'intel.events_lost',
        target: { type: 'device', id: a.deviceId },
        details: expect.objectContaining({ lost: 4 }),
      }),
    ])
  }, 300_000)

  it("drops an event the hub refuses for good, keeps the order, and files every event under the sending gateway's org", async () => {
    const outbox = new HubOutboxStore(a.gw.gateway.database.db)
    const machine = a.cloud().cloud.machine
    const url = 'https://forged.campaign.test/x'
    const valid = {
      kind: 'detection',
      detection: 'malicious_url',
      key: { type: 'url', value: url },
      at: Date.now(),
      message: { mid: '999999', sender: 'x@forged.test', recipients: ['alice@corp.example'] },
      verdict: 'blocked',
    }
    await outbox.enqueue(
      machine,
      [
        // A compromised gateway's attempts: an unknown key (an org of its choosing), a bad kind.
        { ...valid, orgId: 'org-b' },
        { kind: 'sighting', at: 1 },
        valid,
      ],
      Date.now(),
    )
    await a.cloud().connector().flushOutbox()
    expect(await outbox.count(machine)).toBe(0)
    const titleOf = `Malicious URL in mail: ${url}`
    expect((await incidentsOf(tokenA)).map((i) => i.title)).toContain(titleOf)
    expect((await incidentsOf(tokenB)).map((i) => i.title)).not.toContain(titleOf)
  }, 300_000)

  it('lists the private-intel routes in the OpenAPI document', async () => {
    const doc = (await hub.app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json()
    for (const path of [
      '/ctia/casebook',
      '/ctia/incident/{id}/status',
      '/api/v1/casebooks/{id}/blocks',
      '/api/v1/judgements/{id}/blocks',
      '/api/v1/watchlist',
      '/api/v1/incidents/{id}/stix',
    ])
      expect(Object.keys(doc.paths), path).toContain(path)
  })
})
