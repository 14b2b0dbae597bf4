import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import nodemailer from 'nodemailer'
import { SMTPServer } from 'smtp-server'
import { ManualClock, silentLogger } from '@postern/core'
import {
  ActiveCaseStore,
  AuditLog,
  CtiaEntityStore,
  Database,
  IncidentStore,
  WatchStore,
  migrateToLatest,
  type HubSchema,
} from '@postern/store'
import { BACKENDS, createTestDatabase, type TestDatabase } from '@postern/store/testing'
import type { Caller } from '../casebooks/caller.js'
import { CasebookService } from '../casebooks/casebook-service.js'
import { CtiaEntityService } from '../casebooks/ctia-entity-service.js'
import { IncidentService } from '../incidents/incident-service.js'
import { WatchNotifier, type WatchNotification } from './notifiers.js'
import { WatchlistService, type MessageObservedEvent } from './watchlist-service.js'

const alice: Caller = { kind: 'user', orgId: 'org-a', userId: 'alice', clientId: null }
const mallory: Caller = { kind: 'user', orgId: 'org-b', userId: 'mallory', clientId: null }

interface Received {
  webhooks: { headers: Record<string, unknown>; body: Record<string, unknown> }[]
  mails: string[]
}

async function startWebhookReceiver(received: Received): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      if (req.url === '/fail') {
        res.writeHead(500).end()
        return
      }
      received.webhooks.push({
        headers: req.headers,
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
      })
      res.writeHead(204).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }
}

async function startSmtpReceiver(
  received: Received,
): Promise<{ server: SMTPServer; port: number }> {
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, _session, callback) {
      const chunks: Buffer[] = []
      stream.on('data', (c: Buffer) => chunks.push(c))
      stream.on('end', () => {
        received.mails.push(Buffer.concat(chunks).toString('utf8'))
        callback()
      })
    },
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = (server as unknown as { server: Server }).server.address() as AddressInfo
  return { server, port: address.port }
}

describe.each(BACKENDS)('watchlist on %s', (dialect) => {
  let testDb: TestDatabase
  let database: Database<HubSchema>
  let watchlist: WatchlistService
  let entities: CtiaEntityService
  let audit: AuditLog
  let webhook: { server: Server; url: string }
  let smtp: { server: SMTPServer; port: number }
  const received: Received = { webhooks: [], mails: [] }
  const consoleEvents: WatchNotification[] = []
  const clock = new ManualClock(Date.UTC(2026, 5, 1, 9))

  beforeAll(async () => {
    testDb = await createTestDatabase(dialect)
    database = await Database.open<HubSchema>(testDb.target)
    await migrateToLatest(database, 'hub')
    webhook = await startWebhookReceiver(received)
    smtp = await startSmtpReceiver(received)
    audit = new AuditLog(database.db, clock)
    entities = new CtiaEntityService({ store: new CtiaEntityStore(database), audit, clock })
    const incidents = new IncidentService(entities, new IncidentStore(database.db))
    const casebooks = new CasebookService({
      entities,
      activeCases: new ActiveCaseStore(database.db),
      audit,
    })
    watchlist = new WatchlistService({
      watches: new WatchStore(database.db),
      audit,
      entities,
      incidents,
      casebooks,
      logger: silentLogger(),
      clock,
      notifier: new WatchNotifier({
        logger: silentLogger(),
        // The receivers of this test listen on 127.0.0.1.
        allowInternalWebhooks: true,
        console: (n) => consoleEvents.push(n),
        mail: {
          transport: nodemailer.createTransport({
            host: '127.0.0.1',
            port: smtp.port,
            secure: false,
            ignoreTLS: true,
          }),
          from: 'hub@postern.example',
        },
      }),
    })
  })
  afterAll(async () => {
    await new Promise((resolve) => webhook.server.close(resolve))
    await new Promise<void>((resolve) => smtp.server.close(() => resolve()))
    await database.close()
    await testDb.drop()
  })

  const message = (mid: string, observables: MessageObservedEvent['observables']) => ({
    orgId: 'org-a',
    deviceId: 'gw-1',
    at: clock.now(),
    message: {
      mid,
      messageId: `<${mid}@evil.example>`,
      subject: 'Payroll\r\nBcc: victim@corp.example',
      sender: 'boss@evil.example',
      recipients: ['a@corp.example'],
    },
    observables,
  })

  it('records sightings once, notifies every channel, and opens then updates an incident', async () => {
    const watch = await watchlist.create(alice, {
      observable: { type: 'domain', value: 'Evil.Example' },
      note: 'Known phishing sender',
      notify: { console: true, webhook: `${webhook.url}/hook`, email: 'soc@corp.example' },
      incidentMode: 'open',
    })
    await expect(
      watchlist.create(alice, { observable: { type: 'domain', value: 'evil.example' } }),
    ).rejects.toMatchObject({ code: 'HUB_PI_ERR_WATCH_EXISTS', status: 409 })

    const first = await watchlist.onMessageObserved(
      message('5001', [
        { type: 'email', value: 'boss@evil.example' },
        { type: 'domain', value: 'EVIL.example' },
      ]),
    )
    expect(first).toHaveLength(1)
    expect(first[0]!.notifications).toEqual([
      { channel: 'console', ok: true },
      { channel: 'webhook', ok: true },
      { channel: 'email', ok: true },
    ])
    const incidentId = first[0]!.incidentId!
    expect(incidentId).toMatch(/^incident-/)

    // The same message again (tunnel redelivery): nothing new.
    expect(
      await watchlist.onMessageObserved(
        message('5001', [{ type: 'domain', value: 'evil.example' }]),
      ),
    ).toEqual([])
    clock.advance(60_000)
    const second = await watchlist.onMessageObserved(
      message('5002', [{ type: 'domain', value: 'evil.example' }]),
    )
    expect(second[0]!.incidentId).toBe(incidentId)
    // Another org's gateway traffic never matches this org's watch.
    expect(
      await watchlist.onMessageObserved({
        ...message('9', [{ type: 'domain', value: 'evil.example' }]),
        orgId: 'org-b',
      }),
    ).toEqual([])

    expect((await watchlist.get(alice, watch.id)).sightingCount).toBe(2)
    expect((await watchlist.sightings(alice, watch.id)).map((s) => s.messageRef)).toEqual([
      '5002',
      '5001',
    ])
    await expect(watchlist.sightings(mallory, watch.id)).rejects.toMatchObject({ status: 404 })

    expect(consoleEvents).toHaveLength(2)
    expect(received.webhooks).toHaveLength(2)
    expect(received.webhooks[0]!.headers['x-postern-event']).toBe('watch.sighting')
    expect(received.webhooks[0]!.body).toMatchObject({
      event: 'watch.sighting',
      org_id: 'org-a',
      watch: { id: watch.id, observable: { type: 'domain', value: 'evil.example' } },
      sighting: { device_id: 'gw-1', message_ref: '5001', message_id: '<5001@evil.example>' },
      incident_id: incidentId,
    })
    expect(received.mails).toHaveLength(2)
    expect(received.mails[0]).toContain('Subject: [Postern] Watched domain evil.example seen')
    // The hostile subject line never became a header of the notification mail.
    expect(received.mails[0]).not.toMatch(/^Bcc:/m)

    const casebookIds = (await entities.store.relationshipsOf('org-a', incidentId)).map(
      (r) => r.doc.target_ref as string,
    )
    const casebook = await entities.get(alice, 'casebook', casebookIds[0]!)
    expect(casebook.doc.observables).toEqual(
      expect.arrayContaining([
        { type: 'cisco_mid', value: '5001' },
        { type: 'cisco_mid', value: '5002' },
      ]),
    )

    // Once the incident is closed, the next sighting opens a new one.
    await entities.patch(alice, 'incident', incidentId, { status: 'Closed' }, 'replace')
    clock.advance(60_000)
    const third = await watchlist.onMessageObserved(
      message('5003', [{ type: 'domain', value: 'evil.example' }]),
    )
    expect(third[0]!.incidentId).not.toBe(incidentId)
  })

  it('reports failing channels without losing the sighting, and audits watch changes', async () => {
    const watch = await watchlist.create(alice, {
      observable: { type: 'sha256', value: 'ab'.repeat(32) },
      notify: { console: false, webhook: `${webhook.url}/fail` },
    })
    const [outcome] = await watchlist.onMessageObserved(
      message('6001', [{ type: 'sha256', value: 'AB'.repeat(32) }]),
    )
    expect(outcome!.notifications).toEqual([
      { channel: 'webhook', ok: false, error: 'webhook answered HTTP 500' },
    ])
    expect(outcome!.incidentId).toBeNull()
    expect((await watchlist.get(alice, watch.id)).sightingCount).toBe(1)

    await watchlist.update(alice, watch.id, { active: false })
    expect(
      await watchlist.onMessageObserved(
        message('6002', [{ type: 'sha256', value: 'ab'.repeat(32) }]),
      ),
    ).toEqual([])
    await expect(watchlist.update(mallory, watch.id, { active: true })).rejects.toMatchObject({
      status: 404,
    })
    await watchlist.delete(alice, watch.id)
    const actions = (await audit.list({ orgId: 'org-a', limit: 1000 })).entries
      .filter((e) => e.target?.id === watch.id)
      .map((e) => e.action)
      .reverse()
    expect(actions).toEqual(['watch.create', 'watch.update', 'watch.delete'])
  })
})
