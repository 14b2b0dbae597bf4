import { createHmac, timingSafeEqual } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SCOPE_CATALOGUE } from '@postern/hub'
import { BACKENDS } from '@postern/store/testing'
import { startSmtpCapture, type SmtpCapture } from '../support/smtp-capture.js'
import { fetchToken, startTestHub, type HubHarness } from './harness.js'

const SECRET = 'ticket-webhook-secret-0123456789'

/**
 * A ticket system's webhook receiver written from the signature scheme alone: it recomputes
 * `HMAC-SHA256(secret, t + "." + body)` and compares in constant time, answers its first
 * `failFirst` deliveries with 503 and later ones with 201 and its own ticket id.
 */
interface Receiver {
  url: string
  received: { body: Record<string, unknown>; verified: boolean; ticketId: string }[]
  failFirst: number
  status: number
  close(): Promise<void>
}

async function startReceiver(): Promise<Receiver> {
  const state: Receiver = {
    url: '',
    received: [],
    failFirst: 0,
    status: 201,
    close: async () => undefined,
  }
  let seen = 0
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (c: Buffer) => chunks.push(c))
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      const header = String(request.headers['x-postern-signature'] ?? '')
      const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header)
      const expected = match
        ? createHmac('sha256', SECRET).update(`${match[1]}.${body}`).digest()
        : Buffer.alloc(32)
      const verified = match !== null && timingSafeEqual(expected, Buffer.from(match[2]!, 'hex'))
      state.received.push({
        body: JSON.parse(body) as Record<string, unknown>,
        verified,
        ticketId: String(request.headers['x-postern-ticket-id']),
      })
      seen++
      if (!verified) {
        response.writeHead(401).end()
        return
      }
      if (seen <= state.failFirst) {
        response.writeHead(503).end()
        return
      }
      response.writeHead(state.status, { 'content-type': 'application/json' })
      response.end(JSON.stringify({ id: `IT-${seen}` }))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/tickets`
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    })
  return state
}

describe.each(BACKENDS)('IT tickets on %s', (dialect) => {
  let h: HubHarness
  let token: string
  let receiver: Receiver
  let smtp: SmtpCapture

  const call = (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: unknown) =>
    h.hub.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${token}` },
      ...(payload !== undefined ? { payload: payload as object } : {}),
    })

  beforeAll(async () => {
    ;[receiver, smtp] = await Promise.all([startReceiver(), startSmtpCapture()])
    h = await startTestHub(dialect)
    await h.hub.admin.createOrgWithAdmin({ orgName: 'Org A', email: 'admin@a.example' })
    const client = await h.hub.admin.createApiClient({
      org: 'Org A',
      name: 'soc',
      scopes: SCOPE_CATALOGUE,
    })
    token = await fetchToken(h.hub, client.client.id, client.secret)
    const webhook = await call('POST', '/api/v1/ticket-integrations', {
      name: 'ServiceDesk',
      kind: 'webhook',
      settings: {
        url: receiver.url,
        secret: SECRET,
        template: {
          fields: {
            summary: 'Postern: {{title}}',
            description: '{{description}}\n{{link}}',
            labels: ['security', '{{subject_type}}'],
          },
          source: { ticket: '{{ticket_id}}', observable: '{{observable_value}}' },
        },
        max_attempts: 3,
        backoff_ms: 10,
      },
    })
    expect(webhook.statusCode).toBe(201)
    const email = await call('POST', '/api/v1/ticket-integrations', {
      name: 'IT mailbox',
      kind: 'email',
      settings: {
        smtp: { host: smtp.host, port: smtp.port, security: 'none', user: 'hub', password: 'pw' },
        from: 'postern-hub@example.org',
        to: ['it-desk@example.org'],
      },
    })
    expect(email.statusCode).toBe(201)
  })
  afterAll(async () => {
    await h?.stop()
    await receiver?.close()
    await smtp?.close()
  })

  it('lists integrations with their secrets masked, and refuses a duplicate name or bad settings', async () => {
    const items = (await call('GET', '/api/v1/ticket-integrations')).json().items
    expect(items.map((i: { name: string }) => i.name)).toEqual(['IT mailbox', 'ServiceDesk'])
    expect(JSON.stringify(items)).not.toContain(SECRET)
    expect(JSON.stringify(items)).not.toContain('"pw"')
    expect(items[1].settings.secret).toBe('*****')

    const again = await call('POST', '/api/v1/ticket-integrations', {
      name: 'ServiceDesk',
      kind: 'webhook',
      settings: { url: receiver.url, secret: SECRET },
    })
    expect(again.statusCode).toBe(409)
    expect(again.json().error.code).toBe('HUB_ERR_TICKET_INTEGRATION_EXISTS')
    for (const settings of [
      { url: 'ftp://x.example/', secret: SECRET },
      { url: receiver.url, secret: 'short' },
      { url: receiver.url, secret: SECRET, extra: 1 },
    ]) {
      const bad = await call('POST', '/api/v1/ticket-integrations', {
        name: 'Bad',
        kind: 'webhook',
        settings,
      })
      expect(bad.statusCode).toBe(400)
    }
  })

  it('delivers a signed webhook ticket on an observable, retrying a busy receiver', async () => {
    receiver.failFirst = receiver.received.length + 2
    const res = await call('POST', '/api/v1/tickets', {
      integration: 'ServiceDesk',
      subject: { type: 'observable', observable: { type: 'domain', value: 'evil"}.example' } },
      description: 'Phishing campaign hitting finance',
    })
    expect(res.statusCode).toBe(201)
    const ticket = res.json()
    expect(ticket).toMatchObject({
      status: 'sent',
      attempts: 3,
      external_ref: `IT-${receiver.received.length}`,
      subject_type: 'observable',
      link: `${h.hub.url}/investigate?observable_type=domain&observable_value=evil%22%7D.example`,
    })
    const deliveries = receiver.received.slice(-3)
    expect(deliveries.every((d) => d.verified && d.ticketId === ticket.id)).toBe(true)
    // A value with quotes and braces stays a value: the body is built, not pasted.
    expect(deliveries[2]!.body).toEqual({
      fields: {
        summary: 'Postern: Investigate domain evil"}.example',
        description: `Phishing campaign hitting finance\n${ticket.link}`,
        labels: ['security', 'observable'],
      },
      source: { ticket: ticket.id, observable: 'evil"}.example' },
    })
  })

  it('records a failed ticket when the receiver refuses it, without retrying a 4xx', async () => {
    receiver.failFirst = 0
    receiver.status = 422
    const before = receiver.received.length
    const res = await call('POST', '/api/v1/tickets', {
      integration: 'ServiceDesk',
      subject: { type: 'incident', id: 'incident-123' },
    })
    receiver.status = 201
    expect(res.json()).toMatchObject({
      status: 'failed',
      attempts: 1,
      last_error: 'HTTP 422',
      link: `${h.hub.url}/ctia/incident/incident-123`,
    })
    expect(receiver.received.length).toBe(before + 1)
  })

  it('mails a ticket on a casebook to the IT desk through the SMTP server', async () => {
    const res = await call('POST', '/api/v1/tickets', {
      integration: 'IT mailbox',
      subject: { type: 'casebook', id: 'casebook-7' },
      title: 'Reset passwords of the phished users',
      description: 'alice and bob entered their passwords',
    })
    expect(res.statusCode).toBe(201)
    const ticket = res.json()
    expect(ticket.status).toBe('sent')
    const mail = smtp.messages.at(-1)!
    expect(mail.to).toEqual(['it-desk@example.org'])
    expect(mail.parsed.subject).toBe('[Postern] Reset passwords of the phished users')
    expect(mail.parsed.text).toContain(`Open in Postern: ${h.hub.url}/ctia/casebook/casebook-7`)
    expect(mail.parsed.headers.get('x-postern-ticket-id')).toBe(ticket.id)
    expect(ticket.external_ref).toBe(mail.parsed.messageId)
  })

  it('lists tickets, answers unknown ones with a coded 404, and audits every ticket', async () => {
    const items = (await call('GET', '/api/v1/tickets')).json().items
    expect(items.map((t: { status: string }) => t.status).sort()).toEqual([
      'failed',
      'sent',
      'sent',
    ])
    const missing = await call('GET', '/api/v1/tickets/nope')
    expect(missing.statusCode).toBe(404)
    expect(missing.json().error.code).toBe('HUB_ERR_TICKET_NOT_FOUND')
    const unknown = await call('POST', '/api/v1/tickets', {
      integration: 'Nope',
      subject: { type: 'action', id: 'a-1' },
    })
    expect(unknown.json().error.code).toBe('HUB_ERR_TICKET_INTEGRATION_NOT_FOUND')

    const audit = (await call('GET', '/api/v1/audit?action=ticket.create')).json().items
    expect(audit.map((a: { outcome: string }) => a.outcome).sort()).toEqual([
      'failure',
      'success',
      'success',
    ])
    expect(audit[0].actor).toMatchObject({ type: 'client' })
  })
})
