import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { waitFor } from '@postern/testkit'
import type { SessionPolicy } from '@postern/gateway'
import { expectCode, openTransaction, RawSmtp, sendWithNodemailer } from './support/clients.js'
import { startTestServer, type TestServer } from './support/downstream.js'
import { startGateway, type TestGateway } from './support/gateway.js'

// Loopback has all of 127/8: each sender group below gets its own client address.
const RELAY = '127.0.0.2'
const BLOCKED = '127.0.0.3'
const REFUSED = '127.0.0.4'
const SUSPECT = '127.0.0.5'
const PARTNER = '127.0.0.6'
const FAKE_PARTNER = '127.0.0.7'
const PREGREET = '127.0.0.8'
const LIMITED = '127.0.0.9'

const policy: SessionPolicy = {
  name: 'test-blocklist',
  checkMailFrom: ({ mailFrom }) => {
    if (mailFrom === 'boom@policy.example') throw new Error('block list unavailable')
    return mailFrom === 'spammer@evil.example'
      ? { verdict: 'reject', reply: 'SENDER_BLOCKED', reason: 'blocklist:sender' }
      : { verdict: 'continue' }
  },
  checkRcptTo: ({ recipient }) =>
    recipient === 'compromised@corp.example'
      ? { verdict: 'reject', reply: 'RECIPIENT_BLOCKED', reason: 'blocked user' }
      : { verdict: 'continue' },
}

describe('SMTP access: host and recipient access tables, limits, policies', () => {
  let downstream: TestServer
  let gw: TestGateway

  beforeAll(async () => {
    downstream = await startTestServer()
    gw = await startGateway(
      {
        listeners: [
          {
            name: 'inbound',
            smtp: '127.0.0.1:0',
            hat: [
              { senderGroup: 'RELAYLIST', match: [`${RELAY}/32`], policy: 'RELAYED' },
              { senderGroup: 'BLOCKED', match: [BLOCKED], policy: 'REJECTED' },
              { senderGroup: 'REFUSED', match: [REFUSED], policy: 'TCPREFUSE' },
              {
                senderGroup: 'SUSPECT',
                match: [SUSPECT],
                policy: 'THROTTLED',
                rate: { recipients: 3, per: '1h' },
              },
              { senderGroup: 'PARTNER', match: ['.partner.example'], policy: 'ACCEPTED' },
              { senderGroup: 'PREGREET', match: [PREGREET], policy: 'ACCEPTED', pregreet: '400ms' },
              {
                senderGroup: 'LIMITED',
                match: [LIMITED],
                policy: 'ACCEPTED',
                maxConnectionsPerIp: 2,
                maxMessagesPerConnection: 2,
              },
              { senderGroup: 'UNKNOWN', match: ['*'], policy: 'ACCEPTED' },
            ],
            rat: [
              { recipient: 'noreply@corp.example', action: 'REJECT' },
              { recipient: 'corp.example', action: 'ACCEPT' },
              { recipient: '.sub.corp.example', action: 'ACCEPT' },
            ],
            limits: { maxRecipientsPerMessage: 5 },
          },
          {
            name: 'strict',
            smtp: '127.0.0.1:0',
            hat: [{ senderGroup: 'ONLY', match: ['192.0.2.0/24'], policy: 'ACCEPTED' }],
            rat: [{ recipient: 'corp.example', action: 'ACCEPT' }],
          },
        ],
        smtpRoutes: [{ domain: '*', to: [`127.0.0.1:${downstream.port}`] }],
      },
      {
        dns: {
          ptr: { [PARTNER]: 'mx1.partner.example', [FAKE_PARTNER]: 'mx2.partner.example' },
          // Only the real partner's name resolves back to its address (FCrDNS).
          a: { 'mx1.partner.example': [PARTNER], 'mx2.partner.example': ['192.0.2.99'] },
        },
        extensions: [{ name: 'test-policy', setup: (g) => g.addSessionPolicy(policy) }],
      },
    )
  })
  afterAll(async () => {
    await gw?.stop()
    await downstream?.close()
  })

  async function tracked(mid: number) {
    await gw.gateway.tracking.writer.flush()
    return gw.gateway.tracking.store.getMessage(mid)
  }

  function midOf(reply: string): number {
    return Number(/queued as (\d+)/.exec(reply)?.[1])
  }

  it('accepts mail for RAT domains from an ACCEPTED group and delivers it', async () => {
    const reply = await sendWithNodemailer({
      port: gw.smtpPort(),
      from: 'a@ext.example',
      to: 'bob@corp.example',
    })
    expect(reply).toMatch(/^250 2\.0\.0 Ok: queued as \d+$/)
    await waitFor(() => downstream.messages.some((m) => m.to.includes('bob@corp.example')))
    const message = await tracked(midOf(reply))
    expect(message).toMatchObject({
      senderGroup: 'UNKNOWN',
      hatPolicy: 'ACCEPTED',
      direction: 'incoming',
    })
  })

  it('relays any domain for a RELAYED group and records the mail as outgoing', async () => {
    const reply = await sendWithNodemailer({
      port: gw.smtpPort(),
      from: 'me@corp.example',
      to: 'friend@elsewhere.example',
      localAddress: RELAY,
    })
    await waitFor(() => downstream.messages.some((m) => m.to.includes('friend@elsewhere.example')))
    expect((await tracked(midOf(reply)))?.direction).toBe('outgoing')
  })

  // Attempts to make the gateway relay for an outsider; none may reach another domain.
  it.each([
    ['another domain', 'victim@elsewhere.example'],
    ['a source route to another domain', '@corp.example:victim@elsewhere.example'],
    ['an address literal', 'victim@[192.0.2.1]'],
    ['a look-alike domain', 'victim@corp.example.elsewhere.example'],
    ['the RAT domain as a suffix', 'victim@evilcorp.example'],
  ])('refuses to relay for an outsider: %s', async (_name, recipient) => {
    const smtp = await RawSmtp.open(gw.smtpPort())
    expectCode(await smtp.reply(), 220)
    expectCode(await smtp.command('EHLO outsider.test'), 250)
    expectCode(await smtp.command('MAIL FROM:<spam@outsider.example>'), 250)
    expect(await smtp.command(`RCPT TO:<${recipient}>`)).toBe('550 5.7.1 Relaying denied')
    smtp.close()
  })

  it('keeps %-hacks inside the RAT domain and refuses quoted local parts carrying an @', async () => {
    const smtp = await openTransaction(gw.smtpPort(), 'a@ext.example', [
      'victim%elsewhere.example@corp.example',
    ])
    smtp.write('Subject: relay test\r\n\r\nbody\r\n.\r\n')
    expectCode(await smtp.reply(), 250)
    expectCode(await smtp.command('MAIL FROM:<a@ext.example>'), 250)
    expectCode(await smtp.command('RCPT TO:<"victim@elsewhere.example"@corp.example>'), 501)
    smtp.close()
    await waitFor(() => downstream.messages.find((m) => m.to.some((t) => t.startsWith('victim%'))))
    for (const m of downstream.messages.filter((x) => x.to.some((t) => t.includes('victim')))) {
      expect(m.to).toEqual(['victim%elsewhere.example@corp.example'])
    }
  })

  it('accepts subdomains listed as .suffix and refuses RAT REJECT entries even for RELAYED clients', async () => {
    const smtp = await RawSmtp.open(gw.smtpPort(), RELAY)
    expectCode(await smtp.reply(), 220)
    expectCode(await smtp.command('EHLO relay.test'), 250)
    expectCode(await smtp.command('MAIL FROM:<me@corp.example>'), 250)
    expectCode(await smtp.command('RCPT TO:<x@eu.sub.corp.example>'), 250)
    expect(await smtp.command('RCPT TO:<noreply@corp.example>')).toBe(
      '550 5.7.1 Recipient address rejected',
    )
    smtp.close()
  })

  it('answers a REJECTED group 554 instead of the greeting and closes', async () => {
    const smtp = await RawSmtp.open(gw.smtpPort(), BLOCKED)
    expect(await smtp.reply()).toBe('554 5.7.1 Access denied')
    await smtp.closedPromise
  })

  it('resets a TCPREFUSE connection without a word', async () => {
    // The reset can reach the client before its connect() has completed.
    const reply = await RawSmtp.open(gw.smtpPort(), REFUSED).then(
      (smtp) => smtp.reply(),
      (err: NodeJS.ErrnoException) => {
        expect(err.code).toBe('ECONNRESET')
        return null
      },
    )
    expect(reply).toBeNull()
  })

  it('refuses a client no sender group matches', async () => {
    const smtp = await RawSmtp.open(gw.smtpPort('strict'))
    expect(await smtp.reply()).toBe('554 5.7.1 Access denied')
  })

  it('limits the recipient rate of a THROTTLED address', async () => {
    const smtp = await RawSmtp.open(gw.smtpPort(), SUSPECT)
    expectCode(await smtp.reply(), 220)
    expectCode(await smtp.command('EHLO suspect.test'), 250)
    expectCode(await smtp.command('MAIL FROM:<bulk@suspect.example>'), 250)
    for (const n of [1, 2, 3]) expectCode(await smtp.command(`RCPT TO:<u${n}@corp.example>`), 250)
    expect(await smtp.command('RCPT TO:<u4@corp.example>')).toBe(
      '452 4.7.1 Recipient rate limit exceeded for your address, try again later',
    )
    smtp.close()
  })

  it('matches sender groups by forward-confirmed reverse DNS only', async () => {
    const partner = await sendWithNodemailer({
      port: gw.smtpPort(),
      from: 'p@partner.example',
      to: 'bob@corp.example',
      localAddress: PARTNER,
    })
    const impostor = await sendWithNodemailer({
      port: gw.smtpPort(),
      from: 'p@partner.example',
      to: 'bob@corp.example',
      localAddress: FAKE_PARTNER,
    })
    expect(await tracked(midOf(partner))).toMatchObject({
      senderGroup: 'PARTNER',
      senderRdns: 'mx1.partner.example',
    })
    expect(await tracked(midOf(impostor))).toMatchObject({
      senderGroup: 'UNKNOWN',
      senderRdns: null,
    })
  })

  it('greets a group without pregreet at once: talking right away is fine there', async () => {
    const smtp = await RawSmtp.open(gw.smtpPort())
    smtp.write('EHLO eager.test\r\n')
    expectCode(await smtp.reply(), 220)
    expectCode(await smtp.reply(), 250)
    smtp.close()
  })

  it('refuses a client that talks before the greeting of a pregreet group', async () => {
    const smtp = await RawSmtp.open(gw.smtpPort(), PREGREET)
    smtp.write('EHLO eager.test\r\n')
    expect(await smtp.reply()).toBe('554 5.5.1 Protocol error: command sent before the greeting')
    await smtp.closedPromise
    await gw.gateway.tracking.writer.flush()
  })

  it('greets a patient client of a pregreet group after the delay', async () => {
    const smtp = await RawSmtp.open(gw.smtpPort(), PREGREET)
    expectCode(await smtp.reply(), 220)
    expectCode(await smtp.command('EHLO patient.test'), 250)
    smtp.close()
  })

  it('limits connections per address and messages per connection', async () => {
    const first = await RawSmtp.open(gw.smtpPort(), LIMITED)
    const second = await RawSmtp.open(gw.smtpPort(), LIMITED)
    expectCode(await first.reply(), 220)
    expectCode(await second.reply(), 220)
    const third = await RawSmtp.open(gw.smtpPort(), LIMITED)
    expect(await third.reply()).toBe(
      '421 4.7.0 Too many connections from your address, try again later',
    )
    second.close()
    expectCode(await first.command('EHLO limited.test'), 250)
    for (let i = 0; i < 2; i++) {
      expectCode(await first.command('MAIL FROM:<l@limited.example>'), 250)
      expectCode(await first.command('RCPT TO:<bob@corp.example>'), 250)
      expectCode(await first.command('DATA'), 354)
      expectCode(await first.command('Subject: n\r\n\r\nx\r\n.'), 250)
    }
    expect(await first.command('MAIL FROM:<l@limited.example>')).toBe(
      '421 4.7.0 Too many messages in this connection, reconnect to send more',
    )
    await first.closedPromise
  })

  it('limits recipients per message', async () => {
    const smtp = await RawSmtp.open(gw.smtpPort())
    expectCode(await smtp.reply(), 220)
    expectCode(await smtp.command('EHLO many.test'), 250)
    expectCode(await smtp.command('MAIL FROM:<a@ext.example>'), 250)
    for (let i = 0; i < 5; i++) expectCode(await smtp.command(`RCPT TO:<r${i}@corp.example>`), 250)
    expect(await smtp.command('RCPT TO:<r5@corp.example>')).toBe('452 4.5.3 Too many recipients')
    smtp.close()
  })

  it('consults session policies at MAIL and RCPT, and fails closed when one breaks', async () => {
    const smtp = await RawSmtp.open(gw.smtpPort())
    expectCode(await smtp.reply(), 220)
    expectCode(await smtp.command('EHLO policy.test'), 250)
    expect(await smtp.command('MAIL FROM:<spammer@evil.example>')).toBe(
      '550 5.7.1 Sender address rejected by policy',
    )
    expect(await smtp.command('MAIL FROM:<boom@policy.example>')).toBe(
      '451 4.7.1 Policy check failed temporarily, try again later',
    )
    expectCode(await smtp.command('MAIL FROM:<fine@ext.example>'), 250)
    expect(await smtp.command('RCPT TO:<compromised@corp.example>')).toBe(
      '550 5.7.1 Recipient address rejected by policy',
    )
    smtp.close()
  })

  it('records refused connections and transactions in tracking and metrics', async () => {
    await gw.gateway.tracking.writer.flush()
    const rejected = await gw.gateway.tracking.store.listMessages({
      status: 'rejected',
      limit: 100,
    })
    expect(
      rejected.some(
        (m) =>
          m.envelopeSender === 'spammer@evil.example' &&
          m.reply === '550 5.7.1 Sender address rejected by policy',
      ),
    ).toBe(true)
    const metrics = await gw.api<string>('GET', '/metrics')
    expect(metrics.body).toMatch(
      /postern_smtp_rejected_total\{listener="inbound",reason="ACCESS_DENIED"\} [1-9]/,
    )
    expect(metrics.body).toMatch(
      /postern_smtp_rejected_total\{listener="inbound",reason="PREGREET_VIOLATION"\} [1-9]/,
    )
    expect(metrics.body).toMatch(
      /postern_smtp_rejected_total\{listener="inbound",reason="RELAY_DENIED"\} [1-9]/,
    )
  })
})
