import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BACKENDS } from '@postern/store/testing'
import {
  parseMailboxAddress,
  type RequestContext,
} from '../../apps/gateway/src/remediation/index.js'
import { startDovecot, type DovecotServer } from '../support/dovecot.js'
import { startSmtpCapture, type SmtpCapture } from '../support/smtp-capture.js'
import { phishMessage, startRemediation, uniqueId, type RemediationHarness } from './support.js'

const analyst: RequestContext = { actor: { type: 'user', id: 'analyst1' }, source: 'api' }

const USERS = [
  'alice@example.org',
  'bob@example.org',
  'carol@example.org',
  'dave@trash.example',
  'erin@chain.example',
  ...Array.from({ length: 6 }, (_, i) => `user${i}@campaign.example`),
]

const baseConfig = (relay: SmtpCapture, scope: 'mailbox' | 'message') => ({
  forward: { address: 'soc@example.org', from: 'postern@gateway.example.org', scope },
  relay: { host: relay.host, port: relay.port, security: 'none', timeoutMs: 5_000 },
  concurrency: 4,
  attempts: 2,
  retryBackoffMs: 10,
  mailboxTimeoutMs: 20_000,
})

describe.each(BACKENDS)('doveadm HTTP API remediation on %s', (dialect) => {
  let dovecot: DovecotServer
  let relay: SmtpCapture
  let h: RemediationHarness
  let perMessage: RemediationHarness

  beforeAll(async () => {
    ;[dovecot, relay] = await Promise.all([startDovecot({ users: USERS }), startSmtpCapture()])
    h = await startRemediation(dialect, baseConfig(relay, 'mailbox'))
    perMessage = await startRemediation(dialect, baseConfig(relay, 'message'))
    const settings = { url: `http://${dovecot.host}:${dovecot.doveadmPort}/doveadm/v1` }
    const secrets = { apiKey: dovecot.doveadmApiKey }
    for (const harness of [h, perMessage]) {
      const { profiles } = harness.module
      await profiles.create(
        { name: 'dovecot', kind: 'doveadm', domains: ['example.org'], settings, secrets },
        analyst,
      )
      await profiles.create(
        {
          name: 'dovecot-trash',
          kind: 'doveadm',
          domains: ['trash.example'],
          settings: { ...settings, deleteMode: 'trash' },
          secrets,
        },
        analyst,
      )
      await profiles.create(
        {
          name: 'dovecot-campaign',
          kind: 'doveadm',
          domains: ['campaign.example'],
          settings,
          secrets,
        },
        analyst,
      )
      // Users are known to doveadm by full address: a local-part login finds nobody, which the
      // chain must take as "not here" and move on to IMAP.
      await profiles.create(
        {
          name: 'by-local-part',
          kind: 'doveadm',
          settings: { ...settings, mailboxLogin: 'local' },
          secrets,
        },
        analyst,
      )
      await profiles.create(dovecot.imapProfile('imap', []), analyst)
      await profiles.create(
        {
          name: 'chain',
          kind: 'chained',
          domains: ['chain.example'],
          settings: { profiles: ['by-local-part', 'imap'] },
        },
        analyst,
      )
    }
    await h.module.profiles.create(
      {
        name: 'wrong-key',
        kind: 'doveadm',
        domains: ['wrong-key.example'],
        settings: { url: `http://${dovecot.host}:${dovecot.doveadmPort}/doveadm/v1` },
        secrets: { apiKey: 'not-the-key' },
      },
      analyst,
    )
  })
  afterAll(async () => {
    await h?.close()
    await perMessage?.close()
    await Promise.all([dovecot?.stop(), relay?.close()])
  })

  it('deletes every exact copy, by folder GUID even where a folder name is a wildcard', async () => {
    const id = uniqueId('doveadm')
    await dovecot.deliverLmtp(phishMessage(id), ['alice@example.org', 'bob@example.org'])
    // A folder named "A*" holds a copy at UID 1 and Archive holds someone else's mail at UID 1:
    // addressed by name, doveadm would read "A*" as a pattern and expunge both.
    dovecot.writeMaildir('alice@example.org', phishMessage(id), 'A*')
    dovecot.writeMaildir('alice@example.org', phishMessage('keep-me@colleague.example'), 'Archive')
    // HEADER search is a substring match: a longer Message-ID must stay.
    dovecot.writeMaildir('alice@example.org', phishMessage(`x${id}`), 'INBOX')
    const { targets } = await h.module.service.remediate(
      {
        action: 'delete',
        messages: [
          { messageId: id, mids: [1], recipients: ['alice@example.org', 'bob@example.org'] },
        ],
        wait: true,
      },
      analyst,
    )
    const alice = targets.find((t) => t.recipient === 'alice@example.org')
    expect(alice).toMatchObject({ status: 'done', deleted: true, profile: 'dovecot' })
    expect([...(alice?.folders ?? [])].sort()).toEqual(['A*', 'INBOX'])
    expect(targets.find((t) => t.recipient === 'bob@example.org')).toMatchObject({
      status: 'done',
      folders: ['INBOX'],
    })
    const left = await dovecot.messageIdsByFolder('alice@example.org')
    expect(Object.values(left).flat()).not.toContain(`<${id}>`)
    expect(left['Archive']).toContain('<keep-me@colleague.example>')
    expect(left['INBOX']).toContain(`<x${id}>`)
  })

  it.each([
    ['quotes, parentheses and a wildcard', 'a "b" (c) *%@evil.test'],
    ['a query keyword', 'ALL'],
  ])('passes a hostile Message-ID (%s) as data, never as query syntax', async (_, id) => {
    await dovecot.deliverLmtp(phishMessage(id), ['carol@example.org'])
    dovecot.writeMaildir('carol@example.org', phishMessage(uniqueId('bystander')), 'INBOX')
    const { targets } = await h.module.service.remediate(
      {
        action: 'delete',
        messages: [{ messageId: id, mids: [2], recipients: ['carol@example.org'] }],
        wait: true,
      },
      analyst,
    )
    expect(targets[0]).toMatchObject({ status: 'done', folders: ['INBOX'] })
    const left = Object.values(await dovecot.messageIdsByFolder('carol@example.org')).flat()
    expect(left).not.toContain(`<${id}>`)
    expect(left.some((m) => m.includes('bystander'))).toBe(true)
  })

  it('moves to the trash, where a second delete no longer looks', async () => {
    const id = uniqueId('trash')
    await dovecot.deliverLmtp(phishMessage(id), ['dave@trash.example'])
    const request = {
      action: 'delete' as const,
      messages: [{ messageId: id, mids: [3], recipients: ['dave@trash.example'] }],
      wait: true,
    }
    const first = await h.module.service.remediate(request, analyst)
    expect(first.targets[0]).toMatchObject({ status: 'done', profile: 'dovecot-trash' })
    const second = await h.module.service.remediate(request, analyst)
    expect(second.targets[0]).toMatchObject({ status: 'not_found' })
    const left = await dovecot.messageIdsByFolder('dave@trash.example')
    expect(left['Trash']).toContain(`<${id}>`)
    expect(left['INBOX']).not.toContain(`<${id}>`)
  })

  it('forwards the original (fetched as text, CRLF restored) once per mailbox, then deletes', async () => {
    const id = uniqueId('fwd')
    const original = phishMessage(id, 'alice@example.org')
    await dovecot.deliverLmtp(original, ['alice@example.org', 'bob@example.org'])
    const before = relay.messages.length
    const { targets } = await h.module.service.remediate(
      {
        action: 'forward-delete',
        messages: [
          { messageId: id, mids: [4], recipients: ['alice@example.org', 'bob@example.org'] },
        ],
        wait: true,
      },
      analyst,
    )
    for (const target of targets) {
      expect(target).toMatchObject({ status: 'done', forwarded: true, deleted: true })
    }
    const forwards = relay.messages.slice(before)
    expect(forwards).toHaveLength(2)
    for (const forward of forwards) {
      const attached = forward.parsed.attachments.find((a) => a.contentType === 'message/rfc822')
      const text = attached?.content.toString('utf8') ?? ''
      expect(text).toContain(original)
      expect(text).toMatch(/^Return-Path: <sender@external.test>\r\n/)
    }
  })

  it('forwards once per message for a whole campaign and keeps a result per recipient', async () => {
    const id = uniqueId('campaign')
    const recipients = USERS.filter((u) => u.endsWith('@campaign.example'))
    await dovecot.deliverLmtp(phishMessage(id), recipients)
    const before = relay.messages.length
    const { targets } = await perMessage.module.service.remediate(
      {
        action: 'forward-delete',
        messages: [
          { messageId: id, mids: [5], recipients: [...recipients, 'nobody@campaign.example'] },
        ],
        wait: true,
      },
      analyst,
    )
    expect(relay.messages.length - before).toBe(1)
    expect(relay.messages.at(-1)?.parsed.text).toContain("the run's results list every mailbox")
    for (const recipient of recipients) {
      expect(targets.find((t) => t.recipient === recipient)).toMatchObject({
        status: 'done',
        forwarded: true,
        deleted: true,
      })
    }
    expect(targets.find((t) => t.recipient === 'nobody@campaign.example')).toMatchObject({
      status: 'failed',
      error: { code: 'GW_ERR_REMEDIATION_MAILBOX_UNKNOWN' },
    })
    const events = perMessage.events.filter((e) => e.runId === targets[0]?.runId)
    expect(events[0]?.results).toHaveLength(recipients.length + 1)
  })

  it('moves on along a chain when doveadm learns at the search that the user is unknown', async () => {
    const id = uniqueId('chain')
    await dovecot.deliverLmtp(phishMessage(id), ['erin@chain.example'])
    const { targets } = await h.module.service.remediate(
      {
        action: 'delete',
        messages: [
          { messageId: id, mids: [6], recipients: ['erin@chain.example', 'ghost@chain.example'] },
        ],
        wait: true,
      },
      analyst,
    )
    expect(targets.find((t) => t.recipient === 'erin@chain.example')).toMatchObject({
      status: 'done',
      profile: 'imap',
    })
    const ghost = targets.find((t) => t.recipient === 'ghost@chain.example')
    expect(ghost).toMatchObject({
      status: 'failed',
      error: { code: 'GW_ERR_REMEDIATION_MAILBOX_UNKNOWN' },
    })
    expect(ghost?.error?.message).toContain('by-local-part: doveadm: user does not exist')
  })

  it('refuses a wrong API key as an unavailable mailbox', async () => {
    const { targets } = await h.module.service.remediate(
      {
        action: 'delete',
        messages: [{ messageId: uniqueId('key'), mids: [7], recipients: ['x@wrong-key.example'] }],
        wait: true,
      },
      analyst,
    )
    expect(targets[0]).toMatchObject({
      status: 'failed',
      error: { code: 'GW_ERR_REMEDIATION_MAILBOX_UNAVAILABLE' },
    })
    expect(targets[0]?.error?.message).toContain('the API key was refused')
  })

  it.each([
    ['a known mailbox', 'dovecot', 'alice@example.org', null],
    ['an unknown mailbox', 'dovecot', 'ghost@example.org', 'GW_ERR_REMEDIATION_MAILBOX_UNKNOWN'],
    ['a wrong API key', 'wrong-key', 'alice@example.org', 'GW_ERR_REMEDIATION_MAILBOX_UNAVAILABLE'],
  ])('profile test with %s', async (_, profile, mailbox, code) => {
    const testing = h.module.profiles.test(profile, parseMailboxAddress(mailbox))
    if (code) await expect(testing).rejects.toMatchObject({ code })
    else await expect(testing).resolves.toEqual({ profile })
  })
})

/** A doveadm endpoint that answers what a broken or hostile server might; records each call. */
interface HostileEndpoint {
  url: string
  calls: string[]
  answer: (commands: [string, Record<string, unknown>, string][]) => {
    status: number
    body: string
  }
  close(): Promise<void>
}

async function startHostileEndpoint(): Promise<HostileEndpoint> {
  const endpoint: Partial<HostileEndpoint> = { calls: [] }
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (c: Buffer) => chunks.push(c))
    request.on('end', () => {
      const commands = JSON.parse(Buffer.concat(chunks).toString('utf8')) as [
        string,
        Record<string, unknown>,
        string,
      ][]
      endpoint.calls?.push(...commands.map((c) => c[0]))
      const { status, body } = (endpoint.answer as HostileEndpoint['answer'])(commands)
      response.writeHead(status, { 'content-type': 'application/json' })
      response.end(body)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  endpoint.url = `http://127.0.0.1:${port}/doveadm/v1`
  endpoint.close = () => new Promise((resolve) => server.close(() => resolve()))
  return endpoint as HostileEndpoint
}

const fetchRow = (overrides: Record<string, unknown> = {}) => ({
  'mailbox-guid': '0123456789abcdef0123456789abcdef',
  mailbox: 'INBOX',
  uid: '7',
  'size.virtual': '300',
  'hdr.message-id': '<hostile@evil.test>',
  ...overrides,
})

const answerFetch = (rows: unknown) => (commands: [string, Record<string, unknown>, string][]) => ({
  status: 200,
  body: JSON.stringify(commands.map(([, , tag]) => ['doveadmResponse', rows, tag])),
})

describe('doveadm HTTP API remediation against hostile replies', () => {
  let endpoint: HostileEndpoint
  let h: RemediationHarness

  beforeAll(async () => {
    endpoint = await startHostileEndpoint()
    h = await startRemediation('sqlite', { attempts: 2, retryBackoffMs: 10 })
    await h.module.profiles.create(
      {
        name: 'hostile',
        kind: 'doveadm',
        domains: ['hostile.example'],
        settings: { url: endpoint.url, timeoutMs: 2_000 },
        secrets: { apiKey: 'k' },
      },
      analyst,
    )
  })
  afterAll(async () => {
    await h?.close()
    await endpoint?.close()
  })
  const deleteFromVictim = async () => {
    const { targets } = await h.module.service.remediate(
      {
        action: 'delete',
        messages: [
          { messageId: 'hostile@evil.test', mids: [9], recipients: ['victim@hostile.example'] },
        ],
        wait: true,
      },
      analyst,
    )
    return targets
  }

  it.each([
    ['not JSON', () => ({ status: 200, body: '<html>oops' }), 'BACKEND_FAILED', 'not JSON'],
    [
      'not a list of answers',
      () => ({ status: 200, body: '{"a":1}' }),
      'BACKEND_FAILED',
      'not a list',
    ],
    [
      'an answer under another tag',
      () => ({ status: 200, body: '[["doveadmResponse",[],"zz"]]' }),
      'BACKEND_FAILED',
      'no answer',
    ],
    [
      'a UID that is a query',
      answerFetch([fetchRow({ uid: '1:*' })]),
      'BACKEND_FAILED',
      'unexpected fetch rows',
    ],
    [
      'a folder GUID that is a pattern',
      answerFetch([fetchRow({ 'mailbox-guid': '*' })]),
      'BACKEND_FAILED',
      'unexpected fetch rows',
    ],
    [
      'rows that are not objects',
      answerFetch('everything'),
      'BACKEND_FAILED',
      'unexpected fetch rows',
    ],
    [
      'a reply over the size limit',
      () => ({ status: 200, body: `["${'x'.repeat(1_100_000)}"]` }),
      'BACKEND_FAILED',
      'larger than',
    ],
    [
      'HTTP 500',
      () => ({ status: 500, body: 'Internal\r\nerror' }),
      'BACKEND_FAILED',
      'HTTP 500: Internal  error',
    ],
    ['HTTP 401', () => ({ status: 401, body: '' }), 'MAILBOX_UNAVAILABLE', 'API key was refused'],
    [
      'a temporary failure (EX_TEMPFAIL)',
      () => ({ status: 200, body: '[["error",{"type":"exitCode","exitCode":75},"f"]]' }),
      'BACKEND_FAILED',
      'exit code 75',
    ],
  ] as const)(
    'fails the target with a coded error on %s, and deletes nothing',
    async (_, answer, code, reason) => {
      endpoint.answer = answer
      endpoint.calls.length = 0
      const targets = await deleteFromVictim()
      expect(targets[0]).toMatchObject({
        status: 'failed',
        error: { code: `GW_ERR_REMEDIATION_${code}` },
      })
      expect(targets[0]?.error?.message).toContain(reason)
      expect(endpoint.calls).not.toContain('expunge')
      expect(endpoint.calls.every((c) => c === 'fetch')).toBe(true)
    },
  )

  it('checks the Message-ID exactly: a near match is not deleted', async () => {
    endpoint.answer = answerFetch([fetchRow({ 'hdr.message-id': '<xhostile@evil.test>' })])
    endpoint.calls.length = 0
    const targets = await deleteFromVictim()
    expect(targets[0]).toMatchObject({ status: 'not_found' })
    expect(endpoint.calls).toEqual(['fetch'])
  })

  it('expunges what it found by folder GUID and UID only', async () => {
    const seen: unknown[] = []
    endpoint.answer = (commands) => {
      seen.push(...commands)
      return answerFetch([fetchRow(), fetchRow({ uid: '9' })])(commands)
    }
    const targets = await deleteFromVictim()
    expect(targets[0]).toMatchObject({ status: 'done', deleted: true })
    expect(seen.at(-1)).toEqual([
      'expunge',
      {
        user: 'victim@hostile.example',
        query: ['mailbox-guid', '0123456789abcdef0123456789abcdef', 'uid', '7,9'],
      },
      'd0',
    ])
  })
})
