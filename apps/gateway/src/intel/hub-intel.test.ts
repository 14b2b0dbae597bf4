import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ManualClock, silentLogger } from '@postern/core'
import {
  BlocklistStore,
  Database,
  HubOutboxStore,
  migrateToLatest,
  type GatewaySchema,
} from '@postern/store'
import { BACKENDS, createTestDatabase, type TestDatabase } from '@postern/store/testing'
import { BlocklistService } from '../blocklists/blocklist-service.js'
import { PIPELINE_EVENTS } from '../pipeline/events.js'
import type { AcceptedMessage, ProcessingResult } from '../pipeline/processor.js'
import type { RetroRemediated } from '../remediation/retro.js'
import { detectionsOf, retroDetectionsOf } from './detections.js'
import { HubIntel } from './hub-intel.js'

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- queued bodies, read loosely
type Json = any

const message = {
  mid: 42,
  direction: 'incoming',
  envelope: { mailFrom: 'Payroll@Sender.test', recipients: ['alice@corp.example'] },
  headers: { messageId: '<m42@sender.test>', subject: 'Pay now' },
} as unknown as AcceptedMessage

const scan = (details: Record<string, unknown>) => ({
  at: 1,
  event: PIPELINE_EVENTS.SCANNED,
  details,
})

const URL = 'https://pay.evil.test/now'
const SHA = 'a'.repeat(64)

describe('detectionsOf', () => {
  it.each([
    {
      name: 'a clean message raises nothing',
      result: { events: [scan({ scanner: 'phishing', status: 'pass' })] },
      expected: [],
    },
    {
      name: 'a virus is keyed by the attachment hash',
      result: {
        events: [
          scan({ scanner: 'clamav', verdicts: ['virus'], details: { signature: 'Eicar-Test' } }),
        ],
        observables: [{ type: 'sha256', value: SHA }],
      },
      expected: [['virus', 'sha256', SHA, 'Eicar-Test']],
    },
    {
      name: 'a virus without attachment hash is keyed by the sender',
      result: { events: [scan({ scanner: 'clamav', verdicts: ['virus'] })] },
      expected: [['virus', 'email', 'payroll@sender.test', 'virus']],
    },
    {
      name: 'a block-list URL hit is keyed by what matched',
      result: {
        events: [
          scan({
            scanner: 'blocklist',
            verdicts: ['blocked'],
            details: { entries: [{ kind: 'url', matched: URL }] },
          }),
        ],
      },
      expected: [['malicious_url', 'url', URL, 'blocked']],
    },
    {
      name: 'a deceptive link is keyed by where it goes',
      result: {
        events: [
          scan({
            scanner: 'phishing',
            verdicts: ['deceptive-link'],
            findings: [`link shows bank.example but goes to ${URL}`],
          }),
        ],
        observables: [{ type: 'url', value: 'https://other.test/' }],
      },
      expected: [['malicious_url', 'url', URL, 'deceptive-link']],
    },
    {
      name: 'a shortened URL alone is no detection',
      result: { events: [scan({ scanner: 'phishing', verdicts: ['shortened-url'] })] },
      expected: [],
    },
    {
      name: 'a sender blocked by policy is keyed by the address',
      result: {
        events: [
          { at: 1, event: PIPELINE_EVENTS.SENDER_BLOCKED, details: { sender: 'Bob@Corp.example' } },
        ],
      },
      expected: [['blocked_user', 'email', 'bob@corp.example', 'sender blocked by policy']],
    },
  ])('$name', ({ result, expected }) => {
    const events = detectionsOf(
      message,
      { recipients: [], ...result } as unknown as ProcessingResult,
      1000,
    )
    expect(
      events.map((e) =>
        e.kind === 'detection' ? [e.detection, e.key.type, e.key.value, e.verdict] : [],
      ),
    ).toEqual(expected)
    for (const e of events)
      expect(e.message).toEqual({
        mid: '42',
        messageId: '<m42@sender.test>',
        subject: 'Pay now',
        sender: 'Payroll@Sender.test',
        recipients: ['alice@corp.example'],
        direction: 'incoming',
      })
  })
})

const retroRun = (kind: string, value: string): RetroRemediated => ({
  entry: {
    kind,
    value,
    source: 'hub',
    reason: 'judgement',
    createdBy: 'hub:analyst-1',
    createdAt: 1,
  },
  action: 'delete',
  runId: 'run-1',
  at: 5000,
  messages: [
    {
      mid: 7,
      messageId: '<m7@evil.test>',
      subject: 'Invoice',
      sender: 'billing@evil.test',
      recipients: ['alice@corp.example'],
      direction: 'incoming',
    },
    {
      mid: 8,
      messageId: null,
      subject: null,
      sender: null,
      recipients: ['bob@corp.example'],
      direction: 'incoming',
    },
  ],
})

describe('retroDetectionsOf', () => {
  it.each([
    ['url', URL, 'url'],
    ['url_domain', 'evil.test', 'domain'],
    ['sender_domain', 'evil.test', 'domain'],
    ['sender_address', 'billing@evil.test', 'email'],
    ['attachment_hash', SHA, 'sha256'],
    ['sender_ip', '203.0.113.9', 'ip'],
    ['sender_ip', '2001:db8::9', 'ipv6'],
  ])('keys a run for a %s entry by the blocked value', (kind, value, type) => {
    const events = retroDetectionsOf(retroRun(kind, value))
    expect(events).toEqual(
      [7, 8].map((mid) =>
        expect.objectContaining({
          kind: 'detection',
          detection: 'retro_remediation',
          key: { type, value },
          at: 5000,
          message: expect.objectContaining({ mid: String(mid) }),
          verdict: `retro-remediation (delete): ${kind} blocked by hub:analyst-1 via hub`,
        }),
      ),
    )
    expect(events[0]?.message).toEqual({
      mid: '7',
      messageId: '<m7@evil.test>',
      subject: 'Invoice',
      sender: 'billing@evil.test',
      recipients: ['alice@corp.example'],
      direction: 'incoming',
    })
  })

  it('raises nothing for an entry kind the hub has no observable type for', () => {
    expect(retroDetectionsOf(retroRun('header', 'X-Evil: 1'))).toEqual([])
  })
})

describe.each(BACKENDS)('HubIntel on %s', (dialect) => {
  let testDb: TestDatabase
  let database: Database<GatewaySchema>
  let blocklists: BlocklistService
  let intel: HubIntel
  let outbox: HubOutboxStore
  let flushes = 0
  let clock: ManualClock
  let withHub = true

  beforeAll(async () => {
    testDb = await createTestDatabase(dialect)
    database = await Database.open<GatewaySchema>(testDb.target)
    await migrateToLatest(database, 'gateway')
    clock = new ManualClock(Date.UTC(2026, 5, 1))
    blocklists = new BlocklistService(new BlocklistStore(database.db as never), {
      refreshIntervalMs: 60_000,
      clock,
    })
    await blocklists.start()
    outbox = new HubOutboxStore(database.db)
    intel = new HubIntel({
      outbox,
      machine: 'gw-1',
      blocklists,
      flush: () => flushes++,
      withHub: () => withHub,
      clock,
      logger: silentLogger(),
    })
  })
  afterAll(async () => {
    blocklists.stop()
    await database.close()
    await testDb.drop()
  })

  const entry = (kind: string, value: string) => ({
    kind,
    value,
    reason: 'casebook "CEO fraud"',
    createdBy: 'user-7',
    expiresAt: null,
    externalRef: 'https://hub.example/ctia/casebook/casebook-1',
  })

  it('adds, counts existing, refuses invalid values, and removes again', async () => {
    const add = {
      action: 'add',
      entries: [entry('sender_address', 'Boss@Fraud.test'), entry('sender_ip', '300.1.1.1')],
    }
    expect(await intel.changeBlocks(add)).toEqual({
      changed: 1,
      unchanged: 0,
      refused: [
        { kind: 'sender_ip', value: '300.1.1.1', reason: expect.stringContaining('sender_ip') },
      ],
    })
    expect(await intel.changeBlocks(add)).toMatchObject({ changed: 0, unchanged: 1 })
    const { entries } = await blocklists.list({ kind: 'sender_address' })
    expect(entries).toEqual([
      expect.objectContaining({
        value: 'boss@fraud.test',
        source: 'hub',
        createdBy: 'hub:user-7',
        externalRef: 'https://hub.example/ctia/casebook/casebook-1',
      }),
    ])
    expect(blocklists.matcher.size).toBe(1)
    const remove = { action: 'remove', entries: [entry('sender_address', 'boss@fraud.test')] }
    expect(await intel.changeBlocks(remove)).toMatchObject({ changed: 1, unchanged: 0 })
    expect(await intel.changeBlocks(remove)).toMatchObject({ changed: 0, unchanged: 1 })
    expect(blocklists.matcher.size).toBe(0)
  })

  it.each([
    ['an unknown action', { action: 'drop', entries: [entry('url', URL)] }],
    ['an unknown kind', { action: 'add', entries: [entry('header', 'x')] }],
    ['no entries', { action: 'add', entries: [] }],
    ['extra keys', { action: 'add', entries: [{ ...entry('url', URL), orgId: 'other' }] }],
  ])('refuses a block change with %s', async (_name, body) => {
    await expect(intel.changeBlocks(body)).rejects.toThrow()
  })

  it('queues detections, and reports only messages carrying a watched observable', async () => {
    const before = await outbox.count('gw-1')
    const result = {
      recipients: [],
      observables: [
        { type: 'domain', value: 'watched.test' },
        { type: 'email', value: 'x@other.test' },
      ],
    } as unknown as ProcessingResult
    expect(await intel.onProcessed(message, result)).toEqual([])
    expect(
      await intel.setWatchlist({ observables: [{ type: 'domain', value: 'Watched.TEST' }] }),
    ).toEqual({ watched: 1 })
    const events = await intel.onProcessed(message, result)
    expect(events).toEqual([
      expect.objectContaining({
        kind: 'message_observed',
        observables: [{ type: 'domain', value: 'watched.test' }],
      }),
    ])
    expect(await outbox.count('gw-1')).toBe(before + 1)
    expect(flushes).toBeGreaterThan(0)
    const [queued] = await outbox.oldest('gw-1', 10)
    expect(queued?.body).toMatchObject({ kind: 'message_observed', message: { mid: '42' } })
    expect(await outbox.count('gw-2')).toBe(0)
    // A gateway without a hub (cloud services off or not registered) queues nothing.
    withHub = false
    expect(await intel.onProcessed(message, result)).toHaveLength(1)
    expect(await outbox.count('gw-1')).toBe(before + 1)
    withHub = true
  })

  it('queues a retro-remediation run, one detection per message it pulls back', async () => {
    const before = await outbox.count('gw-1')
    await intel.onRetroRemediated({ ...retroRun('url', URL), at: clock.now() })
    const queued = (await outbox.oldest('gw-1', 1000)).slice(before)
    expect(queued.map((q) => [q.body.detection, q.body.key, (q.body.message as Json).mid])).toEqual(
      [
        ['retro_remediation', { type: 'url', value: URL }, '7'],
        ['retro_remediation', { type: 'url', value: URL }, '8'],
      ],
    )
  })
})
