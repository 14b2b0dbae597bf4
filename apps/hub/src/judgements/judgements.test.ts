import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ManualClock } from '@postern/core'
import {
  AuditLog,
  CtiaEntityStore,
  Database,
  migrateToLatest,
  type CtiaEntity,
  type HubSchema,
} from '@postern/store'
import { BACKENDS, createTestDatabase, type TestDatabase } from '@postern/store/testing'
import type { Caller } from '../casebooks/caller.js'
import { CtiaEntityService } from '../casebooks/ctia-entity-service.js'
import { JudgementService } from './judgement-service.js'
import { pickVerdictJudgement } from './verdicts.js'

const alice: Caller = { kind: 'user', orgId: 'org-a', userId: 'alice', clientId: null }
const DAY = 86_400_000
const idOf = (e: CtiaEntity) => `https://hub.example:443/ctia/judgement/${e.id}`

describe('pickVerdictJudgement', () => {
  const j = (id: string, priority: number, disposition: number, created: number) =>
    ({ id, created, doc: { priority, disposition } }) as unknown as CtiaEntity
  it.each([
    ['highest priority wins', [j('a', 90, 2, 1), j('b', 95, 1, 0)], 'b'],
    ['Clean wins a priority tie', [j('a', 90, 2, 5), j('b', 90, 1, 0)], 'b'],
    ['then the newest', [j('a', 90, 2, 1), j('b', 90, 2, 7)], 'b'],
  ])('%s', (_name, judgements, winner) => {
    expect(pickVerdictJudgement(judgements)?.id).toBe(winner)
  })
})

describe.each(BACKENDS)('judgements on %s', (dialect) => {
  let testDb: TestDatabase
  let database: Database<HubSchema>
  let judgements: JudgementService
  const clock = new ManualClock(Date.UTC(2026, 5, 1))

  beforeAll(async () => {
    testDb = await createTestDatabase(dialect)
    database = await Database.open<HubSchema>(testDb.target)
    await migrateToLatest(database, 'hub')
    const audit = new AuditLog(database.db, clock)
    judgements = new JudgementService(
      new CtiaEntityService({ store: new CtiaEntityStore(database), audit, clock }),
    )
  })
  afterAll(async () => {
    await database.close()
    await testDb.drop()
  })

  it('answers deliberate with verdicts from active judgements, honouring expiry', async () => {
    const malicious = await judgements.create(alice, {
      observable: { type: 'domain', value: 'Evil.Example' },
      disposition: 2,
      disposition_name: 'Malicious',
      priority: 95,
      confidence: 'High',
      severity: 'High',
      source: 'analyst',
      reason: 'Phishing kit',
      valid_time: { end_time: new Date(clock.now() + 7 * DAY).toISOString() },
    })
    expect(malicious.doc.valid_time).toEqual({
      start_time: '2026-06-01T00:00:00.000Z',
      end_time: '2026-06-08T00:00:00.000Z',
    })
    const answer = await judgements.deliberate(
      'org-a',
      [
        { type: 'domain', value: 'evil.example' },
        { type: 'domain', value: 'fine.example' },
      ],
      idOf,
    )
    expect(answer.verdicts).toEqual({
      count: 1,
      docs: [
        {
          type: 'verdict',
          disposition: 2,
          disposition_name: 'Malicious',
          observable: { type: 'domain', value: 'evil.example' },
          valid_time: malicious.doc.valid_time,
          judgement_id: idOf(malicious),
        },
      ],
    })
    expect(answer.judgements.count).toBe(1)
    expect(
      (await judgements.deliberate('org-b', [{ type: 'domain', value: 'evil.example' }], idOf))
        .verdicts.count,
    ).toBe(0)
    clock.advance(8 * DAY)
    expect(
      (await judgements.deliberate('org-a', [{ type: 'domain', value: 'evil.example' }], idOf))
        .verdicts.count,
    ).toBe(0)
  })
})
