import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Observable } from '@postern/ctim'
import { ManualClock } from '@postern/core'
import type { TriggerRequest } from '@postern/relay'
import { BlocklistStore, Database, migrateToLatest, type ContentSchema } from '@postern/store'
import { createTestDatabase, type TestDatabase } from '@postern/store/testing'
import { BlocklistService } from '../blocklists/blocklist-service.js'
import { blockActionsFor, runBlockAction, type BlockActionDeps } from './block-actions.js'

const trigger = (actionId: string, type: string, value: string, extra = {}): TriggerRequest => ({
  'action-id': actionId,
  observable_type: type as TriggerRequest['observable_type'],
  observable_value: value,
  requested_by: 'analyst-7',
  hub_action_id: 'run-1',
  ...extra,
})

describe('block actions of the gateway relay module', () => {
  let testDb: TestDatabase
  let database: Database<ContentSchema>
  let blocklists: BlocklistService
  let deps: BlockActionDeps

  beforeAll(async () => {
    testDb = await createTestDatabase('sqlite')
    database = await Database.open<ContentSchema>(testDb.target)
    await migrateToLatest(database, 'gateway')
    blocklists = new BlocklistService(new BlocklistStore(database.db), {
      refreshIntervalMs: 60_000,
      clock: new ManualClock(1_000_000),
    })
    await blocklists.start()
    deps = {
      blocklists,
      isInternalAddress: (address) => address.toLowerCase().endsWith('@corp.example'),
    }
  })
  afterAll(async () => {
    blocklists.stop()
    await database.close()
    await testDb.drop()
  })

  const ids = async (observable: Observable) =>
    (await blockActionsFor(observable, deps)).map((a) => a.id)

  it.each([
    [{ type: 'email', value: 'billing@evil.example' }, ['block']],
    [{ type: 'email', value: 'alice@corp.example' }, ['block-user']],
    [{ type: 'user', value: 'bob@corp.example' }, ['block-user']],
    [{ type: 'user', value: 'bob' }, []],
    [{ type: 'domain', value: 'evil.example' }, ['block']],
    [{ type: 'url', value: 'https://evil.example/login' }, ['block']],
    [{ type: 'sha256', value: 'a'.repeat(64) }, ['block']],
    [{ type: 'ip', value: '192.0.2.7' }, ['block']],
    [{ type: 'email_subject', value: 'Invoice' }, []],
  ] as [Observable, string[]][])('offers for %j: %j', async (observable, expected) => {
    expect(await ids(observable)).toEqual(expected)
  })

  it.each([
    ['email', 'Billing@Evil.Example', [['sender_address', 'billing@evil.example']]],
    [
      'domain',
      'phish[.]example',
      [
        ['sender_domain', 'phish.example'],
        ['url_domain', 'phish.example'],
      ],
    ],
    ['url', 'hxxps://evil.example/login', [['url', 'https://evil.example/login']]],
    ['sha256', 'B'.repeat(64), [['attachment_hash', 'b'.repeat(64)]]],
    ['ip', '198.51.100.9', [['sender_ip', '198.51.100.9']]],
  ] as const)(
    'block %s %s adds entries recording the hub action and user, then unblock removes them',
    async (type, value, kinds) => {
      const blocked = await runBlockAction(trigger('block', type, value), deps)
      expect(blocked).toEqual({
        data: {
          status: 'success',
          results: kinds.map(([kind, v]) =>
            expect.objectContaining({ kind, value: v, created: true }),
          ),
        },
      })
      for (const [kind, v] of kinds) {
        expect(await blocklists.findValue(kind, v)).toMatchObject({
          source: 'hub',
          createdBy: 'analyst-7',
          externalRef: 'hub:block:run-1',
          reason: 'hub action block',
        })
      }
      expect(await ids({ type, value } as Observable)).toEqual(['block', 'unblock'])
      // Blocking again is no error: the gateway already refuses it.
      const again = await runBlockAction(trigger('block', type, value), deps)
      expect(again.data).toMatchObject({
        status: 'success',
        results: kinds.map(() => expect.objectContaining({ created: false })),
      })

      const unblocked = await runBlockAction(trigger('unblock', type, value), deps)
      expect(unblocked.data).toMatchObject({
        status: 'success',
        results: kinds.map(() => expect.objectContaining({ removed: true })),
      })
      for (const [kind, v] of kinds) expect(await blocklists.findValue(kind, v)).toBeUndefined()
      expect(await ids({ type, value } as Observable)).toEqual(['block'])
    },
  )

  it('a blocked domain is refused at once for mail from it and for links to it', async () => {
    await runBlockAction(trigger('block', 'domain', 'campaign.example'), deps)
    expect(blocklists.matcher.matchEnvelope('x@mail.campaign.example', null)).toHaveLength(1)
    expect(
      blocklists.matcher.match({
        senders: [],
        senderIp: null,
        urls: [{ url: 'https://campaign.example/a', host: 'campaign.example' }],
        hashes: [],
      }),
    ).toHaveLength(1)
  })

  it('blocks and unblocks an internal user’s outgoing mail', async () => {
    const blocked = await runBlockAction(
      trigger('block-user', 'email', 'Alice@corp.example', { reason: 'account takeover' }),
      deps,
    )
    expect(blocked.data).toEqual({
      status: 'success',
      results: [{ kind: 'blocked_user', value: 'alice@corp.example', created: true }],
    })
    expect(blocklists.blockedSender('alice@corp.example')).toMatchObject({
      reason: 'account takeover',
      source: 'hub',
      createdBy: 'analyst-7',
    })
    expect(await ids({ type: 'email', value: 'alice@corp.example' })).toEqual([
      'block-user',
      'unblock-user',
    ])
    const unblocked = await runBlockAction(
      trigger('unblock-user', 'email', 'alice@corp.example'),
      deps,
    )
    expect(unblocked.data.status).toBe('success')
    expect(blocklists.blockedSender('alice@corp.example')).toBeUndefined()
  })

  it.each([
    [trigger('block', 'domain', 'localhost'), 'GW_ERR_BLOCKLIST_VALUE_INVALID'],
    [trigger('block', 'email_subject', 'Invoice'), 'invalid action'],
    [trigger('block-user', 'email', 'someone@evil.example'), 'invalid action'],
    [trigger('unblock-user', 'email', 'nobody@corp.example'), 'GW_ERR_BLOCKED_SENDER_NOT_FOUND'],
  ])('refuses %j with %s', async (request, code) => {
    const answer = await runBlockAction(request, deps)
    expect(answer.data.status).toBe('failure')
    expect(answer.errors?.[0]?.code).toBe(code)
  })
})
