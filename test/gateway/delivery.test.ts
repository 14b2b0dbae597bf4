import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort, tempDir, waitFor } from '@postern/testkit'
import { silentLogger, validateConfig } from '@postern/core'
import { Gateway, gatewayConfigSchema, type MessageProcessor } from '@postern/gateway'
import { expectCode, openTransaction, sendWithNodemailer } from './support/clients.js'
import { startTestServer, type TestServer } from './support/downstream.js'
import { fakeReverseDns, startGateway, testConfig, type TestGateway } from './support/gateway.js'

/** A content pipeline stand-in exercising every outcome of the MessageProcessor contract. */
const processor: MessageProcessor = {
  name: 'test-pipeline',
  failures: 0,
  async process(message) {
    if (
      message.headers.subject === 'fail-once' &&
      (this as { failures: number }).failures++ === 0
    ) {
      throw new Error('scanner unavailable')
    }
    const body = await message.readBody()
    const tagged = Buffer.from(
      body.toString('latin1').replace(/^Subject: /m, 'Subject: [TAGGED] '),
      'latin1',
    )
    return {
      recipients: message.envelope.recipients.map((r) => {
        const local = r.split('@')[0]
        if (local === 'quarantine')
          return { action: 'quarantine' as const, quarantine: 'policy', reason: 'test policy' }
        if (local === 'drop') return { action: 'drop' as const, reason: 'test drop' }
        if (local === 'redirect')
          return {
            action: 'redirect' as const,
            to: ['security@corp.example'],
            reason: 'test redirect',
          }
        if (local === 'tag') return { action: 'deliver' as const, variant: 0 }
        if (local === 'reject')
          return {
            action: 'bounce' as const,
            reason: 'rejected by content policy',
            status: '5.7.1',
          }
        return { action: 'deliver' as const }
      }),
      variants: [tagged],
      events: [{ at: Date.now(), event: 'SCAN_VERDICT', details: { verdict: 'clean' } }],
      observables: [{ type: 'url', value: 'https://example.com/x' }],
    }
  },
} as MessageProcessor & { failures: number }

describe('delivery: routes, retries, bounces, hold queue, Maildir, the pipeline contract', () => {
  let main: TestServer
  let reuse: TestServer
  let gw: TestGateway
  const maildir = tempDir('postern-maildir-')

  beforeAll(async () => {
    main = await startTestServer({
      rcpt: (recipient, attempt) => {
        if (recipient.startsWith('retry@') && attempt <= 2)
          return { code: 451, message: '4.2.0 try later' }
        if (recipient.startsWith('nouser@')) return { code: 550, message: '5.1.1 no such user' }
        if (recipient.startsWith('always-later@')) return { code: 451, message: '4.3.0 still busy' }
        if (recipient.startsWith('held@')) return { code: 451, message: '4.3.0 not yet' }
        return undefined
      },
    })
    reuse = await startTestServer()
    const closed = await freePort()
    gw = await startGateway(
      {
        listeners: [
          {
            name: 'inbound',
            smtp: '127.0.0.1:0',
            hat: [{ senderGroup: 'LOCAL', match: ['127.0.0.0/8'], policy: 'RELAYED' }],
          },
        ],
        smtpRoutes: [
          { domain: 'reuse.example', to: [`127.0.0.1:${reuse.port}`] },
          { domain: 'failover.example', to: [`127.0.0.1:${closed}`, `127.0.0.1:${main.port}`] },
          { domain: 'maildir.example', to: [`maildir:${maildir.path}`] },
          { domain: 'expire.example', to: [`127.0.0.1:${main.port}`] },
          { domain: '*', to: [`127.0.0.1:${main.port}`] },
        ],
        queue: { retry: { initialDelay: '100ms', maxDelay: '300ms' } },
        delivery: { maxConnectionsPerDestination: 2, idleTimeout: '30s' },
      },
      { extensions: [{ name: 'pipeline', setup: (g) => g.setMessageProcessor(processor) }] },
    )
  })
  afterAll(async () => {
    await gw?.stop()
    await main?.close()
    await reuse?.close()
    maildir.remove()
  })

  const send = (to: string | string[], subject: string, from = 'sender@ext.example') =>
    sendWithNodemailer({ port: gw.smtpPort(), from, to, subject, text: `body of ${subject}` })
  const midOf = (reply: string) => Number(/queued as (\d+)/.exec(reply)?.[1])
  async function tracked(mid: number) {
    await gw.gateway.tracking.writer.flush()
    return gw.gateway.tracking.store.getMessage(mid)
  }
  async function events(mid: number) {
    await gw.gateway.tracking.writer.flush()
    return gw.gateway.tracking.store.listEvents(mid)
  }
  const dsnsTo = (address: string) =>
    main.messages.filter((m) => m.from === '' && m.to.includes(address))

  it('retries a deferred recipient with backoff until it is delivered', async () => {
    const mid = midOf(await send('retry@corp.example', 'retry me'))
    await waitFor(async () => (await tracked(mid))?.status === 'delivered', { timeoutMs: 20_000 })
    const message = await tracked(mid)
    expect(message?.recipients[0]).toMatchObject({ status: 'delivered', attempts: 3 })
    const timeline = (await events(mid)).map((e) => e.event)
    expect(timeline.filter((e) => e === 'DEFERRED')).toHaveLength(2)
    expect(timeline.at(-1)).toBe('DELIVERED')
  })

  it('bounces a permanent failure with an RFC 3464 report to the sender', async () => {
    const mid = midOf(await send('nouser@corp.example', 'to nobody', 'bounce-me@ext.example'))
    await waitFor(() => dsnsTo('bounce-me@ext.example').length === 1)
    const dsn = dsnsTo('bounce-me@ext.example')[0]?.text ?? ''
    expect(dsn).toContain('Content-Type: multipart/report; report-type=delivery-status')
    expect(dsn).toContain('Auto-Submitted: auto-replied')
    expect(dsn).toContain('Content-Type: message/delivery-status')
    expect(dsn).toMatch(
      /Final-Recipient: rfc822;nouser@corp\.example\r\nAction: failed\r\nStatus: 5\.1\.1\r\n/,
    )
    expect(dsn).toContain('Diagnostic-Code: smtp; 550 5.1.1 no such user')
    expect(dsn).toContain('Content-Type: text/rfc822-headers')
    expect(dsn).toContain('Subject: to nobody')
    await waitFor(async () => (await tracked(mid))?.status === 'bounced')
    expect((await tracked(mid))?.recipients.map((r) => r.status)).toEqual(['bounced'])
    expect((await events(mid)).map((e) => e.event)).toContain('DSN_SENT')
  })

  it('delivers what it can and bounces only the failed recipient', async () => {
    const mid = midOf(
      await send(['ok1@corp.example', 'nouser@corp.example'], 'mixed', 'mixed@ext.example'),
    )
    await waitFor(() => dsnsTo('mixed@ext.example').length === 1)
    await waitFor(async () => (await tracked(mid))?.status === 'completed')
    const report = dsnsTo('mixed@ext.example')[0]?.text ?? ''
    expect(report).toContain('Final-Recipient: rfc822;nouser@corp.example')
    expect(report).not.toContain('Final-Recipient: rfc822;ok1@corp.example')
    expect((await tracked(mid))?.recipients.map((r) => r.status)).toEqual(['delivered', 'bounced'])
  })

  it('never bounces a bounce (null sender)', async () => {
    const smtp = await openTransaction(gw.smtpPort(), '', ['nouser@corp.example'])
    smtp.write('Subject: a bounce\r\n\r\nundeliverable\r\n.\r\n')
    const mid = midOf(expectCode(await smtp.reply(), 250))
    smtp.close()
    await waitFor(async () => (await tracked(mid))?.status === 'bounced')
    expect(main.messages.filter((m) => m.from === '' && m.to.length === 0)).toEqual([])
  })

  it('fails over to the next host of a route and reuses connections within the limit', async () => {
    const replies = await Promise.all(
      Array.from({ length: 8 }, (_, i) => send(`user${i}@reuse.example`, `reuse ${i}`)),
    )
    await waitFor(() => reuse.messages.length === 8)
    expect(reuse.stats.maxConcurrent).toBeLessThanOrEqual(2)
    expect(reuse.stats.connections).toBeLessThan(8)
    expect(replies).toHaveLength(8)
    const mid = midOf(await send('someone@failover.example', 'failover'))
    await waitFor(async () => (await tracked(mid))?.status === 'delivered')
  })

  it('writes Maildir deliveries into one safe folder per recipient', async () => {
    const mid = midOf(await send(['Alice@maildir.example', 'a/b@maildir.example'], 'maildir'))
    await waitFor(async () => (await tracked(mid))?.status === 'delivered')
    const alice = join(maildir.path, 'maildir.example', 'alice', 'new')
    const [file] = readdirSync(alice)
    const content = readFileSync(join(alice, file as string), 'utf8')
    expect(content).toMatch(
      /^Return-Path: <sender@ext\.example>\nDelivered-To: Alice@maildir\.example\nReceived: from client\.test/,
    )
    expect(content).not.toContain('\r\n')
    expect(readdirSync(join(maildir.path, 'maildir.example'))).toEqual(['a%2Fb', 'alice'])
    expect(readdirSync(join(maildir.path, 'maildir.example', 'alice', 'tmp'))).toEqual([])
  })

  it('applies every pipeline outcome and records it', async () => {
    const recipients = ['quarantine', 'drop', 'redirect', 'tag', 'reject', 'plain'].map(
      (l) => `${l}@corp.example`,
    )
    const mid = midOf(await send(recipients, 'pipeline', 'pipeline@ext.example'))
    await waitFor(async () => (await tracked(mid))?.status === 'completed')
    await waitFor(() => dsnsTo('pipeline@ext.example').length === 1)
    const byRecipient = (to: string) =>
      main.messages.filter((m) => m.to.includes(to) && m.text.includes('body of pipeline'))
    expect(byRecipient('security@corp.example')).toHaveLength(1)
    expect(byRecipient('tag@corp.example')[0]?.text).toContain('Subject: [TAGGED] pipeline')
    expect(byRecipient('plain@corp.example')[0]?.text).toContain('Subject: pipeline')
    expect(byRecipient('quarantine@corp.example')).toEqual([])
    expect(byRecipient('drop@corp.example')).toEqual([])
    expect(dsnsTo('pipeline@ext.example')[0]?.text).toContain('Status: 5.7.1')
    const message = await tracked(mid)
    expect(message?.recipients.map((r) => r.status)).toEqual([
      'quarantined',
      'dropped',
      'redirected',
      'delivered',
      'bounced',
      'delivered',
    ])
    expect((await events(mid)).map((e) => e.event)).toEqual(
      expect.arrayContaining(['PROCESSED', 'SCAN_VERDICT', 'QUARANTINED', 'DROPPED', 'REDIRECTED']),
    )
    expect(
      await gw.gateway.tracking.store.findByObservable('url', 'https://example.com/x'),
    ).toContain(mid)
  })

  it('retries processing when the pipeline fails', async () => {
    const mid = midOf(await send('later@corp.example', 'fail-once'))
    await waitFor(async () => (await tracked(mid))?.status === 'delivered')
    expect((await events(mid)).map((e) => e.event)).toContain('PROCESSING_FAILED')
  })

  it('holds, releases and deletes through the API', async () => {
    const held = midOf(await send('held@corp.example', 'hold me'))
    await waitFor(
      async () =>
        (await gw.api<{ state: string }>('GET', `/api/v1/queue/${held}`)).body.state === 'deferred',
    )
    const hold = await gw.api<{ state: string }>('POST', `/api/v1/queue/${held}/hold`)
    expect(hold.body.state).toBe('held')
    expect(
      (
        await gw.api<{ items: { mid: number }[] }>('GET', '/api/v1/queue?state=held')
      ).body.items.map((i) => i.mid),
    ).toEqual([held])
    const attemptsWhileHeld = (await events(held)).filter((e) => e.event === 'DEFERRED').length
    await new Promise((r) => setTimeout(r, 500))
    expect((await events(held)).filter((e) => e.event === 'DEFERRED').length).toBe(
      attemptsWhileHeld,
    )
    expect((await tracked(held))?.status).toBe('held')
    expect((await gw.api<{ state: string }>('POST', `/api/v1/queue/${held}/release`)).status).toBe(
      200,
    )
    await waitFor(
      async () =>
        (await events(held)).filter((e) => e.event === 'DEFERRED').length > attemptsWhileHeld,
    )
    await waitFor(async () => (await gw.api('DELETE', `/api/v1/queue/${held}`)).status === 200)
    expect((await gw.api('GET', `/api/v1/queue/${held}`)).body).toMatchObject({
      error: { code: 'GW_ERR_QUEUE_MESSAGE_NOT_FOUND' },
    })
    expect(await tracked(held)).toMatchObject({ status: 'deleted' })
    expect(dsnsTo('sender@ext.example').filter((m) => m.text.includes('hold me'))).toEqual([])
  })

  it('bounces what is still deferred when the queue lifetime is over', async () => {
    const expiring = await startGateway({
      listeners: [
        {
          name: 'inbound',
          smtp: '127.0.0.1:0',
          rat: [{ recipient: 'corp.example', action: 'ACCEPT' }],
        },
      ],
      smtpRoutes: [{ domain: '*', to: [`127.0.0.1:${main.port}`] }],
      queue: { lifetime: '600ms', retry: { initialDelay: '100ms', maxDelay: '200ms' } },
    })
    try {
      const reply = await sendWithNodemailer({
        port: expiring.smtpPort(),
        from: 'expire@ext.example',
        to: 'always-later@corp.example',
        subject: 'expires',
      })
      await waitFor(() => dsnsTo('expire@ext.example').length === 1, { timeoutMs: 20_000 })
      const dsn = dsnsTo('expire@ext.example')[0]?.text ?? ''
      expect(dsn).toContain('Subject: Delivery time expired')
      expect(dsn).toContain('Status: 4.4.7')
      expect(dsn).toContain('Diagnostic-Code: smtp; 451 4.3.0 still busy')
      await expiring.gateway.tracking.writer.flush()
      const events = await expiring.gateway.tracking.store.listEvents(midOf(reply))
      expect(events.map((e) => e.event)).toContain('EXPIRED')
    } finally {
      await expiring.stop()
    }
  })
})

describe('restarts', () => {
  it('keeps deferred and held mail across a restart, and MIDs keep increasing', async () => {
    const downstream = await startTestServer()
    const dir = tempDir('postern-restart-')
    const closed = await freePort()
    const base = (port: number) =>
      validateConfig(
        gatewayConfigSchema,
        testConfig(join(dir.path, 'data'), 'sqlite', {
          smtpRoutes: [{ domain: '*', to: [`127.0.0.1:${port}`] }],
          queue: { retry: { initialDelay: '1h', maxDelay: '1h' } },
        }),
      )
    try {
      const first = await Gateway.create(base(closed), {
        logger: silentLogger(),
        rdns: fakeReverseDns(),
      })
      const { smtp } = await first.start()
      const replies: number[] = []
      for (const subject of ['deferred', 'held']) {
        const reply = await sendWithNodemailer({
          port: (smtp.inbound as { port: number }).port,
          from: 'a@ext.example',
          to: 'bob@corp.example',
          subject,
        })
        replies.push(Number(/queued as (\d+)/.exec(reply)?.[1]))
      }
      const [deferred, held] = replies as [number, number]
      await waitFor(() => first.queue.list({ state: 'deferred' }).total === 2)
      await first.queue.hold(held, 'test')
      await first.stop()

      const second = await Gateway.create(base(downstream.port), {
        logger: silentLogger(),
        rdns: fakeReverseDns(),
      })
      const started = await second.start()
      try {
        await waitFor(() => downstream.messages.some((m) => m.text.includes('Subject: deferred')))
        expect(second.queue.list().items.map((i) => [i.mid, i.state])).toEqual([[held, 'held']])
        await waitFor(async () => {
          await second.tracking.writer.flush()
          return (await second.tracking.store.getMessage(deferred))?.status === 'delivered'
        })
        const next = await sendWithNodemailer({
          port: (started.smtp.inbound as { port: number }).port,
          from: 'a@ext.example',
          to: 'bob@corp.example',
          subject: 'after restart',
        })
        expect(Number(/queued as (\d+)/.exec(next)?.[1])).toBeGreaterThan(held)
        await second.queue.release(held, 'test')
        await waitFor(() => downstream.messages.some((m) => m.text.includes('Subject: held')))
      } finally {
        await second.stop()
      }
    } finally {
      await downstream.close()
      dir.remove()
    }
  })

  it('defers rather than send in plaintext when a route requires TLS', async () => {
    const plain = await startTestServer()
    const gw = await startGateway({
      smtpRoutes: [{ domain: '*', to: [`127.0.0.1:${plain.port}`], tls: 'required' }],
    })
    try {
      const reply = await sendWithNodemailer({
        port: gw.smtpPort(),
        from: 'a@ext.example',
        to: 'bob@corp.example',
        subject: 'tls',
      })
      const mid = Number(/queued as (\d+)/.exec(reply)?.[1])
      await waitFor(async () => {
        await gw.gateway.tracking.writer.flush()
        return (await gw.gateway.tracking.store.getMessage(mid))?.status === 'deferred'
      })
      const message = await gw.gateway.tracking.store.getMessage(mid)
      expect(message?.recipients[0]?.lastReply).toMatch(/^451 4\.7\.5 TLS required for this route/)
      expect(plain.messages).toEqual([])
    } finally {
      await gw.stop()
      await plain.close()
    }
  })
})
