import nodemailer from 'nodemailer'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { silentLogger } from '@postern/core'
import { SCOPE_CATALOGUE } from '@postern/hub'
import { TrackingSearchRepository } from '@postern/store'
import { createTestDatabase, type TestDatabase } from '@postern/store/testing'
import { tempDir, waitFor } from '@postern/testkit'
import type { TunnelClient } from '@postern/tunnel'
import { Gateway, gatewayConfigSchema } from '../../apps/gateway/src/index.js'
import { ModuleRegistry } from '../../apps/gateway/src/cloud/modules.js'
import { contentPipelineExtension } from '../../apps/gateway/src/pipeline/extension.js'
import type { ContentPipelineSetup } from '../../apps/gateway/src/pipeline/setup.js'
import { relayModuleExtension } from '../../apps/gateway/src/relay-module/extension.js'
import { serveRelayModuleOverTunnel } from '../../apps/gateway/src/relay-module/tunnel.js'
import { remediationExtension } from '../../apps/gateway/src/remediation/extension.js'
import { fetchToken, startTestHub, signIn, type HubHarness } from '../hub/harness.js'
import { connectGatewayTunnel, registerGatewayDevice } from '../support/gateway-tunnel.js'
import { startDovecot, type DovecotServer } from '../support/dovecot.js'
import { startLmtpBridge, type LmtpBridge } from '../support/lmtp-bridge.js'
import { startRelayStub, type RelayStub } from '../support/relay-stub.js'
import { startSmtpCapture, type SmtpCapture } from '../support/smtp-capture.js'

const PHISH_URL = 'https://login-micros0ft.com/reset'
const MESSAGE_ID = `invoice-${Date.now()}@login-micros0ft.com`

function phish(to: string): string {
  return [
    'From: "IT Helpdesk" <helpdesk@login-micros0ft.com>',
    `To: ${to}`,
    'Subject: Your password expires today',
    `Message-ID: <${MESSAGE_ID}>`,
    'Date: Thu, 01 Jan 2026 10:00:00 +0000',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    `Reset it at ${PHISH_URL} now.`,
    '',
  ].join('\r\n')
}

interface GatewayUnderTest {
  gateway: Gateway
  content: ContentPipelineSetup
  db: TestDatabase
  dir: ReturnType<typeof tempDir>
  tunnel: TunnelClient
  deviceId: string
  smtpPort: number
}

/**
 * The analyst's loop end to end: a real hub, two real gateways connected through the real
 * device tunnel (registered with a one-time token), the same phishing mail delivered over SMTP
 * by both into Dovecot mailboxes, a relay module written as an independent HTTP server that
 * verifies the hub's RS256 token against the hub's JWKS, and one that never answers in time.
 * Inspect → observe (sightings from both gateways beside the relay module's, an error entry
 * for the late one) → respond → forward and delete on both gateways.
 */
describe('hub investigate and respond end to end', () => {
  let hub: HubHarness
  let dovecot: DovecotServer
  let bridge: LmtpBridge
  let soc: SmtpCapture
  let intel: RelayStub
  let late: RelayStub
  let token: string
  const gateways: GatewayUnderTest[] = []

  async function startGateway(name: string, domain: string): Promise<GatewayUnderTest> {
    const db = await createTestDatabase('sqlite')
    const dir = tempDir(`postern-${name}-`)
    const remediation = remediationExtension()
    const config = gatewayConfigSchema.parse({
      dataDir: dir.path,
      hostname: `${name}.example.org`,
      database: db.configValue,
      http: '127.0.0.1:0',
      listeners: [
        { name: 'in', smtp: '127.0.0.1:0', rat: [{ recipient: domain, action: 'ACCEPT' }] },
      ],
      smtpRoutes: [{ domain, to: [`127.0.0.1:${bridge.port}`], tls: 'none' }],
      tracking: { flushInterval: '20ms' },
      rdns: { forTracking: false },
      // The phishing verdict comes from the independent intel module; the gateways' own
      // phishing check would quarantine the mail before it reaches the mailboxes.
      pipeline: {
        workers: 1,
        authentication: { enabled: false },
        scanners: { builtin: { phishing: { enabled: false } } },
      },
      remediation: {
        forward: { address: 'soc@example.org', from: `postern@${name}.example.org` },
        relay: { host: soc.host, port: soc.port, security: 'none' },
        retryBackoffMs: 10,
      },
    })
    // The relay module reads the block lists and remediation parts set up just before it.
    let content: ContentPipelineSetup | undefined
    const relayWithParts = relayModuleExtension(remediation, () => content)
    const gateway = await Gateway.create(config, {
      logger: silentLogger(),
      extensions: [contentPipelineExtension((s) => (content = s)), remediation, relayWithParts],
    })
    const addresses = await gateway.start()
    await remediation.parts!.module.profiles.create(dovecot.imapProfile('dovecot', [domain]), {
      actor: { type: 'system', id: 'test' },
      source: 'system',
    })

    const registration = await registerGatewayDevice(hub.hub, 'Org A', name)
    const registry = new ModuleRegistry('0.1.0')
    serveRelayModuleOverTunnel(registry, relayWithParts.module!, silentLogger())
    const tunnel = connectGatewayTunnel({
      hubUrl: hub.hub.url,
      credential: registration.credential,
      answer: (path, body, signal) => registry.call(path, body, signal),
    })
    await waitFor(() => hub.hub.tunnel.isConnected(registration.deviceId), {
      what: `${name} tunnel`,
      timeoutMs: 10_000,
    })
    return {
      gateway,
      content: content!,
      db,
      dir,
      tunnel,
      deviceId: registration.deviceId,
      smtpPort: addresses.smtp.in!.port,
    }
  }

  /** The phishing mail over SMTP (real client): accepted, or the server's refusal code. */
  async function sendPhish(
    through: GatewayUnderTest,
    recipients: string[],
    messageId: string,
  ): Promise<number | 'accepted'> {
    const client = nodemailer.createTransport({
      host: '127.0.0.1',
      port: through.smtpPort,
      secure: false,
      ignoreTLS: true,
    })
    try {
      await client.sendMail({
        envelope: { from: 'helpdesk@login-micros0ft.com', to: recipients },
        raw: phish(recipients.join(', ')).replace(MESSAGE_ID, messageId),
      })
      return 'accepted'
    } catch (err) {
      return (err as { responseCode?: number }).responseCode ?? -1
    } finally {
      client.close()
    }
  }

  async function deliver(through: GatewayUnderTest, recipients: string[]): Promise<void> {
    expect(await sendPhish(through, recipients, MESSAGE_ID)).toBe('accepted')
    const search = new TrackingSearchRepository(
      through.gateway.database.db,
      through.gateway.database.dialect,
    )
    await waitFor(
      async () => {
        const [mid] = await search.midsByMessageId(MESSAGE_ID)
        if (mid === undefined) return false
        const [target] = await search.deliveredTargets([mid])
        return target !== undefined && target.recipients.length === recipients.length
      },
      { what: 'delivery', timeoutMs: 30_000 },
    )
  }

  /** One more message from the phishing domain. */
  const sendAnother = (through: GatewayUnderTest, to: string) =>
    sendPhish(through, [to], `again-${Date.now()}@login-micros0ft.com`)

  async function session(email: string) {
    await hub.hub.admin.createUser({
      org: 'Org A',
      email,
      role: 'analyst',
      password: 'correct horse battery',
    })
    return signIn(hub.hub, email, 'correct horse battery')
  }

  function call(method: 'POST', url: string, payload?: unknown) {
    return hub.hub.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${token}` },
      ...(payload !== undefined ? { payload: payload as object } : {}),
    })
  }

  beforeAll(async () => {
    ;[dovecot, soc] = await Promise.all([
      startDovecot({ users: ['alice@example.org', 'bob@example.org', 'carol@example.net'] }),
      startSmtpCapture(),
    ])
    bridge = await startLmtpBridge({ host: dovecot.host, port: dovecot.lmtpPort })
    hub = await startTestHub('sqlite', { investigate: { moduleTimeoutSeconds: 2 } })
    await hub.hub.admin.createOrgWithAdmin({ orgName: 'Org A', email: 'admin@a.example' })
    const client = await hub.hub.admin.createApiClient({
      org: 'Org A',
      name: 'analyst',
      scopes: SCOPE_CATALOGUE,
    })
    token = await fetchToken(hub.hub, client.client.id, client.secret)
    gateways.push(await startGateway('gw1', 'example.org'))
    gateways.push(await startGateway('gw2', 'example.net'))
    intel = await startRelayStub(hub.hub.url, { name: 'Intel' })
    late = await startRelayStub(hub.hub.url, { name: 'Late', delayMs: 5000 })
    for (const body of [
      { name: 'Gateways', module_type_id: 'postern-email-gateway' },
      { name: 'Intel', module_type_id: 'relay', settings: { url: intel.url, custom_key: 'k1' } },
      { name: 'Late', module_type_id: 'relay', settings: { url: late.url } },
    ]) {
      expect((await call('POST', '/iroh/iroh-int/module-instance', body)).statusCode).toBe(201)
    }
    await deliver(gateways[0]!, ['alice@example.org', 'bob@example.org'])
    await deliver(gateways[1]!, ['carol@example.net'])
  }, 120_000)

  afterAll(async () => {
    for (const g of gateways) {
      await g.tunnel.stop()
      await g.gateway.stop()
      await g.db.drop()
      g.dir.remove()
    }
    await intel?.close()
    await late?.close()
    await hub?.stop()
    await Promise.all([bridge?.close(), soc?.close()])
    await dovecot?.stop()
  })

  it('inspect finds the URL, the sender and the Message-ID in a pasted report', async () => {
    const report = [
      'Forwarded phishing report from Alice:',
      'From: IT Helpdesk <helpdesk@login-micros0ft[.]com>',
      `Message-ID: <${MESSAGE_ID}>`,
      `Link: ${PHISH_URL.replace('https', 'hxxps').replace('.com', '[.]com')}`,
    ].join('\n')
    const res = await call('POST', '/iroh/iroh-inspect/inspect', { content: report })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual(
      expect.arrayContaining([
        { type: 'url', value: PHISH_URL },
        { type: 'email', value: 'helpdesk@login-micros0ft.com' },
        { type: 'email_messageid', value: `<${MESSAGE_ID}>` },
      ]),
    )
  })

  it('observe returns sightings from both gateways beside the relay module, and the late module as an error', async () => {
    const res = await call('POST', '/iroh/iroh-enrich/observe/observables', [
      { type: 'email_messageid', value: MESSAGE_ID },
    ])
    expect(res.statusCode).toBe(200)
    const body = res.json()
    const gatewaysResult = body.data.find((d: { module: string }) => d.module === 'Gateways')
    const sightings = gatewaysResult.data.sightings.docs as {
      description: string
      targets: { observables: { value: string }[] }[]
      relations: {
        relation: string
        source: { value: string }
        related: { type: string; value: string }
      }[]
    }[]
    expect(sightings).toHaveLength(2)
    const targets = sightings.flatMap((s) => s.targets.map((t) => t.observables[0]!.value)).sort()
    expect(targets).toEqual(['alice@example.org', 'bob@example.org', 'carol@example.net'])
    const relations = sightings.flatMap((s) => s.relations)
    expect(relations).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          relation: 'Sent_To',
          source: { type: 'email', value: 'helpdesk@login-micros0ft.com' },
          related: { type: 'email', value: 'carol@example.net' },
        }),
        expect.objectContaining({
          relation: 'Contains',
          related: { type: 'email_messageid', value: MESSAGE_ID },
        }),
      ]),
    )
    expect(
      body.data.find((d: { module: string }) => d.module === 'Intel').data.sightings.count,
    ).toBe(1)
    expect(body.errors).toEqual([
      expect.objectContaining({ module: 'Late', code: 'module timeout' }),
    ])
    expect(intel.calls.at(-1)).toMatchObject({ claims: { key: 'k1', aud: intel.url } })
    // The lookup's audit entry is written just after the answer (batched off its critical path).
    await waitFor(
      async () => {
        const audit = await hub.hub.app.inject({
          method: 'GET',
          url: '/api/v1/audit?action=enrich.observe&limit=1',
          headers: { authorization: `Bearer ${token}` },
        })
        const [entry] = audit.json().items as { details: Record<string, unknown> }[]
        return entry?.details.calls === 4 && entry.details.errors === 1
      },
      { what: 'enrich.observe audit entry', timeoutMs: 5_000 },
    )
  })

  it('forward and delete on the Message-ID removes it from every mailbox on both gateways', async () => {
    const actions = (
      await call('POST', '/iroh/iroh-response/respond/observables', [
        { type: 'email_messageid', value: MESSAGE_ID },
      ])
    ).json()
    const action = actions.data.find(
      (a: { module: string; id: string }) =>
        a.module === 'Gateways' && a.id === 'forward-and-delete',
    )
    expect(action).toBeDefined()
    const trigger = await call('POST', `/iroh/iroh-response${action.url}`)
    expect(trigger.statusCode).toBe(200)
    const result = trigger.json()
    expect(result.data.status).toBe('success')
    expect(result.data.results).toHaveLength(2)
    const perRecipient = result.data.results
      .flatMap((r: { results: { recipient: string; forwarded: boolean; deleted: boolean }[] }) =>
        r.results.map((t) => [t.recipient, t.forwarded, t.deleted]),
      )
      .sort()
    expect(perRecipient).toEqual([
      ['alice@example.org', true, true],
      ['bob@example.org', true, true],
      ['carol@example.net', true, true],
    ])
    for (const user of ['alice@example.org', 'bob@example.org', 'carol@example.net']) {
      expect(Object.values(await dovecot.messageIdsByFolder(user)).flat()).not.toContain(
        `<${MESSAGE_ID}>`,
      )
    }
    expect(soc.messages.filter((m) => m.raw.toString().includes(MESSAGE_ID))).toHaveLength(3)
  })

  it('marks the recommended steps for the malicious URL first, with their reasons', async () => {
    const res = await call('POST', '/iroh/iroh-response/respond/observables', [
      { type: 'url', value: PHISH_URL },
    ])
    expect(res.statusCode).toBe(200)
    const data = res.json().data as Record<string, unknown>[]
    const recommended = data.filter((a) => a.recommended === true)
    expect(recommended.map((a) => [a.module, a.id, a['query-params'], a.priority])).toEqual([
      [
        'Gateways',
        'forward-and-delete',
        { observable_type: 'email_messageid', observable_value: MESSAGE_ID },
        1,
      ],
      [
        'Gateways',
        'block',
        { observable_type: 'domain', observable_value: 'login-micros0ft.com' },
        2,
      ],
      ['Postern hub', 'add-to-case', { observable_type: 'url', observable_value: PHISH_URL }, 3],
    ])
    expect(data.slice(0, 3)).toEqual(recommended)
    for (const step of recommended) {
      expect(step.reason).toMatch(/^Malicious verdict for url .* from Intel: /)
    }
    // What is not recommended is still offered (blocking the URL itself on both gateways).
    const blockUrl = data.find(
      (a) =>
        a.id === 'block' &&
        (a['query-params'] as { observable_type: string }).observable_type === 'url',
    )
    expect(blockUrl).toMatchObject({ module: 'Gateways' })
    expect(blockUrl?.recommended).toBeUndefined()
  })

  it('"block domain" makes both gateways refuse the next message from that domain, and unblock lets it in again', async () => {
    const actions = (
      await call('POST', '/iroh/iroh-response/respond/observables', [
        { type: 'domain', value: 'login-micros0ft.com' },
      ])
    ).json().data as { module: string; id: string; url: string }[]
    const block = actions.find((a) => a.module === 'Gateways' && a.id === 'block')!
    const blocked = await call('POST', `/iroh/iroh-response${block.url}`)
    expect(blocked.statusCode).toBe(200)
    const result = blocked.json().data
    expect(result.status).toBe('success')
    expect(result.results.map((r: { gateway: string }) => r.gateway).sort()).toEqual(['gw1', 'gw2'])
    for (const g of gateways) {
      expect(
        await g.content.blocklists.findValue('sender_domain', 'login-micros0ft.com'),
      ).toMatchObject({
        source: 'hub',
        externalRef: `hub:block:${result.hub_action_id}`,
      })
    }
    expect(await sendAnother(gateways[0]!, 'alice@example.org')).toBe(550)
    expect(await sendAnother(gateways[1]!, 'carol@example.net')).toBe(550)

    const unblock = (
      await call('POST', '/iroh/iroh-response/respond/observables', [
        { type: 'domain', value: 'login-micros0ft.com' },
      ])
    )
      .json()
      .data.find((a: { id: string }) => a.id === 'unblock')
    expect((await call('POST', `/iroh/iroh-response${unblock.url}`)).json().data.status).toBe(
      'success',
    )
    expect(await sendAnother(gateways[0]!, 'alice@example.org')).toBe('accepted')
  })

  it('with approval required, the recommended block stays pending until a second user approves it', async () => {
    const listed = await hub.hub.app.inject({
      method: 'GET',
      url: '/iroh/iroh-int/module-instance',
      headers: { authorization: `Bearer ${token}` },
    })
    const instance = (listed.json() as { id: string; name: string }[]).find(
      (i) => i.name === 'Gateways',
    )!
    const patched = await hub.hub.app.inject({
      method: 'PATCH',
      url: `/iroh/iroh-int/module-instance/${instance.id}`,
      headers: { authorization: `Bearer ${token}` },
      payload: { settings: { devices: 'all', approval_required: ['block'] } },
    })
    expect(patched.statusCode).toBe(200)
    const alice = await session('alice@a.example')
    const bob = await session('bob@a.example')

    const run = await alice('POST', '/iroh/iroh-response/respond/recommended', [
      { type: 'url', value: PHISH_URL },
    ])
    expect(run.statusCode).toBe(200)
    const { data, errors } = run.json()
    expect(data.status).toBe('pending')
    const blockStep = data.steps.find((s: { id: string }) => s.id === 'block')
    expect(blockStep).toMatchObject({
      status: 'pending',
      observable: { type: 'domain', value: 'login-micros0ft.com' },
    })
    // Every message that carried the URL (the first, and the one let in after the unblock) is
    // removed first, then the block, then the case.
    const ids = data.steps.map((s: { id: string }) => s.id)
    expect(ids).toEqual(['forward-and-delete', 'forward-and-delete', 'block', 'add-to-case'])
    // Alice had no active case: the step opened one named after the URL and made it hers.
    const caseStep = data.steps.find((s: { id: string }) => s.id === 'add-to-case')
    expect(caseStep).toMatchObject({
      status: 'success',
      created: true,
      casebook_title: `url ${PHISH_URL}`,
      observables: [{ type: 'url', value: PHISH_URL }],
    })
    const active = (await alice('GET', '/api/v1/casebooks/active')).json().casebook
    expect(active).toMatchObject({
      id: caseStep.casebook_id,
      observables: [{ type: 'url', value: PHISH_URL }],
    })
    expect(errors).toEqual(
      expect.arrayContaining([expect.objectContaining({ module: 'Late', code: 'module timeout' })]),
    )
    // Pending: the domain still gets in.
    expect(await sendAnother(gateways[1]!, 'carol@example.net')).toBe('accepted')

    const own = await alice('POST', `/api/v1/approvals/${blockStep.approval_id}/approve`, {})
    expect(own.json().error.code).toBe('HUB_ERR_APPROVAL_OWN_REQUEST')
    const approved = await bob('POST', `/api/v1/approvals/${blockStep.approval_id}/approve`, {
      comment: 'confirmed phishing campaign',
    })
    expect(approved.statusCode).toBe(200)
    expect(approved.json()).toMatchObject({
      status: 'approved',
      result: { data: { status: 'success' } },
    })
    expect(await sendAnother(gateways[0]!, 'alice@example.org')).toBe(550)
    expect(await sendAnother(gateways[1]!, 'carol@example.net')).toBe(550)
  })
})
