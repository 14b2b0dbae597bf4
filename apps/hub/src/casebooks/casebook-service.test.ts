import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ManualClock } from '@postern/core'
import {
  ActiveCaseStore,
  AuditLog,
  CtiaEntityStore,
  Database,
  migrateToLatest,
  type HubSchema,
} from '@postern/store'
import { BACKENDS, createTestDatabase, type TestDatabase } from '@postern/store/testing'
import type { Caller } from './caller.js'
import { CasebookService } from './casebook-service.js'
import { CTIM_SCHEMA_VERSION, CtiaEntityService } from './ctia-entity-service.js'
import { toCtiaSearch } from './search/search-request.js'

const alice: Caller = { kind: 'user', orgId: 'org-a', userId: 'alice', clientId: null }
const bot: Caller = { kind: 'client', orgId: 'org-a', userId: null, clientId: 'client-bot' }
const mallory: Caller = { kind: 'user', orgId: 'org-b', userId: 'mallory', clientId: null }

describe.each(BACKENDS)('casebook services on %s', (dialect) => {
  let testDb: TestDatabase
  let database: Database<HubSchema>
  let entities: CtiaEntityService
  let casebooks: CasebookService
  let audit: AuditLog
  const clock = new ManualClock(Date.UTC(2026, 5, 1, 9, 30))

  beforeAll(async () => {
    testDb = await createTestDatabase(dialect)
    database = await Database.open<HubSchema>(testDb.target)
    await migrateToLatest(database, 'hub')
    audit = new AuditLog(database.db, clock)
    entities = new CtiaEntityService({ store: new CtiaEntityStore(database), audit, clock })
    casebooks = new CasebookService({
      entities,
      activeCases: new ActiveCaseStore(database.db),
      audit,
    })
  })
  afterAll(async () => {
    await database.close()
    await testDb.drop()
  })

  it('creates with server-owned fields, and keeps other orgs out', async () => {
    const created = await entities.create(bot, 'casebook', {
      title: 'Invoice phish',
      observables: [{ type: 'domain', value: 'evil.example' }],
      owner: 'forged',
      id: 'casebook-forged',
      created: '2000-01-01T00:00:00Z',
      schema_version: '1.0.9',
    })
    expect(created.id).toMatch(/^casebook-[0-9a-f-]{36}$/)
    expect(created).toMatchObject({
      owner: 'client-bot',
      clientId: 'client-bot',
      groups: ['org-a'],
    })
    expect(created.doc).toEqual({
      title: 'Invoice phish',
      observables: [{ type: 'domain', value: 'evil.example' }],
      type: 'casebook',
      schema_version: CTIM_SCHEMA_VERSION,
    })
    await expect(entities.get(mallory, 'casebook', created.id)).rejects.toMatchObject({
      code: 'HUB_PI_ERR_ENTITY_NOT_FOUND',
      status: 404,
    })
    await expect(
      entities.replace(mallory, 'casebook', created.id, { title: 'pwned' }),
    ).rejects.toMatchObject({ code: 'HUB_PI_ERR_ENTITY_NOT_FOUND' })
    await expect(entities.delete(mallory, 'casebook', created.id)).rejects.toMatchObject({
      code: 'HUB_PI_ERR_ENTITY_NOT_FOUND',
    })
    expect((await entities.get(alice, 'casebook', created.id)).doc.title).toBe('Invoice phish')
  })

  it('replaces, patches and applies operations as CTIA does, auditing each change', async () => {
    const { id } = await entities.create(alice, 'casebook', {
      title: 'Round trip',
      observables: [{ type: 'ip', value: '192.0.2.7' }],
      external_ids: ['3'],
    })
    clock.advance(1000)
    // The official client's test: texts "remove" on a casebook without texts sets them.
    const texts = [{ type: 'test type', text: 'test text' }]
    const removed = await casebooks.operate(alice, id, 'texts', 'remove', texts)
    expect(removed.doc.texts).toEqual(texts)
    expect(removed.modified).toBe(clock.now())

    const added = await casebooks.operate(alice, id, 'observables', 'add', [
      { type: 'ip', value: '192.0.2.7' },
      { type: 'domain', value: 'evil.example' },
    ])
    expect(added.doc.observables).toEqual([
      { type: 'ip', value: '192.0.2.7' },
      { type: 'domain', value: 'evil.example' },
    ])

    const replaced = await entities.replace(alice, 'casebook', id, {
      short_description: 'Updated description',
    })
    expect(replaced.doc).toEqual({
      short_description: 'Updated description',
      type: 'casebook',
      schema_version: CTIM_SCHEMA_VERSION,
    })

    const patched = await entities.patch(
      alice,
      'casebook',
      id,
      { title: 'Patched', observables: [], owner: 'forged' },
      'replace',
    )
    expect(patched.doc).toMatchObject({
      title: 'Patched',
      short_description: 'Updated description',
      observables: [],
    })
    expect(patched.owner).toBe('alice')

    const bundled = await casebooks.operate(alice, id, 'bundle', 'add', {
      type: 'bundle',
      source: 'test',
      sightings: [{ id: 'transient:sighting-1', count: 1 }],
    })
    expect(bundled.doc.bundle).toEqual({
      type: 'bundle',
      source: 'test',
      sightings: [{ id: 'transient:sighting-1', count: 1 }],
    })

    const log = await audit.list({ orgId: 'org-a' })
    expect(
      log.entries
        .filter((e) => e.target?.id === id)
        .map((e) => e.action)
        .reverse(),
    ).toEqual([
      'casebook.create',
      'casebook.texts.remove',
      'casebook.observables.add',
      'casebook.update',
      'casebook.patch',
      'casebook.bundle.add',
    ])
    await entities.delete(alice, 'casebook', id)
    await expect(entities.get(alice, 'casebook', id)).rejects.toMatchObject({ status: 404 })
  })

  it('searches by full id URL or wildcard short id, and reports bad queries as coded errors', async () => {
    const { id } = await entities.create(alice, 'casebook', { title: 'Findable' })
    const byUrl = await entities.search(
      alice,
      'casebook',
      toCtiaSearch({ query: `id:"https://hub.example:443/ctia/casebook/${id}"` }),
    )
    expect(byUrl.hits.map((h) => h.id)).toEqual([id])
    const byWildcard = await entities.search(
      alice,
      'casebook',
      toCtiaSearch({ query: `id:*${id}` }),
    )
    expect(byWildcard.hits.map((h) => h.id)).toEqual([id])
    expect(
      (await entities.search(mallory, 'casebook', toCtiaSearch({ query: `id:*${id}` }))).total,
    ).toBe(0)
    await expect(
      entities.search(alice, 'casebook', toCtiaSearch({ query: 'colour:red' })),
    ).rejects.toMatchObject({ code: 'HUB_PI_ERR_INVALID_QUERY', status: 400 })
    await expect(
      entities.search(alice, 'casebook', toCtiaSearch({ sort_by: 'description' })),
    ).rejects.toMatchObject({ code: 'HUB_PI_ERR_INVALID_QUERY' })
  })

  it('adds to the active case, creating one when there is none', async () => {
    expect(await casebooks.activeCase(alice)).toBeUndefined()
    const first = await casebooks.addToActiveCase(alice, [
      { type: 'email', value: 'boss@evil.example' },
    ])
    expect(first.created).toBe(true)
    expect(first.casebook.doc).toMatchObject({
      title: 'Case 2026-06-01 09:30 UTC',
      observables: [{ type: 'email', value: 'boss@evil.example' }],
    })
    expect((await casebooks.activeCase(alice))?.id).toBe(first.casebook.id)

    const second = await casebooks.addToActiveCase(alice, [
      { type: 'domain', value: 'evil.example' },
    ])
    expect(second).toMatchObject({ created: false, casebook: { id: first.casebook.id } })
    expect(second.casebook.doc.observables).toHaveLength(2)

    const other = await entities.create(alice, 'casebook', { title: 'Other' })
    await casebooks.setActiveCase(alice, other.id)
    expect((await casebooks.activeCase(alice))?.id).toBe(other.id)
    await expect(casebooks.setActiveCase(mallory, other.id)).rejects.toMatchObject({ status: 404 })
    await entities.delete(alice, 'casebook', other.id)
    expect(await casebooks.activeCase(alice)).toBeUndefined()

    await expect(casebooks.addToActiveCase(bot, [])).rejects.toMatchObject({
      code: 'HUB_PI_ERR_ACTIVE_CASE_NEEDS_USER',
    })
  })
})
