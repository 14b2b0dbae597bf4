import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ManualClock } from '@postern/core'
import { Database, migrateToLatest, type GatewaySchema } from '@postern/store'
import { BACKENDS, createTestDatabase, type TestDatabase } from '@postern/store/testing'
import { pipelineConfigSchema } from '../../apps/gateway/src/pipeline/config.js'
import type { PipelineMessage } from '../../apps/gateway/src/pipeline/content-pipeline.js'
import type { TimelineEvent } from '../../apps/gateway/src/pipeline/events.js'
import {
  startContentPipeline,
  type ContentPipelineSetup,
} from '../../apps/gateway/src/pipeline/setup.js'
import { generateDkimKey, signMessage, type DkimKey } from '../support/dkim.js'
import { startDnsResponder, type DnsResponder } from '../support/dns-responder.js'

const DAY = 86_400_000

function message(lines: string[], body: string[]): Buffer {
  return Buffer.from([...lines, '', ...body, ''].join('\r\n'))
}

const clean = message(
  [
    'From: Alice <alice@good.example>',
    'To: bob@corp.example, carol@corp.example',
    'Subject: Lunch on Friday',
    'Message-ID: <lunch.1@good.example>',
    'Date: Tue, 2 Jan 2024 10:00:00 +0000',
  ],
  ['Menu at https://good.example/menu.'],
)

const phishing = message(
  [
    'From: "IT Service Desk" <helpdesk@phish.example>',
    'To: bob@corp.example',
    'Subject: Your mailbox is full',
    'Message-ID: <phish.1@phish.example>',
    'Content-Type: text/html; charset=utf-8',
  ],
  [
    '<p>Verify your account:</p>',
    '<form action="https://collect.phish.example/login"><input name="user"><input type="password" name="pw"></form>',
  ],
)

describe.each(BACKENDS)('content pipeline on %s', (dialect) => {
  let testDb: TestDatabase
  let database: Database<GatewaySchema>
  let dns: DnsResponder
  let key: DkimKey
  let setup: ContentPipelineSetup
  const events: TimelineEvent[] = []
  const clock = new ManualClock(Date.UTC(2026, 0, 1))

  const envelope = (over: Partial<PipelineMessage> = {}, raw = clean): PipelineMessage => ({
    mid: Math.floor(Math.random() * 1e9),
    receivedAt: clock.now(),
    direction: 'incoming',
    envelope: {
      mailFrom: 'alice@good.example',
      recipients: ['bob@corp.example', 'carol@corp.example'],
    },
    client: { ip: '192.0.2.10', rdns: 'mx.good.example', helo: 'mx.good.example', authUser: null },
    raw,
    ...over,
  })

  beforeAll(async () => {
    testDb = await createTestDatabase(dialect)
    database = await Database.open<GatewaySchema>(testDb.target)
    await migrateToLatest(database, 'gateway')
    key = generateDkimKey(1024)
    dns = await startDnsResponder({
      'good.example': { TXT: ['v=spf1 ip4:192.0.2.0/24 -all'] },
      '_dmarc.good.example': { TXT: ['v=DMARC1; p=reject'] },
      'sel._domainkey.good.example': { TXT: [key.txt] },
      'corp.example': { TXT: ['v=spf1 ip4:198.51.100.0/24 -all'] },
    })
    const config = pipelineConfigSchema.parse({
      workers: 1,
      internalDomains: ['corp.example'],
      authentication: { dns: { servers: [dns.address], timeout: 500, tries: 1 } },
      scanners: { builtin: { newSenderDomain: { warmup: 0, window: '1d' } } },
      policies: {
        groups: { executives: ['ceo@corp.example'] },
        incoming: [
          {
            name: 'executives',
            recipients: ['group:executives'],
            rules: [
              {
                name: 'new-domain',
                when: { verdict: 'new-sender-domain' },
                then: { quarantine: 'policy' },
              },
            ],
          },
          {
            name: 'default',
            rules: [
              {
                name: 'malformed',
                when: { verdict: 'malformed' },
                then: { quarantine: 'malformed' },
              },
              { name: 'blocked', when: { verdict: 'blocked' }, then: { quarantine: 'policy' } },
              {
                name: 'phish',
                when: { verdict: ['credential-form', 'deceptive-link'] },
                then: { quarantine: 'policy' },
              },
              {
                name: 'external-tag',
                when: { not: { dkim: 'pass' } },
                then: {
                  tagSubject: '[EXT]',
                  addHeaders: [{ name: 'X-Postern-Checked', value: 'yes' }],
                },
              },
            ],
          },
        ],
        outgoing: [
          {
            name: 'default',
            rules: [
              {
                name: 'compromised',
                when: { verdict: 'blocked' },
                then: { blockSender: { reason: 'sent a blocked URL' }, quarantine: 'policy' },
              },
            ],
          },
        ],
      },
    })
    setup = await startContentPipeline(config, {
      db: database.db,
      hostname: 'gw.corp.example',
      acceptedDomains: ['corp.example'],
      events: { event: (e) => events.push(e) },
      clock,
    })
  })
  afterAll(async () => {
    await setup?.close()
    await dns?.close()
    await database?.close()
    await testDb?.drop()
  })

  const run = (m: PipelineMessage) => setup.pipeline.process(m, new AbortController().signal)

  it('delivers a clean message with Authentication-Results and the policy’s header changes', async () => {
    const m = envelope()
    const result = await run(m)
    expect(result.recipients).toEqual([
      { action: 'deliver', variant: 0 },
      { action: 'deliver', variant: 0 },
    ])
    const delivered = result.variants[0]?.toString() ?? ''
    expect(delivered).toMatch(
      /^Received-SPF: pass .*\r\nAuthentication-Results: gw\.corp\.example;/,
    )
    expect(delivered).toContain('spf=pass')
    expect(delivered).toContain('X-Postern-Checked: yes')
    expect(delivered).toContain('Subject: [EXT] Lunch on Friday')
    expect(delivered.endsWith('Menu at https://good.example/menu.\r\n')).toBe(true)
    expect(result.events.map((e) => e.event)).toEqual([
      'MESSAGE_ANALYSED',
      'AUTH_RESULT',
      'SCANNER_RESULT',
      'SCANNER_RESULT',
      'SCANNER_RESULT',
      'SCANNER_RESULT',
      'SCANNER_RESULT',
      'POLICY_MATCHED',
      'POLICY_ACTION',
      'POLICY_ACTION',
    ])
    expect(result.events.find((e) => e.event === 'AUTH_RESULT')?.details).toMatchObject({
      spf: 'pass',
      dkim: 'none',
      dmarc: 'pass',
      dmarcPolicy: 'reject',
    })
    expect(result.observables).toEqual(
      expect.arrayContaining([
        { type: 'cisco_mid', value: String(m.mid) },
        { type: 'email', value: 'alice@good.example' },
        { type: 'email', value: 'carol@corp.example' },
        { type: 'domain', value: 'good.example' },
        { type: 'ip', value: '192.0.2.10' },
        { type: 'url', value: 'https://good.example/menu' },
        { type: 'email_subject', value: 'Lunch on Friday' },
        { type: 'email_messageid', value: 'lunch.1@good.example' },
      ]),
    )
    expect(result.rows.map((r) => r.table)).toEqual(['message_analysis', 'message_urls'])
  })

  it('passes DKIM and DMARC for a signed message and leaves it untagged', async () => {
    const signed = await signMessage(clean, {
      domain: 'good.example',
      selector: 'sel',
      privateKeyPem: key.privateKeyPem,
    })
    const result = await run(envelope({}, signed))
    expect(result.auth).toMatchObject({ dkim: { result: 'pass' }, dmarc: { result: 'pass' } })
    const delivered = result.variants[0]?.toString() ?? ''
    expect(delivered).toContain('Subject: Lunch on Friday')
    expect(delivered).toContain('dkim=pass')
  })

  it('quarantines credential phishing with the original bytes, and shows it safely', async () => {
    const m = envelope(
      { envelope: { mailFrom: 'helpdesk@phish.example', recipients: ['bob@corp.example'] } },
      phishing,
    )
    const result = await run(m)
    expect(result.recipients).toEqual([
      { action: 'quarantine', quarantine: 'policy', reason: 'policy default, rule phish' },
    ])
    expect(result.verdicts).toContain('credential-form')
    const quarantined = result.events.find((e) => e.event === 'QUARANTINED')
    const itemId = quarantined?.details?.itemId as number
    expect((await setup.quarantine.content(itemId)).equals(phishing)).toBe(true)
    const view = await setup.quarantine.view(itemId)
    expect(view.item).toMatchObject({
      quarantine: 'policy',
      status: 'held',
      recipients: ['bob@corp.example'],
    })
    expect(view.text).toContain('Verify your account:')
    expect(view.text).not.toContain('<form')
    expect(view.urls).toContain('https://collect.phish.example/login')
  })

  it('splits recipients: an executive’s copy is held, the others are delivered', async () => {
    const raw = message(
      ['From: x@brand-new.example', 'To: ceo@corp.example', 'Subject: hi'],
      ['hello'],
    )
    const result = await run(
      envelope(
        {
          envelope: {
            mailFrom: 'x@brand-new.example',
            recipients: ['ceo@corp.example', 'staff@corp.example'],
          },
        },
        raw,
      ),
    )
    expect(result.recipients[0]).toMatchObject({ action: 'quarantine', quarantine: 'policy' })
    expect(result.recipients[1]).toMatchObject({ action: 'deliver', variant: 0 })
    expect(
      result.events
        .filter((e) => e.event === 'POLICY_ACTION')
        .map((e) => [e.recipient, e.details?.action]),
    ).toEqual([
      ['ceo@corp.example', 'quarantine'],
      ['staff@corp.example', 'deliver'],
    ])
  })

  it('applies block lists to URLs and blocks an internal sender whose outgoing mail hits one', async () => {
    await setup.blocklists.add(
      { kind: 'url_domain', value: 'hxxps://evil[.]example', reason: 'campaign 42' },
      { source: 'cli', id: 'admin' },
    )
    const raw = message(
      ['From: Dave <dave@corp.example>', 'To: x@partner.example', 'Subject: look'],
      ['see http://login.evil.example/x'],
    )
    const result = await run(
      envelope(
        {
          direction: 'outgoing',
          envelope: { mailFrom: 'dave@corp.example', recipients: ['x@partner.example'] },
          client: { ip: '198.51.100.5', rdns: null, helo: 'laptop', authUser: 'dave@corp.example' },
        },
        raw,
      ),
    )
    expect(result.verdicts).toContain('blocked')
    expect(result.recipients).toEqual([
      { action: 'quarantine', quarantine: 'policy', reason: 'policy default, rule compromised' },
    ])
    expect(result.events.find((e) => e.event === 'SENDER_BLOCKED')?.details).toMatchObject({
      sender: 'dave@corp.example',
      reason: 'sent a blocked URL',
    })
    expect(setup.blocklists.blockedSender('Dave@corp.example')).toMatchObject({
      source: 'policy',
      mid: expect.any(Number),
    })
    await setup.blocklists.unblockSender('dave@corp.example', { source: 'cli', id: 'admin' })
    expect(setup.blocklists.blockedSender('dave@corp.example')).toBeUndefined()
  })

  it('holds a malformed message in the malformed quarantine', async () => {
    const raw = message(
      ['From: a@good.example', 'Content-Type: multipart/mixed'],
      ['no boundary anywhere'],
    )
    const result = await run(envelope({}, raw))
    expect(
      result.recipients.every((r) => r.action === 'quarantine' && r.quarantine === 'malformed'),
    ).toBe(true)
    expect(result.events[0]?.details).toMatchObject({ malformed: { reason: 'structure' } })
  })

  it('deletes and expires quarantined messages, recording each movement', async () => {
    const first = await run(envelope({}, phishing))
    const second = await run(envelope({}, phishing))
    const idOf = (r: typeof first) =>
      r.events.find((e) => e.event === 'QUARANTINED')?.details?.itemId as number
    await expect(
      setup.quarantine.release(idOf(first), { source: 'api', id: 'admin' }),
    ).rejects.toMatchObject({
      code: 'GW_ERR_QUARANTINE_RELEASE_UNAVAILABLE',
    })
    await setup.quarantine.delete(idOf(first), { source: 'api', id: 'admin' })
    await expect(
      setup.quarantine.delete(idOf(first), { source: 'api', id: 'admin' }),
    ).rejects.toMatchObject({
      code: 'GW_ERR_QUARANTINE_ITEM_NOT_HELD',
    })
    clock.advance(31 * DAY)
    expect(await setup.quarantine.sweep()).toBeGreaterThanOrEqual(1)
    expect((await setup.quarantine.get(idOf(second))).status).toBe('expired')
    expect(events.map((e) => e.event)).toEqual(
      expect.arrayContaining(['QUARANTINE_DELETED', 'QUARANTINE_EXPIRED']),
    )
    expect(events.find((e) => e.event === 'QUARANTINE_DELETED')?.details).toMatchObject({
      by: 'admin',
      source: 'api',
    })
  })
})
