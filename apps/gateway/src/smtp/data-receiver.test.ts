import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { describe, expect, it } from 'vitest'
import { BodySink } from '../spool/body-sink.js'
import { DataReceiver, type DataLimits } from './data-receiver.js'

const limits: DataLimits = {
  maxMessageSize: 100_000,
  maxLineLength: 200,
  maxHeaderSize: 2_000,
  maxReceivedHeaders: 3,
  lineEndings: 'reject',
}

/** Feeds `data` split into chunks of `size` bytes (every split point matters for CR/LF). */
async function receive(data: string | Buffer, size: number, overrides: Partial<DataLimits> = {}) {
  const sink = new BodySink('/nonexistent', 1_000_000, 'test')
  const receiver = new DataReceiver({ ...limits, ...overrides }, sink)
  const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data, 'latin1')
  const chunks: Buffer[] = []
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size))
  await pipeline(Readable.from(chunks), receiver)
  const stored = await sink.finish()
  return {
    result: receiver.result(),
    stored: stored.kind === 'inline' ? Buffer.concat(stored.chunks).toString('latin1') : '',
  }
}

const HEADER =
  'From: a@example.com\r\nSubject: =?UTF-8?B?w6lsw6h2ZQ==?=\r\nMessage-ID: <1@x>\r\n\r\n'

// SMTP-smuggling end-of-data variants (SEC Consult, 2023; Postfix, Sendmail, Exim advisories):
// each would end DATA on a lenient receiver; here each must be refused or made harmless.
const SMUGGLING_VARIANTS: [string, string][] = [
  ['<LF>.<LF>', '\n.\n'],
  ['<LF>.<CR><LF>', '\n.\r\n'],
  ['<CR>.<CR>', '\r.\r'],
  ['<CR><LF>.<LF>', '\r\n.\n'],
  ['<CR>.<LF>', '\r.\n'],
  ['<CR>.<CR><LF>', '\r.\r\n'],
  ['<LF>.<CR>', '\n.\r'],
  ['<CR><LF>.<CR>', '\r\n.\r'],
  ['<LF><LF>.<LF>', '\n\n.\n'],
]

describe('DataReceiver', () => {
  it.each([1, 2, 3, 7, 64, 100_000])(
    'keeps a clean message intact in %i-byte chunks',
    async (size) => {
      const message = `${HEADER}line one\r\n.leading dot\r\n\r\nlast\r\n`
      const { result, stored } = await receive(message, size)
      expect(result.problem).toBeUndefined()
      expect(stored).toBe(message)
      expect(result.header.summary).toMatchObject({
        subject: 'élève',
        messageId: '<1@x>',
        from: 'a@example.com',
      })
    },
  )

  describe.each(SMUGGLING_VARIANTS)('smuggling variant %s', (_name, ending) => {
    const message = `${HEADER}hello${ending}MAIL FROM:<spoof@bank.example>\r\nRCPT TO:<v@x>\r\nDATA\r\nevil\r\n`
    it.each([1, 2, 5, 1000])('is refused with 554 5.5.2 (%i-byte chunks)', async (size) => {
      const { result } = await receive(message, size)
      expect(result.problem).toMatchObject({ code: 554, enhanced: '5.5.2' })
    })
    it.each([1, 3, 1000])(
      'is rewritten to CRLF in normalize mode (%i-byte chunks)',
      async (size) => {
        const { result, stored } = await receive(message, size, { lineEndings: 'normalize' })
        expect(result.problem).toBeUndefined()
        expect(stored).not.toMatch(/\r(?!\n)|(?<!\r)\n/)
        expect(stored.replace(/\r\n/g, '\n')).toBe(message.replace(/\r\n|\r|\n/g, '\n'))
      },
    )
  })

  it('refuses NUL, which no SMTP text may carry', async () => {
    const { result } = await receive(`${HEADER}a\r\n\x00.\r\nb\r\n`, 4)
    expect(result.problem).toMatchObject({ code: 554, enhanced: '5.6.0' })
  })

  it.each([
    ['an oversize message', 'x'.repeat(150) + '\r\n', 'MESSAGE_TOO_BIG', { maxMessageSize: 1000 }],
    ['a long line', 'y'.repeat(201) + '\r\n', 'LINE_TOO_LONG', {}],
    ['a huge header', 'X-Pad: ' + 'z'.repeat(150) + '\r\n', 'HEADER_TOO_BIG', {}],
    ['a mail loop', 'Received: from a by b\r\n', 'MAIL_LOOP', {}],
  ])('refuses %s, reading it to the end', async (_name, line, key, extra) => {
    const { result, stored } = await receive(line.repeat(20) + '\r\nbody\r\n', 13, extra)
    expect(result.problem?.key).toBe(key)
    expect(result.received).toBe(line.length * 20 + 8)
    expect(stored.length).toBeLessThan(result.received)
  })

  it('accepts a message without a body separator and one with an empty header', async () => {
    expect((await receive('Subject: only\r\n', 3)).result.header.summary.subject).toBe('only')
    expect((await receive('\r\nbody only\r\n', 3)).result.problem).toBeUndefined()
    expect((await receive('', 3)).result.problem).toBeUndefined()
  })
})
