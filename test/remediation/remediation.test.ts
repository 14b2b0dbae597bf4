import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BACKENDS } from '@postern/store/testing'
import type { RequestContext } from '../../apps/gateway/src/remediation/index.js'
import { startDovecot, type DovecotServer } from '../support/dovecot.js'
import { startGraphStandin, type GraphStandin } from '../support/graph-standin.js'
import { startSmtpCapture, type SmtpCapture } from '../support/smtp-capture.js'
import { phishMessage, startRemediation, uniqueId, type RemediationHarness } from './support.js'

const analyst: RequestContext = {
  actor: { type: 'user', id: 'analyst1' },
  source: 'api',
  remoteIp: '198.51.100.7',
}

const DOVECOT_USERS = [
  'alice@example.org',
  'bob@example.org',
  'carol@example.org',
  'heidi@authz.example',
  'ivan@maildir.example',
  'frank@hybrid.example',
  ...Array.from({ length: 30 }, (_, i) => `user${i}@bulk.example`),
]

describe.each(BACKENDS)('mailbox remediation on %s', (dialect) => {
  let dovecot: DovecotServer
  let graph: GraphStandin
  let relay: SmtpCapture
  let h: RemediationHarness

  beforeAll(async () => {
    ;[dovecot, graph, relay] = await Promise.all([
      startDovecot({ users: DOVECOT_USERS }),
      startGraphStandin(),
      startSmtpCapture(),
    ])
    for (const user of ['erin@cloud.example', 'grace@hybrid.example']) graph.addMailbox(user)
    h = await startRemediation(dialect, {
      forward: {
        address: 'soc@example.org',
        allowedRecipients: ['@ir.example.org'],
        from: 'postern@gateway.example.org',
      },
      relay: { host: relay.host, port: relay.port, security: 'none', timeoutMs: 5_000 },
      concurrency: 8,
      attempts: 2,
      retryBackoffMs: 10,
      mailboxTimeoutMs: 20_000,
    })
    const imap = {
      host: dovecot.host,
      port: dovecot.imapPort,
      security: 'none',
      masterUser: dovecot.master.user,
    }
    const { profiles } = h.module
    await profiles.create(
      {
        name: 'onprem',
        kind: 'imap',
        domains: ['example.org', 'bulk.example'],
        settings: imap,
        secrets: { masterPassword: dovecot.master.password },
      },
      analyst,
    )
    await profiles.create(
      {
        name: 'onprem-authzid',
        kind: 'imap',
        domains: ['authz.example'],
        settings: { ...imap, loginStyle: 'authzid' },
        secrets: { masterPassword: dovecot.master.password },
      },
      analyst,
    )
    await profiles.create(
      {
        name: 'local-maildir',
        kind: 'maildir',
        domains: ['maildir.example'],
        settings: { pathTemplate: dovecot.maildirTemplate, deleteMode: 'trash' },
      },
      analyst,
    )
    await profiles.create(
      {
        name: 'm365',
        kind: 'graph',
        domains: ['cloud.example'],
        settings: {
          tenantId: graph.tenantId,
          clientId: graph.clientId,
          authorityUrl: graph.authorityUrl,
          graphUrl: graph.graphUrl,
        },
        secrets: { clientSecret: graph.clientSecret },
      },
      analyst,
    )
    await profiles.create(
      {
        name: 'hybrid',
        kind: 'chained',
        domains: ['hybrid.example'],
        settings: { profiles: ['onprem', 'm365'] },
      },
      analyst,
    )
  })
  afterAll(async () => {
    await h?.close()
    await Promise.all([dovecot?.stop(), graph?.close(), relay?.close()])
  })

  describe('profiles', () => {
    it('keeps credentials sealed at rest and never shows them', async () => {
      const view = await h.module.profiles.get('onprem')
      expect(view).toMatchObject({
        kind: 'imap',
        secretsSet: ['masterPassword'],
        domains: ['example.org', 'bulk.example'],
      })
      expect(JSON.stringify(view)).not.toContain(dovecot.master.password)
      const rows = await sql<{ secrets: string }>`select secrets from remediation_profiles`.execute(
        h.database.db,
      )
      for (const row of rows.rows) {
        expect(row.secrets).not.toContain(dovecot.master.password)
        expect(row.secrets).not.toContain(graph.clientSecret)
      }
    })

    it.each([
      [
        'an unknown kind setting',
        {
          name: 'x1',
          kind: 'imap',
          settings: { host: 'h', masterUser: 'm', colour: 1 },
          secrets: { masterPassword: 'p' },
        },
        'GW_ERR_REMEDIATION_PROFILE_INVALID',
      ],
      [
        'a missing secret',
        { name: 'x2', kind: 'graph', settings: { tenantId: 't', clientId: 'c' } },
        'GW_ERR_REMEDIATION_PROFILE_INVALID',
      ],
      [
        'a relative Maildir path',
        { name: 'x3', kind: 'maildir', settings: { pathTemplate: 'mail/%d/%n' } },
        'GW_ERR_REMEDIATION_PROFILE_INVALID',
      ],
      [
        'a domain another profile serves',
        {
          name: 'x4',
          kind: 'maildir',
          domains: ['Example.org'],
          settings: { pathTemplate: '/m/%d/%n' },
        },
        'GW_ERR_REMEDIATION_DOMAIN_CONFLICT',
      ],
      [
        'a chain of a chain',
        { name: 'x5', kind: 'chained', settings: { profiles: ['hybrid', 'onprem'] } },
        'GW_ERR_REMEDIATION_CHAIN_INVALID',
      ],
      [
        'a chain with an unknown member',
        { name: 'x6', kind: 'chained', settings: { profiles: ['onprem', 'nope'] } },
        'GW_ERR_REMEDIATION_CHAIN_INVALID',
      ],
      [
        'a taken name',
        { name: 'onprem', kind: 'maildir', settings: { pathTemplate: '/m/%d/%n' } },
        'GW_ERR_REMEDIATION_PROFILE_EXISTS',
      ],
      [
        'a name with a slash',
        { name: 'a/b', kind: 'maildir', settings: { pathTemplate: '/m/%d/%n' } },
        'GW_ERR_REMEDIATION_PROFILE_INVALID',
      ],
    ])('refuses %s', async (_name, input, code) => {
      await expect(h.module.profiles.create(input as never, analyst)).rejects.toMatchObject({
        code,
      })
    })

    it('refuses to delete a profile a chain uses, and resolves domains most specific first', async () => {
      await expect(h.module.profiles.remove('m365', analyst)).rejects.toMatchObject({
        code: 'GW_ERR_REMEDIATION_PROFILE_IN_USE',
      })
      expect(await h.module.profiles.resolve('EXAMPLE.ORG')).toBe('onprem')
      expect(await h.module.profiles.resolve('other.test')).toBeNull()
    })
  })

  it('deletes over IMAP with the master user from every folder, with a result per recipient', async () => {
    const id = uniqueId('imap-delete')
    await dovecot.deliverLmtp(phishMessage(id), ['alice@example.org', 'bob@example.org'])
    dovecot.writeMaildir('alice@example.org', phishMessage(id), 'Archive')
    const other = uniqueId('innocent')
    await dovecot.deliverLmtp(phishMessage(other), ['alice@example.org'])

    const { run, targets } = await h.module.service.remediate(
      {
        action: 'delete',
        messages: [
          {
            messageId: `<${id}>`,
            mids: [101],
            recipients: [
              'alice@example.org',
              'bob@example.org',
              'carol@example.org',
              'zed@example.org',
              'x@unmapped.test',
            ],
          },
        ],
        reason: 'credential phishing',
        wait: true,
      },
      analyst,
    )
    const byRecipient = Object.fromEntries(targets.map((t) => [t.recipient, t]))
    expect(byRecipient['alice@example.org']).toMatchObject({
      status: 'done',
      deleted: true,
      profile: 'onprem',
    })
    expect(byRecipient['alice@example.org']?.folders.sort()).toEqual(['Archive', 'INBOX'])
    expect(byRecipient['bob@example.org']).toMatchObject({ status: 'done', folders: ['INBOX'] })
    expect(byRecipient['carol@example.org']).toMatchObject({ status: 'not_found' })
    expect(byRecipient['zed@example.org']).toMatchObject({
      status: 'failed',
      error: { code: 'GW_ERR_REMEDIATION_MAILBOX_UNKNOWN' },
    })
    expect(byRecipient['x@unmapped.test']).toMatchObject({
      status: 'failed',
      error: { code: 'GW_ERR_REMEDIATION_NO_PROFILE' },
    })
    expect(run).toMatchObject({
      status: 'partial',
      counts: { total: 5, done: 2, notFound: 1, failed: 2 },
    })

    const alice = await dovecot.messageIdsByFolder('alice@example.org')
    expect(Object.values(alice).flat()).toEqual([`<${other}>`])
    expect(Object.values(await dovecot.messageIdsByFolder('bob@example.org')).flat()).not.toContain(
      `<${id}>`,
    )

    const audit = await sql<{
      action: string
      actor_id: string
      source: string
      remote_ip: string
      target_id: string
    }>`
      select action, actor_id, source, remote_ip, target_id from audit_log where target_id = ${run.id}`.execute(
      h.database.db,
    )
    expect(audit.rows).toEqual([
      {
        action: 'remediation.delete',
        actor_id: 'analyst1',
        source: 'api',
        remote_ip: '198.51.100.7',
        target_id: run.id,
      },
    ])
    const event = h.events.find((e) => e.runId === run.id)
    expect(event).toMatchObject({
      mid: 101,
      type: 'REMEDIATION',
      action: 'delete',
      attempt: 1,
      actor: 'user:analyst1',
      source: 'api',
    })
    expect(event?.results).toHaveLength(5)

    // A retry only works on what failed; the done mailboxes are not touched again.
    const retried = await h.module.service.retry(run.id, analyst)
    expect(retried.run).toMatchObject({
      attempts: 2,
      status: 'partial',
      counts: { done: 2, notFound: 1, failed: 2 },
    })
    expect(
      h.events
        .filter((e) => e.runId === run.id)
        .at(-1)
        ?.results.map((r) => r.recipient)
        .sort(),
    ).toEqual(['x@unmapped.test', 'zed@example.org'])
  })

  it('forwards with the original attached, then deletes (SASL authzid login); never forwards twice', async () => {
    const id = uniqueId('authzid-fwd')
    const original = phishMessage(id, 'heidi@authz.example')
    await dovecot.deliverLmtp(original, ['heidi@authz.example'])
    const before = relay.messages.length
    const { run, targets } = await h.module.service.remediate(
      {
        action: 'forward-delete',
        messages: [{ messageId: id, mids: [202], recipients: ['heidi@authz.example'] }],
        idempotencyKey: `key-${id}`,
        wait: true,
      },
      { actor: { type: 'cli', id: 'root' }, source: 'cli' },
    )
    expect(targets[0]).toMatchObject({
      status: 'done',
      forwarded: true,
      deleted: true,
      profile: 'onprem-authzid',
    })
    expect(relay.messages.length).toBe(before + 1)
    const forward = relay.messages.at(-1)!
    expect(forward.to).toEqual(['soc@example.org'])
    expect(forward.from).toBe('postern@gateway.example.org')
    expect(forward.parsed.subject).toBe('[Postern remediation] Password expires today')
    expect(forward.parsed.headers.get('auto-submitted')).toBe('auto-generated')
    const attachment = forward.parsed.attachments.find((a) => a.contentType === 'message/rfc822')
    // Byte for byte what the mailbox held: the original plus the trace headers LMTP added.
    const attached = attachment?.content.toString('utf8').replace(/\r\n/g, '\n')
    expect(attached).toContain(original.replace(/\r\n/g, '\n'))
    expect(attached).toMatch(/^Return-Path: <sender@external.test>/)
    expect(
      Object.values(await dovecot.messageIdsByFolder('heidi@authz.example')).flat(),
    ).not.toContain(`<${id}>`)

    const again = await h.module.service.remediate(
      {
        action: 'forward-delete',
        messages: [{ messageId: id, mids: [202], recipients: ['heidi@authz.example'] }],
        idempotencyKey: `key-${id}`,
        wait: true,
      },
      analyst,
    )
    expect(again.run.id).toBe(run.id)
    await h.module.service.retry(run.id, analyst)
    // A new request for the same message: the mailbox is empty and the SOC already has it.
    const fresh = await h.module.service.remediate(
      {
        action: 'forward',
        messages: [{ messageId: id, mids: [202], recipients: ['heidi@authz.example'] }],
        wait: true,
      },
      analyst,
    )
    expect(fresh.targets[0]).toMatchObject({ status: 'done', forwarded: true })
    expect(relay.messages.length).toBe(before + 1)
  })

  it('keeps the message when the relay refuses the forward, and finishes on retry', async () => {
    const id = uniqueId('relay-down')
    await dovecot.deliverLmtp(phishMessage(id), ['carol@example.org'])
    relay.rejectWith = { code: 550, message: 'Relay access denied' }
    const { run, targets } = await h.module.service.remediate(
      {
        action: 'forward-delete',
        messages: [{ messageId: id, mids: [303], recipients: ['carol@example.org'] }],
        wait: true,
      },
      analyst,
    )
    expect(targets[0]).toMatchObject({
      status: 'failed',
      forwarded: false,
      deleted: false,
      error: { code: 'GW_ERR_REMEDIATION_FORWARD_FAILED' },
    })
    expect(run.status).toBe('failed')
    expect((await dovecot.messageIdsByFolder('carol@example.org')).INBOX).toContain(`<${id}>`)
    relay.rejectWith = null
    const retried = await h.module.service.retry(run.id, analyst)
    expect(retried.targets[0]).toMatchObject({ status: 'done', forwarded: true, deleted: true })
    expect((await dovecot.messageIdsByFolder('carol@example.org')).INBOX).not.toContain(`<${id}>`)
  })

  it.each([
    [
      'an address outside the allowed list',
      ['attacker@evil.test'],
      'GW_ERR_REMEDIATION_FORWARD_ADDRESS_NOT_ALLOWED',
    ],
  ])('refuses to forward to %s', async (_name, forwardTo, code) => {
    await expect(
      h.module.service.remediate(
        {
          action: 'forward',
          forwardTo,
          messages: [{ messageId: 'x@y', mids: [], recipients: ['alice@example.org'] }],
        },
        analyst,
      ),
    ).rejects.toMatchObject({ code })
    const allowed = await h.module.service.remediate(
      {
        action: 'forward',
        forwardTo: ['lead@ir.example.org'],
        messages: [{ messageId: uniqueId('none'), mids: [], recipients: ['alice@example.org'] }],
        wait: true,
      },
      analyst,
    )
    expect(allowed.targets[0]?.status).toBe('not_found')
  })

  it('moves to the trash in a same-host Maildir; a second delete finds nothing', async () => {
    const id = uniqueId('maildir')
    await dovecot.deliverLmtp(phishMessage(id), ['ivan@maildir.example'])
    dovecot.writeMaildir('ivan@maildir.example', phishMessage(id), 'Projects')
    const first = await h.module.service.remediate(
      {
        action: 'delete',
        messages: [
          {
            messageId: id,
            mids: [404],
            recipients: ['ivan@maildir.example', '../../etc@maildir.example'],
          },
        ],
        wait: true,
      },
      analyst,
    )
    const byRecipient = Object.fromEntries(first.targets.map((t) => [t.recipient, t]))
    expect(byRecipient['ivan@maildir.example']).toMatchObject({
      status: 'done',
      profile: 'local-maildir',
    })
    expect(byRecipient['ivan@maildir.example']?.folders.sort()).toEqual(['INBOX', 'Projects'])
    expect(byRecipient['../../etc@maildir.example']).toMatchObject({
      status: 'failed',
      error: { code: 'GW_ERR_REMEDIATION_MAILBOX_ADDRESS_INVALID' },
    })
    const folders = await dovecot.messageIdsByFolder('ivan@maildir.example')
    expect(folders.INBOX).not.toContain(`<${id}>`)
    expect(folders.Projects).not.toContain(`<${id}>`)
    expect(folders.Trash?.filter((m) => m === `<${id}>`)).toHaveLength(2)
    const second = await h.module.service.remediate(
      {
        action: 'delete',
        messages: [{ messageId: id, mids: [404], recipients: ['ivan@maildir.example'] }],
        wait: true,
      },
      analyst,
    )
    expect(second.targets[0]?.status).toBe('not_found')
  })

  it('works through Microsoft Graph: throttled search, MIME fetch for the relay, permanent delete', async () => {
    const id = uniqueId('graph')
    graph.deliver('erin@cloud.example', `<${id}>`, phishMessage(id))
    graph.deliver('erin@cloud.example', `<${id}>`, phishMessage(id), 'archive-folder-id')
    graph.deliver('erin@cloud.example', `<${uniqueId('other')}>`, phishMessage('other@x'))
    graph.throttleEvery = 3
    const before = relay.messages.length
    try {
      const { targets } = await h.module.service.remediate(
        {
          action: 'forward-delete',
          messages: [
            {
              messageId: id,
              mids: [505],
              recipients: ['erin@cloud.example', 'nobody@cloud.example'],
            },
          ],
          wait: true,
        },
        analyst,
      )
      const byRecipient = Object.fromEntries(targets.map((t) => [t.recipient, t]))
      expect(byRecipient['erin@cloud.example']).toMatchObject({
        status: 'done',
        forwarded: true,
        deleted: true,
        profile: 'm365',
      })
      expect(byRecipient['nobody@cloud.example']).toMatchObject({
        status: 'failed',
        error: { code: 'GW_ERR_REMEDIATION_MAILBOX_UNKNOWN' },
      })
    } finally {
      graph.throttleEvery = 0
    }
    expect(graph.messages('erin@cloud.example').map((m) => m.internetMessageId)).not.toContain(
      `<${id}>`,
    )
    expect(graph.messages('erin@cloud.example')).toHaveLength(1)
    expect(relay.messages.length).toBe(before + 1)
    expect(graph.requests.some((r) => r.path.endsWith('/permanentDelete'))).toBe(true)
  })

  it('forwards natively through Graph and moves to Deleted Items when the profile says so', async () => {
    await h.module.profiles.update(
      'm365',
      { settings: { forwardVia: 'graph', deleteMode: 'trash' } },
      analyst,
    )
    const id = uniqueId('graph-native')
    graph.deliver('erin@cloud.example', `<${id}>`, phishMessage(id))
    graph.revokeTokens()
    const { targets } = await h.module.service.remediate(
      {
        action: 'forward-delete',
        reason: 'campaign 7',
        messages: [{ messageId: id, mids: [606], recipients: ['erin@cloud.example'] }],
        wait: true,
      },
      analyst,
    )
    expect(targets[0]).toMatchObject({ status: 'done', forwarded: true, deleted: true })
    expect(graph.forwards.at(-1)).toMatchObject({
      mailbox: 'erin@cloud.example',
      messageId: `<${id}>`,
      to: ['soc@example.org'],
    })
    expect(graph.forwards.at(-1)?.comment).toContain('campaign 7')
    expect(
      graph.messages('erin@cloud.example').find((m) => m.internetMessageId === `<${id}>`)?.folder,
    ).toBe('deleteditems')
    const again = await h.module.service.remediate(
      {
        action: 'delete',
        messages: [{ messageId: id, mids: [606], recipients: ['erin@cloud.example'] }],
        wait: true,
      },
      analyst,
    )
    expect(again.targets[0]?.status).toBe('not_found')
    await h.module.profiles.update(
      'm365',
      { settings: { forwardVia: 'relay', deleteMode: 'permanent' } },
      analyst,
    )
  })

  it('tries the profiles of a chain in order for a hybrid domain', async () => {
    const id = uniqueId('hybrid')
    await dovecot.deliverLmtp(phishMessage(id), ['frank@hybrid.example'])
    graph.deliver('grace@hybrid.example', `<${id}>`, phishMessage(id))
    const { targets } = await h.module.service.remediate(
      {
        action: 'delete',
        messages: [
          {
            messageId: id,
            mids: [707],
            recipients: ['frank@hybrid.example', 'grace@hybrid.example', 'ghost@hybrid.example'],
          },
        ],
        wait: true,
      },
      analyst,
    )
    const byRecipient = Object.fromEntries(targets.map((t) => [t.recipient, t]))
    expect(byRecipient['frank@hybrid.example']).toMatchObject({ status: 'done', profile: 'onprem' })
    expect(byRecipient['grace@hybrid.example']).toMatchObject({ status: 'done', profile: 'm365' })
    expect(byRecipient['ghost@hybrid.example']).toMatchObject({
      status: 'failed',
      error: { code: 'GW_ERR_REMEDIATION_MAILBOX_UNKNOWN' },
    })
    expect(byRecipient['ghost@hybrid.example']?.error?.message).toContain(
      'not found in any profile of the chain',
    )
    expect(graph.messages('grace@hybrid.example')).toHaveLength(0)
  })

  it('remediates several messages per mailbox through one login to each mailbox', async () => {
    const ids = [uniqueId('wave-a'), uniqueId('wave-b'), uniqueId('wave-c')]
    const recipients = ['alice@example.org', 'bob@example.org']
    for (const id of ids) await dovecot.deliverLmtp(phishMessage(id), recipients)
    const logins = (user: string): number =>
      dovecot
        .log()
        .split('\n')
        .filter((line) => line.includes(`Login: user=<${user}>`)).length
    const before = recipients.map(logins)

    const { run, targets } = await h.module.service.remediate(
      {
        action: 'delete',
        messages: ids.map((id, i) => ({ messageId: id, mids: [900 + i], recipients })),
        wait: true,
      },
      analyst,
    )
    expect(run).toMatchObject({ status: 'completed', counts: { total: 6, done: 6 } })
    expect(targets.map((t) => [t.recipient, t.messageId, t.status]).sort()).toEqual(
      recipients.flatMap((r) => ids.map((id) => [r, id, 'done'])).sort(),
    )
    expect(recipients.map(logins).map((n, i) => n - (before[i] as number))).toEqual([1, 1])
    for (const recipient of recipients) {
      const left = Object.values(await dovecot.messageIdsByFolder(recipient)).flat()
      for (const id of ids) expect(left).not.toContain(`<${id}>`)
    }
  })

  it('works on many mailboxes concurrently within the limits and keeps a history per message', async () => {
    const id = uniqueId('bulk')
    const users = DOVECOT_USERS.filter((u) => u.endsWith('@bulk.example'))
    await dovecot.deliverLmtp(phishMessage(id), users)
    const { run } = await h.module.service.remediate(
      {
        action: 'delete',
        messages: [
          {
            messageId: id,
            mids: [808, 809],
            recipients: [
              ...users,
              ...users.map((u) => u.toUpperCase().replace('BULK.EXAMPLE', 'bulk.example')),
            ],
          },
        ],
      },
      analyst,
    )
    expect(run.status).toBe('running')
    await h.module.service.drain()
    const finished = await h.module.service.get(run.id)
    expect(finished.run).toMatchObject({
      status: 'completed',
      counts: { total: users.length, done: users.length },
    })
    const history = await h.module.service.history([`<${id}>`])
    expect(history).toHaveLength(users.length)
    expect(history[0]).toMatchObject({
      mids: [808, 809],
      run: { id: run.id, action: 'delete', actor: { id: 'analyst1' } },
    })
    expect(
      h.events
        .filter((e) => e.runId === run.id)
        .map((e) => e.mid)
        .sort(),
    ).toEqual([808, 809])
  })
})
