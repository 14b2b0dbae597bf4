import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ManualClock, silentLogger } from '@postern/core'
import {
  emptyBatch,
  RetroCursorRepository,
  TrackingSearchRepository,
  TrackingStore,
  type NewMessage,
} from '@postern/store'
import { BACKENDS } from '@postern/store/testing'
import { remediationConfigSchema } from '../../apps/gateway/src/remediation/config.js'
import { RetroRemediation } from '../../apps/gateway/src/remediation/retro.js'
import { RetroWatcher } from '../../apps/gateway/src/remediation/retro-watcher.js'
import { startDovecot, type DovecotServer } from '../support/dovecot.js'
import { phishMessage, startRemediation, uniqueId, type RemediationHarness } from './support.js'

const NOW = Date.UTC(2026, 0, 20, 12)
const DAY = 86_400_000

/**
 * Retro-remediation: a URL, hash or sender blocked after delivery pulls the delivered copies
 * out of the mailboxes (real Dovecot), as the block-list policy says, once.
 */
describe.each(BACKENDS)('retro-remediation on %s', (dialect) => {
  let dovecot: DovecotServer
  let h: RemediationHarness
  let watcher: RetroWatcher
  let retro: RetroRemediation
  const ids = {
    fresh: uniqueId('retro-fresh'),
    old: uniqueId('retro-old'),
    other: uniqueId('retro-other'),
    hash: uniqueId('retro-hash'),
  }

  async function track(
    mid: number,
    messageId: string,
    receivedAt: number,
    recipients: string[],
    extra: { url?: string; sha256?: string },
  ) {
    const batch = emptyBatch()
    batch.messages.push({
      mid,
      icid: mid,
      receivedAt,
      listener: 'in',
      senderGroup: null,
      hatPolicy: null,
      direction: 'incoming',
      senderIp: '203.0.113.9',
      senderRdns: null,
      helo: null,
      tls: null,
      authUser: null,
      envelopeSender: 'helpdesk@evil.test',
      messageId: `<${messageId}>`,
      subject: 'Password expires today',
      headerFrom: null,
      headerTo: null,
      headerReplyTo: null,
      size: 500,
      status: 'delivered',
      reply: null,
      recipients: recipients.map((address) => ({ address, status: 'delivered' })),
    } satisfies NewMessage)
    if (extra.url) {
      const host = new URL(extra.url).hostname
      batch.extra.push({
        table: 'message_urls',
        rows: [
          {
            mid,
            idx: 0,
            url: extra.url,
            host,
            domain: host,
            sources: 'text',
            received_at: receivedAt,
          },
        ],
      })
    }
    if (extra.sha256) {
      batch.extra.push({
        table: 'message_attachments',
        rows: [
          {
            mid,
            idx: 0,
            part: '2',
            filename: 'a.zip',
            size: 10,
            sha256: extra.sha256,
            encrypted: 0,
            macros: 0,
            received_at: receivedAt,
          },
        ],
      })
    }
    await new TrackingStore(h.database.db, h.database.dialect).writeBatch(batch)
    await dovecot.deliverLmtp(phishMessage(messageId), recipients)
  }

  async function block(kind: string, value: string, source = 'api'): Promise<void> {
    await sql`insert into blocklist_entries (kind, value, source, reason, created_by, created_at)
      values (${kind}, ${value}, ${source}, ${'campaign 7'}, ${'analyst1'}, ${NOW})`.execute(
      h.database.db,
    )
  }

  beforeAll(async () => {
    dovecot = await startDovecot({
      users: ['alice@example.org', 'bob@example.org', 'carol@example.org'],
    })
    const config = {
      retro: {
        enabled: true,
        lookbackHours: 72,
        actions: { url: 'delete', attachment_hash: 'delete', sender_domain: 'none' },
        sources: { hub: 'delete' },
      },
      retryBackoffMs: 10,
    }
    h = await startRemediation(dialect, config)
    await h.module.profiles.create(dovecot.imapProfile('dovecot', ['example.org']), {
      actor: { type: 'cli', id: 'root' },
      source: 'cli',
    })
    retro = new RetroRemediation(
      remediationConfigSchema.parse(config),
      new TrackingSearchRepository(h.database.db, h.database.dialect),
      h.module.service,
      silentLogger(),
      new ManualClock(NOW),
    )
    watcher = new RetroWatcher(
      retro,
      new RetroCursorRepository(h.database.db),
      60_000,
      silentLogger(),
    )
    // An entry that existed before retro-remediation was turned on is never acted upon.
    await block('url_domain', 'example.net')
    expect(await watcher.tick()).toBe(0)
    await track(11, ids.fresh, NOW - DAY, ['alice@example.org', 'bob@example.org'], {
      url: 'https://phish.test/login',
    })
    await track(12, ids.old, NOW - 30 * DAY, ['carol@example.org'], {
      url: 'https://phish.test/login',
    })
    await track(13, ids.other, NOW - DAY, ['carol@example.org'], { url: 'https://fine.test/' })
    await track(14, ids.hash, NOW - 2 * DAY, ['carol@example.org'], { sha256: 'c'.repeat(64) })
  })
  afterAll(async () => {
    await watcher?.stop()
    await h?.close()
    await dovecot?.stop()
  })

  it('removes delivered copies of a message whose URL is blocked later, within the lookback, and says why', async () => {
    await block('url', 'https://phish.test/login')
    expect(await watcher.tick()).toBe(1)
    await h.module.service.drain()
    const { runs } = await h.module.service.list({ trigger: 'retro' })
    expect(runs).toHaveLength(1)
    expect(runs[0]).toMatchObject({
      action: 'delete',
      status: 'completed',
      actor: { type: 'system', id: 'retro-remediation' },
      source: 'system',
      counts: { total: 2, done: 2 },
    })
    expect(runs[0]?.reason).toBe(
      'retro-remediation: url https://phish.test/login was blocked by analyst1 via api (campaign 7)',
    )
    for (const user of ['alice@example.org', 'bob@example.org']) {
      expect(Object.values(await dovecot.messageIdsByFolder(user)).flat()).not.toContain(
        `<${ids.fresh}>`,
      )
    }
    const carol = Object.values(await dovecot.messageIdsByFolder('carol@example.org')).flat()
    expect(carol).toContain(`<${ids.old}>`)
    expect(carol).toContain(`<${ids.other}>`)
    expect(h.events.filter((e) => e.trigger === 'retro').map((e) => e.mid)).toEqual([11])
  })

  it('handles each entry once, even when told again', async () => {
    expect(await watcher.tick()).toBe(0)
    const again = await retro.onBlocked(
      {
        kind: 'url',
        value: 'https://phish.test/login',
        source: 'api',
        reason: 'campaign 7',
        createdBy: 'analyst1',
        createdAt: NOW,
      },
      { wait: true },
    )
    expect((await h.module.service.list({ trigger: 'retro' })).runs.map((r) => r.id)).toEqual([
      again.runId,
    ])
  })

  it.each([
    ['the kind says none', 'sender_domain', 'evil.test', 'api', null],
    ['the source overrides the kind', 'attachment_hash', 'c'.repeat(64), 'hub', 'delete'],
  ])('follows the policy when %s', async (_name, kind, value, source, action) => {
    const outcome = await retro.onBlocked(
      { kind, value, source, reason: '', createdBy: 'hub-user', createdAt: NOW + 1 },
      { wait: true },
    )
    if (action === null) {
      expect(outcome).toMatchObject({ action: 'none', runId: null })
      return
    }
    expect(outcome).toMatchObject({ action, messages: 1 })
    expect(
      Object.values(await dovecot.messageIdsByFolder('carol@example.org')).flat(),
    ).not.toContain(`<${ids.hash}>`)
  })
})
