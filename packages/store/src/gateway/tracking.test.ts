import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Database } from '../database.js'
import { migrateToLatest } from '../migrate.js'
import { BACKENDS, createTestDatabase, type TestDatabase } from '../testing.js'
import { ApiAccountStore } from './api-accounts.js'
import type { GatewaySchema } from './schema.js'
import {
  emptyBatch,
  nodeIdRange,
  observableKey,
  TrackingStore,
  type NewMessage,
} from './tracking.js'

function message(mid: number, overrides: Partial<NewMessage> = {}): NewMessage {
  return {
    mid,
    icid: 100 + mid,
    receivedAt: 1_000 + mid,
    listener: 'inbound',
    senderGroup: 'UNKNOWN',
    hatPolicy: 'ACCEPTED',
    direction: 'incoming',
    senderIp: '192.0.2.7',
    senderRdns: 'mx.sender.example',
    helo: 'mx.sender.example',
    tls: null,
    authUser: null,
    envelopeSender: 'Alice@Sender.Example',
    messageId: `<m${mid}@sender.example>`,
    subject: `Hello ${mid}`,
    headerFrom: 'Alice <alice@sender.example>',
    headerTo: 'bob@corp.example',
    headerReplyTo: null,
    size: 5120,
    status: 'queued',
    reply: null,
    recipients: [
      { address: 'bob@corp.example', status: 'queued' },
      { address: 'carol@corp.example', status: 'queued' },
    ],
    ...overrides,
  }
}

describe.each(BACKENDS)('gateway tracking store on %s', (dialect) => {
  let testDb: TestDatabase
  let database: Database<GatewaySchema>
  let store: TrackingStore

  beforeAll(async () => {
    testDb = await createTestDatabase(dialect)
    database = await Database.open<GatewaySchema>(testDb.target)
    await migrateToLatest(database, 'gateway')
    store = new TrackingStore(database.db, database.dialect)
  })
  afterAll(async () => {
    await database.close()
    await testDb.drop()
  })

  it('writes a batch of messages, recipients, events and observables in one go', async () => {
    const batch = emptyBatch()
    batch.messages.push(message(1), message(2, { envelopeSender: '', status: 'rejected' }))
    batch.events.push(
      { at: 990, icid: 101, event: 'CONNECTION', details: { ip: '192.0.2.7' } },
      { at: 1_001, mid: 1, icid: 101, event: 'MAIL_FROM', details: { from: 'alice' } },
      { at: 1_002, mid: 1, icid: 101, event: 'QUEUED' },
    )
    batch.observables.push(
      { type: 'email', value: 'Alice@Sender.Example', mid: 1, at: 1_001 },
      { type: 'email', value: 'alice@sender.example', mid: 1, at: 1_001 },
      { type: 'domain', value: 'sender.example', mid: 1, at: 1_001 },
      { type: 'email_subject', value: 'x'.repeat(5_000), mid: 1, at: 1_001 },
    )
    await store.writeBatch(batch)

    const stored = await store.getMessage(1)
    expect(stored).toMatchObject({
      mid: 1,
      icid: 101,
      senderDomain: 'sender.example',
      recipientCount: 2,
      status: 'queued',
    })
    expect(stored?.recipients.map((r) => [r.address, r.domain, r.status])).toEqual([
      ['bob@corp.example', 'corp.example', 'queued'],
      ['carol@corp.example', 'corp.example', 'queued'],
    ])
    expect((await store.getMessage(2))?.senderDomain).toBeNull()
    expect((await store.listEvents(1)).map((e) => e.event)).toEqual([
      'CONNECTION',
      'MAIL_FROM',
      'QUEUED',
    ])
    expect(await store.findByObservable('email', 'ALICE@sender.example')).toEqual([1])
    expect(await store.findByObservable('email_subject', 'x'.repeat(5_000))).toEqual([1])
    expect(observableKey('x'.repeat(5_000)).length).toBeLessThan(250)
    expect(await store.highestIds()).toEqual({ mid: 2, icid: 102, dcid: 0 })
  })

  it('applies grouped status updates and is idempotent for re-inserted messages', async () => {
    const batch = emptyBatch()
    batch.messages.push(message(1, { subject: 'changed' }))
    batch.messageUpdates.push({ mid: 1, status: 'completed', at: 5_000 })
    batch.recipientUpdates.push(
      { mid: 1, index: 0, status: 'delivered', at: 5_000, lastReply: '250 ok', attempts: 1 },
      { mid: 1, index: 1, status: 'bounced', at: 5_000, lastReply: '550 no', attempts: 2 },
    )
    batch.events.push({ at: 5_000, mid: 1, dcid: 7, event: 'DELIVERED', recipient: 'bob' })
    await store.writeBatch(batch)
    const stored = await store.getMessage(1)
    expect(stored?.subject).toBe('Hello 1')
    expect(stored?.status).toBe('completed')
    expect(stored?.updatedAt).toBe(5_000)
    expect(stored?.recipients.map((r) => [r.status, r.lastReply, r.attempts])).toEqual([
      ['delivered', '250 ok', 1],
      ['bounced', '550 no', 2],
    ])
    expect((await store.highestIds()).dcid).toBe(7)
    expect((await store.listMessages({ limit: 10 })).map((m) => m.mid)).toEqual([2, 1])
  })

  it('keeps the highest ids of each cluster node apart', async () => {
    const node3 = nodeIdRange(3)
    const batch = emptyBatch()
    batch.messages.push(message(node3.from + 5, { icid: node3.from + 9 }))
    batch.events.push({ at: 6_000, mid: node3.from + 5, dcid: node3.from + 2, event: 'DELIVERED' })
    await store.writeBatch(batch)
    expect(await store.highestIds(node3)).toEqual({
      mid: node3.from + 5,
      icid: node3.from + 9,
      dcid: node3.from + 2,
    })
    const node0 = await store.highestIds(nodeIdRange(0))
    expect(node0.mid).toBeLessThan(node3.from)
    expect(node0.icid).toBeLessThan(node3.from)
    expect(await store.highestIds(nodeIdRange(4))).toEqual({ mid: 0, icid: 0, dcid: 0 })
  })

  it('purges messages past retention with their rows, by batch, keeping the newest of the node', async () => {
    const node7 = nodeIdRange(7)
    const mids = [1, 2, 3, 4, 5].map((n) => node7.from + n)
    const batch = emptyBatch()
    mids.forEach((mid, i) => {
      batch.messages.push(message(mid, { icid: mid, receivedAt: 10_000 * (i + 1) }))
      batch.events.push({ at: 10_000 * (i + 1), mid, event: 'QUEUED' })
      batch.observables.push({ type: 'domain', value: `purge-${i}.example`, mid, at: 1 })
    })
    batch.extra.push({
      table: 'message_urls',
      rows: mids.map((mid, i) => ({
        mid,
        idx: 0,
        url: 'https://purge.example/',
        host: 'purge.example',
        domain: 'purge.example',
        sources: 'text',
        received_at: 10_000 * (i + 1),
      })),
    })
    await store.writeBatch(batch)

    // Everything is older than the cutoff: batches of two, then the newest stays.
    expect(await store.purgeBefore(1_000_000, 2, node7)).toBe(2)
    expect(await store.purgeBefore(1_000_000, 2, node7)).toBe(2)
    expect(await store.purgeBefore(1_000_000, 2, node7)).toBe(0)
    for (const mid of mids.slice(0, 4)) {
      expect(await store.getMessage(mid)).toBeUndefined()
      expect(await store.listEvents(mid)).toEqual([])
      expect(await store.listObservables(mid)).toEqual([])
    }
    expect(await store.getMessage(mids[4] as number)).toMatchObject({ recipientCount: 2 })
    expect(await store.findByObservable('domain', 'purge-0.example')).toEqual([])
    const urls = await database.db
      .selectFrom('message_urls')
      .select('mid')
      .where('domain', '=', 'purge.example')
      .execute()
    expect(urls.map((u) => Number(u.mid))).toEqual([mids[4]])
    expect((await store.highestIds(node7)).mid).toBe(mids[4])
    // Other nodes' messages are theirs to purge.
    expect(await store.getMessage(1)).toBeDefined()
  })

  it('writes nothing of a batch that fails', async () => {
    const batch = emptyBatch()
    batch.messages.push(message(3))
    batch.extra.push({ table: 'no_such_table', rows: [{ a: 1 }] })
    await expect(store.writeBatch(batch)).rejects.toThrow()
    expect(await store.getMessage(3)).toBeUndefined()
  })

  it('stores batches of any size and any text exactly as given', async () => {
    // 333 messages: more rows than one statement of the writer's largest shape, and a count
    // that needs every smaller one; texts that SQL, array literals or JSON could mangle.
    const node9 = nodeIdRange(9)
    const texts = ["it's", 'a "quoted" {brace}, comma', 'back\\slash\\', 'NULL', '', 'ünï 📨']
    const text = (n: number) => texts[n % texts.length] as string
    const mids = Array.from({ length: 333 }, (_, i) => node9.from + i + 1)
    const batch = emptyBatch()
    for (const [i, mid] of mids.entries()) {
      batch.messages.push(
        message(mid, {
          icid: mid,
          subject: text(i),
          senderRdns: i % 2 === 0 ? null : text(i + 1),
          reply: i % 3 === 0 ? null : `550 ${text(i)}`,
          recipients: [{ address: `r${i}@corp.example`, status: 'queued', lastReply: text(i + 2) }],
        }),
      )
      for (const step of [0, 1, 2]) {
        batch.events.push({
          at: 20_000 + step,
          mid,
          icid: mid,
          event: `STEP_${step}`,
          recipient: step === 2 ? text(i) : null,
          details: { text: text(i + step), n: [i, null] },
        })
      }
      batch.observables.push({
        type: 'email_subject',
        value: `subject ${text(i)} ${i}`,
        mid,
        at: 1,
      })
    }
    // Rows of the first message's attachments (message() received it at 1 000 + MID).
    const firstRow = { mid: mids[0], received_at: 1_000 + (mids[0] as number) }
    batch.extra.push({
      table: 'message_attachments',
      rows: [
        { ...firstRow, idx: 0, part: '1', filename: text(1), size: 5, encrypted: 1, macros: 1 },
        // A column left undefined: such rows are written by the query builder, as before.
        { ...firstRow, idx: 1, part: '2', filename: undefined, size: 6, encrypted: 0, macros: 0 },
      ],
    })
    await store.writeBatch(batch)

    for (const [i, mid] of mids.entries()) {
      const stored = await store.getMessage(mid)
      expect(stored).toMatchObject({
        mid,
        subject: text(i),
        senderRdns: i % 2 === 0 ? null : text(i + 1),
        reply: i % 3 === 0 ? null : `550 ${text(i)}`,
        recipients: [{ address: `r${i}@corp.example`, lastReply: text(i + 2), attempts: 0 }],
      })
      const events = await store.listEvents(mid)
      expect(events.map((e) => [e.event, e.recipient, e.details])).toEqual(
        [0, 1, 2].map((step) => [
          `STEP_${step}`,
          step === 2 ? text(i) : null,
          { text: text(i + step), n: [i, null] },
        ]),
      )
      expect(await store.listObservables(mid)).toEqual([
        { type: 'email_subject', value: `subject ${text(i)} ${i}` },
      ])
    }
    const attachments = await database.db
      .selectFrom('message_attachments')
      .select(['idx', 'filename', 'encrypted', 'macros'])
      .where('mid', '=', mids[0] as number)
      .orderBy('idx')
      .execute()
    expect(
      attachments.map((a) => [a.idx, a.filename, Number(a.encrypted), Number(a.macros)]),
    ).toEqual([
      [0, text(1), 1, 1],
      [1, null, 0, 0],
    ])

    const updates = emptyBatch()
    for (const [i, mid] of mids.entries()) {
      updates.messageUpdates.push({ mid, status: 'completed', at: 30_000 + i })
      updates.recipientUpdates.push({
        mid,
        index: 0,
        status: 'delivered',
        at: 30_000 + i,
        lastReply: i % 2 === 0 ? null : `250 ${text(i)}`,
        attempts: 2,
      })
    }
    // Written again after a crash: the first rows stand, nothing is refused.
    updates.extra.push({
      table: 'message_attachments',
      rows: [
        {
          ...firstRow,
          idx: 0,
          part: 'again',
          filename: 'other',
          size: 1,
          encrypted: 0,
          macros: 0,
        },
      ],
    })
    await store.writeBatch(updates)
    for (const [i, mid] of mids.entries()) {
      const stored = await store.getMessage(mid)
      expect(stored).toMatchObject({ status: 'completed', updatedAt: 30_000 + i })
      expect(stored?.recipients[0]).toMatchObject({
        status: 'delivered',
        lastReply: i % 2 === 0 ? text(i + 2) : `250 ${text(i)}`,
        attempts: 2,
      })
    }
    const again = await database.db
      .selectFrom('message_attachments')
      .select('filename')
      .where('mid', '=', mids[0] as number)
      .where('idx', '=', 0)
      .executeTakeFirst()
    expect(again?.filename).toBe(text(1))
  })

  it('keeps API users and token digests', async () => {
    const accounts = new ApiAccountStore(database.db)
    const user = await accounts.createUser({
      username: 'root',
      passwordHash: 'scrypt$x',
      role: 'admin',
      at: 1,
    })
    expect(await accounts.countUsers('admin')).toBe(1)
    await accounts.createToken({
      digest: 'd1',
      kind: 'session',
      name: 'login',
      role: 'admin',
      userId: user.id,
      at: 1,
      expiresAt: 100,
    })
    expect((await accounts.findToken('d1', 50))?.userId).toBe(user.id)
    expect(await accounts.findToken('d1', 100)).toBeUndefined()
    expect(await accounts.deleteExpiredTokens(200)).toBe(1)
    expect(await accounts.updateUser('root', { role: 'operator' }, 2)).toBe(true)
    expect((await accounts.findUser('root'))?.role).toBe('operator')
    expect(await accounts.deleteUser('root')).toBe(true)
    expect(await accounts.listUsers()).toEqual([])
  })
})
