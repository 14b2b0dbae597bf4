import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Database } from '../database.js'
import { migrateToLatest } from '../migrate.js'
import { BACKENDS, createTestDatabase, type TestDatabase } from '../testing.js'
import { BlocklistStore } from './blocklists.js'
import { ContentRecords, SenderHistoryStore } from './content-records.js'
import type { ContentSchema } from './content-schema.js'
import { QuarantineStore } from './quarantine.js'

describe.each(BACKENDS)('content pipeline storage on %s', (dialect) => {
  let testDb: TestDatabase
  let database: Database<ContentSchema>

  beforeAll(async () => {
    testDb = await createTestDatabase(dialect)
    database = await Database.open<ContentSchema>(testDb.target)
    await migrateToLatest(database, 'gateway')
  })
  afterAll(async () => {
    await database.close()
    await testDb.drop()
  })

  describe('QuarantineStore', () => {
    const item = (mid: number, quarantine: string, subject: string) => ({
      mid,
      quarantine,
      reason: 'rule virus matched',
      direction: 'incoming',
      envelopeSender: 'evil@bad.example',
      recipients: ['bob@example.net', 'carol@example.net'],
      subject,
      headerFrom: 'Evil <evil@bad.example>',
      createdAt: 1_000 + mid,
      expiresAt: 10_000 + mid,
      content: Buffer.from(`Subject: ${subject}\r\n\r\nbody \x00\xff bytes`, 'latin1'),
    })

    it('holds the original bytes once per (MID, quarantine)', async () => {
      const store = new QuarantineStore(database.db)
      const first = await store.hold(item(1, 'virus', 'Invoice 50% off_now'))
      const again = await store.hold(item(1, 'virus', 'Invoice 50% off_now'))
      expect(first.created).toBe(true)
      expect(again).toEqual({ id: first.id, created: false })
      expect((await store.content(first.id))?.toString('latin1')).toBe(
        'Subject: Invoice 50% off_now\r\n\r\nbody \x00\xff bytes',
      )
      expect(await store.get(first.id)).toMatchObject({
        mid: 1,
        status: 'held',
        recipients: ['bob@example.net', 'carol@example.net'],
        size: 45,
      })
    })

    it('searches by text with LIKE wildcards taken literally', async () => {
      const store = new QuarantineStore(database.db)
      await store.hold(item(2, 'spam', 'Invoice 500 offer'))
      await store.hold(item(3, 'spam', 'Cheap pills'))
      expect((await store.list({ search: '50%' })).items.map((i) => i.mid)).toEqual([1])
      expect((await store.list({ search: 'INVOICE' })).items.map((i) => i.mid)).toEqual([2, 1])
      expect((await store.list({ search: 'carol@' })).total).toBe(3)
      expect((await store.list({ quarantine: 'spam' })).items.map((i) => i.mid)).toEqual([3, 2])
      expect(await store.counts()).toEqual(
        expect.arrayContaining([
          { quarantine: 'spam', held: 2, bytes: expect.any(Number) },
          { quarantine: 'virus', held: 1, bytes: 45 },
        ]),
      )
    })

    it('resolves a held item once; deletion drops the bytes, release keeps them', async () => {
      const store = new QuarantineStore(database.db)
      const { id: deleted } = await store.hold(item(4, 'policy', 'to delete'))
      const { id: released } = await store.hold(item(5, 'policy', 'to release'))
      expect(await store.resolve(deleted, 'deleted', 'admin', 50)).toBe(true)
      expect(await store.resolve(deleted, 'released', 'admin', 51)).toBe(false)
      expect(await store.content(deleted)).toBeUndefined()
      expect(await store.resolve(released, 'released', 'admin', 52)).toBe(true)
      expect((await store.unfinishedReleases(10)).map((i) => i.id)).toEqual([released])
      await store.dropContent(released)
      expect(await store.unfinishedReleases(10)).toEqual([])
      expect(await store.get(released)).toMatchObject({
        status: 'released',
        resolvedAt: 52,
        resolvedBy: 'admin',
      })
    })

    it('lists held items past their retention, oldest first', async () => {
      const store = new QuarantineStore(database.db)
      const expired = await store.expired(10_003, 10)
      expect(expired.map((i) => i.mid)).toEqual([1, 2, 3])
    })

    it('stores NULs from hostile headers as U+FFFD (PostgreSQL text cannot hold them)', async () => {
      const store = new QuarantineStore(database.db)
      const { id } = await store.hold({ ...item(99, 'malformed', 'a\0b'), headerFrom: 'x\0@y' })
      expect(await store.get(id)).toMatchObject({ subject: 'a\uFFFDb', headerFrom: 'x\uFFFD@y' })
      await store.resolve(id, 'deleted', 'test', 1)
    })
  })

  describe('BlocklistStore', () => {
    it('adds, finds, lists, expires and removes entries, bumping the revision', async () => {
      const store = new BlocklistStore(database.db)
      const before = await store.revision('blocklists')
      const entry = await store.add({
        kind: 'sender_domain',
        value: 'bad.example',
        source: 'cli',
        reason: 'phishing campaign',
        createdBy: 'admin',
        createdAt: 100,
        expiresAt: null,
      })
      expect(entry).toMatchObject({
        id: expect.any(Number),
        kind: 'sender_domain',
        externalRef: null,
      })
      expect(
        await store.add({
          kind: 'sender_domain',
          value: 'bad.example',
          source: 'api',
          reason: 'again',
          createdBy: 'x',
          createdAt: 101,
          expiresAt: null,
        }),
      ).toBeUndefined()
      await store.add({
        kind: 'url',
        value: 'https://evil.example/login',
        source: 'hub',
        reason: 'casebook 7',
        createdBy: 'analyst@hub',
        createdAt: 102,
        expiresAt: 200,
        externalRef: 'action-1',
      })
      expect(await store.revision('blocklists')).toBe(before + 2)
      expect((await store.active(150)).map((e) => e.value).sort()).toEqual([
        'bad.example',
        'https://evil.example/login',
      ])
      expect((await store.active(250)).map((e) => e.value)).toEqual(['bad.example'])
      expect((await store.list({ now: 250 })).total).toBe(1)
      expect((await store.list({ now: 250, includeExpired: true })).total).toBe(2)
      expect((await store.list({ search: 'EVIL', includeExpired: true })).entries[0]?.source).toBe(
        'hub',
      )
      expect((await store.purgeExpired(250)).map((e) => e.value)).toEqual([
        'https://evil.example/login',
      ])
      expect(await store.remove(entry?.id ?? 0)).toMatchObject({ value: 'bad.example' })
      expect(await store.remove(entry?.id ?? 0)).toBeUndefined()
      expect(await store.revision('blocklists')).toBe(before + 4)
    })

    it('blocks and unblocks senders idempotently', async () => {
      const store = new BlocklistStore(database.db)
      const sender = {
        address: 'alice@example.net',
        reason: 'outgoing spam',
        source: 'policy',
        createdBy: 'policy:outgoing/default',
        createdAt: 10,
        mid: 42,
      }
      expect((await store.blockSender(sender)).created).toBe(true)
      expect(await store.blockSender({ ...sender, reason: 'again' })).toMatchObject({
        created: false,
        sender: { reason: 'outgoing spam', mid: 42 },
      })
      expect((await store.blockedSenders()).map((s) => s.address)).toEqual(['alice@example.net'])
      expect(await store.unblockSender('alice@example.net')).toMatchObject({ mid: 42 })
      expect(await store.blockedSender('alice@example.net')).toBeUndefined()
      expect(await store.revision('blocked_senders')).toBe(2)
    })
  })

  describe('SenderHistoryStore and ContentRecords', () => {
    it('keeps the first sighting of a domain and counts messages', async () => {
      const store = new SenderHistoryStore(database.db)
      expect(await store.earliestSighting()).toBeUndefined()
      await store.recordDomains([{ domain: 'new.example', at: 500, messages: 2 }])
      await store.recordDomains([{ domain: 'new.example', at: 900, messages: 3 }])
      expect(await store.firstSeen('new.example')).toBe(500)
      expect(await store.firstSeen('other.example')).toBeUndefined()
      expect(await store.earliestSighting()).toBe(500)
      await store.recordInternalSenders([
        { address: 'ceo@example.net', displayName: 'Jane Doe', nameKey: 'jane doe', at: 1 },
      ])
      await store.recordInternalSenders([
        { address: 'ceo@example.net', displayName: 'Jane Q. Doe', nameKey: 'jane q doe', at: 2 },
      ])
      expect(await store.internalSenders()).toEqual([
        { address: 'ceo@example.net', displayName: 'Jane Q. Doe', nameKey: 'jane q doe', at: 2 },
      ])
    })

    it('reads analysis, URLs and attachments back', async () => {
      await database.db
        .insertInto('message_analysis')
        .values({
          mid: 9,
          at: 1,
          direction: 'incoming',
          verdicts: 'spam,blocked',
          spam: 1,
          virus: 0,
          malformed: 0,
          blocked: 1,
          phish: 0,
          auth_failed: 0,
          quarantined: 0,
          spf: 'pass',
          dkim: 'none',
          dmarc: 'fail',
          policy: 'default',
          summary: JSON.stringify({ defects: [] }),
        })
        .execute()
      await database.db
        .insertInto('message_urls')
        .values({
          mid: 9,
          idx: 0,
          url: 'https://x.example/',
          host: 'x.example',
          domain: 'x.example',
          sources: 'text,html-href',
          received_at: 1,
        })
        .execute()
      const records = new ContentRecords(database.db)
      await records.setQuarantined(9, true)
      expect(await records.analysis(9)).toMatchObject({
        verdicts: ['spam', 'blocked'],
        flags: { spam: true, blocked: true, quarantined: true, virus: false },
        summary: { defects: [] },
      })
      expect(await records.urls(9)).toEqual([
        {
          url: 'https://x.example/',
          host: 'x.example',
          domain: 'x.example',
          sources: ['text', 'html-href'],
        },
      ])
      expect(await records.attachments(9)).toEqual([])
    })
  })
})
