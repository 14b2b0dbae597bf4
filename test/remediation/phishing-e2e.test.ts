import nodemailer from 'nodemailer'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { formatHostPort, silentLogger } from '@postern/core'
import { BACKENDS, createTestDatabase, type TestDatabase } from '@postern/store/testing'
import { tempDir, waitFor } from '@postern/testkit'
import { Gateway, gatewayConfigSchema } from '../../apps/gateway/src/index.js'
import { contentPipelineExtension } from '../../apps/gateway/src/pipeline/extension.js'
import { remediationExtension } from '../../apps/gateway/src/remediation/extension.js'
import { startDnsResponder, type DnsResponder } from '../support/dns-responder.js'
import { startDovecot, type DovecotServer } from '../support/dovecot.js'
import { startLmtpBridge, type LmtpBridge } from '../support/lmtp-bridge.js'
import { uniqueId } from './support.js'

const USERS = ['alice@example.org', 'bob@example.org', 'carol@example.org']

function phish(messageId: string, url: string, to: string): string {
  return [
    'From: "IT Helpdesk" <helpdesk@evil.test>',
    `To: ${to}`,
    'Subject: Your mailbox is full',
    `Message-ID: <${messageId}>`,
    'Date: Thu, 01 Jan 2026 10:00:00 +0000',
    'MIME-Version: 1.0',
    'Content-Type: text/html; charset=utf-8',
    '',
    `<p>Your mailbox is full. <a href="${url}">Click here</a> to keep your mail.</p>`,
    '',
  ].join('\r\n')
}

/**
 * The story of issue 4 with every real part: a phishing mail goes through the gateway (content
 * pipeline included) into Dovecot; an analyst finds it by its URL, sees it in detail and in the
 * report, and deletes it from the mailboxes it reached; a second campaign is pulled back
 * automatically when its URL is block-listed after delivery.
 */
describe.each(BACKENDS)('phishing found by URL and removed from mailboxes, on %s', (dialect) => {
  let dns: DnsResponder
  let dovecot: DovecotServer
  let bridge: LmtpBridge
  let testDb: TestDatabase
  let dataDir: ReturnType<typeof tempDir>
  let gateway: Gateway
  let smtpPort: number
  let api: string
  let token: string

  async function call<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }> {
    const response = await fetch(`${api}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    return { status: response.status, body: (await response.json()) as T }
  }

  async function send(raw: string, to: string[]): Promise<void> {
    const client = nodemailer.createTransport({
      host: '127.0.0.1',
      port: smtpPort,
      secure: false,
      ignoreTLS: true,
      name: 'mx.evil.test',
    })
    try {
      await client.sendMail({ envelope: { from: 'helpdesk@evil.test', to }, raw })
    } finally {
      client.close()
    }
  }

  beforeAll(async () => {
    ;[dns, dovecot, testDb] = await Promise.all([
      startDnsResponder({}),
      startDovecot({ users: USERS }),
      createTestDatabase(dialect),
    ])
    bridge = await startLmtpBridge({ host: dovecot.host, port: dovecot.lmtpPort })
    dataDir = tempDir('postern-phish-e2e-')
    const config = gatewayConfigSchema.parse({
      dataDir: dataDir.path,
      hostname: 'gw.example.org',
      database: testDb.configValue,
      http: '127.0.0.1:0',
      log: { level: 'silent' },
      rdns: { forTracking: false },
      listeners: [
        {
          name: 'in',
          smtp: '127.0.0.1:0',
          rat: [{ recipient: 'example.org', action: 'ACCEPT' }],
          lineEndings: 'normalize',
        },
      ],
      smtpRoutes: [{ domain: 'example.org', to: [`127.0.0.1:${bridge.port}`], tls: 'none' }],
      tracking: { flushInterval: '20ms' },
      pipeline: {
        workers: 1,
        authentication: { dns: { servers: [dns.address], timeout: 500, tries: 1 } },
      },
      remediation: {
        retryBackoffMs: 10,
        retro: { enabled: true, pollIntervalMs: 200, actions: { url: 'delete' } },
      },
    })
    gateway = await Gateway.create(config, {
      logger: silentLogger(),
      extensions: [contentPipelineExtension(), remediationExtension()],
    })
    const addresses = await gateway.start()
    smtpPort = addresses.smtp.in!.port
    api = `http://${formatHostPort(addresses.http)}`
    token = (await gateway.auth.createToken('soc', 'admin', null, null)).token
    const profile = await call(
      'POST',
      '/api/v1/remediation/profiles',
      dovecot.imapProfile('dovecot', ['example.org']),
    )
    expect(profile.status).toBe(201)
  })

  afterAll(async () => {
    await gateway?.stop()
    await bridge?.close()
    await Promise.all([dovecot?.stop(), dns?.close()])
    await testDb?.drop()
    dataDir?.remove()
  })

  it('finds the message by its URL, shows it, reports it, and deletes it from every mailbox it reached', async () => {
    const id = uniqueId('phish')
    // A host under a public suffix, so that its registrable domain is known (RFC 2606 name).
    const url = 'https://login.example.net/reset'
    await send(phish(id, url, 'alice@example.org, bob@example.org'), [
      'alice@example.org',
      'bob@example.org',
    ])
    for (const user of ['alice@example.org', 'bob@example.org']) {
      await waitFor(
        async () => (await dovecot.messageIdsByFolder(user)).INBOX?.includes(`<${id}>`),
        { what: `delivery to ${user}` },
      )
    }

    type Found = { data: { mid: number; recipients: string[]; status: string }[] }
    const found = await waitFor(
      async () => {
        const result = await call<Found>('POST', '/api/v1/tracking/search', { urls: [url] })
        return result.body.data.length === 1 && result.body.data[0]?.status === 'delivered'
          ? result.body.data[0]
          : false
      },
      { what: 'the message in tracking, delivered, by its URL' },
    )
    expect(found.recipients).toEqual(['alice@example.org', 'bob@example.org'])
    const byDomain = await call<Found>('POST', '/api/v1/tracking/search', {
      urlDomains: ['example.net'],
      envelopeSenders: [{ operator: 'contains', value: 'evil.test' }],
    })
    expect(byDomain.body.data.map((m) => m.mid)).toContain(found.mid)

    const detail = await call<{
      urls: { url: string }[]
      recipients: { status: string }[]
      analysis: unknown
    }>('GET', `/api/v1/tracking/messages/${found.mid}/detail`)
    expect(detail.body.urls.map((u) => u.url)).toContain(url)
    expect(detail.body.analysis).not.toBeNull()

    const report = await call<{
      topSenderDomains: { value: string; count: number }[]
      relationships: { edges: { source: string; target: string }[] }
    }>('POST', '/api/v1/reporting/report', {
      since: Date.now() - 3_600_000,
      until: Date.now() + 60_000,
      filter: { urlDomains: ['example.net'] },
    })
    expect(report.body.topSenderDomains[0]?.value).toBe('evil.test')
    expect(report.body.relationships.edges).toContainEqual(
      expect.objectContaining({
        source: 'sender:helpdesk@evil.test',
        target: 'recipient:alice@example.org',
      }),
    )

    const run = await call<{
      run: { status: string }
      targets: { recipient: string; status: string }[]
    }>('POST', '/api/v1/remediation', {
      action: 'delete',
      mids: [found.mid],
      reason: 'credential phishing',
      wait: true,
    })
    expect(run.body.run.status).toBe('completed')
    expect(run.body.targets.map((t) => t.status)).toEqual(['done', 'done'])
    for (const user of ['alice@example.org', 'bob@example.org']) {
      expect(Object.values(await dovecot.messageIdsByFolder(user)).flat()).not.toContain(`<${id}>`)
    }
    const history = await call<{
      remediation: { recipient: string; status: string; run: { reason: string } }[]
    }>('GET', `/api/v1/tracking/messages/${found.mid}/detail`)
    expect(history.body.remediation.map((r) => [r.recipient, r.status, r.run.reason])).toEqual([
      ['alice@example.org', 'done', 'credential phishing'],
      ['bob@example.org', 'done', 'credential phishing'],
    ])
  })

  it('pulls a delivered campaign back when its URL is block-listed afterwards', async () => {
    const id = uniqueId('campaign')
    const url = 'https://cdn.badhost.test/payload'
    await send(phish(id, url, 'carol@example.org'), ['carol@example.org'])
    await waitFor(
      async () =>
        (await dovecot.messageIdsByFolder('carol@example.org')).INBOX?.includes(`<${id}>`),
      { what: 'delivery to carol' },
    )
    await waitFor(
      async () => {
        const r = await call<{ data: { status: string }[] }>('POST', '/api/v1/tracking/search', {
          urls: [url],
        })
        return r.body.data[0]?.status === 'delivered'
      },
      { what: 'the campaign tracked as delivered' },
    )

    const blocked = await call('POST', '/api/v1/blocklists', {
      kind: 'url',
      value: url,
      reason: 'campaign 7',
    })
    expect(blocked.status).toBe(201)
    await waitFor(
      async () =>
        !Object.values(await dovecot.messageIdsByFolder('carol@example.org'))
          .flat()
          .includes(`<${id}>`),
      {
        what: 'retro-remediation of the campaign',
        timeoutMs: 30_000,
      },
    )
    const runs = await call<{ runs: { trigger: string; reason: string; status: string }[] }>(
      'GET',
      '/api/v1/remediation/runs?trigger=retro',
    )
    expect(runs.body.runs[0]).toMatchObject({ trigger: 'retro', status: 'completed' })
    expect(runs.body.runs[0]?.reason).toContain(url)
  })
})
