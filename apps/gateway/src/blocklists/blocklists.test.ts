import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ManualClock } from '@postern/core'
import {
  BlocklistStore,
  Database,
  migrateToLatest,
  type BlocklistEntry,
  type ContentSchema,
} from '@postern/store'
import { BACKENDS, createTestDatabase, type TestDatabase } from '@postern/store/testing'
import { BlocklistService } from './blocklist-service.js'
import { BlocklistMatcher } from './matcher.js'
import { normaliseBlocklistValue } from './values.js'

describe('normaliseBlocklistValue', () => {
  it.each([
    ['sender_address', ' Billing@Evil.Example ', 'billing@evil.example'],
    ['sender_address', 'x@bücher.example', 'x@xn--bcher-kva.example'],
    ['sender_domain', '@Evil.Example.', 'evil.example'],
    ['sender_domain', 'hxxps://www.evil[.]example/login', 'www.evil.example'],
    ['url_domain', 'evil[.]example', 'evil.example'],
    ['url', 'hxxps://Evil[.]Example:443/a/../login', 'https://evil.example/login'],
    ['sender_ip', ' 192.0.2.15 ', '192.0.2.15'],
    ['sender_ip', '2001:DB8:0:0::1/64', '2001:db8::1/64'],
    ['attachment_hash', 'D41D8CD98F00B204E9800998ECF8427E', 'd41d8cd98f00b204e9800998ecf8427e'],
  ] as const)('%s %j → %s', (kind, value, expected) => {
    expect(normaliseBlocklistValue(kind, value)).toBe(expected)
  })

  it.each([
    ['sender_address', 'no-at-sign'],
    ['sender_domain', 'localhost'],
    ['url', 'javascript:alert(1)'],
    ['sender_ip', '300.1.1.1'],
    // Leading zeros read as octal by some tools and decimal by others: refused, not guessed.
    ['sender_ip', '192.000.002.015'],
    ['sender_ip', '10.0.0.0/33'],
    ['attachment_hash', 'abc123'],
  ] as const)('refuses %s %j with a coded error', (kind, value) => {
    expect(() => normaliseBlocklistValue(kind, value)).toThrow(
      expect.objectContaining({ code: 'GW_ERR_BLOCKLIST_VALUE_INVALID', status: 400 }),
    )
  })
})

describe('BlocklistMatcher', () => {
  let id = 0
  const entry = (kind: BlocklistEntry['kind'], value: string): BlocklistEntry => ({
    id: ++id,
    kind,
    value,
    source: 'cli',
    reason: 'test',
    createdBy: 'admin',
    createdAt: 0,
    expiresAt: null,
    externalRef: null,
  })
  const matcher = new BlocklistMatcher([
    entry('sender_domain', 'evil.example'),
    entry('sender_address', 'ceo@fraud.example'),
    entry('sender_ip', '198.51.100.0/24'),
    entry('sender_ip', '2001:db8::/32'),
    entry('url', 'https://drop.example/files/'),
    entry('url_domain', 'phish.example'),
    entry('attachment_hash', 'a'.repeat(64)),
  ])
  const subject = (over: Partial<Parameters<BlocklistMatcher['match']>[0]>) =>
    matcher
      .match({ senders: [], senderIp: null, urls: [], hashes: [], ...over })
      .map((h) => h.value)

  it.each([
    [{ senders: ['x@mail.evil.example'] }, ['evil.example']],
    [{ senders: ['x@notevil.example'] }, []],
    [{ senders: ['CEO@Fraud.Example'] }, ['ceo@fraud.example']],
    [{ senderIp: '::ffff:198.51.100.7' }, ['198.51.100.0/24']],
    [{ senderIp: '2001:db8:1::5' }, ['2001:db8::/32']],
    [{ senderIp: '203.0.113.1' }, []],
    [
      { urls: [{ url: 'https://drop.example/files/x.exe', host: 'drop.example' }] },
      ['https://drop.example/files/'],
    ],
    [{ urls: [{ url: 'https://drop.example/other', host: 'drop.example' }] }, []],
    [
      { urls: [{ url: 'https://a.b.phish.example/', host: 'a.b.phish.example' }] },
      ['phish.example'],
    ],
    [{ hashes: ['A'.repeat(64)] }, ['a'.repeat(64)]],
  ])('%j → %j', (over, hits) => {
    expect(subject(over)).toEqual(hits)
  })
})

describe.each(BACKENDS)('BlocklistService on %s', (dialect) => {
  let testDb: TestDatabase
  let database: Database<ContentSchema>
  const clock = new ManualClock(1_000_000)

  beforeAll(async () => {
    testDb = await createTestDatabase(dialect)
    database = await Database.open<ContentSchema>(testDb.target)
    await migrateToLatest(database, 'gateway')
  })
  afterAll(async () => {
    await database.close()
    await testDb.drop()
  })

  it('applies its own changes at once, another process’s at its next refresh, and expiry on time', async () => {
    const store = new BlocklistStore(database.db)
    const here = new BlocklistService(store, { refreshIntervalMs: 60_000, clock })
    const there = new BlocklistService(store, { refreshIntervalMs: 60_000, clock })
    await here.start()
    await there.start()
    try {
      const actor = { source: 'api' as const, id: 'admin' }
      await here.add(
        {
          kind: 'sender_domain',
          value: 'evil.example',
          reason: 'campaign',
          expiresAt: clock.now() + 1_000,
        },
        actor,
      )
      expect(here.matcher.matchEnvelope('a@evil.example', null)).toHaveLength(1)
      expect(there.matcher.matchEnvelope('a@evil.example', null)).toHaveLength(0)
      await there.refresh()
      expect(there.matcher.matchEnvelope('a@evil.example', null)).toHaveLength(1)

      // A change by `there` while `here` adds: `here` notices the foreign change and reloads.
      await there.add({ kind: 'sender_ip', value: '192.0.2.9', reason: 'scanner' }, actor)
      await here.add({ kind: 'url_domain', value: 'phish.example', reason: 'x' }, actor)
      expect(here.matcher.matchEnvelope('', '192.0.2.9')).toHaveLength(1)
      expect(here.matcher.size).toBe(3)

      await expect(
        here.add({ kind: 'sender_domain', value: 'EVIL.example', reason: 'again' }, actor),
      ).rejects.toMatchObject({ code: 'GW_ERR_BLOCKLIST_ENTRY_EXISTS', status: 409 })

      clock.advance(2_000)
      await here.refresh()
      expect(here.matcher.matchEnvelope('a@evil.example', null)).toHaveLength(0)
      expect((await here.list({})).entries.map((e) => e.value).sort()).toEqual([
        '192.0.2.9',
        'phish.example',
      ])

      const removed = await here.removeValue('url_domain', 'hxxp://phish[.]example', actor)
      expect(removed.value).toBe('phish.example')
      await expect(here.remove(removed.id, actor)).rejects.toMatchObject({
        code: 'GW_ERR_BLOCKLIST_ENTRY_NOT_FOUND',
      })
    } finally {
      here.stop()
      there.stop()
    }
  })
})
