import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BACKENDS } from '@postern/store/testing'
import { startPrivateIntelHarness, type PrivateIntelHarness } from '../casebooks/testing.js'
import type { Caller } from '../casebooks/caller.js'
import {
  BlockPushService,
  blockEntriesFor,
  type BlockEntry,
  type GatewayBlockPusher,
  type GatewayPushResult,
} from './block-push.js'

const meta = { reason: 'r', createdBy: 'alice', expiresAt: null, externalRef: 'https://hub/x' }

describe('blockEntriesFor', () => {
  it('maps what gateways can block and skips the rest', () => {
    const { entries, skipped } = blockEntriesFor(
      [
        { type: 'email', value: 'Boss@Evil.Example' },
        { type: 'domain', value: 'Evil.Example.' },
        { type: 'ip', value: '203.0.113.5' },
        { type: 'url', value: 'https://evil.example/Login' },
        { type: 'sha256', value: 'AB'.repeat(32) },
        { type: 'sha256', value: 'not-a-hash' },
        { type: 'cisco_mid', value: '42' },
        { type: 'email', value: 'boss@evil.example' },
      ],
      meta,
    )
    expect(entries.map((e) => [e.kind, e.value])).toEqual([
      ['sender_address', 'boss@evil.example'],
      ['sender_domain', 'evil.example'],
      ['url_domain', 'evil.example'],
      ['sender_ip', '203.0.113.5'],
      ['url', 'https://evil.example/Login'],
      ['attachment_hash', 'ab'.repeat(32)],
    ])
    expect(skipped).toEqual([
      { type: 'sha256', value: 'not-a-hash' },
      { type: 'cisco_mid', value: '42' },
    ])
  })
})

/**
 * The gateway side of the push lives with the tunnel (another branch); this in-process stand-in
 * keeps per-device block lists so the flow can be checked end to end on the hub side.
 */
class InProcessGateways implements GatewayBlockPusher {
  readonly lists = new Map<string, BlockEntry[]>()
  constructor(
    private readonly devices: Record<string, string[]>,
    private readonly offline: string[] = [],
  ) {}
  async push(orgId: string, entries: BlockEntry[]): Promise<GatewayPushResult[]> {
    return (this.devices[orgId] ?? []).map((deviceId) => {
      if (this.offline.includes(deviceId)) return { deviceId, ok: false, error: 'gateway offline' }
      this.lists.set(deviceId, [...(this.lists.get(deviceId) ?? []), ...entries])
      return { deviceId, ok: true, added: entries.length }
    })
  }
}

describe.each(BACKENDS)('pushing blocks to gateways on %s', (dialect) => {
  let h: PrivateIntelHarness
  const alice: Caller = { kind: 'user', orgId: 'org-a', userId: 'alice', clientId: null }
  const mallory: Caller = { kind: 'user', orgId: 'org-b', userId: 'mallory', clientId: null }

  beforeAll(async () => {
    h = await startPrivateIntelHarness(dialect)
  })
  afterAll(async () => {
    await h.close()
  })

  it("blocks a casebook's observables on every gateway of the org and audits each answer", async () => {
    const gateways = new InProcessGateways({ 'org-a': ['gw-1', 'gw-2'], 'org-b': ['gw-9'] }, [
      'gw-2',
    ])
    const service = new BlockPushService({
      entities: h.entities,
      pusher: gateways,
      audit: h.audit,
      baseUrl: 'https://hub.example:443',
    })
    const casebook = await h.entities.create(alice, 'casebook', {
      title: 'Payroll phish',
      observables: [
        { type: 'email', value: 'boss@evil.example' },
        { type: 'cisco_mid', value: '7' },
      ],
    })
    const outcome = await service.pushCasebook(alice, casebook.id)
    expect(outcome.entries).toEqual([
      {
        kind: 'sender_address',
        value: 'boss@evil.example',
        reason: 'casebook "Payroll phish"',
        createdBy: 'alice',
        expiresAt: null,
        externalRef: `https://hub.example:443/ctia/casebook/${casebook.id}`,
      },
    ])
    expect(outcome.gateways).toEqual([
      { deviceId: 'gw-1', ok: true, added: 1 },
      { deviceId: 'gw-2', ok: false, error: 'gateway offline' },
    ])
    expect(gateways.lists.get('gw-1')).toHaveLength(1)
    expect(gateways.lists.has('gw-9')).toBe(false)
    const [entry] = (await h.audit.list({ orgId: 'org-a', action: 'casebook.push_blocks' })).entries
    expect(entry).toMatchObject({ outcome: 'failure', target: { id: casebook.id } })
    await expect(service.pushCasebook(mallory, casebook.id)).rejects.toMatchObject({ status: 404 })
  })

  it('pushes a malicious judgement until it expires, and refuses others', async () => {
    const gateways = new InProcessGateways({ 'org-a': ['gw-1'] })
    const service = new BlockPushService({
      entities: h.entities,
      pusher: gateways,
      audit: h.audit,
      baseUrl: 'https://hub.example:443',
    })
    const base = { priority: 90, confidence: 'High', severity: 'High', source: 'analyst' }
    const malicious = await h.judgements.create(alice, {
      ...base,
      observable: { type: 'domain', value: 'evil.example' },
      disposition: 2,
      disposition_name: 'Malicious',
      valid_time: { end_time: '2026-07-01T00:00:00.000Z' },
    })
    const outcome = await service.pushJudgement(alice, malicious.id)
    expect(outcome.entries.map((e) => [e.kind, e.expiresAt])).toEqual([
      ['sender_domain', Date.parse('2026-07-01T00:00:00.000Z')],
      ['url_domain', Date.parse('2026-07-01T00:00:00.000Z')],
    ])
    const clean = await h.judgements.create(alice, {
      ...base,
      observable: { type: 'domain', value: 'fine.example' },
      disposition: 1,
      disposition_name: 'Clean',
    })
    await expect(service.pushJudgement(alice, clean.id)).rejects.toMatchObject({
      code: 'HUB_PI_ERR_INVALID_ENTITY',
    })
  })
})
