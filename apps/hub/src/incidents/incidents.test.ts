import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ManualClock, silentLogger } from '@postern/core'
import {
  AuditLog,
  CtiaEntityStore,
  Database,
  IncidentStore,
  migrateToLatest,
  type HubSchema,
} from '@postern/store'
import { BACKENDS, createTestDatabase, type TestDatabase } from '@postern/store/testing'
import type { Caller } from '../casebooks/caller.js'
import { CtiaEntityService } from '../casebooks/ctia-entity-service.js'
import { AutoIncidents, markdownText, type DetectionEvent } from './auto-incidents.js'
import { IncidentService, incidentTimeFieldFor } from './incident-service.js'

const alice: Caller = { kind: 'user', orgId: 'org-a', userId: 'alice', clientId: null }
const mallory: Caller = { kind: 'user', orgId: 'org-b', userId: 'mallory', clientId: null }
const MINUTE = 60_000

describe('incidentTimeFieldFor', () => {
  it.each([
    ['Open', 'opened'],
    ['Open: Investigating', 'opened'],
    ['Closed: False Positive', 'closed'],
    ['Closed', 'closed'],
    ['Rejected', 'rejected'],
    ['Containment Achieved', 'remediated'],
    ['New', null],
    ['Hold', null],
  ])('%s → %s', (status, field) => {
    expect(incidentTimeFieldFor(status)).toBe(field)
  })
})

describe('markdownText', () => {
  it('neutralises links, images, markup and line breaks', () => {
    expect(markdownText('![x](https://evil.example) <b>hi</b>\r\n*b*')).toBe(
      '!\\[x\\](https://evil.example) \\<b\\>hi\\</b\\> \\*b\\*',
    )
  })
})

describe.each(BACKENDS)('incidents on %s', (dialect) => {
  let testDb: TestDatabase
  let database: Database<HubSchema>
  let entities: CtiaEntityService
  let incidents: IncidentService
  let auto: AutoIncidents
  const clock = new ManualClock(Date.UTC(2026, 5, 1, 12))

  beforeAll(async () => {
    testDb = await createTestDatabase(dialect)
    database = await Database.open<HubSchema>(testDb.target)
    await migrateToLatest(database, 'hub')
    const audit = new AuditLog(database.db, clock)
    entities = new CtiaEntityService({ store: new CtiaEntityStore(database), audit, clock })
    const campaigns = new IncidentStore(database.db)
    incidents = new IncidentService(entities, campaigns)
    auto = new AutoIncidents({ entities, incidents, campaigns, logger: silentLogger() })
  })
  afterAll(async () => {
    await database.close()
    await testDb.drop()
  })

  it('changes status with incident times and a history', async () => {
    const incident = await incidents.create(alice, {
      title: 'Wave',
      status: 'New',
      confidence: 'High',
      incident_time: { opened: '2026-06-01T10:00:00.000Z' },
    })
    clock.advance(MINUTE)
    await incidents.setStatus(alice, incident.id, 'Open: Investigating')
    clock.advance(MINUTE)
    const closed = await incidents.setStatus(alice, incident.id, 'Closed: Confirmed Threat')
    expect(closed.doc).toMatchObject({
      status: 'Closed: Confirmed Threat',
      incident_time: { opened: '2026-06-01T10:00:00.000Z', closed: '2026-06-01T12:02:00.000Z' },
    })
    expect((await incidents.statusHistory(alice, incident.id)).map((h) => h.status)).toEqual([
      'New',
      'Open: Investigating',
      'Closed: Confirmed Threat',
    ])
    await expect(incidents.setStatus(mallory, incident.id, 'Open')).rejects.toMatchObject({
      status: 404,
    })
    await expect(incidents.statusHistory(mallory, incident.id)).rejects.toMatchObject({
      status: 404,
    })
  })

  it('links an incident to a casebook of the same org only', async () => {
    const incident = await incidents.create(alice, {
      status: 'New',
      confidence: 'Low',
      incident_time: { opened: '2026-06-01T10:00:00.000Z' },
    })
    const casebook = await entities.create(alice, 'casebook', { title: 'Evidence' })
    const foreign = await entities.create(mallory, 'casebook', { title: 'Theirs' })
    const relationship = await incidents.link(alice, incident.id, {
      casebook_id: casebook.id,
      tlp: 'red',
    })
    expect(relationship.doc).toMatchObject({
      type: 'relationship',
      relationship_type: 'related-to',
      source_ref: incident.id,
      target_ref: casebook.id,
      tlp: 'red',
    })
    expect((await incidents.linkedCasebooks(alice, incident.id)).map((c) => c.id)).toEqual([
      casebook.id,
    ])
    await expect(
      incidents.link(alice, incident.id, { casebook_id: foreign.id }),
    ).rejects.toMatchObject({ status: 404 })
    await expect(
      incidents.link(alice, incident.id, { casebook_id: casebook.id, investigation_id: 'x' }),
    ).rejects.toMatchObject({ code: 'HUB_PI_ERR_LINK_TARGET_INVALID', status: 400 })
    await expect(incidents.link(alice, incident.id, {})).rejects.toMatchObject({ status: 400 })
  })

  it('groups gateway detections into one incident per campaign window', async () => {
    const policy = { detections: ['malicious_url', 'virus'] as const, windowMs: 30 * MINUTE }
    const base = Date.UTC(2026, 5, 2, 8)
    const event = (
      mid: string,
      at: number,
      url = 'https://evil.example/login',
    ): DetectionEvent => ({
      orgId: 'org-a',
      deviceId: 'gw-1',
      detection: 'malicious_url',
      key: { type: 'url', value: url },
      at,
      message: {
        mid,
        messageId: `<${mid}@evil.example>`,
        sender: 'boss@evil.example',
        subject: 'Urgent [invoice](https://x)',
        recipients: ['a@corp.example'],
      },
    })

    const first = await auto.handle(event('1001', base), policy)
    expect(first.outcome).toBe('opened')
    const second = await auto.handle(event('1002', base + 10 * MINUTE), policy)
    const third = await auto.handle(event('1003', base + 35 * MINUTE), policy)
    expect(second).toMatchObject({ outcome: 'grouped', incidentId: first.incidentId })
    // 25 minutes after the second message: still inside the sliding window.
    expect(third).toMatchObject({ outcome: 'grouped', incidentId: first.incidentId })
    const otherUrl = await auto.handle(
      event('1004', base + 36 * MINUTE, 'https://other.example/'),
      policy,
    )
    expect(otherUrl.outcome).toBe('opened')
    expect(otherUrl.incidentId).not.toBe(first.incidentId)
    const later = await auto.handle(event('1005', base + 120 * MINUTE), policy)
    expect(later.outcome).toBe('opened')
    expect(later.incidentId).not.toBe(first.incidentId)
    expect(
      await auto.handle({ ...event('1006', base), detection: 'blocked_user' }, policy),
    ).toEqual({ outcome: 'ignored' })

    const incident = await entities.get(alice, 'incident', first.incidentId!)
    expect(incident.doc).toMatchObject({
      status: 'New',
      severity: 'High',
      categories: ['Malicious Code'],
      title: 'Malicious URL in mail: https://evil.example/login',
    })
    expect(incident.owner).toBe('postern-hub')
    const casebook = await entities.get(alice, 'casebook', first.casebookId!)
    expect(casebook.doc.observables).toEqual(
      expect.arrayContaining([
        { type: 'url', value: 'https://evil.example/login' },
        { type: 'cisco_mid', value: '1001' },
        { type: 'cisco_mid', value: '1002' },
        { type: 'cisco_mid', value: '1003' },
        { type: 'email', value: 'boss@evil.example' },
      ]),
    )
    expect((casebook.doc.texts as unknown[]).length).toBe(3)
    expect(JSON.stringify(casebook.doc.texts)).toContain('Urgent \\\\[invoice\\\\](https://x)')
    // Another org's detections never join this org's campaign.
    const foreign = await auto.handle({ ...event('2001', base + MINUTE), orgId: 'org-b' }, policy)
    expect(foreign.outcome).toBe('opened')
  })
})
