import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { connect as tlsConnect } from 'node:tls'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hashPassword } from '@postern/core'
import { waitFor } from '@postern/testkit'
import {
  expectCode,
  openTransaction,
  RawSmtp,
  sendWithNodemailer,
  sendWithPython,
} from './support/clients.js'
import { startTestServer, type TestServer } from './support/downstream.js'
import { startGateway, type TestGateway } from './support/gateway.js'

// The published SMTP-smuggling end-of-data sequences (SEC Consult 2023; CVE-2023-51764,
// -51765, -51766; Postfix and Exim follow-ups). Each is followed by a smuggled transaction.
const VARIANTS: [string, string][] = [
  ['<LF>.<LF>', '\n.\n'],
  ['<LF>.<CR><LF>', '\n.\r\n'],
  ['<CR>.<CR>', '\r.\r'],
  ['<CR><LF>.<LF>', '\r\n.\n'],
  ['<CR>.<LF>', '\r.\n'],
  ['<CR>.<CR><LF>', '\r.\r\n'],
  ['<LF>.<CR>', '\n.\r'],
  ['<CR><LF>.<CR>', '\r\n.\r'],
  ['<CR><CR><LF>.<CR><CR><LF>', '\r\r\n.\r\r\n'],
]

const SMUGGLED =
  'MAIL FROM:<ceo@bank.example>\r\nRCPT TO:<victim@corp.example>\r\nDATA\r\n' +
  'From: ceo@bank.example\r\nSubject: smuggled\r\n\r\nwire the money\r\n'

describe('SMTP data: size limits, smuggling, TLS, AUTH, real clients', () => {
  let downstream: TestServer
  let gw: TestGateway
  let token = 0

  beforeAll(async () => {
    downstream = await startTestServer()
    const passwordHash = await hashPassword('correct horse battery')
    gw = await startGateway({
      tls: { selfSigned: true },
      spool: { inlineMaxSize: '4KB' },
      listeners: [
        {
          name: 'inbound',
          smtp: '127.0.0.1:0',
          rat: [{ recipient: 'corp.example', action: 'ACCEPT' }],
          limits: { maxMessageSize: '20KB', maxHeaderSize: '4KB', maxLineLength: 2000 },
        },
        {
          name: 'normalize',
          smtp: '127.0.0.1:0',
          rat: [{ recipient: 'corp.example', action: 'ACCEPT' }],
          lineEndings: 'normalize',
        },
        {
          name: 'secure',
          smtp: '127.0.0.1:0',
          hat: [{ senderGroup: 'TLSONLY', match: ['*'], policy: 'ACCEPTED', tls: 'required' }],
          rat: [{ recipient: 'corp.example', action: 'ACCEPT' }],
        },
        {
          name: 'submission',
          smtp: '127.0.0.1:0',
          hat: [{ senderGroup: 'USERS', match: ['*'], policy: 'ACCEPTED' }],
          rat: [],
          auth: { enabled: true, required: true, users: [{ username: 'alice', passwordHash }] },
        },
      ],
      smtpRoutes: [{ domain: '*', to: [`127.0.0.1:${downstream.port}`] }],
    })
  })
  afterAll(async () => {
    await gw?.stop()
    await downstream?.close()
  })

  /** A unique marker per test message, to find it downstream. */
  function marker(): string {
    return `m${Date.now()}x${++token}`
  }

  function received(text: string) {
    return downstream.messages.filter((m) => m.text.includes(text))
  }

  describe('size limits', () => {
    it('refuses a declared SIZE above the limit at MAIL', async () => {
      const smtp = await RawSmtp.open(gw.smtpPort())
      expectCode(await smtp.reply(), 220)
      const ehlo = expectCode(await smtp.command('EHLO size.test'), 250)
      expect(ehlo).toContain('SIZE 20480')
      expect(await smtp.command('MAIL FROM:<a@ext.example> SIZE=999999')).toMatch(/^552 5\.3\.4 /)
      smtp.close()
    })

    it('reads an oversize message to its end, answers 552 after the dot, stores nothing, and goes on', async () => {
      const before = gw.gateway.spool.entries().length
      const id = marker()
      const smtp = await openTransaction(gw.smtpPort(), 'a@ext.example', ['bob@corp.example'])
      smtp.write(`Subject: ${id}\r\n\r\n${'x'.repeat(998)}\r\n`.repeat(60) + '.\r\n')
      expect(await smtp.reply()).toBe('552 5.3.4 Message size exceeds the limit of 20480 bytes')
      expect(smtp.pending()).toBe('')
      expect(gw.gateway.spool.entries().length).toBe(before)
      expect(readdirSync(join(gw.dataDir, 'spool', 'large'))).toEqual([])
      // The session is still usable.
      expectCode(await smtp.command('MAIL FROM:<a@ext.example>'), 250)
      expectCode(await smtp.command('RCPT TO:<bob@corp.example>'), 250)
      expectCode(await smtp.command('DATA'), 354)
      expectCode(await smtp.command(`Subject: ${id}-small\r\n\r\nok\r\n.`), 250)
      smtp.close()
      await waitFor(() => received(`${id}-small`).length === 1)
      expect(received(`${id}\r`).length).toBe(0)
    })

    it('refuses oversize mail from Python smtplib the same way', async () => {
      const result = await sendWithPython({
        port: gw.smtpPort(),
        from: 'a@ext.example',
        to: ['bob@corp.example'],
        message: `Subject: big\r\n\r\n${'y'.repeat(900)}\r\n`.repeat(40),
      })
      expect(result.code).toBe(552)
    })

    it.each([
      [
        'a header section over maxHeaderSize',
        `X-Pad: ${'h'.repeat(900)}\r\n`.repeat(6) + '\r\nbody\r\n',
        '552 5.3.4 Message header exceeds the limit of 4096 bytes',
      ],
      [
        'a line over maxLineLength',
        `Subject: long\r\n\r\n${'l'.repeat(2500)}\r\n`,
        '554 5.6.0 Message has a line longer than 2000 octets',
      ],
      [
        'a mail loop',
        'Received: from a by b\r\n'.repeat(101) + '\r\nbody\r\n',
        '554 5.4.6 Too many Received headers: mail loop',
      ],
    ])('refuses %s after the dot', async (_name, message, answer) => {
      const smtp = await openTransaction(gw.smtpPort(), 'a@ext.example', ['bob@corp.example'])
      smtp.write(`${message}.\r\n`)
      expect(await smtp.reply()).toBe(answer)
      smtp.close()
    })
  })

  describe('SMTP smuggling', () => {
    it.each(VARIANTS)(
      'refuses %s with 554 5.5.2 and runs nothing smuggled after it',
      async (_name, ending) => {
        const id = marker()
        const smtp = await openTransaction(gw.smtpPort(), 'a@ext.example', ['bob@corp.example'])
        smtp.write(`Subject: ${id}\r\n\r\nhello${ending}${SMUGGLED}.\r\n`)
        expect(await smtp.reply()).toBe(
          '554 5.5.2 Bare LF or CR in message content; lines must end with CRLF',
        )
        // One reply only: nothing after the fake terminator was read as commands.
        expect(await smtp.command('NOOP')).toMatch(/^250 /)
        expect(await smtp.command('QUIT')).toMatch(/^221 /)
        await new Promise((r) => setTimeout(r, 50))
        expect(received(id)).toEqual([])
        expect(downstream.messages.some((m) => m.from === 'ceo@bank.example')).toBe(false)
      },
    )

    it.each(VARIANTS)(
      'rewrites %s to CRLF in normalize mode: one message, nothing split',
      async (_name, ending) => {
        const id = marker()
        const smtp = await openTransaction(gw.smtpPort('normalize'), 'a@ext.example', [
          'bob@corp.example',
        ])
        smtp.write(`Subject: ${id}\r\n\r\nhello${ending}${SMUGGLED}.\r\n`)
        expectCode(await smtp.reply(), 250)
        expect(await smtp.command('QUIT')).toMatch(/^221 /)
        await waitFor(() => received(id).length === 1)
        const [message] = received(id)
        expect(message?.text).toContain('wire the money')
        expect(message?.text).not.toMatch(/\r(?!\n)|(?<!\r)\n/)
        expect(downstream.messages.some((m) => m.from === 'ceo@bank.example')).toBe(false)
      },
    )

    it('refuses a NUL before a dot in both modes', async () => {
      for (const listener of ['inbound', 'normalize']) {
        const smtp = await openTransaction(gw.smtpPort(listener), 'a@ext.example', [
          'bob@corp.example',
        ])
        smtp.write(`Subject: nul\r\n\r\nhello\r\n\x00.\r\n${SMUGGLED}.\r\n`)
        expect(await smtp.reply()).toBe('554 5.6.0 Message content contains a NUL octet')
        smtp.close()
      }
    })

    it.each(VARIANTS)('delivers %s sent by nodemailer as one message', async (_name, ending) => {
      const id = marker()
      await sendWithNodemailer({
        port: gw.smtpPort(),
        from: 'a@ext.example',
        to: 'bob@corp.example',
        subject: id,
        text: `hello${ending}${SMUGGLED}`,
      })
      await waitFor(() => received(id).length === 1)
      expect(received(id)[0]?.text).toContain('wire the money')
    })

    it.each(VARIANTS)(
      'delivers %s sent by Python smtplib (text) as one message',
      async (_name, ending) => {
        const id = marker()
        const message = `Subject: ${id}\r\n\r\nhello${ending}${SMUGGLED}`
        const result = await sendWithPython({
          port: gw.smtpPort(),
          from: 'a@ext.example',
          to: ['bob@corp.example'],
          message,
          as: 'str',
        })
        expect(result.code).toBe(250)
        await waitFor(() => received(id).length === 1)
        expect(received(id)[0]?.text).toContain('wire the money')
      },
    )

    it.each(VARIANTS)(
      'refuses %s sent by Python smtplib as raw bytes (it passes them through)',
      async (_name, ending) => {
        const id = marker()
        const message = `Subject: ${id}\r\n\r\nhello${ending}${SMUGGLED}`
        const result = await sendWithPython({
          port: gw.smtpPort(),
          from: 'a@ext.example',
          to: ['bob@corp.example'],
          message,
          as: 'bytes',
        })
        expect(result).toMatchObject({ code: 554, reply: expect.stringContaining('5.5.2') })
        expect(received(id)).toEqual([])
      },
    )

    it('dot-stuffs on delivery: a lone dot line in the body arrives intact', async () => {
      const id = marker()
      const smtp = await openTransaction(gw.smtpPort(), 'a@ext.example', ['bob@corp.example'])
      smtp.write(`Subject: ${id}\r\n\r\nbefore\r\n..\r\n...\r\nafter\r\n.\r\n`)
      expectCode(await smtp.reply(), 250)
      smtp.close()
      await waitFor(() => received(id).length === 1)
      expect(received(id)[0]?.text).toContain('before\r\n.\r\n..\r\nafter\r\n')
    })

    it('delivers a body kept in its own spool file (above spool.inlineMaxSize) intact', async () => {
      const id = marker()
      const lines = Array.from({ length: 150 }, (_, i) => `${id} line ${i} ${'y'.repeat(60)}`)
      const smtp = await openTransaction(gw.smtpPort(), 'a@ext.example', ['bob@corp.example'])
      smtp.write(`Subject: ${id}\r\n\r\n${lines.join('\r\n')}\r\n.\r\n`)
      expectCode(await smtp.reply(), 250)
      smtp.close()
      await waitFor(() => received(id).length === 1)
      const text = received(id)[0]?.text ?? ''
      expect(text).toMatch(/^Received: from /)
      expect(text).toContain(`Subject: ${id}\r\n\r\n${lines.join('\r\n')}\r\n`)
    })
  })

  describe('8BITMIME and SMTPUTF8', () => {
    it('carries an internationalised address and 8-bit content end to end', async () => {
      const id = marker()
      await sendWithNodemailer({
        port: gw.smtpPort(),
        from: 'jörg@ext.example',
        to: 'zoë@corp.example',
        subject: `${id} Grüße`,
        text: 'Ünïcödé — 日本語',
      })
      await waitFor(() => received(id).length === 1)
      const [message] = received(id)
      expect(message?.from).toBe('jörg@ext.example')
      expect(message?.to).toEqual(['zoë@corp.example'])
    })
  })

  describe('STARTTLS', () => {
    it('accepts mail over STARTTLS with the configured certificate and records the cipher', async () => {
      const id = marker()
      const reply = await sendWithNodemailer({
        port: gw.smtpPort('secure'),
        from: 'a@ext.example',
        to: 'bob@corp.example',
        subject: id,
        requireTLS: true,
      })
      await waitFor(() => received(id).length === 1)
      await gw.gateway.tracking.writer.flush()
      const mid = Number(/queued as (\d+)/.exec(reply)?.[1])
      expect((await gw.gateway.tracking.store.getMessage(mid))?.tls).toMatch(/^TLSv1\.[23] /)
    })

    it('refuses MAIL in plaintext for a group that requires TLS', async () => {
      const smtp = await RawSmtp.open(gw.smtpPort('secure'))
      expectCode(await smtp.reply(), 220)
      expect(expectCode(await smtp.command('EHLO plain.test'), 250)).toContain('STARTTLS')
      expect(await smtp.command('MAIL FROM:<a@ext.example>')).toBe(
        '530 5.7.0 Must issue a STARTTLS command first',
      )
      smtp.close()
    })

    it('works with Python smtplib starttls', async () => {
      const id = marker()
      const result = await sendWithPython({
        port: gw.smtpPort('secure'),
        from: 'a@ext.example',
        to: ['bob@corp.example'],
        message: `Subject: ${id}\r\n\r\nhi\r\n`,
        starttls: true,
      })
      expect(result.code).toBe(250)
      await waitFor(() => received(id).length === 1)
    })

    it('discards commands pipelined after STARTTLS in plaintext (CVE-2011-0411)', async () => {
      const smtp = await RawSmtp.open(gw.smtpPort('secure'))
      expectCode(await smtp.reply(), 220)
      expectCode(await smtp.command('EHLO inject.test'), 250)
      smtp.write('STARTTLS\r\nMAIL FROM:<injected@evil.example>\r\n')
      expectCode(await smtp.reply(), 220)
      const secure = tlsConnect({ socket: smtp.socket, rejectUnauthorized: false })
      await new Promise<void>((resolve) => secure.once('secureConnect', resolve))
      const replies: string[] = []
      secure.on('data', (c: Buffer) => replies.push(c.toString()))
      secure.write('EHLO inject.test\r\n')
      await waitFor(() => replies.join('').includes('\r\n250 '))
      expect(replies.join('')).toMatch(/^250[- ]/)
      secure.destroy()
    })
  })

  describe('AUTH on a submission listener', () => {
    it('refuses AUTH before STARTTLS and MAIL before AUTH', async () => {
      const smtp = await RawSmtp.open(gw.smtpPort('submission'))
      expectCode(await smtp.reply(), 220)
      expectCode(await smtp.command('EHLO sub.test'), 250)
      expect(
        await smtp.command(
          `AUTH PLAIN ${Buffer.from('\0alice\0correct horse battery').toString('base64')}`,
        ),
      ).toMatch(/^538 5\.7\.11 /)
      expect(await smtp.command('MAIL FROM:<alice@corp.example>')).toMatch(/^530 5\.7\.0 /)
      smtp.close()
    })

    it('refuses a wrong password and relays anywhere for an authenticated user', async () => {
      await expect(
        sendWithNodemailer({
          port: gw.smtpPort('submission'),
          from: 'alice@corp.example',
          to: 'x@elsewhere.example',
          requireTLS: true,
          auth: { user: 'alice', pass: 'wrong password!' },
        }),
      ).rejects.toMatchObject({ responseCode: 535, response: expect.stringContaining('5.7.8') })
      const id = marker()
      const reply = await sendWithNodemailer({
        port: gw.smtpPort('submission'),
        from: 'alice@corp.example',
        to: 'x@elsewhere.example',
        subject: id,
        requireTLS: true,
        auth: { user: 'alice', pass: 'correct horse battery' },
      })
      await waitFor(() => received(id).length === 1)
      await gw.gateway.tracking.writer.flush()
      const mid = Number(/queued as (\d+)/.exec(reply)?.[1])
      expect(await gw.gateway.tracking.store.getMessage(mid)).toMatchObject({
        authUser: 'alice',
        direction: 'outgoing',
      })
    })
  })
})
