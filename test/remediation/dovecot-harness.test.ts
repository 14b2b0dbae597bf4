import { ImapFlow } from 'imapflow'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startDovecot, type DovecotServer } from '../support/dovecot.js'

const message = (id: string): string =>
  `From: a@external.test\r\nTo: alice@example.org\r\nSubject: hi\r\nMessage-ID: <${id}>\r\nDate: Thu, 1 Jan 2026 00:00:00 +0000\r\n\r\nbody\r\n`

describe('Dovecot test harness', () => {
  let dovecot: DovecotServer
  beforeAll(async () => {
    dovecot = await startDovecot({ users: ['alice@example.org', 'bob@example.org'] })
  })
  afterAll(() => dovecot?.stop())

  it('delivers by LMTP and by Maildir, visible to each user over IMAP', async () => {
    await dovecot.deliverLmtp(message('lmtp-1@test'), ['alice@example.org', 'bob@example.org'])
    dovecot.writeMaildir('alice@example.org', message('direct-1@test'), 'Archive')
    expect(await dovecot.messageIdsByFolder('alice@example.org')).toMatchObject({
      INBOX: ['<lmtp-1@test>'],
      Archive: ['<direct-1@test>'],
      Trash: [],
    })
    expect((await dovecot.messageIdsByFolder('bob@example.org')).INBOX).toEqual(['<lmtp-1@test>'])
  })

  it.each([
    [
      'separator login',
      (u: string, m: DovecotServer) => ({ user: `${u}*${m.master.user}`, pass: m.master.password }),
    ],
    [
      'SASL PLAIN authzid',
      (u: string, m: DovecotServer) => ({
        user: m.master.user,
        pass: m.master.password,
        authzid: u,
        loginMethod: 'AUTH=PLAIN',
      }),
    ],
  ])('lets the master user in as a user (%s) and refuses unknown users', async (_name, auth) => {
    const client = new ImapFlow({
      host: dovecot.host,
      port: dovecot.imapPort,
      secure: false,
      doSTARTTLS: false,
      logger: false,
      auth: auth('alice@example.org', dovecot),
    })
    await client.connect()
    const status = await client.status('INBOX', { messages: true })
    expect(status && status.messages).toBeGreaterThanOrEqual(1)
    await client.logout()
    const stranger = new ImapFlow({
      host: dovecot.host,
      port: dovecot.imapPort,
      secure: false,
      doSTARTTLS: false,
      logger: false,
      auth: auth('nobody@example.org', dovecot),
    })
    await expect(stranger.connect()).rejects.toBeTruthy()
  })
})
