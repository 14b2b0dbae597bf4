import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Database } from '../database.js'
import { migrateToLatest } from '../migrate.js'
import { BACKENDS, createTestDatabase, type TestDatabase } from '../testing.js'
import type { HubSchema } from './schema.js'
import { CtiaEntityStore } from './ctia-entities.js'
import { ActiveCaseStore } from './active-cases.js'
import { IncidentStore } from './incidents.js'
import { WatchStore } from './watches.js'

const T0 = Date.UTC(2026, 0, 1)

describe.each(BACKENDS)('incident, active case and watch stores on %s', (dialect) => {
  let testDb: TestDatabase
  let database: Database<HubSchema>
  let entities: CtiaEntityStore

  beforeAll(async () => {
    testDb = await createTestDatabase(dialect)
    database = await Database.open<HubSchema>(testDb.target)
    await migrateToLatest(database, 'hub')
    entities = new CtiaEntityStore(database)
    for (const [id, type, orgId] of [
      ['casebook-1', 'casebook', 'org-a'],
      ['casebook-2', 'casebook', 'org-b'],
      ['incident-1', 'incident', 'org-a'],
      ['incident-2', 'incident', 'org-a'],
    ] as const) {
      await entities.insert({
        id,
        orgId,
        entityType: type,
        owner: 'u1',
        groups: [orgId],
        at: T0,
        doc: { status: 'New' },
      })
    }
  })
  afterAll(async () => {
    await database.close()
    await testDb.drop()
  })

  it('keeps an incident status history per org', async () => {
    const incidents = new IncidentStore(database.db)
    await incidents.recordStatus('org-a', 'incident-1', {
      status: 'New',
      previousStatus: null,
      at: T0,
      actor: 'u1',
    })
    await incidents.recordStatus('org-a', 'incident-1', {
      status: 'Open: Investigating',
      previousStatus: 'New',
      at: T0 + 10,
      actor: 'u2',
    })
    expect((await incidents.statusHistory('org-a', 'incident-1')).map((c) => c.status)).toEqual([
      'New',
      'Open: Investigating',
    ])
    expect(await incidents.statusHistory('org-b', 'incident-1')).toEqual([])
  })

  it('groups detections into a campaign while its window is open', async () => {
    const incidents = new IncidentStore(database.db)
    const key = { type: 'url', value: 'https://evil.example/login' }
    expect(await incidents.openCampaign('org-a', 'malicious_url', key, T0)).toBeUndefined()
    const claim = (incidentId: string, at: number) =>
      incidents.claimCampaign(
        {
          orgId: 'org-a',
          detection: 'malicious_url',
          keyType: key.type,
          keyValue: key.value,
          incidentId,
          firstSeen: at,
        },
        at - 5 * 60_000,
      )
    expect(await claim('incident-1', T0)).toBe(true)
    expect(await claim('incident-2', T0 + 1000)).toBe(false)
    await incidents.touchCampaign('org-a', 'malicious_url', key, T0 + 60_000)
    expect(await incidents.openCampaign('org-a', 'malicious_url', key, T0)).toMatchObject({
      incidentId: 'incident-1',
      events: 2,
      lastSeen: T0 + 60_000,
    })
    expect(await incidents.openCampaign('org-a', 'malicious_url', key, T0 + 60_001)).toBe(undefined)
    expect(await incidents.openCampaign('org-b', 'malicious_url', key, T0)).toBeUndefined()
    expect(await claim('incident-2', T0 + 10 * 60_000)).toBe(true)
    expect(await incidents.openCampaign('org-a', 'malicious_url', key, T0)).toMatchObject({
      incidentId: 'incident-2',
      events: 1,
    })
  })

  it('keeps one auto-incident policy per org', async () => {
    const incidents = new IncidentStore(database.db)
    expect(await incidents.autoPolicy('org-a')).toBeUndefined()
    const policy = { detections: ['virus'], windowMs: 600_000, updatedAt: T0, updatedBy: 'u1' }
    await incidents.setAutoPolicy('org-a', policy)
    await incidents.setAutoPolicy('org-a', { ...policy, detections: ['virus', 'malicious_url'] })
    expect(await incidents.autoPolicy('org-a')).toEqual({
      ...policy,
      detections: ['virus', 'malicious_url'],
    })
    expect(await incidents.autoPolicy('org-b')).toBeUndefined()
  })

  it('remembers one active case per user and only within the org', async () => {
    const cases = new ActiveCaseStore(database.db)
    expect(await cases.get('org-a', 'u1')).toBeUndefined()
    await cases.set('org-a', 'u1', 'casebook-1', T0)
    expect(await cases.get('org-a', 'u1')).toEqual({ casebookId: 'casebook-1', setAt: T0 })
    expect(await cases.get('org-b', 'u1')).toBeUndefined()
    // A row naming another org's casebook is never returned.
    await cases.set('org-a', 'u9', 'casebook-2', T0)
    expect(await cases.get('org-a', 'u9')).toBeUndefined()
    expect(await cases.clear('org-a', 'u1')).toBe(true)
    expect(await cases.get('org-a', 'u1')).toBeUndefined()
  })

  it('watches observables, matches them case-insensitively and records sightings once', async () => {
    const watches = new WatchStore(database.db)
    const watch = await watches.create({
      id: 'w1',
      orgId: 'org-a',
      observable: { type: 'domain', value: 'Evil.Example' },
      createdBy: 'u1',
      notify: { webhook: 'https://hooks.example/w' },
      incidentMode: 'open',
      at: T0,
    })
    expect(watch).toMatchObject({
      observable: { type: 'domain', value: 'evil.example' },
      notify: { console: true, webhook: 'https://hooks.example/w', email: null },
      incidentMode: 'open',
      active: true,
    })
    expect(
      await watches.create({
        id: 'w2',
        orgId: 'org-a',
        observable: { type: 'domain', value: 'EVIL.example' },
        createdBy: 'u2',
        at: T0,
      }),
    ).toBeUndefined()
    expect(
      (await watches.matching('org-a', [{ type: 'domain', value: 'evil.EXAMPLE' }])).map(
        (w) => w.id,
      ),
    ).toEqual(['w1'])
    expect(await watches.matching('org-b', [{ type: 'domain', value: 'evil.example' }])).toEqual([])

    const sighting = {
      watchId: 'w1',
      observedAt: T0 + 100,
      recordedAt: T0 + 120,
      deviceId: 'gw-1',
      messageRef: '1234',
      messageId: '<m1@example>',
      details: { subject: 'Invoice' },
    }
    expect(await watches.recordSighting('org-a', sighting)).toBe(true)
    expect(await watches.recordSighting('org-a', sighting)).toBe(false)
    expect(await watches.get('org-a', 'w1')).toMatchObject({
      sightingCount: 1,
      lastSightingAt: T0 + 100,
    })
    expect(await watches.sightings('org-a', 'w1')).toMatchObject([
      { deviceId: 'gw-1', messageRef: '1234', details: { subject: 'Invoice' } },
    ])
    expect(await watches.sightings('org-b', 'w1')).toEqual([])

    const paused = await watches.update('org-a', 'w1', { active: false, note: 'paused' }, T0 + 5)
    expect(paused).toMatchObject({ active: false, note: 'paused', modified: T0 + 5 })
    expect(await watches.matching('org-a', [{ type: 'domain', value: 'evil.example' }])).toEqual([])
    expect((await watches.list('org-a')).total).toBe(1)
    expect(await watches.delete('org-b', 'w1')).toBe(false)
    expect(await watches.delete('org-a', 'w1')).toBe(true)
    expect(await watches.sightings('org-a', 'w1')).toEqual([])
  })
})
