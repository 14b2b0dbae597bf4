import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import nodemailer from 'nodemailer'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { formatHostPort, silentLogger } from '@postern/core'
import { TrackingSearchRepository } from '@postern/store'
import { BACKENDS, createTestDatabase, type TestDatabase } from '@postern/store/testing'
import { tempDir, waitFor } from '@postern/testkit'
import { Gateway, gatewayConfigSchema } from '../../apps/gateway/src/index.js'
import {
  remediationExtension,
  type RemediationExtension,
} from '../../apps/gateway/src/remediation/extension.js'
import {
  remediationActions,
  triggerRemediation,
} from '../../apps/gateway/src/remediation/respond.js'
import { startDovecot, type DovecotServer } from '../support/dovecot.js'
import { startLmtpBridge, type LmtpBridge } from '../support/lmtp-bridge.js'
import { startSmtpCapture, type SmtpCapture } from '../support/smtp-capture.js'
import { phishMessage, uniqueId } from './support.js'

const run = promisify(execFile)
const USERS = ['alice@example.org', 'bob@example.org', 'carol@example.org']

/**
 * The whole path: mail goes through the gateway's SMTP listener and delivery into a real
 * Dovecot (SMTP → LMTP), then is remediated through the gateway API and CLI by MID or
 * Message-ID, and checked by logging in as each user over IMAP.
 */
describe.each(BACKENDS)('gateway remediation end to end on %s', (dialect) => {
  let dovecot: DovecotServer
  let bridge: LmtpBridge
  let soc: SmtpCapture
  let testDb: TestDatabase
  let dataDir: ReturnType<typeof tempDir>
  let gateway: Gateway
  let extension: RemediationExtension
  let smtpPort: number
  let api: string
  const tokens: Record<'admin' | 'operator' | 'readOnly', string> = {
    admin: '',
    operator: '',
    readOnly: '',
  }

  async function call(method: string, path: string, token: string | null, body?: unknown) {
    const response = await fetch(`${api}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- API answers are checked field by field
    return { status: response.status, body: (await response.json()) as Record<string, any> }
  }

  async function sendThroughGateway(messageId: string, recipients: string[]): Promise<number> {
    const client = nodemailer.createTransport({
      host: '127.0.0.1',
      port: smtpPort,
      secure: false,
      ignoreTLS: true,
    })
    try {
      await client.sendMail({
        envelope: { from: 'helpdesk@evil.test', to: recipients },
        raw: phishMessage(messageId, recipients.join(', ')),
      })
    } finally {
      client.close()
    }
    const search = new TrackingSearchRepository(gateway.database.db, gateway.database.dialect)
    return waitFor(
      async () => {
        const [mid] = await search.midsByMessageId(messageId)
        if (mid === undefined) return false
        const [target] = await search.deliveredTargets([mid])
        return target && target.recipients.length === recipients.length ? mid : false
      },
      { what: `delivery of <${messageId}>`, timeoutMs: 30_000 },
    )
  }

  beforeAll(async () => {
    ;[dovecot, soc, testDb] = await Promise.all([
      startDovecot({ users: USERS }),
      startSmtpCapture(),
      createTestDatabase(dialect),
    ])
    bridge = await startLmtpBridge({ host: dovecot.host, port: dovecot.lmtpPort })
    dataDir = tempDir('postern-gw-e2e-')
    const config = gatewayConfigSchema.parse({
      dataDir: dataDir.path,
      hostname: 'gw.example.org',
      database: testDb.configValue,
      http: '127.0.0.1:0',
      listeners: [
        { name: 'in', smtp: '127.0.0.1:0', rat: [{ recipient: 'example.org', action: 'ACCEPT' }] },
      ],
      smtpRoutes: [{ domain: 'example.org', to: [`127.0.0.1:${bridge.port}`], tls: 'none' }],
      tracking: { flushInterval: '20ms' },
      remediation: {
        forward: { address: 'soc@example.org', from: 'postern@gw.example.org' },
        relay: { host: soc.host, port: soc.port, security: 'none' },
        retryBackoffMs: 10,
      },
    })
    gateway = await Gateway.create(config, {
      logger: silentLogger(),
      extensions: [(extension = remediationExtension())],
    })
    const addresses = await gateway.start()
    smtpPort = addresses.smtp.in!.port
    api = `http://${formatHostPort(addresses.http)}`
    tokens.admin = (await gateway.auth.createToken('e2e-admin', 'admin', null, null)).token
    tokens.operator = (await gateway.auth.createToken('soc-analyst', 'operator', null, null)).token
    tokens.readOnly = (await gateway.auth.createToken('auditor', 'read-only', null, null)).token

    const created = await call(
      'POST',
      '/api/v1/remediation/profiles',
      tokens.admin,
      dovecot.imapProfile('dovecot', ['example.org']),
    )
    expect(created.status).toBe(201)
  })

  afterAll(async () => {
    await gateway?.stop()
    await Promise.all([bridge?.close(), soc?.close()])
    await dovecot?.stop()
    await testDb?.drop()
    dataDir?.remove()
  })

  it('forwards and deletes a delivered message by MID, per recipient, with audit and tracking events', async () => {
    const id = uniqueId('e2e')
    const mid = await sendThroughGateway(id, ['alice@example.org', 'bob@example.org'])
    expect((await dovecot.messageIdsByFolder('alice@example.org')).INBOX).toContain(`<${id}>`)

    const answer = await call('POST', '/api/v1/remediation', tokens.operator, {
      action: 'forward-delete',
      mids: [mid],
      reason: 'reported by alice',
      wait: true,
    })
    expect(answer.status).toBe(200)
    expect(answer.body.run).toMatchObject({
      status: 'completed',
      actor: { type: 'client', id: 'soc-analyst' },
      source: 'api',
    })
    expect(
      answer.body.targets
        .map((t: { recipient: string; status: string; forwarded: boolean; deleted: boolean }) => [
          t.recipient,
          t.status,
          t.forwarded,
          t.deleted,
        ])
        .sort(),
    ).toEqual([
      ['alice@example.org', 'done', true, true],
      ['bob@example.org', 'done', true, true],
    ])
    for (const user of ['alice@example.org', 'bob@example.org']) {
      expect(Object.values(await dovecot.messageIdsByFolder(user)).flat()).not.toContain(`<${id}>`)
    }
    const forwards = soc.messages.filter((m) => m.raw.toString().includes(id))
    expect(forwards).toHaveLength(2)
    expect(forwards[0]?.parsed.attachments[0]?.contentType).toBe('message/rfc822')

    // The attempt is on the message's timeline and in the audit log.
    const timeline = await waitFor(async () => {
      const detail = await call('GET', `/api/v1/tracking/messages/${mid}`, tokens.readOnly)
      const events = (
        detail.body.events as { event: string; details: Record<string, unknown> }[]
      ).filter((e) => e.event === 'REMEDIATION')
      return events.length > 0 ? events : false
    })
    expect(timeline[0]?.details).toMatchObject({
      action: 'forward-delete',
      actor: 'client:soc-analyst',
      source: 'api',
    })
    const audit = await sql<{ action: string; actor_id: string; remote_ip: string }>`
      select action, actor_id, remote_ip from audit_log where target_id = ${answer.body.run.id}`.execute(
      gateway.database.db,
    )
    expect(audit.rows).toEqual([
      { action: 'remediation.forward-delete', actor_id: 'soc-analyst', remote_ip: '127.0.0.1' },
    ])
  })

  it('remediates by Message-ID and limits a run to the named recipients', async () => {
    const id = uniqueId('by-message-id')
    await sendThroughGateway(id, ['alice@example.org', 'carol@example.org'])
    const answer = await call('POST', '/api/v1/remediation', tokens.operator, {
      action: 'delete',
      messageIds: [`<${id}>`],
      recipients: ['carol@example.org'],
      wait: true,
    })
    expect(answer.body.targets).toHaveLength(1)
    expect(answer.body.targets[0]).toMatchObject({ recipient: 'carol@example.org', status: 'done' })
    expect((await dovecot.messageIdsByFolder('carol@example.org')).INBOX).not.toContain(`<${id}>`)
    expect((await dovecot.messageIdsByFolder('alice@example.org')).INBOX).toContain(`<${id}>`)
  })

  it.each([
    ['without a token', null, 401, 'HTTP_ERR_UNAUTHENTICATED'],
    ['with a read-only token', 'readOnly', 403, 'HTTP_ERR_FORBIDDEN'],
  ] as const)('refuses to remediate %s', async (_name, who, status, code) => {
    const answer = await call('POST', '/api/v1/remediation', who ? tokens[who] : null, {
      action: 'delete',
      mids: [1],
    })
    expect(answer.status).toBe(status)
    expect(answer.body.error.code).toBe(code)
  })

  it.each([
    [
      'an unknown MID',
      { action: 'delete', mids: [999_999] },
      404,
      'GW_ERR_REMEDIATION_MESSAGE_NOT_FOUND',
    ],
    ['no message', { action: 'delete' }, 400, 'HTTP_ERR_VALIDATION'],
    ['an unknown action', { action: 'shred', mids: [1] }, 400, 'HTTP_ERR_VALIDATION'],
  ])('answers %s with a coded error', async (_name, body, status, code) => {
    const answer = await call('POST', '/api/v1/remediation', tokens.operator, body)
    expect(answer.status).toBe(status)
    expect(answer.body.error.code).toBe(code)
  })

  it('keeps profile secrets out of every answer and lets only admins see profiles', async () => {
    const list = await call('GET', '/api/v1/remediation/profiles', tokens.admin)
    expect(list.body.profiles[0]).toMatchObject({ name: 'dovecot', secretsSet: ['masterPassword'] })
    expect(JSON.stringify(list.body)).not.toContain(dovecot.master.password)
    expect((await call('GET', '/api/v1/remediation/profiles', tokens.operator)).status).toBe(403)
    const test = await call('POST', '/api/v1/remediation/profiles/dovecot/test', tokens.admin, {
      mailbox: 'alice@example.org',
    })
    expect(test.body).toEqual({ ok: true, profile: 'dovecot', mailbox: 'alice@example.org' })
    const unknown = await call('POST', '/api/v1/remediation/profiles/dovecot/test', tokens.admin, {
      mailbox: 'nobody@example.org',
    })
    expect(unknown.body.error.code).toBe('GW_ERR_REMEDIATION_MAILBOX_UNKNOWN')
  })

  it('offers Delete / Forward / Forward and Delete to the hub and runs them as the hub', async () => {
    const id = uniqueId('hub')
    const mid = await sendThroughGateway(id, ['carol@example.org'])
    expect(remediationActions({ type: 'ip', value: '192.0.2.1' })).toEqual([])
    const actions = remediationActions({ type: 'cisco_mid', value: `${mid}-0001` })
    expect(actions.map((a) => a.id)).toEqual([
      'postern-remediate-delete',
      'postern-remediate-forward',
      'postern-remediate-forward-delete',
    ])
    const outcome = await triggerRemediation(
      extension.parts!.tracked,
      { 'action-id': 'postern-remediate-delete', ...actions[0]!['query-params'] },
      { actor: { type: 'hub', id: 'analyst@org1' }, source: 'hub', remoteIp: null },
    )
    expect(outcome?.status).toBe('success')
    expect(outcome?.result.run).toMatchObject({
      source: 'hub',
      actor: { type: 'hub', id: 'analyst@org1' },
    })
    expect((await dovecot.messageIdsByFolder('carol@example.org')).INBOX).not.toContain(`<${id}>`)
    expect(
      await triggerRemediation(
        extension.parts!.tracked,
        {
          'action-id': 'block-sender',
          observable_type: 'cisco_mid',
          observable_value: String(mid),
        },
        { actor: { type: 'hub', id: 'x' }, source: 'hub' },
      ),
    ).toBeNull()
  })

  it('remediates from the CLI with --json and exit codes', async () => {
    const id = uniqueId('cli')
    const mid = await sendThroughGateway(id, ['bob@example.org'])
    const cli = (args: string[]) =>
      run(
        process.execPath,
        ['bin/postern.js', 'gateway', ...args, '--url', api, '--token', tokens.operator, '--json'],
        {
          cwd: new URL('../..', import.meta.url).pathname,
        },
      )
    const { stdout } = await cli([
      'remediate',
      '--mid',
      String(mid),
      '--action',
      'delete',
      '--reason',
      'cli test',
    ])
    const result = JSON.parse(stdout)
    expect(result.run).toMatchObject({
      action: 'delete',
      status: 'completed',
      actor: { id: 'soc-analyst' },
    })
    expect(result.targets[0]).toMatchObject({ recipient: 'bob@example.org', status: 'done' })
    expect((await dovecot.messageIdsByFolder('bob@example.org')).INBOX).not.toContain(`<${id}>`)
    const runs = JSON.parse((await cli(['remediation', 'runs', '--limit', '5'])).stdout)
    expect(runs.runs[0].id).toBe(result.run.id)
    const failure = await cli(['remediate', '--mid', '999999', '--action', 'delete']).catch(
      (err: { code: number; stderr: string }) => err,
    )
    expect(failure).toMatchObject({ code: 1 })
    expect(JSON.parse((failure as { stderr: string }).stderr).error.code).toBe(
      'GW_ERR_REMEDIATION_MESSAGE_NOT_FOUND',
    )
  })
})
